"""PyPI's matching rules: Warehouse's reasons per provider, and compare() agreeing with them."""

from __future__ import annotations

from typing import Any

import pytest

from trustpub.oidc.publishers import CANONICAL_ISSUERS, Provider, Publisher, parse_publisher_spec
from trustpub.oidc.rules import (
    NOT_FOUND,
    PULL_REQUEST_TARGET,
    REUSED,
    Lookup,
    compare,
    find_publisher,
    required_claims,
)

GH_ISS = CANONICAL_ISSUERS[Provider.GITHUB]
GL_ISS = CANONICAL_ISSUERS[Provider.GITLAB]
GOOGLE_ISS = CANONICAL_ISSUERS[Provider.GOOGLE]
AS_ISS = CANONICAL_ISSUERS[Provider.ACTIVESTATE]
SHA = "0123456789abcdef0123456789abcdef01234567"


def github_claims(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": GH_ISS,
        "aud": "pypi",
        "sub": "repo:octo/pkg:ref:refs/tags/v1.0",
        "repository": "octo/pkg",
        "repository_owner": "octo",
        "repository_owner_id": "1001",
        "job_workflow_ref": "octo/pkg/.github/workflows/release.yml@refs/tags/v1.0",
        "workflow_ref": "octo/pkg/.github/workflows/release.yml@refs/tags/v1.0",
        "ref": "refs/tags/v1.0",
        "sha": SHA,
        "event_name": "push",
        "jti": "gh-jti-1",
    }
    return _apply(claims, changes)


def gitlab_claims(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": GL_ISS,
        "aud": "pypi",
        "sub": "project_path:group/sub/pkg:ref_type:tag:ref:v1.0",
        "project_path": "group/sub/pkg",
        "ci_config_ref_uri": "gitlab.com/group/sub/pkg//.gitlab-ci.yml@refs/tags/v1.0",
        "ref_path": "refs/tags/v1.0",
        "sha": SHA,
        "jti": "gl-jti-1",
    }
    return _apply(claims, changes)


def google_claims(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": GOOGLE_ISS,
        "aud": "pypi",
        "sub": "112233445566778899",
        "email": "release@proj.iam.gserviceaccount.com",
        "email_verified": True,
    }
    return _apply(claims, changes)


def activestate_claims(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": AS_ISS,
        "aud": "pypi",
        "sub": "org:acme:project:pkg:builder:pypi-publisher",
        "organization": "acme",
        "project": "pkg",
        "actor": "alice",
        "actor_id": "aaaa-1111",
        "builder": "pypi-publisher",
    }
    return _apply(claims, changes)


_MISSING = object()


def _apply(claims: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    for key, value in changes.items():
        if value is _MISSING:
            claims.pop(key, None)
        else:
            claims[key] = value
    return claims


GH = Publisher(Provider.GITHUB, repository="octo/pkg", workflow="release.yml", owner_id="1001")
GH_ENV = Publisher(
    Provider.GITHUB,
    repository="octo/pkg",
    workflow="release.yml",
    environment="PyPI",
    owner_id="1001",
)
GH_UNPINNED = Publisher(Provider.GITHUB, repository="octo/pkg", workflow="release.yml")
GL = Publisher(Provider.GITLAB, repository="group/sub/pkg", workflow=".gitlab-ci.yml")
GL_ENV = Publisher(
    Provider.GITLAB, repository="group/sub/pkg", workflow=".gitlab-ci.yml", environment="release"
)
GOOGLE = Publisher(Provider.GOOGLE, email="release@proj.iam.gserviceaccount.com")
GOOGLE_SUB = Publisher(
    Provider.GOOGLE, email="release@proj.iam.gserviceaccount.com", sub="112233445566778899"
)
AS = Publisher(
    Provider.ACTIVESTATE, organization="acme", project="pkg", actor="alice", actor_id="aaaa-1111"
)
AS_UNPINNED = Publisher(Provider.ACTIVESTATE, organization="acme", project="pkg", actor="alice")

# (id, publisher, claims, expected reason or None, expected deciding field)
Scenario = tuple[str, Publisher, dict[str, Any], str | None, str | None]

SCENARIOS: list[Scenario] = [
    # GitHub
    ("gh-ok", GH, github_claims(), None, None),
    ("gh-ok-unpinned", GH_UNPINNED, github_claims(repository_owner_id="999"), None, None),
    (
        "gh-ok-sha-ref",
        GH,
        github_claims(job_workflow_ref=f"octo/pkg/.github/workflows/release.yml@{SHA}"),
        None,
        None,
    ),
    (
        "gh-ok-empty-ref",
        GH,
        github_claims(ref="", job_workflow_ref=f"octo/pkg/.github/workflows/release.yml@{SHA}"),
        None,
        None,
    ),
    ("gh-ok-env-unconstrained", GH, github_claims(environment="pypi"), None, None),
    ("gh-ok-env-case", GH_ENV, github_claims(environment="pypi"), None, None),
    (
        "gh-wrong-issuer",
        GH,
        github_claims(iss="https://ghes.example/_services/token"),
        "JWT issuer 'https://ghes.example/_services/token' does not match expected issuer 'https://token.actions.githubusercontent.com'",
        "iss",
    ),
    (
        "gh-missing-owner-id",
        GH,
        github_claims(repository_owner_id=_MISSING),
        "Missing claim 'repository_owner_id'",
        "repository_owner_id",
    ),
    ("gh-missing-jti", GH, github_claims(jti=_MISSING), "Missing claim 'jti'", "jti"),
    ("gh-missing-sha", GH, github_claims(sha=_MISSING), "Missing claim 'sha'", "sha"),
    (
        "gh-null-event",
        GH,
        github_claims(event_name=None),
        "Missing claim 'event_name'",
        "event_name",
    ),
    (
        "gh-no-workflow-file",
        GH,
        github_claims(job_workflow_ref="octo/pkg/.github/workflows/release@refs/tags/v1.0"),
        "Could not job extract workflow filename from OIDC claims",
        "job_workflow_ref",
    ),
    (
        "gh-repo-case",
        GH,
        github_claims(
            repository="Octo/Pkg",
            repository_owner="Octo",
            job_workflow_ref="Octo/Pkg/.github/workflows/release.yml@refs/tags/v1.0",
        ),
        NOT_FOUND,
        "repository",
    ),
    ("gh-other-repo", GH, github_claims(repository="octo/other"), NOT_FOUND, "repository"),
    (
        "gh-owner-id-resurrected",
        GH,
        github_claims(repository_owner_id="2002"),
        NOT_FOUND,
        "repository_owner_id",
    ),
    (
        "gh-renamed-workflow",
        GH,
        github_claims(job_workflow_ref="octo/pkg/.github/workflows/publish.yml@refs/tags/v1.0"),
        NOT_FOUND,
        "job_workflow_ref",
    ),
    ("gh-env-required-absent", GH_ENV, github_claims(), NOT_FOUND, "environment"),
    ("gh-env-different", GH_ENV, github_claims(environment="staging"), NOT_FOUND, "environment"),
    (
        "gh-owner-claim-differs",
        GH,
        github_claims(repository_owner="evil"),
        "Check failed for required claim 'repository_owner'",
        "repository_owner",
    ),
    (
        "gh-ref-sha-empty",
        GH,
        github_claims(ref="", sha=""),
        "The ref and sha claims are empty",
        "job_workflow_ref",
    ),
    (
        "gh-reusable-other-repo",
        GH,
        github_claims(
            job_workflow_ref="shared/tools/.github/workflows/release.yml@refs/heads/main"
        ),
        "The job_workflow_ref claim does not match, expecting one of "
        "['octo/pkg/.github/workflows/release.yml@0123456789abcdef0123456789abcdef01234567', "
        "'octo/pkg/.github/workflows/release.yml@refs/tags/v1.0'], "
        "got 'shared/tools/.github/workflows/release.yml@refs/heads/main'",
        "job_workflow_ref",
    ),
    (
        "gh-pull-request-target",
        GH,
        github_claims(event_name="pull_request_target"),
        PULL_REQUEST_TARGET,
        "event_name",
    ),
    # GitLab
    ("gl-ok", GL, gitlab_claims(), None, None),
    (
        "gl-ok-sha",
        GL,
        gitlab_claims(ci_config_ref_uri=f"gitlab.com/group/sub/pkg//.gitlab-ci.yml@{SHA}"),
        None,
        None,
    ),
    ("gl-ok-env", GL_ENV, gitlab_claims(environment="release"), None, None),
    ("gl-ok-env-unconstrained", GL, gitlab_claims(environment="anything"), None, None),
    (
        "gl-issuer-self-managed",
        GL,
        gitlab_claims(iss="https://gitlab.example.org"),
        NOT_FOUND,
        "iss",
    ),
    (
        "gl-missing-ref-path",
        GL,
        gitlab_claims(ref_path=_MISSING),
        "Missing claim 'ref_path'",
        "ref_path",
    ),
    ("gl-missing-sub", GL, gitlab_claims(sub=_MISSING), "Missing claim 'sub'", "sub"),
    (
        "gl-no-pipeline-file",
        GL,
        gitlab_claims(ci_config_ref_uri="gitlab.com/group/sub/pkg//Makefile@refs/tags/v1.0"),
        "Could not extract workflow filename from OIDC claims",
        "ci_config_ref_uri",
    ),
    ("gl-other-project", GL, gitlab_claims(project_path="group/other"), NOT_FOUND, "project_path"),
    (
        "gl-included-file",
        GL,
        gitlab_claims(ci_config_ref_uri="gitlab.com/group/sub/pkg//ci/release.yml@refs/tags/v1.0"),
        NOT_FOUND,
        "ci_config_ref_uri",
    ),
    ("gl-env-case", GL_ENV, gitlab_claims(environment="Release"), NOT_FOUND, "environment"),
    ("gl-env-absent", GL_ENV, gitlab_claims(), NOT_FOUND, "environment"),
    (
        "gl-sub-other-project",
        GL,
        gitlab_claims(sub="project_path:group/other:ref_type:tag"),
        "Check failed for required claim 'sub'",
        "sub",
    ),
    (
        "gl-sub-one-field",
        GL,
        gitlab_claims(sub="project_path"),
        "Check failed for required claim 'sub'",
        "sub",
    ),
    (
        "gl-sha-empty",
        GL,
        gitlab_claims(sha=""),
        "The ref_path and sha claims are empty",
        "ci_config_ref_uri",
    ),
    (
        "gl-namespace-case",
        Publisher(Provider.GITLAB, repository="Group/Sub/pkg", workflow=".gitlab-ci.yml"),
        gitlab_claims(),
        "The ci_config_ref_uri claim does not match, expecting one of "
        "['gitlab.com/Group/Sub/pkg//.gitlab-ci.yml@0123456789abcdef0123456789abcdef01234567', "
        "'gitlab.com/Group/Sub/pkg//.gitlab-ci.yml@refs/tags/v1.0'], "
        "got 'gitlab.com/group/sub/pkg//.gitlab-ci.yml@refs/tags/v1.0'",
        "ci_config_ref_uri",
    ),
    # Google
    ("google-ok", GOOGLE, google_claims(), None, None),
    ("google-ok-sub", GOOGLE_SUB, google_claims(), None, None),
    ("google-ok-no-sub-claim", GOOGLE, google_claims(sub=_MISSING), None, None),
    (
        "google-wrong-issuer",
        GOOGLE,
        google_claims(iss=GH_ISS),
        f"JWT issuer '{GH_ISS}' does not match expected issuer '{GOOGLE_ISS}'",
        "iss",
    ),
    (
        "google-missing-verified",
        GOOGLE,
        google_claims(email_verified=_MISSING),
        "Missing claim 'email_verified'",
        "email_verified",
    ),
    (
        "google-unverified",
        GOOGLE,
        google_claims(email_verified=False),
        "Check failed for required claim 'email_verified'",
        "email_verified",
    ),
    (
        "google-verified-string",
        GOOGLE,
        google_claims(email_verified="true"),
        "Check failed for required claim 'email_verified'",
        "email_verified",
    ),
    (
        "google-other-email",
        GOOGLE,
        google_claims(email="other@proj.iam.gserviceaccount.com"),
        NOT_FOUND,
        "email",
    ),
    ("google-sub-differs", GOOGLE_SUB, google_claims(sub="999"), NOT_FOUND, "sub"),
    # ActiveState
    ("as-ok", AS, activestate_claims(), None, None),
    ("as-ok-unpinned", AS_UNPINNED, activestate_claims(actor_id="zzz"), None, None),
    # unpinned (a declared publisher cannot know the id): the actor's name predicts the refusal
    (
        "as-unpinned-other-actor",
        AS_UNPINNED,
        activestate_claims(actor="bob", actor_id="zzz"),
        NOT_FOUND,
        "actor_id",
    ),
    (
        "as-missing-builder",
        AS,
        activestate_claims(builder=_MISSING),
        "Missing claim 'builder'",
        "builder",
    ),
    ("as-other-org", AS, activestate_claims(organization="other"), NOT_FOUND, "organization"),
    ("as-other-actor", AS, activestate_claims(actor_id="bbbb-2222"), NOT_FOUND, "actor_id"),
    ("as-empty-sub", AS, activestate_claims(sub=""), "Missing 'subject' claim", "sub"),
    (
        "as-short-sub",
        AS,
        activestate_claims(sub="org:acme:project"),
        "Invalid 'subject' claim. Wrong format",
        "sub",
    ),
    (
        "as-wrong-sub",
        AS,
        activestate_claims(sub="org:acme:project:other"),
        "Invalid 'subject' claim",
        "sub",
    ),
    (
        "as-wrong-builder",
        AS,
        activestate_claims(builder="python-module-builder"),
        "Check failed for required claim 'builder'",
        "builder",
    ),
    (
        "as-wrong-issuer",
        AS,
        activestate_claims(iss="https://platform.activestate.com"),
        f"JWT issuer 'https://platform.activestate.com' does not match expected issuer '{AS_ISS}'",
        "iss",
    ),
]


def _find(publishers: list[Publisher], claims: dict[str, Any], **kwargs: Any) -> Lookup:
    provider = publishers[0].provider
    return find_publisher(
        publishers,
        claims,
        provider=provider,
        issuer=claims["iss"],
        canonical_issuer=CANONICAL_ISSUERS[provider],
        **kwargs,
    )


@pytest.mark.parametrize(
    ("publisher", "claims", "reason", "field"),
    [pytest.param(*s[1:], id=s[0]) for s in SCENARIOS],
)
def test_find_publisher_gives_warehouse_reason(
    publisher: Publisher, claims: dict[str, Any], reason: str | None, field: str | None
) -> None:
    lookup = _find([publisher], claims)
    assert lookup.reason == reason
    assert lookup.field == field
    assert (lookup.publisher is publisher) == (reason is None)


@pytest.mark.parametrize(
    ("publisher", "claims"),
    [pytest.param(s[1], s[2], id=s[0]) for s in SCENARIOS],
)
def test_compare_agrees_with_find_publisher(publisher: Publisher, claims: dict[str, Any]) -> None:
    lookup = _find([publisher], claims)
    comparison = compare(publisher, claims)
    assert comparison.ok == lookup.ok
    assert comparison.field == lookup.field
    assert comparison.reason == lookup.reason
    failing = [check for check in comparison.checks if not check.ok]
    assert bool(failing) == (not comparison.ok)
    assert all(check.fix for check in failing)
    if comparison.field is not None:
        assert comparison.field in {check.field for check in failing}


def test_there_are_enough_agreement_scenarios_per_provider() -> None:
    per_provider: dict[Provider, int] = {}
    for _, publisher, _, _, _ in SCENARIOS:
        per_provider[publisher.provider] = per_provider.get(publisher.provider, 0) + 1
    assert len(SCENARIOS) >= 40
    assert set(per_provider) == set(Provider)
    assert min(per_provider.values()) >= 5


def test_github_environment_tie_break_prefers_the_specific_publisher() -> None:
    general = GH
    specific = GH_ENV
    assert _find([general, specific], github_claims(environment="pypi")).publisher is specific
    assert _find([general, specific], github_claims(environment="other")).publisher is general
    assert _find([general, specific], github_claims()).publisher is general
    only_specific = _find([specific], github_claims(environment="other"))
    assert only_specific.publisher is None
    assert only_specific.reason == NOT_FOUND


def test_gitlab_environment_tie_break_is_case_sensitive() -> None:
    lookup = _find([GL, GL_ENV], gitlab_claims(environment="Release"))
    assert lookup.publisher is GL
    assert _find([GL, GL_ENV], gitlab_claims(environment="release")).publisher is GL_ENV


def test_google_subject_tie_break() -> None:
    assert _find([GOOGLE, GOOGLE_SUB], google_claims()).publisher is GOOGLE_SUB
    assert _find([GOOGLE, GOOGLE_SUB], google_claims(sub="other")).publisher is GOOGLE


def test_jti_reuse_is_reported_as_reuse_not_as_publisher_mismatch() -> None:
    seen = {"gh-jti-1"}
    lookup = _find([GH], github_claims(), jti_seen=seen.__contains__)
    assert lookup.reused
    assert lookup.reason == REUSED
    assert lookup.field == "jti"
    assert _find([GH], github_claims(jti="fresh"), jti_seen=seen.__contains__).ok


def test_publishers_of_other_providers_never_match() -> None:
    lookup = find_publisher(
        [GOOGLE, GH], github_claims(), provider="github", issuer=GH_ISS, canonical_issuer=GH_ISS
    )
    assert lookup.publisher is GH
    none = find_publisher(
        [GOOGLE], github_claims(), provider="github", issuer=GH_ISS, canonical_issuer=GH_ISS
    )
    assert none.reason == NOT_FOUND
    assert none.field is None


def test_nearest_publisher_names_the_deciding_field() -> None:
    other_repo = Publisher(Provider.GITHUB, repository="octo/else", workflow="release.yml")
    other_workflow = Publisher(Provider.GITHUB, repository="octo/pkg", workflow="deploy.yml")
    lookup = _find([other_repo, other_workflow], github_claims())
    assert lookup.field == "job_workflow_ref"


def test_gitlab_custom_issuer_builds_the_uri_from_the_publisher_issuer() -> None:
    issuer = "https://gitlab.example.org"
    publisher = Publisher(
        Provider.GITLAB, repository="group/sub/pkg", workflow=".gitlab-ci.yml", issuer=issuer
    )
    claims = gitlab_claims(
        iss=issuer,
        ci_config_ref_uri="gitlab.example.org/group/sub/pkg//.gitlab-ci.yml@refs/tags/v1.0",
    )
    lookup = find_publisher(
        [publisher], claims, provider="gitlab", issuer=issuer, canonical_issuer=GL_ISS
    )
    assert lookup.publisher is publisher
    assert compare(publisher, claims, canonical_issuer=GL_ISS).ok


def test_sandbox_issuer_is_the_canonical_issuer_for_its_provider() -> None:
    sandbox = "https://127.0.0.1:8443/_sandbox/gitlab"
    publisher = parse_publisher_spec(
        "provider=gitlab,repository=group/sub/pkg,workflow=.gitlab-ci.yml"
    )
    claims = gitlab_claims(
        iss=sandbox,
        ci_config_ref_uri="127.0.0.1:8443/_sandbox/gitlab/group/sub/pkg//.gitlab-ci.yml@refs/tags/v1.0",
    )
    lookup = find_publisher(
        [publisher], claims, provider="gitlab", issuer=sandbox, canonical_issuer=sandbox
    )
    assert lookup.ok, lookup.reason
    assert compare(publisher, claims).ok


def test_unpinned_fields_are_rows_checked_by_pypi() -> None:
    comparison = compare(GH_UNPINNED, github_claims())
    row = next(check for check in comparison.checks if check.field == "repository_owner_id")
    assert row.ok
    assert row.expected is None
    assert row.rule.startswith("checked by PyPI")
    assert row.actual == "1001"


def test_compare_fix_for_repository_case() -> None:
    claims = github_claims(repository="Octo/Pkg", repository_owner="Octo")
    comparison = compare(GH, claims)
    row = next(check for check in comparison.checks if check.field == "repository")
    assert not row.ok
    assert "Octo/Pkg" in row.fix
    assert "case-sensitive" in row.fix


def test_required_claims_lists() -> None:
    assert required_claims("google") == ("email", "email_verified")
    assert "jti" in required_claims(Provider.GITLAB)


def test_compare_with_a_publisher_of_another_provider() -> None:
    comparison = compare(GOOGLE, github_claims())
    assert comparison.field == "iss"
    row = next(check for check in comparison.checks if check.field == "iss")
    assert row.fix == (
        "this token comes from GitHub, but the publisher is a Google publisher: declare (and "
        "configure on the index) a GitHub publisher for this job"
    )
    gitlab = compare(GL, github_claims())
    assert not gitlab.ok
    row = next(check for check in gitlab.checks if check.field == "iss")
    assert row.fix.startswith("this token comes from GitHub, but the publisher is a GitLab")
