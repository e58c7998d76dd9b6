"""``trustpub --version`` / ``--help`` answer without click, with click's exact output."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

import trustpub.cli
from trustpub import __version__
from trustpub.cli import ROOT_HELP, cli


def test_static_root_help_is_what_click_renders() -> None:
    # If this fails, the root docstring, an option or the command list changed: paste the new
    # click output into trustpub.cli.ROOT_HELP.
    result = CliRunner().invoke(cli, ["--help"], prog_name="trustpub", terminal_width=80)
    assert result.exit_code == 0
    assert result.output == ROOT_HELP


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--version"], f"trustpub, version {__version__}\n"),
        (["-V"], f"trustpub, version {__version__}\n"),
        (["--help"], ROOT_HELP),
        (["-h"], ROOT_HELP),
    ],
)
def test_fast_paths_print_without_importing_click(args: list[str], expected: str) -> None:
    code = (
        "import sys\nfrom trustpub.cli import main\n"
        f"sys.argv = ['trustpub', *{args!r}]\nmain()\n"
        "print('LOADED', sorted(m for m in ('click', 'typing', 'trustpub.cli._root') "
        "if m in sys.modules))\n"
    )
    env = {**os.environ, "COLUMNS": "100"}
    # Unmeasured: coverage (.ci/run starts it in every child) imports typing itself.
    env.pop("COVERAGE_PROCESS_START", None)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert out == expected + "LOADED []\n"


def test_narrow_terminal_help_goes_through_click() -> None:
    env = {**os.environ, "COLUMNS": "60"}
    out = subprocess.run(
        [sys.executable, "-m", "trustpub", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    assert out != ROOT_HELP
    assert out.startswith("Usage: trustpub [OPTIONS] COMMAND [ARGS]...")
    assert max(len(line) for line in out.splitlines()) <= 58


def test_other_arguments_reach_click(capsys: pytest.CaptureFixture[str]) -> None:
    old = sys.argv
    sys.argv = ["trustpub", "--version", "extra"]
    try:
        with pytest.raises(SystemExit) as exit_info:
            trustpub.cli.main()
    finally:
        sys.argv = old
    assert exit_info.value.code == 0  # click's eager --version wins, as before
    assert capsys.readouterr().out == f"trustpub, version {__version__}\n"


def test_lazy_attributes() -> None:
    assert trustpub.cli.cli.name == "cli"
    assert isinstance(trustpub.cli.LazyGroup, type)
    with pytest.raises(AttributeError):
        _ = trustpub.cli.no_such_thing
