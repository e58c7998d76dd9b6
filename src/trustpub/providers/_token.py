"""Preflight findings about the token itself, whatever the provider: issuer, audience, times.

The rules are :mod:`trustpub.oidc.validity` (the client's view: PyPI's leeway, less
the send margin); this module only words them as :class:`~trustpub.providers._base.Finding`.
"""

from __future__ import annotations

from trustpub.oidc import validity
from trustpub.oidc.claims import DecodedToken, claim_text
from trustpub.oidc.publishers import Provider
from trustpub.providers._base import Finding

_INCOMPLETE_FIX = "use the CI provider's OIDC token, not a hand-made one"


def timing_findings(token: DecodedToken, now: float) -> list[Finding]:
    """The validity window as :mod:`trustpub.oidc.validity` judges it for the client."""
    findings: list[Finding] = []
    if token.expires_at is None:
        findings.append(
            Finding(
                "oidc-token-incomplete",
                "blocker",
                "the token has no exp claim; PyPI requires iss, iat, exp and aud",
                _INCOMPLETE_FIX,
            )
        )
    broken = validity.time_violations(token, now, margin=validity.SEND_MARGIN)
    exp = token.expires_at
    if any(v.rule is validity.Rule.EXPIRED for v in broken):
        findings.append(
            Finding(
                "oidc-token-expired",
                "blocker",
                f"the token expired {int(now - (exp or now))} s ago",
                "fetch a fresh token right before publishing (or this machine's clock is ahead)",
            )
        )
    elif exp is not None and exp - now < validity.EXPIRY_WARNING:
        findings.append(_expiring(exp, now))
    skewed = [v for v in broken if v.rule is validity.Rule.NOT_YET_VALID]
    if skewed:
        findings.append(
            Finding(
                "clock-skew",
                "blocker",
                f"the token's {skewed[0].claim} is {skewed[0].seconds} s in the future: this "
                "machine's clock or the issuer's is wrong",
                f"synchronise the clock (NTP); PyPI allows {validity.LEEWAY} s of skew",
            )
        )
    if token.issued_at is None:
        findings.append(
            Finding(
                "oidc-token-incomplete",
                "blocker",
                "the token has no iat claim; PyPI requires iss, iat, exp and aud",
                _INCOMPLETE_FIX,
            )
        )
    return findings


def _expiring(exp: float, now: float) -> Finding:
    if exp > now:
        message = f"the token expires in {int(exp - now)} s"
    else:
        message = (
            f"the token expired {int(now - exp)} s ago; PyPI's {validity.LEEWAY} s clock leeway "
            f"accepts it for {int(validity.pypi_accepts_for(exp, now))} s more"
        )
    return Finding(
        "oidc-token-expiring", "warning", message, "fetch the token right before the exchange"
    )


def audience_findings(token: DecodedToken, audience: str | None) -> list[Finding]:
    wanted = audience or "pypi"
    for broken in validity.audience_violations(token, audience):
        if broken.rule is validity.Rule.AUDIENCE_SEVERAL:
            return [
                Finding(
                    "oidc-token-audience",
                    "blocker",
                    f"the token has several audiences ({claim_text(token.claims.get('aud'))}); "
                    "PyPI accepts exactly one",
                    f"request the token for the single audience '{wanted}'",
                )
            ]
        if broken.rule is validity.Rule.AUDIENCE_MISSING:
            return [
                Finding(
                    "oidc-token-audience",
                    "blocker",
                    "the token has no aud claim",
                    f"request the token for audience '{wanted}'",
                )
            ]
        return [
            Finding(
                "oidc-token-audience",
                "blocker",
                f"the token's audience is '{token.audience}' but the index expects '{audience}'",
                f"request the token for audience '{audience}' (pypi for PyPI, testpypi for "
                "TestPyPI)",
            )
        ]
    return []


def issuer_findings(
    token: DecodedToken, provider: Provider | None, audience: str | None
) -> list[Finding]:
    issuer = token.issuer
    standing = validity.issuer_standing(issuer, provider)
    if standing is validity.Issuer.MISSING:
        return [
            Finding(
                "unknown-issuer",
                "blocker",
                "the token has no iss claim",
                "use the CI provider's OIDC token",
            )
        ]
    if standing is not validity.Issuer.FOREIGN:
        return []  # a custom GitLab instance: providers.gitlab warns about it
    strict = audience in (None, "pypi", "testpypi")
    return [
        Finding(
            "unknown-issuer",
            "blocker" if strict else "warning",
            f"PyPI does not accept tokens from the issuer {issuer}",
            "publish from GitHub Actions, gitlab.com, Google Cloud or ActiveState, or use an "
            "API token (--token)",
        )
    ]


__all__ = ["audience_findings", "issuer_findings", "timing_findings"]
