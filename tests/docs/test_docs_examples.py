"""Every shell example in README.md and docs/ runs as written, or says why it cannot run here.

A fenced block tagged ``console``, ``bash``, ``sh`` or ``shell`` is an example. The line
just before its opening fence may hold a marker (an HTML comment, invisible on the site):

* ``<!-- not-run: REASON -->``: not runnable on this machine (needs a real CI job, PyPI,
  the network, or is a fragment of a command); the reason is required.
* ``<!-- run: checkout -->``: runs in a fresh copy of this repository's tracked files
  (the quick start's install-from-a-checkout command). Slow: a new virtualenv and an
  install; ``.ci/run`` runs it with the other slow tests.

Every other example runs. The runnable examples of one page become one bash script, in
page order, with the text of each block unchanged (in a block with ``$ `` prompts, the
prompted lines and their ``\\`` continuations are the commands and the rest is output).
The script runs with ``set -e`` in a temporary directory that holds a small project,
``example-pkg`` (a ``pyproject.toml`` with hatchling, its source, and its wheel and sdist
already in ``dist/``), with this environment's ``trustpub`` and ``python3`` first on
``PATH`` and no CI variables: the directory the pages' "your project" means. Background
jobs the page starts (``trustpub sandbox serve ... &``) are stopped when the script ends.

So an example that drifts from the CLI (a renamed option, a changed default, a command
that now fails) fails this test, on the page and line it is written.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from fixtures_dists import make_release

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SHELL_TAGS = {"console", "bash", "sh", "shell"}
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<tag>[\w+-]*)")
MARKER = re.compile(r"^\s*<!--\s*(?P<kind>not-run|run)\s*:\s*(?P<value>.*?)\s*-->\s*$")
PAGE_TIMEOUT = 300.0
"""Seconds one page's script may take (a busy 2-core machine; a build takes ~20 s)."""

CHECKOUT_TIMEOUT = 900.0
"""Seconds for a new virtualenv, an install of trustpub and its dependencies, and the demo."""

# Variables that would make the script a CI job, or point trustpub elsewhere.
_SCRUBBED_PREFIXES = ("GITHUB_", "GITLAB_", "CI_", "ACTIONS_", "RUNNER_", "TRUSTPUB_", "GCE_")
_SCRUBBED = {"CI", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "GOOGLE_SERVICE_ACCOUNT_NAME"}

PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "example-pkg"
version = "1.0.0"
description = "The project the documentation's examples publish."
readme = "README.md"
requires-python = ">=3.10"
"""


@dataclass(frozen=True)
class Block:
    """One fenced shell example."""

    page: Path
    line: int  # 1-based line of the opening fence
    text: str
    marker: tuple[str, str] | None

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def runs_in_project(self) -> bool:
        return self.marker is None


def _marker(lines: list[str], fence_index: int) -> tuple[str, str] | None:
    before = fence_index - 1
    while before >= 0 and not lines[before].strip():
        before -= 1
    if before < 0:
        return None
    found = MARKER.match(lines[before])
    return (found["kind"], found["value"]) if found else None


def parse_blocks(page: Path) -> list[Block]:
    """The shell examples of a page, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        if opening["tag"] in SHELL_TAGS:
            body = "\n".join(line[indent:] for line in lines[index + 1 : end])
            blocks.append(Block(page, index + 1, body, _marker(lines, index)))
        index = end + 1
    return blocks


def commands(text: str) -> str:
    """The commands of a block: all of it, or only the ``$ `` lines when it shows prompts."""
    lines = text.splitlines()
    if not any(line.startswith("$ ") for line in lines):
        return text
    kept: list[str] = []
    continued = False
    for line in lines:
        if line.startswith("$ ") or continued:
            command = line[2:] if line.startswith("$ ") and not continued else line
            kept.append(command)
            continued = line.rstrip().endswith("\\")
    return "\n".join(kept)


ALL_BLOCKS = [block for page in PAGES for block in parse_blocks(page)]
PROJECT_PAGES = sorted({block.page for block in ALL_BLOCKS if block.runs_in_project})
CHECKOUT_BLOCKS = sorted(
    {block.text for block in ALL_BLOCKS if block.marker == ("run", "checkout")}
)


def page_script(page: Path) -> str:
    """One script: the page's runnable examples, in order, each introduced by its location."""
    parts = [
        "set -eo pipefail",
        # Stop what the page started in the background (a sandbox), then wait for it.
        "trap 'kill $(jobs -p) 2>/dev/null || true; wait' EXIT",
    ]
    for block in parse_blocks(page):
        if block.runs_in_project:
            parts.append(f"echo '>>> {block.where}' >&2")
            parts.append(commands(block.text))
    return "\n".join(parts) + "\n"


def clean_env(tmp_path: Path) -> dict[str, str]:
    """This environment's tools first on PATH, a private HOME, and no CI or trustpub variables."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in _SCRUBBED and not name.startswith(_SCRUBBED_PREFIXES)
    }
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")])
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env["HOME"] = str(home)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    env["TMPDIR"] = str(tmp_path)
    return env


def make_project(directory: Path) -> Path:
    """``example-pkg``: what "your project" is in the examples, with dist/ already built."""
    (directory / "src" / "example_pkg").mkdir(parents=True)
    (directory / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (directory / "README.md").write_text("# example-pkg\n", encoding="utf-8")
    (directory / "src" / "example_pkg" / "__init__.py").write_text(
        '"""example-pkg."""\n', encoding="utf-8"
    )
    make_release(directory / "dist", "example-pkg", "1.0.0")
    return directory


def run_script(
    script: str, cwd: Path, env: dict[str, str], timeout: float = PAGE_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def _failure(result: subprocess.CompletedProcess[str], script: str) -> str:
    return (
        f"exit {result.returncode}\n--- script\n{script}\n--- stdout\n{result.stdout[-4000:]}"
        f"\n--- stderr\n{result.stderr[-6000:]}"
    )


# ---------------------------------------------------------------- every block is accounted for


def test_the_pages_have_examples() -> None:
    """The parser finds the examples (a parser that finds nothing would pass everything)."""
    readme = [b for b in ALL_BLOCKS if b.page.name == "README.md"]
    assert len(readme) >= 5
    assert any("trustpub sandbox serve" in b.text for b in readme if b.runs_in_project)
    assert ROOT / "docs" / "quickstart.md" in PROJECT_PAGES


@pytest.mark.parametrize("block", ALL_BLOCKS, ids=lambda block: block.where)
def test_every_example_runs_or_says_why_not(block: Block) -> None:
    if block.marker is None:
        return
    kind, value = block.marker
    if kind == "not-run":
        assert len(value) >= 10, f"{block.where}: say why the example cannot run here"
    else:
        assert value == "checkout", f"{block.where}: unknown marker run: {value}"


def test_prompts_are_stripped_and_output_ignored() -> None:
    text = '$ trustpub sandbox serve \\\n    --no-tls &\n{"url": "x"}\n$ echo done'
    assert commands(text) == "trustpub sandbox serve \\\n    --no-tls &\necho done"
    assert commands("echo a\necho b") == "echo a\necho b"


# ---------------------------------------------------------------- the examples run


@pytest.mark.e2e
@pytest.mark.parametrize("page", PROJECT_PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_page_examples_run_as_a_script(page: Path, tmp_path: Path) -> None:
    project = make_project(tmp_path / "example-pkg")
    script = page_script(page)
    result = run_script(script, project, clean_env(tmp_path))
    assert result.returncode == 0, _failure(result, script)
    assert "Traceback" not in result.stderr, _failure(result, script)


def _copy_checkout(target: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in listed:
        if not raw:
            continue
        source = ROOT / os.fsdecode(raw)
        if source.is_file():
            destination = target / os.fsdecode(raw)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None, reason="needs git to list the checkout")
@pytest.mark.parametrize("text", CHECKOUT_BLOCKS)
def test_checkout_examples_run_in_a_fresh_copy(text: str, tmp_path: Path) -> None:
    """The quick start, verbatim, in a copy of the tracked files (a fresh clone)."""
    checkout = tmp_path / "trustpub"
    _copy_checkout(checkout)
    script = "set -eo pipefail\n" + commands(text) + "\n"
    env = clean_env(tmp_path)
    env["PATH"] = env["PATH"].split(os.pathsep, 1)[1]  # the system's python3, as a user has
    result = run_script(script, checkout, env, timeout=CHECKOUT_TIMEOUT)
    assert result.returncode == 0, _failure(result, script)
