"""The ``trustpub`` command line.

Start-up matters for a tool run in every release job, so ``trustpub
--version`` and ``trustpub --help`` are answered without importing click (or
anything else heavy): :func:`main` recognises exactly those two invocations.
Everything else goes to the click group in :mod:`trustpub.cli._root`, which
is also what ``trustpub.cli.cli`` resolves to (imported on first access).
"""

from __future__ import annotations

import os
import sys

from trustpub import __version__

TYPE_CHECKING = False  # not typing's: importing typing costs more than the whole fast path
if TYPE_CHECKING:
    from typing import Any

PROG_NAME = "trustpub"

# The root help exactly as click renders it at its default width (78 columns, used whenever the
# terminal has at least 80, or is not a terminal). tests/test_cli_basics.py compares the two.
ROOT_HELP = """\
Usage: trustpub [OPTIONS] COMMAND [ARGS]...

  Publish Python packages with Trusted Publishing: no stored secrets.

  In CI, trustpub exchanges the job's OIDC identity for a short-lived upload
  token, uploads your distributions and explains any refusal field by field.

Options:
  -V, --version  Show the version and exit.
  -h, --help     Show this message and exit.

Commands:
  attest   Sign distributions (PEP 740) without uploading them.
  check    Find trusted-publishing mistakes in CI files, offline.
  claims   Inspect the OIDC token; show the publisher to configure.
  init     Write the release pipeline and declare the publisher.
  publish  Upload distributions, with trusted publishing.
  sandbox  A local PyPI imitation to rehearse releases.
"""


def _fast_path(args: list[str]) -> str | None:
    """The output for ``--version`` / ``--help`` alone, or None to use click."""
    if args in (["--version"], ["-V"]):
        return f"{PROG_NAME}, version {__version__}\n"
    if args in (["--help"], ["-h"]) and _terminal_columns() >= 80:
        return ROOT_HELP
    return None


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns`` (what click uses), without importing shutil."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def run() -> None:
    """The ``trustpub`` command (console script, ``python -m trustpub``): :func:`main`, then
    :func:`_leave`. Code that calls :func:`main` itself gets its ``SystemExit`` as before."""
    outermost = _outermost(sys._getframe(1))
    try:
        main()
    except SystemExit as done:
        if outermost:
            _leave(done.code)
        raise


def _outermost(frame: Any) -> bool:
    """True when trustpub is the program: only the interpreter's start-up code called it.

    A console script or ``python -m trustpub`` is the ``__main__`` module, started by
    ``runpy`` at most. Under a profiler, a coverage runner or any other wrapper, that
    wrapper waits for control to come back (to write its report): so does trustpub.
    """
    if sys.getprofile() is not None or sys.gettrace() is not None:
        return False
    while frame is not None:
        if frame.f_globals.get("__name__") not in ("__main__", "runpy"):
            return False
        frame = frame.f_back
    return True


def main() -> None:
    """Run the command line on ``sys.argv``; ends with ``SystemExit`` (click's standalone mode)."""
    text = _fast_path(sys.argv[1:])
    if text is not None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    # httpx's package __init__ imports its own command line (httpx._main), which imports
    # click, rich's progress/syntax/table and pygments: about 60 ms that trustpub never uses.
    # httpx falls back to a stub ``main`` when that import fails, which a None entry in
    # sys.modules makes it do. Only this process (the trustpub command) is affected.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    from trustpub.cli import _signals
    from trustpub.cli._root import cli

    _signals.install()
    try:
        cli(prog_name=PROG_NAME)
    except SystemExit as done:
        if _signals.received() is None:
            raise
        code = done.code if isinstance(done.code, int) else 1
        # 130 is "interrupted"; after SIGTERM the documented code is 143.
        _signals.finish(_signals.exit_code() if code == 130 else code)
    if _signals.received() is not None:
        _signals.finish(_signals.exit_code())


def _leave(code: object) -> None:
    """End the process without the interpreter's teardown, when that teardown has nothing to do.

    Clearing every module httpx, click, packaging and twine brought in takes
    40-90 ms here, after the last byte of output. What shutdown does that matters
    is done first, in the interpreter's order: it returns (normal exit) while
    another non-daemon thread is alive (an upload abandoned by a signal), and
    runs the ``atexit`` callbacks (logging, coverage, temporary directories'
    finalizers). Then output is flushed and the process ends with ``code``.
    :func:`run` calls it only when trustpub is the program (:func:`_outermost`).
    Only the release commands (publish, attest) take this path, where the time is
    part of every release job; a non-integer code (a message for sys.exit to print)
    takes the normal one.
    """
    import atexit
    import threading

    if sys.argv[1:2] not in (["publish"], ["attest"]):
        return
    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    if run_exitfuncs is None or (code is not None and not isinstance(code, int)):
        return
    if any(
        thread is not threading.main_thread() and not thread.daemon
        for thread in threading.enumerate()
    ):
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(code or 0)


def __getattr__(name: str) -> Any:
    # ``from trustpub.cli import cli`` (tests, mkdocs-click) loads the click group lazily.
    if name in ("cli", "LazyGroup"):
        from trustpub.cli import _root

        return getattr(_root, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ROOT_HELP", "cli", "main", "run"]  # cli: provided by __getattr__
