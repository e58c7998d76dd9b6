"""providers.preflight(): advice on a token's claims before it is exchanged."""

from __future__ import annotations

from typing import Any

import pytest

from trustpub._secret import Secret
from trustpub.oidc.claims import DecodedToken
from trustpub.providers import Detection, Finding, preflight


def _detection(provider: str) -> Detection:
    return Detection(provider=provider, description="t", fetcher=lambda a, c: Secret("x"))


def _token(**claims: Any) -> DecodedToken:
    return DecodedToken(header={"alg": "RS256"}, claims=claims)


GOOD_GITHUB = {
    "iss": "https://token.actions.githubusercontent.com",
    "event_name": "push",
    "workflow_ref": "octo/pkg/.github/workflows/release.yml@refs/tags/v1",
    "job_workflow_ref": "octo/pkg/.github/workflows/release.yml@refs/tags/v1",
    "environment": "pypi",
    "runner_environment": "github-hosted",
}


def codes(findings: list[Finding]) -> list[str]:
    return [finding.code for finding in findings]


def test_a_clean_github_token_has_no_findings() -> None:
    assert preflight(_detection("github"), _token(**GOOD_GITHUB), {}) == []


def test_pull_request_target_is_an_error_listed_first() -> None:
    claims = {**GOOD_GITHUB, "event_name": "pull_request_target", "environment": ""}
    findings = preflight(_detection("github"), _token(**claims), {})
    assert codes(findings) == ["github-pull-request-target", "github-no-environment"]
    assert str(findings[0]) == (
        "error: the workflow was triggered by pull_request_target, which PyPI refuses "
        "(publish from a tag push, a release or workflow_dispatch)"
    )


def test_reusable_workflow_names_the_called_file() -> None:
    claims = {
        **GOOD_GITHUB,
        "job_workflow_ref": "octo/shared/.github/workflows/publish.yml@refs/heads/main",
    }
    (finding,) = preflight(_detection("github"), _token(**claims), {})
    assert finding.code == "github-reusable-workflow"
    assert "PyPI matches the called file publish.yml" in finding.message


@pytest.mark.parametrize(
    ("provider", "claims", "expected"),
    [
        ("github", {**GOOD_GITHUB, "event_name": "workflow_run"}, ["github-workflow-run"]),
        ("github", {**GOOD_GITHUB, "runner_environment": "self-hosted"}, ["self-hosted-runner"]),
        (
            "gitlab",
            {"ci_config_ref_uri": None, "environment": "pypi"},
            ["gitlab-external-config"],
        ),
        (
            "gitlab",
            {"ci_config_ref_uri": "gitlab.com/g/p//.gitlab-ci.yml@refs/heads/main"},
            ["gitlab-no-environment"],
        ),
        ("google", {"email": "a@p.iam.gserviceaccount.com", "email_verified": True}, []),
        ("google", {}, ["google-no-email"]),
        (
            "google",
            {"email": "a@p.iam.gserviceaccount.com", "email_verified": "true"},
            ["google-email-unverified"],
        ),
        (
            "google",
            {"email": "123-compute@developer.gserviceaccount.com", "email_verified": True},
            ["google-default-service-account"],
        ),
        ("activestate", {"builder": "pypi-publisher"}, []),
        ("activestate", {"builder": "other"}, ["activestate-builder"]),
    ],
)
def test_rules_per_provider(provider: str, claims: dict[str, Any], expected: list[str]) -> None:
    assert codes(preflight(_detection(provider), _token(**claims), {})) == expected


def test_the_env_provider_is_judged_by_its_issuer() -> None:
    claims = {"iss": "https://accounts.google.com", "email": "x@y.z", "email_verified": False}
    assert codes(preflight(_detection("env"), _token(**claims), {})) == ["google-email-unverified"]
    unknown = {"iss": "https://ci.example", "event_name": "pull_request_target"}
    assert preflight(_detection("env"), _token(**unknown), {}) == []
