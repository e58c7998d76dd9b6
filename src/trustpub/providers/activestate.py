"""ActiveState Platform builds (provisional: the full provider lands shortly).

``TOKEN_ENV`` is the environment variable trustpub reads an ActiveState OIDC
token from; the sandbox exports the same name.
"""

from __future__ import annotations

TOKEN_ENV = "ACTIVESTATE_OIDC_TOKEN"  # noqa: S105 - a variable name, not a secret
"""Environment variable holding an ActiveState OIDC token (our convention; see docs/providers.md)."""

__all__ = ["TOKEN_ENV"]
