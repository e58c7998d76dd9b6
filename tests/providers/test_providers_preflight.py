"""providers.preflight(): CI environment and token problems, each with its fix.

Each provider module words its own findings; the token's audience, issuer and times are
judged by oidc.validity for all of them. Ported from the tests of the former
oidc.preflight and providers._preflight (one preflight now).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trustpub._gitlab import id_tokens_yaml, token_env_name
from trustpub.oidc.claims import DecodedToken
from trustpub.providers import Finding, preflight

NOW = 10_000.0
GH_ISS = "https://token.actions.githubusercontent.com"


def gh_token(**changes: Any) -> DecodedToken:
    claims: dict[str, Any] = {
        "iss": GH_ISS,
        "aud": "pypi",
        "iat": NOW - 10,
        "exp": NOW + 290,
        "repository": "octo/pkg",
        "job_workflow_ref": "octo/pkg/.github/workflows/release.yml@refs/tags/v1",
        "workflow_ref": "octo/pkg/.github/workflows/release.yml@refs/tags/v1",
        "ref": "refs/tags/v1",
        "sha": "abc",
        "event_name": "push",
        "environment": "pypi",
        "runner_environment": "github-hosted",
    }
    claims.update(changes)
    return DecodedToken({}, {k: v for k, v in claims.items() if v is not None})


GH_ENV = {
    "GITHUB_ACTIONS": "true",
    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://example/token?x=1",
    "GITHUB_EVENT_NAME": "push",
}


def ids(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.id, f.severity) for f in findings]


def test_clean_github_job_has_no_findings() -> None:
    assert preflight("github", gh_token(), GH_ENV, audience="pypi", now=NOW) == []


def test_github_without_id_token_permission() -> None:
    env = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push"}
    findings = preflight(None, None, env, audience="pypi", now=NOW)
    # The same words as the error detection raises (providers.github.no_token_error).
    assert findings == [
        Finding(
            "github-missing-id-token-permission",
            "blocker",
            "this GitHub Actions job cannot request an OIDC token: missing id-token: write",
            "grant the publishing job permission to request an OIDC token:\n"
            "jobs:\n  publish:\n    permissions:\n"
            "      id-token: write   # required for trusted publishing\n"
            "      contents: read\n"
            "(set it on the job, not the whole workflow; a job-level `permissions:` block "
            "replaces the workflow's)",
        )
    ]
    assert any(f.blocks for f in findings)


def test_fork_pull_request(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"head": {"repo": {"fork": True}}}}))
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
    }
    assert ids(preflight("github", None, env, audience="pypi", now=NOW)) == [
        ("github-fork-pull-request", "blocker")
    ]
    event.write_text(json.dumps({"pull_request": {"head": {"repo": {"fork": False}}}}))
    assert ids(preflight("github", None, env, audience="pypi", now=NOW)) == [
        ("github-missing-id-token-permission", "blocker")
    ]


def test_dangerous_triggers() -> None:
    target = preflight(
        "github", gh_token(event_name="pull_request_target"), GH_ENV, audience="pypi", now=NOW
    )
    assert ids(target) == [("github-pull-request-target", "blocker")]
    run = preflight("github", gh_token(event_name="workflow_run"), GH_ENV, audience="pypi", now=NOW)
    assert ids(run) == [("github-workflow-run", "warning")]


def test_reusable_workflows() -> None:
    same = gh_token(job_workflow_ref="octo/pkg/.github/workflows/_publish.yml@refs/tags/v1")
    findings = preflight("github", same, GH_ENV, audience="pypi", now=NOW)
    assert ids(findings) == [("github-reusable-workflow", "warning")]
    assert "configure the publisher with workflow '_publish.yml'" in findings[0].fix
    assert "(release.yml)" in findings[0].message
    other = gh_token(job_workflow_ref="shared/ci/.github/workflows/pypi.yml@refs/heads/main")
    findings = preflight("github", other, GH_ENV, audience="pypi", now=NOW)
    assert ids(findings) == [("github-reusable-workflow", "blocker")]
    assert "from another repository" in findings[0].message
    other_ref = gh_token(job_workflow_ref="octo/pkg/.github/workflows/_publish.yml@refs/heads/main")
    findings = preflight("github", other_ref, GH_ENV, audience="pypi", now=NOW)
    assert "from another ref" in findings[0].message


def test_environment_and_runner_advice() -> None:
    findings = preflight(
        "github",
        gh_token(environment=None, runner_environment="self-hosted"),
        GH_ENV,
        audience="pypi",
        now=NOW,
    )
    assert ids(findings) == [("self-hosted-runner", "warning"), ("no-environment", "info")]
    assert not any(f.blocks for f in findings)


def test_gitlab_without_id_tokens_prints_the_yaml() -> None:
    findings = preflight(
        None,
        None,
        {"GITLAB_CI": "true", "CI_SERVER_URL": "https://gitlab.com"},
        audience="testpypi",
        now=NOW,
    )
    assert ids(findings) == [("gitlab-missing-id-token", "blocker")]
    # The same words as the error fetching raises (providers.gitlab.no_token_error).
    assert findings[0].message == (
        "this GitLab CI/CD job has no ID token for audience 'testpypi' "
        "(TESTPYPI_ID_TOKEN is not set)"
    )
    assert findings[0].fix == (
        "add an id_tokens entry to the publishing job in .gitlab-ci.yml:\n"
        "publish:\n  id_tokens:\n    TESTPYPI_ID_TOKEN:\n      aud: testpypi"
    )
    assert (
        id_tokens_yaml("pypi", job="publish")
        == "publish:\n  id_tokens:\n    PYPI_ID_TOKEN:\n      aud: pypi"
    )
    assert token_env_name("9x.y") == "_X_Y_ID_TOKEN"  # what the client reads
    present = {"GITLAB_CI": "true", "PYPI_ID_TOKEN": "set"}
    assert preflight(None, None, present, audience=None, now=NOW) == []


def gl_token(**changes: Any) -> DecodedToken:
    claims: dict[str, Any] = {
        "iss": "https://gitlab.com",
        "aud": "pypi",
        "iat": NOW,
        "exp": NOW + 300,
        "project_path": "g/pkg",
        "ci_config_ref_uri": "gitlab.com/g/pkg//.gitlab-ci.yml@refs/heads/main",
        "environment": "release",
        "runner_environment": "gitlab-hosted",
    }
    claims.update(changes)
    return DecodedToken({}, {k: v for k, v in claims.items() if v is not None})


def test_gitlab_token_findings() -> None:
    assert preflight("gitlab", gl_token(), {}, audience="pypi", now=NOW) == []
    findings = preflight(
        "gitlab",
        gl_token(iss="https://gitlab.example.org", ci_config_ref_uri=None, environment=None),
        {},
        audience="pypi",
        now=NOW,
    )
    assert ids(findings) == [
        ("gitlab-external-config", "blocker"),
        ("gitlab-self-managed", "warning"),
        ("no-environment", "info"),
    ]
    sandbox = preflight(
        "env", gl_token(iss="https://127.0.0.1:4443/_sandbox/gitlab"), {}, audience="pypi", now=NOW
    )
    assert sandbox == []


def google_token(**changes: Any) -> DecodedToken:
    claims: dict[str, Any] = {
        "iss": "https://accounts.google.com",
        "aud": "pypi",
        "iat": NOW,
        "exp": NOW + 3600,
        "email": "release@proj.iam.gserviceaccount.com",
        "email_verified": True,
    }
    claims.update(changes)
    return DecodedToken({}, {k: v for k, v in claims.items() if v is not None})


def test_google_findings() -> None:
    assert preflight("google", google_token(), {}, audience="pypi", now=NOW) == []
    default = preflight(
        "google",
        google_token(email="123-compute@developer.gserviceaccount.com"),
        {},
        audience="pypi",
        now=NOW,
    )
    assert ids(default) == [("google-default-service-account", "warning")]
    appspot = preflight(
        "google",
        google_token(email="proj@appspot.gserviceaccount.com"),
        {},
        audience="pypi",
        now=NOW,
    )
    assert ids(appspot) == [("google-default-service-account", "warning")]
    unverified = preflight(
        "google", google_token(email_verified=False), {}, audience="pypi", now=NOW
    )
    assert ids(unverified) == [("google-email-unverified", "blocker")]
    assert unverified[0].message == "email_verified is false; PyPI requires JSON true"
    no_email = preflight("google", google_token(email=None), {}, audience="pypi", now=NOW)
    assert ids(no_email) == [("google-no-email", "blocker")]


def test_activestate_builder() -> None:
    token = DecodedToken(
        {},
        {
            "iss": "https://platform.activestate.com/api/v1/oauth/oidc",
            "aud": "pypi",
            "iat": NOW,
            "exp": NOW + 300,
            "builder": "python-module-builder",
        },
    )
    findings = preflight("activestate", token, {}, audience="pypi", now=NOW)
    assert ids(findings) == [("activestate-builder", "blocker")]
    assert "pypi-publisher" in findings[0].message


def test_timing() -> None:
    expiring = preflight("github", gh_token(exp=NOW + 20), GH_ENV, audience="pypi", now=NOW)
    assert ids(expiring) == [("oidc-token-expiring", "warning")]
    assert expiring[0].message == "the token expires in 20 s"
    # PyPI's 30 s leeway still accepts a token 5 s past exp: a warning, not a blocker...
    late = preflight("github", gh_token(exp=NOW - 5), GH_ENV, audience="pypi", now=NOW)
    assert ids(late) == [("oidc-token-expiring", "warning")]
    assert late[0].message == (
        "the token expired 5 s ago; PyPI's 30 s clock leeway accepts it for 25 s more"
    )
    # ...but the client keeps 5 s of that window for the exchange (validity.SEND_MARGIN).
    expired = preflight("github", gh_token(exp=NOW - 25), GH_ENV, audience="pypi", now=NOW)
    assert ids(expired) == [("oidc-token-expired", "blocker")]
    assert expired[0].message == "the token expired 25 s ago"
    skew = preflight("github", gh_token(iat=NOW + 31), GH_ENV, audience="pypi", now=NOW)
    assert ids(skew) == [("clock-skew", "blocker")]
    tolerated = preflight(
        "github", gh_token(iat=NOW + 29, nbf=NOW + 29), GH_ENV, audience="pypi", now=NOW
    )
    assert tolerated == []
    nbf = preflight("github", gh_token(nbf=NOW + 100), GH_ENV, audience="pypi", now=NOW)
    assert nbf[0].message.startswith("the token's nbf is 100 s in the future")
    bare = DecodedToken({}, {"iss": GH_ISS, "aud": "pypi", "environment": "x"})
    assert [f.id for f in preflight("github", bare, GH_ENV, audience="pypi", now=NOW)] == [
        "oidc-token-incomplete",
        "oidc-token-incomplete",
    ]


def test_audience() -> None:
    wrong = preflight("github", gh_token(), GH_ENV, audience="testpypi", now=NOW)
    assert ids(wrong) == [("oidc-token-audience", "blocker")]
    assert wrong[0].message == "the token's audience is 'pypi' but the index expects 'testpypi'"
    listed = preflight("github", gh_token(aud=["pypi", "other"]), GH_ENV, audience="pypi", now=NOW)
    assert ids(listed) == [("oidc-token-audience", "blocker")]
    unknown_index = preflight("github", gh_token(aud="custom"), GH_ENV, audience=None, now=NOW)
    assert unknown_index == []


def test_unknown_issuer() -> None:
    circle = DecodedToken(
        {}, {"iss": "https://oidc.circleci.com/org/1", "aud": "pypi", "iat": NOW, "exp": NOW + 60}
    )
    findings = preflight("env", circle, {}, audience="pypi", now=NOW)
    assert ids(findings) == [("unknown-issuer", "blocker")]
    assert ids(preflight("env", circle, {}, audience="custom", now=NOW)) == [
        ("oidc-token-audience", "blocker"),
        ("unknown-issuer", "warning"),
    ]


def test_findings_read_well_as_text() -> None:
    claims = {
        "iss": GH_ISS,
        "event_name": "pull_request_target",
        "workflow_ref": "octo/pkg/.github/workflows/release.yml@refs/tags/v1",
        "job_workflow_ref": "octo/pkg/.github/workflows/release.yml@refs/tags/v1",
        "environment": "pypi",
        "runner_environment": "github-hosted",
    }
    token = DecodedToken({}, {"iat": NOW, "exp": NOW + 300, "aud": "pypi", **claims})
    first = preflight("github", token, {}, audience="pypi", now=NOW)[0]
    assert first.id == "github-pull-request-target"
    assert first.blocks
    assert str(first) == f"blocker: {first.message} (fix: {first.fix})"


def test_the_env_provider_is_judged_by_its_issuer() -> None:
    claims = {"iss": "https://accounts.google.com", "email": "x@y.z", "email_verified": False}
    token = DecodedToken({}, {"iat": NOW, "exp": NOW + 300, "aud": "pypi", **claims})
    findings = preflight("env", token, {}, audience="pypi", now=NOW)
    assert "google-email-unverified" in [f.id for f in findings]


def test_now_defaults_to_the_clock() -> None:
    token = gh_token(iat=None, exp=None)
    found = {f.id for f in preflight("github", token, GH_ENV, audience="pypi")}
    assert found == {"oidc-token-incomplete"}
