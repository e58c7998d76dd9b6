"""``--oidc-token-env NAME``: an OIDC token handed over in any environment variable.

This covers CI systems trustpub does not know, tokens obtained by an earlier
step (``buildkite-agent oidc request-token``, ``circleci run oidc get``), and
wrappers such as tox that drop the CI's own variables unless told to pass
them. The variable is read once; the JWT is checked locally (audience, expiry,
issuer) like any other before it is sent.
"""

from __future__ import annotations

from collections.abc import Mapping

from trustpub.errors import IdentityError, UsageError
from trustpub.providers._base import Detection, handed_over, logger, valid_env_name

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
    logger.debug("env: token found in %s", variable)
    return handed_over(
        NAME,
        f"OIDC token from ${variable}",
        value,
        audience_fix=lambda audience: f"request the OIDC token for audience {audience!r}",
    )


__all__ = ["NAME", "detect"]
