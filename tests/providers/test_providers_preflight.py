"""providers.preflight(): the detection's provider fed to oidc.preflight, readable findings."""

from __future__ import annotations

from typing import Any

from trustpub._secret import Secret
from trustpub.oidc import preflight as rules
from trustpub.oidc.claims import DecodedToken
from trustpub.providers import Detection, Finding, preflight

NOW = 1_800_000_000.0


def _detection(provider: str) -> Detection:
    return Detection(provider=provider, description="t", fetcher=lambda a, c: Secret("x"))


def _token(**claims: Any) -> DecodedToken:
    base = {"iat": int(NOW), "exp": int(NOW) + 300, "aud": "pypi"}
    return DecodedToken(header={"alg": "RS256"}, claims={**base, **claims})


GITHUB = {
    "iss": "https://token.actions.githubusercontent.com",
    "event_name": "pull_request_target",
    "workflow_ref": "octo/pkg/.github/workflows/release.yml@refs/tags/v1",
    "job_workflow_ref": "octo/pkg/.github/workflows/release.yml@refs/tags/v1",
    "environment": "pypi",
    "runner_environment": "github-hosted",
}


def test_findings_are_oidc_findings_with_readable_text() -> None:
    findings = preflight(_detection("github"), _token(**GITHUB), {}, audience="pypi", now=NOW)
    expected = rules.preflight("github", _token(**GITHUB), {}, audience="pypi", now=NOW)
    assert [(f.id, f.severity, f.message, f.fix) for f in findings] == [
        (f.id, f.severity, f.message, f.fix) for f in expected
    ]
    first = findings[0]
    assert isinstance(first, Finding)
    assert isinstance(first, rules.Finding)
    assert first.id == "github-pull-request-target"
    assert first.blocks
    assert str(first) == f"blocker: {first.message} (fix: {first.fix})"


def test_the_env_provider_is_judged_by_its_issuer() -> None:
    claims = {"iss": "https://accounts.google.com", "email": "x@y.z", "email_verified": False}
    findings = preflight(_detection("env"), _token(**claims), {}, audience="pypi", now=NOW)
    assert "google-email-unverified" in [f.id for f in findings]
