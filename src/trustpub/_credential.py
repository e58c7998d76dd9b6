"""The credential an upload authenticates with.

Kept apart from :mod:`trustpub.exchange` (which re-exports it) so that an
upload with an API token does not import the OIDC exchange and its
diagnostics.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from trustpub._secret import Secret, remember


@dataclass(frozen=True)
class UploadCredential:
    """What an upload authenticates with."""

    username: str
    """``__token__`` for tokens, else the index's user name (not a secret)."""
    password: Secret
    source: str
    """``trusted-publishing``, ``token``, ``password`` or ``keyring``."""
    expires_at: float | None
    """Unix seconds (minted tokens), else None."""

    def __post_init__(self) -> None:
        # The Basic header carries user and password base64-encoded; an index echoing it back
        # must not get it printed, whatever the user name is.
        pair = f"{self.username}:{self.password.reveal()}".encode()
        remember(base64.b64encode(pair).decode())


__all__ = ["UploadCredential"]
