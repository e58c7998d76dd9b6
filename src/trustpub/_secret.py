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
import html
import logging
import re
import threading
import unicodedata
import urllib.parse
from typing import NoReturn

REDACTED = "***"

# Runs of token-ish characters: a run that is a piece of a secret (or of one of
# its encodings) is redacted. Eight characters of a random token are already
# unique; ordinary words are not pieces of base64 or hex secrets.
_PIECE = re.compile(r"[A-Za-z0-9_\-+/]{8,}")
_MIN_PIECE = 8

# Runs that may hold an encoded secret: base64 (both alphabets), hex, percent
# escapes and HTML character references. Each is decoded and checked again.
_ENCODED_RUN = re.compile(r"[A-Za-z0-9+/=_\-%&#;.~]{8,}")
_HEX_RUN = re.compile(r"[0-9A-Fa-f]{16,}")
_B64_CHARS = re.compile(r"[A-Za-z0-9+/_\-]+=*")

_lock = threading.Lock()
_known: set[str] = set()
"""Secrets and their fixed encodings, eight characters or more."""
_short: set[str] = set()
"""Secrets shorter than :data:`_MIN_PIECE`, scrubbed only as whole words."""


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


def _forms(value: str) -> set[str]:
    """The value and the fixed encodings an index could echo it in."""
    raw = value.encode("utf-8", "surrogatepass")
    forms = {value, raw.hex(), raw.hex().upper()}
    for plain in (raw, b"__token__:" + raw):
        encoded = base64.b64encode(plain).decode()
        forms.update({encoded, encoded.rstrip("="), encoded.translate(_URLSAFE).rstrip("=")})
    return {form for form in forms if form}


_URLSAFE = str.maketrans("+/", "-_")
_STANDARD = str.maketrans("-_", "+/")


def remember(value: str) -> None:
    """Register a raw secret value so that :func:`scrub` removes it, in any encoding."""
    value = value.strip()
    if not value:
        return
    with _lock:
        for form in _forms(value):
            (_known if len(form) >= _MIN_PIECE else _short).add(form)
        # A JWT is three base64url segments; each one alone is recognisable.
        for part in re.split(r"[.\s]", value):
            if len(part) >= _MIN_PIECE and part != value:
                _known.update(_forms(part))
        # pypi-<macaroon>: the body without the prefix is the secret part.
        if value.startswith("pypi-") and len(value) > 5 + _MIN_PIECE:
            _known.update(_forms(value[5:]))


def forget_all() -> None:
    """Drop every remembered secret (tests use this between cases)."""
    with _lock:
        _known.clear()
        _short.clear()


def _snapshot() -> tuple[list[str], list[str]]:
    with _lock:
        return sorted(_known, key=len, reverse=True), sorted(_short, key=len, reverse=True)


def _scrub_plain(text: str, known: list[str], short: list[str]) -> str:
    """Whole secrets, token-ish runs that are pieces of one, and short secrets as words."""
    for value in known:
        if value in text:
            text = text.replace(value, REDACTED)

    def _piece(match: re.Match[str]) -> str:
        run = match.group(0)
        return REDACTED if any(run in value for value in known) else run

    text = _PIECE.sub(_piece, text)
    for value in short:
        if value in text:
            text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])", REDACTED, text)
    return text


def _decodings(run: str) -> list[str]:
    """What an encoded run could stand for (percent/HTML, base64 at each offset, hex)."""
    found: list[str] = []
    if "%" in run or "&" in run:
        found.append(html.unescape(urllib.parse.unquote(run)))
    bare = run.rstrip("=.;")
    if _B64_CHARS.fullmatch(bare):
        standard = bare.translate(_STANDARD)
        for offset in range(4):
            chunk = standard[offset:]
            if len(chunk) % 4 == 1:
                chunk = chunk[:-1]
            if len(chunk) >= 6:
                padded = chunk + "=" * (-len(chunk) % 4)
                found.append(base64.b64decode(padded).decode("latin-1"))
    for match in _HEX_RUN.finditer(run):
        digits = match.group(0)
        for offset in range(2):
            chunk = digits[offset:]
            found.append(bytes.fromhex(chunk[: len(chunk) - len(chunk) % 2]).decode("latin-1"))
    return found


def _hides_secret(run: str, known: list[str], short: list[str]) -> bool:
    for decoded in _decodings(run):
        if decoded == run:
            continue
        # Decoded bytes have no word boundaries: a short secret counts anywhere in them.
        if any(value in decoded for value in short):
            return True
        if _scrub_plain(decoded, known, []) != decoded:
            return True
    return False


def scrub(text: str) -> str:
    """Remove every remembered secret from text: whole, in pieces, or encoded.

    Encodings covered: base64 (standard and URL-safe, padded or not, at any
    offset in a longer encoded text), hex, percent escapes, HTML character
    references, and the ``Authorization: Basic`` form of an upload token. A
    secret cut into pieces shorter than eight characters is not recognised:
    the CLI prints only a bounded excerpt of what an index says for that reason.
    """
    known, short = _snapshot()
    if not text or not (known or short):
        return text
    text = _scrub_plain(text, known, short)

    def _encoded(match: re.Match[str]) -> str:
        run = match.group(0)
        return REDACTED if _hides_secret(run, known, short) else run

    return _ENCODED_RUN.sub(_encoded, text)


def whitespace_problem(value: str, *, blanks: bool = False) -> str | None:
    """Why a token cannot be used as it is (whitespace or control characters inside), or None.

    Such a token could not be masked on GitHub (a mask is one line) and no index
    issues one: it is refused before anything is printed. ``blanks=True`` (for
    passwords) allows spaces, never line breaks or control characters.
    """
    for char in value:
        if blanks and char == " ":
            continue
        if char.isspace() or unicodedata.category(char).startswith("C"):
            return f"it contains {'whitespace' if char.isspace() else 'a control character'}"
    return None


_JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_TOKEN_SHAPES = re.compile(rf"{_JWT_SHAPE.pattern}|pypi-[A-Za-z0-9_-]{{16,}}")
"""Anything shaped like a JWT (a JSON header starts ``eyJ``) or a ``pypi-`` API token."""


def is_jwt_shaped(value: str) -> bool:
    """Whether ``value`` as a whole is shaped like a JWT (the shape :func:`redact_token_shapes` hides)."""
    return _JWT_SHAPE.fullmatch(value) is not None


def redact_token_shapes(text: str) -> str:
    """Replace anything shaped like a JWT or a ``pypi-`` token, known or not, with ``***``.

    For text from outside (an index's answer, a token endpoint's body): it may
    echo a credential this process never saw, which :func:`scrub` cannot know.
    """
    return _TOKEN_SHAPES.sub(REDACTED, text)


def scrub_outside(text: str) -> str:
    """:func:`redact_token_shapes`, then :func:`scrub`: the cleaning for outside text.

    Shapes first: scrubbing a known token's pieces (every RS256 JWT starts with the
    same ``eyJhbGciOi...`` header) could cut an unknown token so that its shape no
    longer matches, and the rest of it would be left in the text.
    """
    return scrub(redact_token_shapes(text))


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
    "is_jwt_shaped",
    "redact_token_shapes",
    "remember",
    "scrub",
    "scrub_outside",
    "whitespace_problem",
]
