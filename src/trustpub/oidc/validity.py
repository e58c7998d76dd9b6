"""The one set of token-validity rules: when PyPI accepts an OIDC token, and when trustpub sends one.

Times, audience, required claims and the issuer (:func:`issuer_standing`).

What PyPI does (pypi/warehouse at 6b62157124ab7865029afeeadf282bce27d601d9,
``warehouse/oidc/services.py``, ``OIDCPublisherService.verify_jwt_signature``):
PyJWT decodes the token with ``require=["iss", "iat", "exp", "aud"]``,
``verify_iss`` (the provider's issuer URL), ``verify_aud`` with
``strict_aud`` (exactly one audience, equal to the index's), and
``verify_exp``, ``verify_iat`` and ``verify_nbf`` (``nbf`` only when present),
all with ``leeway=_JWT_LEEWAY`` = 30 s. PyJWT's comparisons are: expired when
``exp <= now - leeway``; not yet valid when ``iat > now + leeway`` or
``nbf > now + leeway``. (Warehouse also keeps a used ``jti`` until
``exp + _JWT_LEEWAY + 5``: :data:`JTI_MARGIN`.)

Everyone in trustpub judges tokens with these functions: the exchange before
it sends a token, preflight and ``trustpub claims``, the refusal diagnostics,
and the sandbox index's verifier. The texts each of them prints are their own;
the rules and the one :data:`LEEWAY` are here.

**Where the client differs from PyPI, on purpose** (the only place it does):
the client refuses to send a token that PyPI would accept for at most
:data:`SEND_MARGIN` more seconds (``exp + LEEWAY - now <= SEND_MARGIN``). The
mint request takes time to arrive (connection, TLS, a retried 5xx), so such a
token would almost surely be refused as ``invalid-token`` after the round
trip; refusing it locally names the real cause. Preflight also *warns* when
fewer than :data:`EXPIRY_WARNING` seconds of the token's own lifetime remain.
The sandbox, imitating PyPI, applies :func:`pypi_violations` without a margin.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from trustpub.oidc.claims import DecodedToken
from trustpub.oidc.publishers import CANONICAL_ISSUERS, Provider, provider_for_issuer

LEEWAY = 30
"""Seconds of clock difference PyPI tolerates on ``exp``, ``iat`` and ``nbf`` (``_JWT_LEEWAY``)."""

REQUIRED_CLAIMS = ("iss", "iat", "exp", "aud")
"""Claims PyPI requires in every token."""

JTI_MARGIN = 5
"""Warehouse remembers a used ``jti`` until ``exp + LEEWAY + JTI_MARGIN``."""

SEND_MARGIN = 5
"""The client refuses a token PyPI would accept for this many seconds or fewer (see above)."""

EXPIRY_WARNING = 60
"""Preflight warns when the token's own lifetime (``exp - now``) is shorter than this."""

SIGSTORE_AUDIENCE = "sigstore"
"""The audience of the OIDC token a client signs attestations with (Sigstore's Fulcio, and
the sandbox's imitation of it, accept no other)."""


class Rule(str, Enum):
    """Which validity rule a token breaks."""

    AUDIENCE_MISSING = "audience-missing"
    AUDIENCE_SEVERAL = "audience-several"
    AUDIENCE_WRONG = "audience-wrong"
    CLAIM_MISSING = "claim-missing"
    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"


@dataclass(frozen=True)
class Violation:
    """One broken rule: the claim, and for times how many seconds it is off."""

    rule: Rule
    claim: str
    """``aud``, ``iss``, ``iat``, ``exp`` or ``nbf``."""
    seconds: int = 0
    """EXPIRED: seconds since ``exp``; NOT_YET_VALID: seconds ``iat``/``nbf`` lie ahead."""


def pypi_accepts_for(expires_at: float, now: float) -> float:
    """Seconds PyPI still accepts a token expiring at ``expires_at`` (<= 0: refused)."""
    return expires_at + LEEWAY - now


def is_expired(expires_at: float, now: float, *, margin: float = 0) -> bool:
    """PyPI's rule (``exp <= now - LEEWAY``), ``margin`` seconds earlier for the client."""
    return pypi_accepts_for(expires_at, now) <= margin


def is_premature(moment: float, now: float) -> bool:
    """PyPI's rule for ``iat``/``nbf``: more than :data:`LEEWAY` seconds in the future."""
    return moment > now + LEEWAY


def audience_violations(token: DecodedToken, audience: str | None) -> list[Violation]:
    """The audience rule: exactly one audience, equal to ``audience`` (when it is known)."""
    aud = token.audience
    if isinstance(aud, list):
        return [Violation(Rule.AUDIENCE_SEVERAL, "aud")]
    if aud is None:
        return [Violation(Rule.AUDIENCE_MISSING, "aud")]
    if audience is not None and aud != audience:
        return [Violation(Rule.AUDIENCE_WRONG, "aud")]
    return []


def time_violations(token: DecodedToken, now: float, *, margin: float = 0) -> list[Violation]:
    """Expiry, then ``nbf``, then ``iat`` (PyPI's leeway; ``margin`` as in :func:`is_expired`).

    Missing ``exp``/``iat`` are reported by :func:`missing_claims`.
    """
    found: list[Violation] = []
    exp = token.expires_at
    if exp is not None and is_expired(exp, now, margin=margin):
        found.append(Violation(Rule.EXPIRED, "exp", int(now - exp)))
    for claim, moment in (("nbf", token.not_before), ("iat", token.issued_at)):
        if moment is not None and is_premature(moment, now):
            found.append(Violation(Rule.NOT_YET_VALID, claim, int(moment - now)))
    return found


def missing_claims(token: DecodedToken) -> list[Violation]:
    """Each of :data:`REQUIRED_CLAIMS` but ``aud`` that is absent (or not of its type)."""
    present = {
        "iss": bool(token.issuer),
        "iat": token.issued_at is not None,
        "exp": token.expires_at is not None,
    }
    return [Violation(Rule.CLAIM_MISSING, claim) for claim, ok in present.items() if not ok]


class Issuer(str, Enum):
    """How PyPI's issuer rule judges a token's ``iss`` for a provider."""

    MISSING = "missing"
    PROVIDERS = "providers"
    """The provider's own issuer (its public one, or with ``sandbox=True`` the local sandbox's)."""
    CUSTOM_GITLAB = "custom-gitlab"
    """Another GitLab instance: PyPI accepts it only once registered for a PyPI organization."""
    FOREIGN = "foreign"
    """An issuer PyPI does not accept (by default) for this provider."""


_PUBLIC_ISSUERS = {url: provider for provider, url in CANONICAL_ISSUERS.items()}


def issuer_standing(
    issuer: str | None, provider: Provider | None, *, sandbox: bool = True
) -> Issuer:
    """PyPI's issuer rule for ``provider`` (None: whichever provider the issuer names).

    Warehouse (``oidc/views.py`` ``mint_token_from_oidc`` at 6b62157) looks the unverified
    ``iss`` up, exactly, among the four public issuers (``oidc/utils.py``
    ``OIDC_ISSUER_SERVICE_NAMES``), then among issuers registered for an organization
    (``lookup_custom_issuer_type``); anything else is "unknown trusted publishing issuer".
    Only GitLab publishers name an issuer of their own (``GitLabPublisher.issuer_url``), and
    only they accept one: ``OIDCPublisherService.find_publisher`` (``oidc/services.py``) refuses
    "JWT issuer ... does not match expected issuer ..." for any other publisher type whose
    token is not from the public issuer (``__supports_custom_issuer__`` is True for GitLab
    alone), even when an organization registered that issuer (GitHub Enterprise Server).
    """
    if not issuer:
        return Issuer.MISSING
    own = provider_for_issuer(issuer) if sandbox else _PUBLIC_ISSUERS.get(issuer)
    if own is not None and provider in (None, own):
        return Issuer.PROVIDERS
    if provider is Provider.GITLAB:
        return Issuer.CUSTOM_GITLAB
    return Issuer.FOREIGN


def client_violations(token: DecodedToken, audience: str, now: float) -> list[Violation]:
    """Why trustpub will not send this token for ``audience`` now, in the order it reports them."""
    missing = missing_claims(token)
    by_claim = {v.claim: v for v in missing}
    ordered = [
        *audience_violations(token, audience),
        *[by_claim[claim] for claim in ("exp", "iat") if claim in by_claim],
        *time_violations(token, now, margin=SEND_MARGIN),
        *[by_claim[claim] for claim in ("iss",) if claim in by_claim],
    ]
    return ordered


def pypi_violations(token: DecodedToken, audience: str, now: float) -> list[Violation]:
    """Why PyPI would refuse this token's times, audience or required claims (no margin)."""
    return [
        *missing_claims(token),
        *audience_violations(token, audience),
        *time_violations(token, now),
    ]


__all__ = [
    "EXPIRY_WARNING",
    "JTI_MARGIN",
    "LEEWAY",
    "REQUIRED_CLAIMS",
    "SEND_MARGIN",
    "SIGSTORE_AUDIENCE",
    "Issuer",
    "Rule",
    "Violation",
    "audience_violations",
    "client_violations",
    "is_expired",
    "is_premature",
    "issuer_standing",
    "missing_claims",
    "pypi_accepts_for",
    "time_violations",
]
