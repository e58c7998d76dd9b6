"""The sandbox's mint endpoint (over real HTTPS) and the client's compare() agree.

For each scenario a publisher is registered in a dedicated sandbox, a fake CI job
gets a real signed OIDC token from the sandbox's issuer, and the token is
exchanged. The sandbox's verdict (and Warehouse-style reason) must equal what
``compare()`` predicts locally from the decoded claims.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from helpers_sandbox import Sandbox, start_sandbox, unique_name
from trustpub.oidc.claims import decode_unverified
from trustpub.oidc.publishers import Publisher
from trustpub.oidc.rules import compare
from trustpub.sandbox import ids

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sandbox = start_sandbox(tmp_path_factory.mktemp("oidc-matrix"))
    try:
        yield sandbox
    finally:
        sandbox.stop()


GH = {"provider": "github", "repository": "octo/pkg", "workflow": "release.yml"}
GL = {"provider": "gitlab", "repository": "group/sub/pkg", "workflow": ".gitlab-ci.yml"}
GOOGLE_EMAIL = "release@proj.iam.gserviceaccount.com"
SHA = "3f786850e387550fdab836ed7e6dc881de23001b"
AS = {
    "provider": "activestate",
    "organization": "acme",
    "project": "pkg",
    "actor": "alice",
    "actor_id": ids.activestate_actor_id("alice"),
}

# (id, publisher mapping, job description, expect a match)
SCENARIOS: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    ("gh-match", GH, {"repository": "octo/pkg", "workflow": "release.yml"}, True),
    (
        "gh-env-match",
        {**GH, "environment": "PyPI"},
        {"repository": "octo/pkg", "environment": "pypi"},
        True,
    ),
    ("gh-env-missing", {**GH, "environment": "pypi"}, {"repository": "octo/pkg"}, False),
    (
        "gh-env-other",
        {**GH, "environment": "pypi"},
        {"repository": "octo/pkg", "environment": "staging"},
        False,
    ),
    ("gh-repo-case", GH, {"repository": "Octo/Pkg"}, False),
    ("gh-workflow-renamed", GH, {"repository": "octo/pkg", "workflow": "publish.yml"}, False),
    (
        "gh-pull-request-target",
        GH,
        {"repository": "octo/pkg", "event": "pull_request_target"},
        False,
    ),
    (
        "gh-owner-id-pinned-other",
        {**GH, "owner_id": "1"},
        {"repository": "octo/pkg"},
        False,
    ),
    (
        "gh-reusable-other-repo",
        GH,
        {
            "repository": "octo/pkg",
            "claims": {
                "job_workflow_ref": "shared/ci/.github/workflows/release.yml@refs/heads/main"
            },
        },
        False,
    ),
    ("gh-missing-event", GH, {"repository": "octo/pkg", "remove_claims": ["event_name"]}, False),
    ("gl-match", GL, {"repository": "group/sub/pkg"}, True),
    (
        "gl-case-lookup-ok-but-uri-differs",
        {**GL, "repository": "Group/Sub/pkg"},
        {"repository": "group/sub/pkg"},
        False,
    ),
    (
        "gl-env-case",
        {**GL, "environment": "release"},
        {"repository": "group/sub/pkg", "environment": "Release"},
        False,
    ),
    (
        "gl-env-match",
        {**GL, "environment": "release"},
        {"repository": "group/sub/pkg", "environment": "release"},
        True,
    ),
    ("gl-included-file", GL, {"repository": "group/sub/pkg", "workflow": "ci/release.yml"}, False),
    ("gl-empty-sha", GL, {"repository": "group/sub/pkg", "claims": {"sha": ""}}, False),
    ("google-match", {"provider": "google", "email": GOOGLE_EMAIL}, {"email": GOOGLE_EMAIL}, True),
    (
        "google-other-email",
        {"provider": "google", "email": GOOGLE_EMAIL},
        {"email": "other@proj.iam.gserviceaccount.com"},
        False,
    ),
    (
        "google-unverified",
        {"provider": "google", "email": GOOGLE_EMAIL},
        {"email": GOOGLE_EMAIL, "claims": {"email_verified": False}},
        False,
    ),
    (
        "google-sub-pinned-other",
        {"provider": "google", "email": GOOGLE_EMAIL, "sub": "1"},
        {"email": GOOGLE_EMAIL},
        False,
    ),
    ("as-match", AS, {"organization": "acme", "project": "pkg", "actor": "alice"}, True),
    ("as-other-actor", AS, {"organization": "acme", "project": "pkg", "actor": "mallory"}, False),
    (
        "as-builder",
        AS,
        {"organization": "acme", "project": "pkg", "actor": "alice", "builder": "wheel-builder"},
        False,
    ),
    (
        "as-bad-subject",
        AS,
        {"organization": "acme", "project": "pkg", "actor": "alice", "claims": {"sub": "org:acme"}},
        False,
    ),
    # -- GitHub: refs, pinned shas, environments, owners, events ---------------------
    ("gh-branch-ref", GH, {"repository": "octo/pkg", "ref": "refs/heads/main"}, True),
    (
        "gh-pinned-sha",
        GH,
        {
            "repository": "octo/pkg",
            "sha": SHA,
            "claims": {"job_workflow_ref": f"octo/pkg/.github/workflows/release.yml@{SHA}"},
        },
        True,
    ),
    (
        "gh-ref-and-sha-empty",
        GH,
        {"repository": "octo/pkg", "claims": {"ref": "", "sha": ""}},
        False,
    ),
    (
        "gh-token-env-publisher-none",
        GH,
        {"repository": "octo/pkg", "environment": "pypi"},
        True,
    ),
    ("gh-other-owner", GH, {"repository": "octo2/pkg"}, False),
    ("gh-other-repository", GH, {"repository": "octo/other"}, False),
    (
        "gh-missing-owner-id",
        GH,
        {"repository": "octo/pkg", "remove_claims": ["repository_owner_id"]},
        False,
    ),
    (
        "gh-yaml-extension",
        {**GH, "workflow": "release.yaml"},
        {"repository": "octo/pkg", "workflow": "release.yaml"},
        True,
    ),
    ("gh-workflow-run", GH, {"repository": "octo/pkg", "event": "workflow_run"}, True),
    (
        "gh-workflow-case",
        GH,
        {"repository": "octo/pkg", "workflow": "Release.yml"},
        False,
    ),
    # -- GitLab: refs, case, environments, paths --------------------------------------
    ("gl-tag-ref", GL, {"repository": "group/sub/pkg", "ref": "refs/tags/v1.0.0"}, True),
    ("gl-token-case", GL, {"repository": "Group/Sub/pkg"}, False),
    (
        "gl-token-env-publisher-none",
        GL,
        {"repository": "group/sub/pkg", "environment": "release"},
        True,
    ),
    ("gl-env-missing", {**GL, "environment": "release"}, {"repository": "group/sub/pkg"}, False),
    (
        "gl-missing-project-path",
        GL,
        {"repository": "group/sub/pkg", "remove_claims": ["project_path"]},
        False,
    ),
    ("gl-other-project", GL, {"repository": "group/sub/other"}, False),
    (
        "gl-nested-pipeline-file",
        {**GL, "workflow": "ci/release.yml"},
        {"repository": "group/sub/pkg", "workflow": "ci/release.yml"},
        True,
    ),
    # -- Google: subject pin, verification, exact email ------------------------------
    (
        "google-sub-pinned-match",
        {"provider": "google", "email": GOOGLE_EMAIL, "sub": ids.google_subject(GOOGLE_EMAIL)},
        {"email": GOOGLE_EMAIL},
        True,
    ),
    (
        "google-missing-email-verified",
        {"provider": "google", "email": GOOGLE_EMAIL},
        {"email": GOOGLE_EMAIL, "remove_claims": ["email_verified"]},
        False,
    ),
    (
        "google-email-case",
        {"provider": "google", "email": GOOGLE_EMAIL},
        {"email": GOOGLE_EMAIL.upper()},
        False,
    ),
    # -- ActiveState: organization, project, builder ---------------------------------
    ("as-other-org", AS, {"organization": "acme2", "project": "pkg", "actor": "alice"}, False),
    ("as-other-project", AS, {"organization": "acme", "project": "pkg2", "actor": "alice"}, False),
    (
        "as-missing-builder",
        AS,
        {
            "organization": "acme",
            "project": "pkg",
            "actor": "alice",
            "remove_claims": ["builder"],
        },
        False,
    ),
]


@pytest.mark.parametrize(
    ("publisher", "job", "matches"),
    [pytest.param(s[1], s[2], s[3], id=s[0]) for s in SCENARIOS],
)
def test_sandbox_and_compare_agree(
    box: Sandbox, publisher: dict[str, Any], job: dict[str, Any], matches: bool
) -> None:
    box.clear_publishers()
    project = unique_name()
    box.add_publisher(dict(publisher, projects=[project]))
    local_publisher = Publisher.from_mapping(dict(publisher, projects=[project]), where="test")
    provider = str(publisher["provider"])
    token = box.oidc_token(provider, **job)
    claims = decode_unverified(token).claims
    comparison = compare(local_publisher, claims)
    response = box.mint(token)
    assert comparison.ok == matches, comparison
    if comparison.ok:
        assert response.status_code == 200, response.text
        return
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert errors == [
        {
            "code": "invalid-publisher",
            "description": f"valid token, but no corresponding publisher ({comparison.reason})",
        }
    ]


def test_the_matrix_is_broad() -> None:
    """The issue's bar: at least 40 scenarios across all four providers, both verdicts."""
    assert len(SCENARIOS) >= 40
    assert len({s[0] for s in SCENARIOS}) == len(SCENARIOS)
    for provider in ("gh-", "gl-", "google-", "as-"):
        verdicts = {s[3] for s in SCENARIOS if s[0].startswith(provider)}
        assert verdicts == {True, False}, provider
