"""SIGINT and SIGTERM: stop the work, finish the report, exit 130 / 143 within seconds.

trustpub installs its own handlers instead of relying on Python's default:
a process started with SIGINT ignored (a background job of a non-interactive
shell, some CI wrappers) would otherwise not be interruptible at all, and
SIGTERM (what a cancelled CI job sends after SIGINT) would kill it with no
burn, no summary and no outputs.

* The first signal raises :class:`KeyboardInterrupt` in the main thread: the
  upload stops starting files, uploads in flight are abandoned, the upload
  token is burned, and the summary, JSON and CI outputs are written.
* Later signals are recorded but raise nothing, so they cannot cut that
  cleanup short (a cancelled GitHub job sends SIGINT, then SIGTERM).
* A watchdog ends the process :data:`GRACE_SECONDS` after the first signal
  whatever is still running; :func:`finish` ends it as soon as the report is
  written, without waiting for abandoned requests.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import sys
import threading
from types import FrameType

from trustpub._threads import block_signals

GRACE_SECONDS = 4.0
"""How long the cleanup after a signal may take before the process ends anyway."""

# A second signal can run its handler *inside* the first one's, between two bytecodes, so
# the handler decides "first" with one atomic step (next() on a C counter) and takes no lock:
# a lock deadlocked there, and a check-then-append let both handlers believe they were second.
_count = itertools.count()
_first: list[int] = []
_signalled = threading.Event()


def install() -> None:
    """Handle SIGINT and SIGTERM (main thread only; elsewhere nothing is changed).

    The watchdog thread starts here, not in the handler: a handler runs between
    two bytecodes of the main thread, which may hold a lock that starting a
    thread needs.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    watchdog = threading.Thread(target=_watchdog, name="trustpub-signal-watchdog", daemon=True)
    watchdog.start()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _handle)


def _handle(signum: int, frame: FrameType | None) -> None:
    if next(_count) > 0:
        return
    _first.append(signum)
    _signalled.set()
    raise KeyboardInterrupt


def _watchdog() -> None:
    # This thread must not take the signals itself (see trustpub._threads): a signal the
    # kernel hands to it would not wake the main thread, and the handler would never run.
    block_signals()
    _signalled.wait()
    threading.Event().wait(GRACE_SECONDS)
    # The main thread may be stuck holding a stream's lock: flush from a helper thread and
    # give it a moment, but end the process whatever happens.
    code = exit_code()
    flusher = threading.Thread(target=_flush, name="trustpub-signal-flush", daemon=True)
    flusher.start()
    flusher.join(0.5)
    os._exit(code)


def received() -> int | None:
    """The first signal received, or None."""
    return _first[0] if _first else None


def exit_code() -> int:
    """128 + the first signal's number (130 for SIGINT, 143 for SIGTERM); 130 without one."""
    signum = received()
    return 128 + (signum if signum is not None else signal.SIGINT)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()


def finish(code: int) -> None:
    """Flush the output and end the process now (abandoned requests are not waited for)."""
    _flush()
    os._exit(code)


__all__ = ["GRACE_SECONDS", "exit_code", "finish", "install", "received"]
