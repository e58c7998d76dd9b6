"""Decode an OIDC token (a JWT) without verifying it.

trustpub never trusts what it decodes here: the index verifies the signature.
The client decodes only to *explain*: which provider issued the token, which
claims PyPI will match, whether the token is expired or meant for another
audience. Nothing in this module ever puts the token (or a piece of it) into
an error message.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trustpub.errors import IdentityError

_ANCHOR = "malformed-oidc-token"
_HINT = (
    "the value is not an OIDC token (a JWT: three base64url parts separated by dots); "
    "check the variable or file it came from"
)


@dataclass(frozen=True)
class DecodedToken:
    """The header and claims of a JWT, decoded without signature verification."""

    header: Mapping[str, Any]
    claims: Mapping[str, Any]

    @property
    def issuer(self) -> str | None:
        """``iss``, when it is a string."""
        value = self.claims.get("iss")
        return value if isinstance(value, str) else None

    @property
    def audience(self) -> str | list[str] | None:
        """``aud``: a string, a list of strings, or None when absent or malformed."""
        value = self.claims.get("aud")
        if isinstance(value, str):
            return value
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return list(value)
        return None

    @property
    def expires_at(self) -> float | None:
        """``exp`` in unix seconds."""
        return _number(self.claims.get("exp"))

    @property
    def not_before(self) -> float | None:
        """``nbf`` in unix seconds."""
        return _number(self.claims.get("nbf"))

    @property
    def issued_at(self) -> float | None:
        """``iat`` in unix seconds."""
        return _number(self.claims.get("iat"))

    @property
    def jti(self) -> str | None:
        """``jti`` (the token's unique id), when it is a string."""
        value = self.claims.get("jti")
        return value if isinstance(value, str) else None

    def claim_text(self, name: str) -> str | None:
        """One claim as display text (None when absent); see :func:`claim_text`."""
        return claim_text(self.claims.get(name)) if name in self.claims else None


MAX_TIMESTAMP = 1e11
"""Unix seconds (year 5138) that a time claim is clamped to: later is the same verdict, and
every clock computation stays in range (an integer with hundreds of digits overflows a float)."""


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value > MAX_TIMESTAMP:
        return MAX_TIMESTAMP
    if value < -MAX_TIMESTAMP:
        return -MAX_TIMESTAMP
    return float(value)


def claim_text(value: object) -> str | None:
    """Render a claim value for people: strings as-is, everything else as JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _b64url(segment: str, what: str) -> bytes:
    if not segment:
        raise IdentityError(f"the OIDC token's {what} is empty", hint=_HINT, anchor=_ANCHOR)
    padded = segment + "=" * (-len(segment) % 4)
    try:
        return base64.b64decode(padded, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise IdentityError(
            f"the OIDC token's {what} is not valid base64url", hint=_HINT, anchor=_ANCHOR
        ) from None


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise IdentityError(
            f"the OIDC token's {what} is not JSON", hint=_HINT, anchor=_ANCHOR
        ) from None
    if not isinstance(value, dict):
        raise IdentityError(
            f"the OIDC token's {what} is not a JSON object", hint=_HINT, anchor=_ANCHOR
        )
    return value


def decode_unverified(token: str) -> DecodedToken:
    """Split and decode a compact JWS; raise :class:`IdentityError` when malformed.

    The signature is **not** verified. Error messages describe the problem
    (which part, what is wrong) and never contain the token or any part of it.
    """
    text = token.strip()
    if not text:
        raise IdentityError("the OIDC token is empty", hint=_HINT, anchor=_ANCHOR)
    if any(ch.isspace() for ch in text):
        raise IdentityError("the OIDC token contains whitespace", hint=_HINT, anchor=_ANCHOR)
    parts = text.split(".")
    if len(parts) != 3:
        raise IdentityError(
            f"the OIDC token has {len(parts)} dot-separated part(s), a JWT has 3",
            hint=_HINT,
            anchor=_ANCHOR,
        )
    header = _json_object(_b64url(parts[0], "header"), "header")
    claims = _json_object(_b64url(parts[1], "payload"), "payload")
    return DecodedToken(header=header, claims=claims)


__all__ = ["DecodedToken", "claim_text", "decode_unverified"]
