"""``--oidc-token-env NAME``: an OIDC token handed over in any environment variable.

This covers CI systems trustpub does not know, tokens obtained by an earlier
step (``buildkite-agent oidc request-token``, ``circleci run oidc get``), and
wrappers such as tox that drop the CI's own variables unless told to pass
them. The variable is read once; the JWT is checked locally (audience, expiry,
issuer) like any other before it is sent.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from trustpub._secret import Secret
from trustpub.errors import IdentityError, UsageError
from trustpub.providers._base import Detection, logger, valid_env_name

NAME = "env"


def detect(env: Mapping[str, str], variable: str) -> Detection:
    """The token in ``variable``; IdentityError when it is unset or empty."""
    if not valid_env_name(variable):
        raise UsageError(
            f"--oidc-token-env: {variable!r} is not an environment variable name",
            hint="give the variable's name, not its value, e.g. --oidc-token-env MY_OIDC_TOKEN",
            anchor="oidc-token-env",
        )
    value = env.get(variable, "").strip()
    if not value:
        state = "is empty" if variable in env else "is not set"
        raise IdentityError(
            f"--oidc-token-env names {variable}, but {variable} {state}",
            hint=f"export the OIDC token as {variable} before running trustpub "
            "(under tox, list it in pass_env)",
            anchor="oidc-token-env",
        )
    token = Secret(value)
    logger.debug("env: token found in %s", variable)

    def fetch(audience: str, client: httpx.Client | None) -> Secret:
        return token

    return Detection(
        provider=NAME,
        description=f"OIDC token from ${variable}",
        fetcher=fetch,
        static_token=True,
    )


__all__ = ["NAME", "detect"]
