"""``sandbox env --ready-file`` waits for ``sandbox serve``: bounded, with the server's error.

Issue 16: ``serve ... &`` followed at once by ``eval "$(trustpub sandbox env --ready-file ...)"``
printed "cannot read the ready file" when the server was not ready yet. Now ``env`` waits for
the file to name a running server; a server that cannot start writes its error there, and
``env`` stops with it instead of waiting out the deadline.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from helpers_sandbox import Sandbox, serve_command
from trustpub.cli import _readyfile
from trustpub.errors import ExitCode, SandboxError

ENV = [sys.executable, "-m", "trustpub", "sandbox", "env"]


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(child.stdout)


def test_a_live_ready_line_is_returned(sandbox: Sandbox, tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    _readyfile.write_line(ready, json.dumps(sandbox.ready))
    assert _readyfile.wait_ready(ready, 0) == sandbox.ready


def test_no_file_times_out_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(SandboxError) as caught:
        _readyfile.wait_ready(tmp_path / "ready.json", 0)
    assert "did not appear within 0 s" in caught.value.message
    assert "trustpub sandbox serve --ready-file" in caught.value.hint


@pytest.mark.skipif(os.name != "posix", reason="liveness is checked on POSIX only")
def test_a_line_left_by_an_exited_server_is_not_used(sandbox: Sandbox, tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    pid = _dead_pid()
    _readyfile.write_line(ready, json.dumps({**sandbox.ready, "pid": pid}))
    with pytest.raises(SandboxError, match=rf"\(pid {pid}\) is no longer running"):
        _readyfile.wait_ready(ready, 0)


def test_a_fresh_failure_ends_the_wait_at_once(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    _readyfile.write_failure(ready, "cannot listen on 127.0.0.1:1: in use", "choose another --port")
    # A long wait that returns at once: the server said it will never be ready.
    with pytest.raises(SandboxError) as caught:
        _readyfile.wait_ready(ready, 3600)
    assert (
        caught.value.message == "the sandbox failed to start: cannot listen on 127.0.0.1:1: in use"
    )
    assert caught.value.hint == "choose another --port"


def test_garbage_is_reported_at_the_deadline(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    ready.write_text("not json\n", encoding="utf-8")
    with pytest.raises(SandboxError, match="does not hold a sandbox ready line"):
        _readyfile.wait_ready(ready, 0)


def test_serve_in_the_background_then_env_at_once(tmp_path: Path) -> None:
    """The README's order, as a script: no sleep, no retry loop in the script."""
    ready = tmp_path / "box" / "ready.json"
    serve = " ".join(map(_quote, serve_command(tmp_path / "box", ready)))
    env = " ".join(map(_quote, [*ENV, "--ready-file", str(ready), "--provider", "github"]))
    script = (
        "set -e\n"
        "trap 'kill $(jobs -p) 2>/dev/null || true; wait' EXIT\n"
        f"{serve} >/dev/null &\n"
        f'eval "$({env})"\n'
        'echo "repository=$TRUSTPUB_REPOSITORY actions=$GITHUB_ACTIONS"\n'
    )
    result = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    url = json.loads(ready.read_text(encoding="utf-8"))["upload_url"]
    assert result.stdout.strip() == f"repository={url} actions=true"


def test_a_server_that_cannot_start_is_reported_by_env(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    ready.write_text('{"url": "https://127.0.0.1:1", "pid": 1}\n', encoding="utf-8")  # stale
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        served = subprocess.run(
            [*serve_command(tmp_path / "state", ready), "--port", port],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert served.returncode == ExitCode.USAGE
    assert json.loads(ready.read_text(encoding="utf-8"))["error"].startswith("cannot listen on")
    waited = subprocess.run(  # written before env started: reported after the grace
        [*ENV, "--ready-file", str(ready), "--provider", "github", "--wait", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert waited.returncode == ExitCode.USAGE
    first, hint = waited.stderr.splitlines()[:2]
    assert first == f"error: the sandbox failed to start: {served.stderr.splitlines()[0][7:]}"
    assert hint.startswith("hint: ")
    assert waited.stdout == ""


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)
