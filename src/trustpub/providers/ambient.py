"""Other CIs, through the ``id`` library: the fallback after trustpub's own providers.

``id`` (the ecosystem's ambient-OIDC library, which sigstore-python builds on)
also knows CIs trustpub does not model: Buildkite (``buildkite-agent oidc
request-token``) and CircleCI (``circleci run oidc get``). When none of
trustpub's own providers is present and one of those CIs' markers
(:data:`MARKERS`) is, detection returns a :class:`Detection` whose token comes
from ``id.detect_credential(audience)``. The marker check keeps a laptop
undetected without running anything: ``id`` needs the audience, which is
known only when the token is fetched.

``id`` reads ``os.environ`` only (no mapping can be passed), so this fallback
is used only when detection runs on the process environment itself: a caller
that hands :func:`~trustpub.providers.detect` another mapping (the sandbox's
job environments, tests) is describing a different job, which ``id`` cannot
see. ``id``'s errors may quote an endpoint's answer; their text is scrubbed of
anything shaped like a token before it is shown.

Why trustpub keeps its own GitHub, GitLab, Google and ActiveState providers,
not ``id``'s: see each of those modules (explicit environments, Cloud Run's
metadata host, the sandbox's IAM URL, exact fix texts, trustpub's HTTP client).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import httpx

from trustpub._secret import Secret, scrub_outside
from trustpub.errors import IdentityError
from trustpub.providers._base import Detection, env_true, logger

NAME = "ambient"

MARKERS = {"BUILDKITE": "Buildkite", "CIRCLECI": "CircleCI"}
"""CIs ``id`` can get a token on and trustpub has no module for: their marker variable."""


def detect(env: Mapping[str, str], *, probe: bool = True) -> Detection | None:
    """A CI that ``id`` knows (by its marker variable), on the process environment only."""
    if env is not os.environ:
        logger.debug("ambient: not the process environment; the id library cannot see it")
        return None
    found = [title for name, title in MARKERS.items() if env_true(env, name)]
    if not found:
        logger.debug("ambient: no CI the id library knows (%s)", ", ".join(MARKERS))
        return None
    logger.debug("ambient: %s; the OIDC token will come from the id library", found[0])
    return Detection(
        provider=NAME,
        description=f"{found[0]} (OIDC token via the id library)",
        fetcher=_fetch,
    )


def _fetch(audience: str, client: httpx.Client | None) -> Secret:
    import id as ambient_id  # lazy: only this fallback needs it

    try:
        value = ambient_id.detect_credential(audience)
    except ambient_id.IdentityError as error:
        raise IdentityError(
            f"the id library could not get an OIDC token for audience {audience!r}: "
            + scrub_outside(str(error)),
            hint="check that the CI job may request OIDC tokens (see your CI's OIDC docs), "
            "or pass one with --oidc-token-env NAME",
            anchor="no-trusted-publishing-identity",
        ) from None
    if not value:
        raise IdentityError(
            f"the id library found no OIDC token for audience {audience!r} in this job",
            hint="request a token in an earlier step and pass it with --oidc-token-env NAME",
            anchor="no-trusted-publishing-identity",
        )
    logger.debug("ambient: received an OIDC token from the id library")
    return Secret(value.strip())


__all__ = ["MARKERS", "NAME", "detect"]
