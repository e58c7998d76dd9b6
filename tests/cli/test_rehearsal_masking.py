"""A rehearsal through ``trustpub sandbox env`` prints no token to a terminal, at any verbosity.

Issue 16: ``sandbox env`` makes a GitHub Actions job (``GITHUB_ACTIONS=true``), so trustpub
announced the OIDC and upload tokens on ``::add-mask::`` lines, in full, in the user's
terminal. A job is simulated when ``TRUSTPUB_SANDBOX_JOB`` is set (``sandbox env`` sets it);
there, on a terminal, the line reads ``::add-mask::***``. Through a pipe (how a runner reads a
job) the value is kept: the runner needs it to mask the token, and the canary tests read it.

The commands run on a real pseudo-terminal (stdout and stderr), so ``isatty()`` is true as in
a user's shell; the output is searched for anything shaped like a token: a JWT, an upload
token (``pypi-``), and the job's request token.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures_dists import make_release
from helpers_env import sandbox_env
from helpers_sandbox import Sandbox, unique_name
from trustpub._secret import Secret
from trustpub.cli import _ci

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal"),
]

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
UPLOAD_TOKEN = re.compile(r"pypi-[A-Za-z0-9_-]{16,}")
_CI_PREFIXES = ("GITHUB_", "ACTIONS_", "GITLAB_", "CI_", "TRUSTPUB_", "GCE_METADATA", "GOOGLE_")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_mask_line_withholds_only_in_a_simulated_job_on_a_terminal() -> None:
    secret = Secret("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl")
    simulated = {"TRUSTPUB_SANDBOX_JOB": "0123abcd"}
    assert _ci.mask_line(secret, _Terminal(), simulated) == "::add-mask::***" + (
        _ci.WITHHELD_MASK.removeprefix("::add-mask::***")
    )
    assert secret.reveal() not in _ci.mask_line(secret, _Terminal(), simulated)
    # A pipe (a runner's log), or a real job even on a terminal: the runner needs the value.
    assert _ci.mask_line(secret, io.StringIO(), simulated) == f"::add-mask::{secret.reveal()}"
    assert _ci.mask_line(secret, _Terminal(), {}) == f"::add-mask::{secret.reveal()}"


def _on_a_terminal(command: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Run with stdout and stderr on a new pseudo-terminal; its exit code and all it printed."""
    import pty

    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal, env=env, cwd=cwd
        )
    finally:
        os.close(terminal)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: every writer closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    return process.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace")


def _job(sandbox: Sandbox, name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_CI_PREFIXES)}
    env.pop("PYPI_ID_TOKEN", None)
    env.update(sandbox.env())
    env.update(sandbox_env(sandbox, "github", repository=f"octo/{name}", environment="pypi"))
    env.update({"COLUMNS": "200", "TERM": "xterm"})
    return env


def _assert_no_token(output: str, env: dict[str, str]) -> None:
    assert JWT.search(output) is None, output
    assert UPLOAD_TOKEN.search(output) is None, output
    assert env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] not in output


def test_claims_in_a_rehearsal_on_a_terminal_prints_no_token(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    env = _job(sandbox, "masked-claims")
    for verbosity in ([], ["-vv"]):
        code, output = _on_a_terminal(
            [sys.executable, "-m", "trustpub", "claims", *verbosity], env, tmp_path
        )
        assert code == 0, output
        assert "::add-mask::*** (value withheld" in output
        _assert_no_token(output, env)


@pytest.mark.parametrize("verbosity", [[], ["-vv"]], ids=["default", "-vv"])
def test_publish_in_a_rehearsal_on_a_terminal_prints_no_token(
    sandbox: Sandbox, tmp_path: Path, verbosity: list[str]
) -> None:
    name = unique_name("masked")
    sandbox.add_publisher(
        provider="github",
        repository=f"octo/{name}",
        workflow="release.yml",
        environment="pypi",
        projects=[name],
        pending=True,
    )
    make_release(tmp_path / "dist", name, "1.0.0")
    env = _job(sandbox, name)
    code, output = _on_a_terminal(
        [sys.executable, "-m", "trustpub", "publish", *verbosity], env, tmp_path
    )
    assert code == 0, output
    # Three tokens were announced (the OIDC token, the minted one and the sigstore token that
    # signs the attestations), all withheld.
    assert output.count("::add-mask::*** (value withheld") == 3, output
    _assert_no_token(output, env)
