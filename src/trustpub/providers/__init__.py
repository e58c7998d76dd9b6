"""Where the OIDC identity comes from: CI systems and clouds, tried in a fixed order.

Order: an explicit ``--oidc-token-env NAME``, then GitHub Actions, GitLab
CI/CD, ActiveState, Google Cloud (the only provider that may touch the network
while detecting, and only on a machine that shows signs of Google Cloud), and
last the ``id`` library's detectors for CIs trustpub has no module for
(:mod:`~trustpub.providers.ambient`). Detection reads the environment first: on a laptop nothing is
contacted and :func:`detect` returns None.

Each provider follows one contract: ``None`` = not here, a
:class:`Detection` = here, :class:`~trustpub.errors.IdentityError` = here but
broken (with the fix in the hint). Each provider module also words its own
preflight findings (``findings()``); :func:`preflight` gathers them with the
token checks every provider shares.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping

import httpx

from trustpub._secret import Secret
from trustpub.errors import IdentityError
from trustpub.oidc import validity
from trustpub.oidc.claims import DecodedToken, claim_text, decode_unverified
from trustpub.oidc.publishers import Provider, provider_for_issuer
from trustpub.providers import _token, activestate, ambient, github, gitlab, google
from trustpub.providers import env as env_provider
from trustpub.providers._base import (
    Detection,
    Finding,
    Severity,
    TransientIdentityError,
    env_true,
    logger,
)

PROVIDER_NAMES = ("env", "github", "gitlab", "activestate", "google", "ambient")
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
        google.detect,  # the only one of ours that may probe the network
        ambient.detect,  # last: CIs only the id library knows (process environment only)
    )
    for detector in detectors:
        found = detector(environ, probe=probe)
        if found is not None:
            logger.debug("detected %s", found.provider)
            return found
    logger.debug("no CI or cloud identity detected")
    return None


def _token_provider(provider: str | None, token: DecodedToken | None) -> Provider | None:
    """The PyPI provider whose rules apply: the detection's, else the token's issuer."""
    if provider in {p.value for p in Provider}:
        return Provider(str(provider))
    if token is None:
        return None
    kind = provider_for_issuer(token.issuer)
    if kind is None and token.claims.get("project_path") and token.claims.get("ci_config_ref_uri"):
        return Provider.GITLAB  # a self-managed GitLab instance
    return kind


def token_for_audience(
    detection: Detection, audience: str, client: httpx.Client | None = None
) -> Secret:
    """An OIDC token for another ``audience`` (e.g. ``sigstore``) from the detected provider.

    GitHub asks its token service for that audience; GitLab reads the job's
    ``<AUD>_ID_TOKEN`` variable (``SIGSTORE_ID_TOKEN``; missing: the error shows the
    ``id_tokens:`` entry to add); Google asks the metadata server (or IAM); the
    fallback asks the ``id`` library. A source that holds one fixed token
    (``--oidc-token-env``, ActiveState) serves only the audience it was issued for,
    so the token's audience is checked (:mod:`trustpub.oidc.validity`) and a
    mismatch raises :class:`~trustpub.errors.IdentityError`.
    """
    token = detection.fetch_token(audience, client=client)
    decoded = decode_unverified(token.reveal())
    if validity.audience_violations(decoded, audience):
        shown = claim_text(decoded.claims.get("aud")) or "none"
        raise IdentityError(
            f"{detection.description} holds a token for audience {shown!r}, not {audience!r}",
            hint=f"obtain a separate OIDC token for audience {audience!r} in this job",
            anchor="oidc-token-audience",
        )
    return token


_ORDER: dict[Severity, int] = {"blocker": 0, "warning": 1, "info": 2}


def preflight(
    provider: str | None,
    token: DecodedToken | None,
    env: Mapping[str, str],
    *,
    audience: str | None,
    now: float | None = None,
) -> list[Finding]:
    """Offline checks of the CI environment and the token, blockers first.

    ``provider`` is a detection name (``github``, ``gitlab``, ``google``,
    ``activestate``, ``env``) or None; for ``env`` or None the token's issuer
    decides which provider's findings apply. ``audience`` is what the index
    expects (None: not known yet). Each provider module words its own findings;
    the token's issuer, audience and validity window are judged by
    :mod:`trustpub.oidc.validity` for every provider alike.
    """
    moment = time.time() if now is None else now
    kind = _token_provider(provider, token)
    findings: list[Finding] = []
    if kind is Provider.GITHUB or (kind is None and env_true(env, "GITHUB_ACTIONS")):
        findings.extend(github.findings(token, env))
    if kind is Provider.GITLAB or (kind is None and token is None and env_true(env, "GITLAB_CI")):
        findings.extend(gitlab.findings(token, env, audience))
    if kind is Provider.GOOGLE:
        findings.extend(google.findings(token))
    if kind is Provider.ACTIVESTATE:
        findings.extend(activestate.findings(token))
    if token is not None:
        findings.extend(_token.issuer_findings(token, kind, audience))
        findings.extend(_token.audience_findings(token, audience))
        findings.extend(_token.timing_findings(token, moment))
    return sorted(findings, key=lambda f: _ORDER[f.severity])


__all__ = [
    "PROVIDER_NAMES",
    "Detection",
    "Finding",
    "Severity",
    "TransientIdentityError",
    "detect",
    "preflight",
    "token_for_audience",
]
