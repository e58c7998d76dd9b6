"""Shared CLI plumbing: output scrubbing, logging, and the one error wrapper.

Every command body runs inside :func:`guarded`, which

* routes ``sys.stdout``/``sys.stderr`` through :func:`trustpub._secret.scrub`,
  so no remembered secret can be printed, whatever code path prints it;
* turns a :class:`~trustpub.errors.TrustpubError` into its diagnostics on
  stderr and the error's documented exit code, without a traceback unless
  ``--verbose`` was given;
* turns ``KeyboardInterrupt`` into exit 130 and any other exception into a
  one-line "internal error" (traceback only with ``--verbose``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from typing import IO, Any, TypeVar

import click

from trustpub._secret import RedactingFilter, scrub
from trustpub.errors import ExitCode, TrustpubError

F = TypeVar("F", bound=Callable[..., Any])

LOGGER_NAME = "trustpub"


class ScrubbingStream:
    """A text stream proxy that scrubs secrets from everything written."""

    def __init__(self, raw: IO[str]) -> None:
        self.raw = raw

    def write(self, text: str) -> int:
        self.raw.write(scrub(text))
        return len(text)

    def writelines(self, lines: list[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self.raw.flush()

    def isatty(self) -> bool:
        return bool(getattr(self.raw, "isatty", lambda: False)())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def raw_stdout() -> IO[str]:
    """The unscrubbed stdout, for the one line allowed to carry a secret: ``::add-mask::``."""
    out = sys.stdout
    return out.raw if isinstance(out, ScrubbingStream) else out


@contextlib.contextmanager
def scrubbed_output() -> Iterator[None]:
    """Route stdout and stderr through the secret scrubber for the duration."""
    saved = sys.stdout, sys.stderr
    if not isinstance(sys.stdout, ScrubbingStream):
        sys.stdout = ScrubbingStream(sys.stdout)
    if not isinstance(sys.stderr, ScrubbingStream):
        sys.stderr = ScrubbingStream(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def setup_logging(verbosity: int) -> None:
    """Configure the ``trustpub`` logger (never the root logger).

    ``-v`` shows debug lines from trustpub; ``-vv`` also from httpx/httpcore.
    ``TRUSTPUB_LOGLEVEL`` overrides the level by name.
    """
    levels = {
        "DEBUG": logging.DEBUG,
        "INFO": logging.INFO,
        "WARNING": logging.WARNING,
        "ERROR": logging.ERROR,
        "CRITICAL": logging.CRITICAL,
    }
    level_name = os.environ.get("TRUSTPUB_LOGLEVEL", "").upper()
    level = levels.get(level_name, logging.DEBUG if verbosity >= 1 else logging.WARNING)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(levelname).1s %(name)s: %(message)s"))
    names = [LOGGER_NAME] + (["httpx", "httpcore"] if verbosity >= 2 else [])
    for name in names:
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level)
        logger.propagate = False


def print_error(error: TrustpubError) -> None:
    """Render an error's diagnostics on stderr (plain text; scrubbed)."""
    text = error.diagnostics()
    first, _, rest = text.partition("\n")
    click.echo(f"error: {first}", err=True)
    if rest:
        click.echo(rest, err=True)


@contextlib.contextmanager
def guarded(
    verbose: bool = False, on_error: Callable[[TrustpubError], None] | None = None
) -> Iterator[None]:
    """Run a command body: scrub output, map errors to exit codes."""
    with scrubbed_output():
        try:
            yield
        except TrustpubError as error:
            if verbose:
                traceback.print_exc(file=sys.stderr)
            if on_error is not None:
                on_error(error)
            else:
                print_error(error)
            raise SystemExit(int(error.exit_code)) from None
        except KeyboardInterrupt:
            click.echo("error: interrupted", err=True)
            raise SystemExit(int(ExitCode.INTERRUPTED)) from None
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except Exception as error:  # the last resort for users
            if verbose:
                traceback.print_exc(file=sys.stderr)
            click.echo(f"error: internal error: {type(error).__name__}: {error}", err=True)
            click.echo(
                "hint: this is a bug in trustpub; rerun with --verbose and report it", err=True
            )
            raise SystemExit(int(ExitCode.FAILURE)) from None


def verbosity_options(func: F) -> F:
    """``-v/--verbose`` (repeatable) and ``-q/--quiet`` with env vars."""
    func = click.option(
        "-q",
        "--quiet",
        is_flag=True,
        envvar="TRUSTPUB_QUIET",
        show_envvar=True,
        help="Print only errors and the final result.",
    )(func)
    func = click.option(
        "-v",
        "--verbose",
        count=True,
        envvar="TRUSTPUB_VERBOSE",
        show_envvar=True,
        help="More detail; -vv adds HTTP traces. Errors show a traceback.",
    )(func)
    return func


__all__ = [
    "ScrubbingStream",
    "guarded",
    "print_error",
    "raw_stdout",
    "scrubbed_output",
    "setup_logging",
    "verbosity_options",
]
