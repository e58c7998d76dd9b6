"""Secrets as a type that redacts itself, and the last-line scrubber.

Every OIDC token, GitHub request token and minted API token lives in a
:class:`Secret`. Its ``str()`` and ``repr()`` never show the value; only the
HTTP layer calls :meth:`Secret.reveal` to put it on the wire.

Each ``Secret`` created with ``register=True`` (the default) is remembered in
this process so that :func:`scrub` can remove it, whole or as a recognisable
piece, from any text that is about to be printed or logged. The CLI routes all
of its output through :func:`scrub`; that is a safety net, not the mechanism:
code must still never format a revealed value into a message.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import threading
from typing import NoReturn

REDACTED = "***"

# Runs of token-ish characters long enough to be recognisable.
_PIECE = re.compile(r"[A-Za-z0-9_\-+/]{12,}")
_MIN_PIECE = 12

_lock = threading.Lock()
_known: set[str] = set()


class Secret:
    """A credential that never shows itself in ``str``, ``repr`` or pickles."""

    __slots__ = ("_value",)

    def __init__(self, value: str, *, register: bool = True) -> None:
        self._value = value
        if register:
            remember(value)

    def reveal(self) -> str:
        """The raw value, for the wire only."""
        return self._value

    @property
    def fingerprint(self) -> str:
        """A short, safe identifier (``sha256:`` + 8 hex) to tell secrets apart in logs."""
        return "sha256:" + hashlib.sha256(self._value.encode()).hexdigest()[:8]

    def __bool__(self) -> bool:
        return bool(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __repr__(self) -> str:
        return f"Secret({REDACTED})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return self._value == other._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")


def remember(value: str) -> None:
    """Register a raw secret value so that :func:`scrub` removes it."""
    value = value.strip()
    if len(value) < _MIN_PIECE:
        return
    with _lock:
        _known.add(value)
        # A JWT is three base64url segments; each one alone is recognisable.
        for part in re.split(r"[.\s]", value):
            if len(part) >= _MIN_PIECE:
                _known.add(part)
        # pypi-<macaroon>: the body without the prefix is the secret part.
        if value.startswith("pypi-") and len(value) > 5 + _MIN_PIECE:
            _known.add(value[5:])
        # The Basic header an upload sends carries it base64-encoded; an index
        # that echoes the header back must not get it printed either.
        _known.add(base64.b64encode(f"__token__:{value}".encode()).decode())


def forget_all() -> None:
    """Drop every remembered secret (tests use this between cases)."""
    with _lock:
        _known.clear()


def scrub(text: str) -> str:
    """Remove every remembered secret, whole or in recognisable pieces, from text."""
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    if not known or not text:
        return text
    for value in known:
        if value in text:
            text = text.replace(value, REDACTED)

    def _piece(match: re.Match[str]) -> str:
        run = match.group(0)
        return REDACTED if any(run in value for value in known) else run

    return _PIECE.sub(_piece, text)


_TOKEN_SHAPES = re.compile(
    r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*|pypi-[A-Za-z0-9_-]{16,}"
)


def redact_token_shapes(text: str) -> str:
    """Replace anything shaped like a JWT or a ``pypi-`` token, known or not, with ``***``.

    For text from outside (an index's answer, a token endpoint's body): it may
    echo a credential this process never saw, which :func:`scrub` cannot know.
    """
    return _TOKEN_SHAPES.sub(REDACTED, text)


def scrub_outside(text: str) -> str:
    """:func:`scrub`, then :func:`redact_token_shapes`: the cleaning for outside text."""
    return redact_token_shapes(scrub(text))


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs remembered secrets from every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


def github_mask_command(secret: Secret) -> str:
    """The workflow command that tells GitHub Actions to mask this value in logs.

    The CLI writes it to the raw stdout before anything else is printed; it is
    the one line allowed to carry the value (GitHub removes it from the log).
    """
    return f"::add-mask::{secret.reveal()}"


__all__ = [
    "REDACTED",
    "RedactingFilter",
    "Secret",
    "forget_all",
    "github_mask_command",
    "redact_token_shapes",
    "remember",
    "scrub",
    "scrub_outside",
]
