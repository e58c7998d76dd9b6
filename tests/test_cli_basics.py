"""The top-level command: help, version, lazy loading, error wrapper."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from trustpub import __version__
from trustpub._secret import Secret, forget_all
from trustpub.cli import cli
from trustpub.cli._common import guarded
from trustpub.errors import ExitCode, IdentityError


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"trustpub, version {__version__}"


def test_help_lists_commands_without_importing_them() -> None:
    code = (
        "import sys; from trustpub.cli import main; sys.argv=['trustpub','--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('rich', 'httpx', 'twine', 'trustpub.cli.publish', 'trustpub.sandbox.app')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    for name in ("claims", "publish", "sandbox"):
        assert name in out
    assert "HEAVY []" in out


def test_python_dash_m() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "trustpub", "--version"], capture_output=True, text=True, check=True
    )
    assert __version__ in out.stdout


def _failing_command(verbose: bool) -> click.Command:
    @click.command()
    def fail() -> None:
        with guarded(verbose=verbose):
            secret = Secret("pypi-CANARYcanaryCANARYcanary0123456789")
            raise IdentityError(
                f"no credential (got {secret.reveal()})", hint="add `id-token: write`"
            )

    return fail


@pytest.mark.parametrize("verbose", [False, True])
def test_guarded_maps_errors_to_exit_codes_and_scrubs(verbose: bool) -> None:
    forget_all()
    result = CliRunner().invoke(_failing_command(verbose), [])
    assert result.exit_code == ExitCode.IDENTITY
    assert "error: no credential" in result.output
    assert "hint: add `id-token: write`" in result.output
    assert "CANARYcanary" not in result.output
    assert ("Traceback" in result.output) is verbose
