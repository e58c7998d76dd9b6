"""The ready file shared by ``trustpub sandbox serve`` (writer) and ``sandbox env`` (reader).

``serve --ready-file F`` removes a stale ``F`` when it starts, writes its ready
line there (atomically) once both listeners accept connections, or a failure
line ``{"error": ..., "hint": ..., "pid": ...}`` when it cannot start.

``env --ready-file F`` waits for that file, so that ``serve ... &`` followed at
once by ``eval "$(trustpub sandbox env --ready-file F ...)"`` works as a script.
The wait is bounded, and ends early with the server's own error when it failed.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

from trustpub.errors import SandboxError, UsageError

DEFAULT_WAIT = 60.0
"""Seconds ``sandbox env`` waits for a ready file (a busy machine needs several)."""

STALE_GRACE = 5.0
"""Seconds a line left by an earlier server gets to be replaced before it is reported."""

_HINT_SERVE = "start `trustpub sandbox serve --ready-file {path} ... &` first, or pass --url"


def write_line(path: Path, line: str) -> None:
    """Replace ``path`` with one line, atomically (a reader sees the old or the new file)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(line + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as error:
        raise SandboxError(
            f"cannot write the ready file {path}: {error.strerror}",
            hint="choose a writable --ready-file path",
        ) from None


def clear(path: Path) -> None:
    """Remove a ready file left by an earlier server (best effort)."""
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def write_failure(path: Path, message: str, hint: str) -> None:
    """Tell a waiting ``sandbox env`` that this server will never be ready."""
    line = json.dumps({"error": message, "hint": hint, "pid": os.getpid()})
    with contextlib.suppress(SandboxError):  # the server's own error is the one to report
        write_line(path, line)


def _alive(pid: object) -> bool:
    """Whether the process that wrote a ready line still runs (assumed so where unknowable)."""
    if not isinstance(pid, int) or os.name != "posix":
        return True  # on Windows os.kill(pid, 0) would terminate the process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _last_line(path: Path) -> tuple[dict[str, Any] | None, float] | None:
    """The parsed last line and the file's mtime; None when the file does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return None
    except OSError as error:
        raise UsageError(
            f"cannot read the ready file {path}: {error.strerror}",
            hint=_HINT_SERVE.format(path=path),
        ) from None
    lines = [line for line in text.splitlines() if line.strip()]
    try:
        data = json.loads(lines[-1]) if lines else None
    except ValueError:
        data = None
    return (data if isinstance(data, dict) else None), mtime


def _verdict(path: Path, data: dict[str, Any] | None) -> SandboxError | None:
    """Why this content is not (yet) a usable ready line; None when it is one."""
    if data is None or not isinstance(data.get("url"), str):
        if data is not None and isinstance(data.get("error"), str):
            hint = data.get("hint")
            return SandboxError(
                f"the sandbox failed to start: {data['error']}",
                hint=hint if isinstance(hint, str) and hint else _HINT_SERVE.format(path=path),
            )
        return SandboxError(
            f"the ready file {path} does not hold a sandbox ready line",
            hint=_HINT_SERVE.format(path=path),
        )
    if not _alive(data.get("pid")):
        return SandboxError(
            f"the sandbox that wrote {path} (pid {data['pid']}) is no longer running",
            hint=_HINT_SERVE.format(path=path),
        )
    return None


def wait_ready(path: Path, timeout: float = DEFAULT_WAIT) -> dict[str, Any]:
    """The ready line in ``path``, waiting up to ``timeout`` seconds for a live server.

    A failure line written after the wait began ends it at once with the server's
    error. A line written before (a failure, or a server that has exited since) is
    given :data:`STALE_GRACE` seconds to be replaced by a server that is starting
    (``serve`` clears the file first thing), then reported. A missing file is waited
    on until the deadline.
    """
    started = time.time()
    clock = time.monotonic()
    deadline = clock + timeout
    grace_end = clock + min(timeout, STALE_GRACE)
    delay = 0.05
    while True:
        now = time.monotonic()
        found = _last_line(path)
        if found is None:
            problem = SandboxError(
                f"no sandbox became ready: {path} did not appear within {timeout:g} s",
                hint=_HINT_SERVE.format(path=path),
            )
        else:
            data, mtime = found
            verdict = _verdict(path, data)
            if verdict is None and data is not None:
                return data
            problem = verdict or SandboxError("no ready line", hint=_HINT_SERVE.format(path=path))
            fresh_failure = data is not None and "error" in data and mtime >= started - 1.0
            if fresh_failure or now >= grace_end:
                raise problem
        if now >= deadline:
            raise problem
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)


__all__ = ["DEFAULT_WAIT", "clear", "wait_ready", "write_failure", "write_line"]
