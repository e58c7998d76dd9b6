"""Where the OIDC identity comes from: CI systems and clouds, tried in a fixed order.

Order: an explicit ``--oidc-token-env NAME``, then GitHub Actions, GitLab
CI/CD, ActiveState, and Google Cloud last (the only provider that may touch
the network while detecting, and only on a machine that shows signs of Google
Cloud). Detection reads the environment first: on a laptop nothing is
contacted and :func:`detect` returns None.

Each provider follows one contract: ``None`` = not here, a
:class:`Detection` = here, :class:`~trustpub.errors.IdentityError` = here but
broken (with the fix in the hint).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from trustpub.providers import activestate, github, gitlab, google
from trustpub.providers import env as env_provider
from trustpub.providers._base import (
    Detection,
    Provider,
    TransientIdentityError,
    logger,
)
from trustpub.providers._preflight import Finding, preflight

PROVIDER_NAMES = ("env", "github", "gitlab", "activestate", "google")
"""Every ``Detection.provider`` value, in detection order."""


def detect(
    env: Mapping[str, str] | None = None,
    *,
    oidc_token_env: str | None = None,
    probe: bool = True,
) -> Detection | None:
    """The CI/cloud identity of this environment, or None when there is none.

    ``env`` defaults to ``os.environ``. ``oidc_token_env`` names a variable
    holding a JWT (wins over everything). ``probe=False`` forbids any network
    access (Google is then detected from the DMI product name only). Raises
    ``IdentityError`` when a provider is present but cannot work (GitHub
    without ``id-token: write``, an empty ``--oidc-token-env`` variable).
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    if oidc_token_env:
        return env_provider.detect(environ, oidc_token_env)
    detectors: tuple[Callable[..., Detection | None], ...] = (
        github.detect,
        gitlab.detect,
        activestate.detect,
        google.detect,  # last: the only one that may probe the network
    )
    for detector in detectors:
        found = detector(environ, probe=probe)
        if found is not None:
            logger.debug("detected %s", found.provider)
            return found
    logger.debug("no CI or cloud identity detected")
    return None


__all__ = [
    "PROVIDER_NAMES",
    "Detection",
    "Finding",
    "Provider",
    "TransientIdentityError",
    "detect",
    "preflight",
]
