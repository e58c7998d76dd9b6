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
import re
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from trustpub._secret import RedactingFilter, scrub
from trustpub.errors import ExitCode, TrustpubError

F = TypeVar("F", bound=Callable[..., Any])

LOGGER_NAME = "trustpub"


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def one_line(text: object) -> str:
    """Outside text (file names, index answers, claims) made one printable line.

    Line breaks, tabs, terminal escapes and other control or bidi characters
    become visible escapes (``\\n``, ``\\x1b``, ``\\u2028``), so such text can
    never start a line of its own in a CI log, where a line may be a command.
    """
    return _CONTROL.sub(_escape_char, str(text))


def _escape_char(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# What a CI runner takes for a command: GitHub's ``::name::`` at the start of a
# line (after blanks) and the older ``##[name]`` anywhere in a line.
_LINE_COMMAND = re.compile(r"^([ \t]*)::", re.MULTILINE)


def defuse_commands(text: str) -> str:
    """Text in which no line can be read as a workflow command.

    Only :func:`command_line` may write a line starting with ``::``; anything
    else that would (a file name, an index's message) gets a visible backslash.
    """
    if "::" in text:
        text = _LINE_COMMAND.sub(r"\1\\::", text)
    return text.replace("##[", "#\\#[")


class _OutputGate:
    """Holds output (both streams, in order) until the run's first secret is masked.

    On GitHub Actions the ``::add-mask::`` lines must come before anything else
    a run prints; :func:`hold_output` closes the gate at the start of a command,
    :func:`release_output` opens it (after the first mask, or at the end).
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.held: list[tuple[IO[str], str]] | None = None

    def write(self, raw: IO[str], text: str) -> None:
        with self.lock:
            if self.held is not None:
                self.held.append((raw, text))
                return
        raw.write(text)

    def release(self) -> None:
        with self.lock:
            held, self.held = self.held, None
            for raw, text in held or ():
                raw.write(text)
                raw.flush()


_GATE = _OutputGate()


def hold_output() -> None:
    """Hold all output until :func:`release_output` (GitHub: masks first)."""
    with _GATE.lock:
        if _GATE.held is None:
            _GATE.held = []


def release_output() -> None:
    """Print what was held, in order, and stop holding."""
    _GATE.release()


class ScrubbingStream:
    """A text stream proxy that scrubs secrets from everything written.

    It also defuses workflow commands: a line written through it can never be
    a command (:func:`command_line` writes the real ones).
    """

    def __init__(self, raw: IO[str]) -> None:
        self.raw = raw
        self.line_start = True

    def write(self, text: str) -> int:
        _GATE.write(self.raw, defuse_commands(scrub(text)))
        if text:
            self.line_start = text.endswith(("\n", "\r"))
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


def raw_stderr() -> IO[str]:
    """The unscrubbed stderr (for ``::add-mask::`` when stdout is reserved for JSON)."""
    err = sys.stderr
    return err.raw if isinstance(err, ScrubbingStream) else err


def command_line(line: str, *, stderr: bool = False) -> None:
    """Write one workflow command of our own (scrubbed, not defused) as a line of its own.

    Callers build ``line`` with :func:`trustpub.cli._ci.workflow_command`, which
    escapes the outside text inside it.
    """
    stream = raw_stderr() if stderr else raw_stdout()
    wrapper = sys.stderr if stderr else sys.stdout
    start = ""
    if isinstance(wrapper, ScrubbingStream):
        start = "" if wrapper.line_start else "\n"
        wrapper.line_start = True
    _GATE.write(stream, start + scrub(line) + "\n")
    stream.flush()


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
        release_output()
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
    click.echo(error_text(error), err=True)


def error_text(error: TrustpubError) -> str:
    """An error's diagnostics as printed: ``error: message``, details, hint, link.

    Every line is made one line on its own (:func:`one_line`): a message may
    quote what an index said, and that must not start lines of its own.
    """
    lines = [f"error: {one_line(error.message)}"]
    lines.extend(one_line(line) for line in error.details)
    if error.hint:
        lines.append(f"hint: {one_line(error.hint)}")
    if error.docs_url:
        lines.append(f"docs: {error.docs_url}")
    return "\n".join(lines)


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
            from trustpub.cli._signals import exit_code

            click.echo("error: interrupted", err=True)
            raise SystemExit(exit_code()) from None
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except Exception as error:  # the last resort for users
            if verbose:
                traceback.print_exc(file=sys.stderr)
            click.echo(
                f"error: internal error: {type(error).__name__}: {one_line(error)}", err=True
            )
            click.echo(
                "hint: this is a bug in trustpub; rerun with --verbose and report it", err=True
            )
            raise SystemExit(int(ExitCode.FAILURE)) from None


def env_option(*decls: str, twine: Sequence[str] = (), **attrs: Any) -> Callable[[F], F]:
    """An option that can also be set as ``TRUSTPUB_<LONG NAME>`` (``--dry-run``:
    ``TRUSTPUB_DRY_RUN``), then as ``twine``'s variables where twine has one; --help shows them."""
    long = next(decl for decl in decls if decl.startswith("--")).split("/")[0]
    name = "TRUSTPUB_" + long[2:].upper().replace("-", "_")
    envvar: str | list[str] = [name, *twine] if twine else name
    return click.option(*decls, envvar=envvar, show_envvar=True, **attrs)


def oidc_token_env_option(func: F) -> F:
    """``--oidc-token-env NAME``: where ``publish`` and ``claims`` read an OIDC token in any CI."""
    return env_option(
        "--oidc-token-env",
        metavar="NAME",
        help="Read the OIDC token from this environment variable (any CI).",
    )(func)


def expect_option(example: str) -> Callable[[F], F]:
    """``--expect KEY=VALUE`` (repeatable): the declared publisher, for ``check`` and ``claims``."""
    return click.option(
        "--expect",
        multiple=True,
        metavar="KEY=VALUE",
        help=f"The publisher configured on the index (repeatable; e.g. {example}). "
        "Adds to [tool.trustpub.publisher].",
    )


def pyproject_option(default: Path | None, text: str) -> Callable[[F], F]:
    """``--pyproject PATH``: where ``check`` and ``claims`` read [tool.trustpub.publisher]."""
    return click.option(
        "--pyproject",
        type=click.Path(dir_okay=False, path_type=Path),
        default=default,
        show_default=default is not None,
        help=text,
    )


def verbosity_options(func: F) -> F:
    """``-v/--verbose`` (repeatable) and ``-q/--quiet`` with env vars."""
    func = env_option(
        "-q",
        "--quiet",
        is_flag=True,
        help="Print only errors and the final result.",
    )(func)
    func = env_option(
        "-v",
        "--verbose",
        count=True,
        help="More detail; -vv adds HTTP traces. Errors show a traceback.",
    )(func)
    return func


__all__ = [
    "ScrubbingStream",
    "command_line",
    "defuse_commands",
    "env_option",
    "error_text",
    "expect_option",
    "guarded",
    "hold_output",
    "jobs_option",
    "one_line",
    "print_error",
    "pyproject_option",
    "raw_stderr",
    "raw_stdout",
    "release_output",
    "scrubbed_output",
    "setup_logging",
    "verbosity_options",
]


def jobs_option(text: str) -> Callable[[F], F]:
    """``-j/--jobs N`` (``TRUSTPUB_JOBS``), shared by ``publish`` and ``attest``."""
    return env_option(
        "-j",
        "--jobs",
        type=click.IntRange(min=1, max=32),
        default=4,
        metavar="N",
        show_default=True,
        help=text,
    )
