"""ActiveState Platform: a build container that receives an OIDC token in its environment.

What is publicly known (searched 2026-11-21; sources below):

* PyPI's security model page, ActiveState tab: "an OIDC token is generated and
  passed into the necessary build container as an environment variable along
  with your release artifact". The variable's name is not documented anywhere
  public (pypi/warehouse ``docs/user/trusted-publishers/security-model.md``,
  added in pypi/warehouse#15548).
* PyPI's "using a publisher" page, ActiveState tab (pypi/warehouse#15192): the
  user runs ``state publish`` (with ``--depend builder/python-module-builder``),
  writes a ``buildscript.as`` with ``pypi_publisher(attempt=1,
  audience="testpypi", pypi_uri="test.pypi.org", src=wheels)`` (both fields
  blank for PyPI; bump ``attempt`` to retry), then ``state commit`` and
  ``state eval publish_receipt``. ActiveState's own ``pypi-publisher`` builder
  mints and uploads inside the platform.
* The token's issuer is ``https://platform.activestate.com/api/v1/oauth/oidc``
  and PyPI requires ``builder == "pypi-publisher"`` (warehouse
  ``oidc/models/activestate.py``). Searches of ActiveState's public
  repositories (State Tool ``ActiveState/cli``, docs.activestate.com) found no
  builder source and no variable name.

So trustpub never holds a real ActiveState token today; the platform does the
exchange itself. For builders that do hand the token to a process, and for the
sandbox, trustpub reads it from :data:`TOKEN_ENV` - **our own convention**, not
ActiveState's. Any other variable works with ``--oidc-token-env NAME``.

``id`` has no ActiveState detector, so there is nothing of it to use here. The
variable holds one token for one audience: a token for another audience
(``providers.token_for_audience``) is refused, never substituted.
"""

from __future__ import annotations

from collections.abc import Mapping

from trustpub.oidc.claims import DecodedToken, claim_text
from trustpub.oidc.diagnostics import BUILDER_FIX
from trustpub.oidc.rules import ACTIVESTATE_BUILDER
from trustpub.providers._base import Detection, Finding, handed_over, logger

NAME = "activestate"

TOKEN_ENV = "ACTIVESTATE_OIDC_TOKEN"  # noqa: S105 - a variable name, not a secret
"""Environment variable holding an ActiveState OIDC token (trustpub's convention; the sandbox exports it)."""


def detect(env: Mapping[str, str], *, probe: bool = True) -> Detection | None:
    """Present when :data:`TOKEN_ENV` holds a token."""
    value = env.get(TOKEN_ENV, "").strip()
    if not value:
        logger.debug("activestate: %s unset; not an ActiveState build", TOKEN_ENV)
        return None
    logger.debug("activestate: token found in %s", TOKEN_ENV)
    return handed_over(NAME, f"ActiveState Platform build (token in {TOKEN_ENV})", value)


def findings(token: DecodedToken | None) -> list[Finding]:
    """Preflight for an ActiveState token: PyPI requires the ``pypi-publisher`` builder."""
    if token is None:
        return []
    builder = token.claims.get("builder")
    if builder == ACTIVESTATE_BUILDER:
        return []
    return [
        Finding(
            "activestate-builder",
            "blocker",
            f"the token's builder is {claim_text(builder) or 'missing'}, PyPI requires "
            f"{ACTIVESTATE_BUILDER}",
            BUILDER_FIX,
        )
    ]


__all__ = ["NAME", "TOKEN_ENV", "detect", "findings"]
