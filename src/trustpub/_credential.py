"""The credential an upload authenticates with.

Kept apart from :mod:`trustpub.exchange` (which re-exports it) so that an
upload with an API token does not import the OIDC exchange and its
diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass

from trustpub._secret import Secret


@dataclass(frozen=True)
class UploadCredential:
    """What an upload authenticates with."""

    username: str
    """Always ``__token__`` for tokens."""
    password: Secret
    source: str
    """``trusted-publishing``, ``token`` or ``keyring``."""
    expires_at: float | None
    """Unix seconds (minted tokens), else None."""


__all__ = ["UploadCredential"]
