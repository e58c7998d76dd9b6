"""Exact texts of every explanation (snapshot style), forms and pre-filled links."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from trustpub.errors import ExchangeError
from trustpub.oidc.claims import DecodedToken
from trustpub.oidc.diagnostics import (
    DEBUG_LABEL,
    PENDING_NOTE,
    Explanation,
    claims_table,
    explain_audience_failure,
    explain_mint_error,
    publisher_form,
    publisher_links,
    publisher_to_configure,
)
from trustpub.oidc.publishers import Provider, Publisher

GITHUB_CLAIMS: dict[str, Any] = {
    "iss": "https://token.actions.githubusercontent.com",
    "aud": "pypi",
    "sub": "repo:octo/pkg:environment:pypi",
    "repository": "octo/pkg",
    "repository_owner": "octo",
    "repository_owner_id": "1001",
    "job_workflow_ref": "octo/pkg/.github/workflows/release.yml@refs/tags/v1.0",
    "workflow_ref": "octo/pkg/.github/workflows/release.yml@refs/tags/v1.0",
    "ref": "refs/tags/v1.0",
    "sha": "abc123",
    "event_name": "push",
    "environment": "pypi",
    "jti": "j1",
    "iat": 1000,
    "exp": 1300,
}
TOKEN = DecodedToken({"alg": "RS256"}, GITHUB_CLAIMS)

CLAIMS_BLOCK = """\
Claims PyPI matches for GitHub (for debugging only, do not copy into configuration blindly):
  sub: repo:octo/pkg:environment:pypi
  repository: octo/pkg
  repository_owner: octo
  repository_owner_id: 1001
  job_workflow_ref: octo/pkg/.github/workflows/release.yml@refs/tags/v1.0
  workflow_ref: octo/pkg/.github/workflows/release.yml@refs/tags/v1.0
  ref: refs/tags/v1.0
  sha: abc123
  environment: pypi
  event_name: push"""


def render(explanation: Explanation | None) -> str:
    assert explanation is not None
    return "\n".join(
        [
            explanation.message,
            *explanation.details,
            f"hint: {explanation.hint}",
            f"anchor: {explanation.anchor}",
        ]
    )


def test_invalid_publisher_with_declared_publisher() -> None:
    declared = Publisher(
        Provider.GITHUB,
        repository="octo/pkg",
        workflow="publish.yml",
        environment="pypi",
        owner_id="1001",
    )
    explanation = explain_mint_error(
        "invalid-publisher",
        "valid token, but no corresponding publisher (Publisher with matching claims was not found)",
        token=TOKEN,
        provider="github",
        declared=declared,
        target_display="pypi",
        project="pkg",
    )
    assert render(explanation) == (
        "pypi has no trusted publisher matching this GitHub token "
        "(Publisher with matching claims was not found)\n"
        "pypi answered: invalid-publisher: valid token, but no corresponding publisher "
        "(Publisher with matching claims was not found)\n"
        "Likely causes:\n"
        "  - no publisher has exactly this owner, repository name, workflow file name and "
        "environment (the lookup is case-sensitive)\n"
        "  - a renamed repository/owner, a renamed or moved workflow file, or a changed "
        "environment breaks a publisher that used to work\n"
        "  - the repository owner was deleted and re-created (its numeric id changed)\n"
        f"{CLAIMS_BLOCK}\n"
        "Publisher to configure on pypi (GitHub):\n"
        "  Owner: octo\n"
        "  Repository name: pkg\n"
        "  Workflow name: release.yml\n"
        "  Environment name (optional): pypi\n"
        "Add it to the project: https://pypi.org/manage/project/pkg/settings/publishing/"
        "?provider=github&owner=octo&repository=pkg&workflow_filename=release.yml&environment=pypi\n"
        "Or as a pending publisher (new project): https://pypi.org/manage/account/publishing/\n"
        f"  ({PENDING_NOTE})\n"
        "Compared with the declared publisher (GitHub octo/pkg publish.yml (environment pypi)):\n"
        "  [ok] iss: expected https://token.actions.githubusercontent.com, token has "
        "https://token.actions.githubusercontent.com (must be GitHub's issuer)\n"
        "  [ok] repository: expected octo/pkg, token has octo/pkg (owner and name must equal "
        "the claim exactly (case-sensitive lookup))\n"
        "  [ok] repository_owner: expected octo, token has octo (must equal the claim exactly)\n"
        "  [ok] repository_owner_id: expected 1001, token has 1001 (must equal the owner id "
        "recorded when the publisher was added (exact))\n"
        "  [MISMATCH] job_workflow_ref: expected publish.yml, token has release.yml (the "
        "workflow file name in job_workflow_ref must equal the publisher's workflow (exact, "
        "case-sensitive))\n"
        "      fix: the job runs workflow file 'release.yml': set the publisher's workflow to "
        "'release.yml', or publish from 'publish.yml'\n"
        "  [ok] jti: expected -, token has j1 (checked by PyPI: single use: PyPI refuses a "
        "token whose jti was already exchanged)\n"
        "  [ok] event_name: expected not pull_request_target, token has push "
        "(pull_request_target is refused)\n"
        "  [ok] ref: expected -, token has refs/tags/v1.0 (must be present)\n"
        "  [ok] sha: expected -, token has abc123 (must be present)\n"
        "  [ok] environment: expected pypi, token has pypi (must equal the claim "
        "(case-insensitive))\n"
        "hint: the job runs workflow file 'release.yml': set the publisher's workflow to "
        "'release.yml', or publish from 'publish.yml'\n"
        "anchor: invalid-publisher"
    )
    error = ExchangeError(explanation.message, **explanation.as_kwargs())
    assert error.anchor == "invalid-publisher"
    assert DEBUG_LABEL in error.diagnostics()


def test_invalid_publisher_reasons_map_to_causes() -> None:
    reusable = dict(
        GITHUB_CLAIMS, job_workflow_ref="shared/ci/.github/workflows/pypi.yml@refs/heads/main"
    )
    explanation = explain_mint_error(
        "invalid-publisher",
        "valid token, but no corresponding publisher (Publisher with matching claims was not found)",
        token=DecodedToken({}, reusable),
        provider="github",
        declared=None,
        target_display="https://upload.example/legacy/",
    )
    text = render(explanation)
    assert "this job runs in a reusable workflow: PyPI looks for the CALLED file (pypi.yml)" in text
    assert "Add it to the project" not in text  # no links for indexes other than PyPI/TestPyPI
    pull = explain_mint_error(
        "invalid-publisher",
        "valid token, but no corresponding publisher (Publishing from a workflow invoked via "
        "'pull_request_target' is not supported.)",
        token=TOKEN,
        provider=None,
        declared=None,
        target_display="pypi",
    )
    assert pull.message == (
        "pypi has no trusted publisher matching this GitHub token (Publishing from a workflow "
        "invoked via 'pull_request_target' is not supported.)"
    )
    assert pull.hint == "publish from a push of a tag, a published release or workflow_dispatch"
    missing = explain_mint_error(
        "invalid-publisher",
        "valid token, but no corresponding publisher (Missing claim 'jti')",
        token=TOKEN,
        provider="github",
        declared=None,
        target_display="pypi",
    )
    assert missing.details[2] == (
        "  - the token has no 'jti' claim: it is not a GitHub CI token as PyPI expects it"
    )


def test_invalid_pending_publisher() -> None:
    explanation = explain_mint_error(
        "invalid-pending-publisher",
        "valid token, but project already exists",
        token=TOKEN,
        provider="github",
        declared=None,
        target_display="testpypi",
        project="pkg",
    )
    assert render(explanation) == (
        "testpypi refused the pending publisher: the project already exists\n"
        "testpypi answered: invalid-pending-publisher: valid token, but project already exists\n"
        "Likely causes:\n"
        "  - a pending publisher can only create a project that does not exist yet\n"
        "  - the project was created meanwhile (by an earlier run, or someone else took the "
        "name); the index has now deleted this pending publisher\n"
        "Publisher to configure on testpypi (GitHub):\n"
        "  Owner: octo\n"
        "  Repository name: pkg\n"
        "  Workflow name: release.yml\n"
        "  Environment name (optional): pypi\n"
        "Add it to the project: https://test.pypi.org/manage/project/pkg/settings/publishing/"
        "?provider=github&owner=octo&repository=pkg&workflow_filename=release.yml&environment=pypi\n"
        "Or as a pending publisher (new project): https://test.pypi.org/manage/account/publishing/\n"
        f"  ({PENDING_NOTE})\n"
        "hint: if the project is yours, add a normal trusted publisher on the project's "
        "Publishing settings page; otherwise pick another project name\n"
        "anchor: invalid-pending-publisher"
    )


def test_invalid_reuse_token() -> None:
    explanation = explain_mint_error(
        "invalid-reuse-token",
        "invalid token: already used",
        token=TOKEN,
        provider="github",
        declared=None,
        target_display="pypi",
    )
    assert render(explanation) == (
        "pypi refused the OIDC token: it was already exchanged\n"
        "pypi answered: invalid-reuse-token: invalid token: already used\n"
        "Likely causes:\n"
        "  - an OIDC token can be exchanged once; this one was used by an earlier mint\n"
        "  - the token was cached or shared between jobs or steps\n"
        "hint: request a fresh OIDC token for every exchange (a GitLab/ActiveState token "
        "variable holds one token per job: mint once and reuse the upload token)\n"
        "anchor: invalid-reuse-token"
    )


def test_invalid_token_names_audience_and_expiry() -> None:
    explanation = explain_mint_error(
        "invalid-token",
        "malformed or invalid token",
        token=TOKEN,
        provider="github",
        declared=None,
        target_display="testpypi",
        audience="testpypi",
        now=1400,
    )
    assert render(explanation) == (
        "testpypi could not verify the OIDC token (malformed or invalid token)\n"
        "testpypi answered: invalid-token: malformed or invalid token\n"
        "Likely causes:\n"
        "  - the token's audience is 'pypi' but the index expects 'testpypi' (e.g. a pypi "
        "token sent to TestPyPI)\n"
        "  - the token expired 100 s ago\n"
        "  - the signature or issuer keys could not be verified by the index\n"
        f"{CLAIMS_BLOCK}\n"
        "hint: run `trustpub claims` in the same job to check the token's audience, issuer and "
        "validity window\n"
        "anchor: invalid-token"
    )
    future = explain_mint_error(
        "invalid-token",
        "malformed or invalid token",
        token=DecodedToken({}, {"iss": "x", "aud": ["a", "b"], "iat": 2000, "exp": 3000}),
        provider=None,
        declared=None,
        target_display="pypi",
        now=1000,
    )
    assert future.details[2:4] == (
        "  - the token has several audiences ['a', 'b']; the index accepts exactly one",
        "  - the token's iat is 1000 s in the future: a clock is wrong",
    )


def test_invalid_payload_variants() -> None:
    unknown = explain_mint_error(
        "invalid-payload",
        "unknown trusted publishing issuer",
        token=DecodedToken({}, {"iss": "https://gitlab.example.org", "aud": "pypi"}),
        provider="gitlab",
        declared=None,
        target_display="pypi",
    )
    assert unknown.anchor == "unknown-issuer"
    assert unknown.message == "pypi does not accept tokens from this issuer"
    assert unknown.details[1:4] == (
        "Likely causes:",
        "  - the token's issuer 'https://gitlab.example.org' is not one the index trusts",
        "  - self-managed GitLab works only after PyPI registers the instance for a PyPI "
        "organization (beta)",
    )
    malformed = explain_mint_error(
        "invalid-payload",
        "malformed JWT",
        token=None,
        provider=None,
        declared=None,
        target_display="pypi",
    )
    assert render(malformed) == (
        "pypi could not read the OIDC token (malformed JWT)\n"
        "pypi answered: invalid-payload: malformed JWT\n"
        "Likely causes:\n"
        "  - the value sent is not a JWT, or it has no 'iss' claim\n"
        "hint: check where the token comes from (--oidc-token-env, the CI variable)\n"
        "anchor: invalid-payload"
    )
    name = explain_mint_error(
        "invalid-payload",
        "The name 'requests2' is too similar to an existing project. See https://pypi.org/help/#project-name for more information.",
        token=TOKEN,
        provider="github",
        declared=None,
        target_display="pypi",
    )
    assert name.message == "pypi could not create the project for the pending publisher"
    pydantic = explain_mint_error(
        "invalid-payload",
        "1 validation error for TokenPayload\ntoken\n  Field required",
        token=None,
        provider=None,
        declared=None,
        target_display="pypi",
    )
    assert pydantic.message == "pypi rejected the exchange request body"
    # The index's text is shown on one bounded line (issue 14: it never adds lines of its own).
    assert pydantic.details[0] == (
        "pypi answered: invalid-payload: 1 validation error for TokenPayload token Field required"
    )


def test_not_enabled_and_unknown_code() -> None:
    explanation = explain_mint_error(
        "not-enabled",
        "github trusted publishing functionality not enabled",
        token=TOKEN,
        provider="github",
        declared=None,
        target_display="pypi",
    )
    assert render(explanation) == (
        "pypi has trusted publishing turned off for GitHub\n"
        "pypi answered: not-enabled: github trusted publishing functionality not enabled\n"
        "Likely causes:\n"
        "  - the index's administrators disabled trusted publishing (not a problem with your "
        "configuration)\n"
        "hint: retry later (see https://status.python.org), or publish with an API token "
        "(--token) meanwhile\n"
        "anchor: not-enabled"
    )
    other = explain_mint_error(
        "ratelimited", "", token=None, provider=None, declared=None, target_display="pypi"
    )
    assert other.message == "pypi refused the token exchange: ratelimited"
    assert other.anchor == "ratelimited"


def test_audience_failures() -> None:
    assert render(
        explain_audience_failure(
            403, '{"message": "Trusted publishing functionality not enabled"}', "pypi"
        )
    ) == (
        "pypi has trusted publishing disabled (HTTP 403 from /_/oidc/audience)\n"
        "pypi said: Trusted publishing functionality not enabled\n"
        "hint: the index's administrators turned trusted publishing off; retry later or publish "
        "with an API token (--token)\n"
        "anchor: not-enabled"
    )
    assert render(explain_audience_failure(404, "Not Found", "https://example.org/legacy/")) == (
        "https://example.org/legacy/ does not support trusted publishing (HTTP 404 from "
        "/_/oidc/audience)\n"
        "only PyPI and TestPyPI (and Warehouse-compatible indexes such as the trustpub sandbox) "
        "offer trusted publishing; pypiserver, devpi and most private indexes do not\n"
        "hint: check the --repository URL, or publish with an API token (--token)\n"
        "anchor: no-trusted-publishing"
    )
    assert render(
        explain_audience_failure(
            200, "<!DOCTYPE html><html>login</html>", "https://example.org/legacy/"
        )
    ) == (
        "https://example.org/legacy/ answered /_/oidc/audience with HTTP 200 and an HTML page\n"
        "a proxy, a login page or a wrong URL answered instead of the index\n"
        "the repository URL must be the upload URL of a Warehouse-compatible index (e.g. "
        "https://upload.pypi.org/legacy/)\n"
        "hint: check the --repository URL and any proxy between this job and the index\n"
        "anchor: unexpected-audience-response"
    )
    assert explain_audience_failure(502, "bad gateway", "pypi").message == (
        "pypi answered /_/oidc/audience with HTTP 502 and a non-JSON body"
    )
    assert explain_audience_failure(200, '{"message": "x"}', "pypi").message == (
        "pypi answered /_/oidc/audience with HTTP 200 and JSON without an audience"
    )


def test_forms_per_provider() -> None:
    gitlab = DecodedToken(
        {},
        {
            "iss": "https://gitlab.com",
            "project_path": "group/sub/pkg",
            "ci_config_ref_uri": "gitlab.com/group/sub/pkg//ci/release.yml@refs/tags/v1",
            "environment": "Release",
        },
    )
    assert publisher_to_configure(gitlab, Provider.GITLAB) == [
        ("Namespace", "group/sub"),
        ("Project name", "pkg"),
        ("Top-level pipeline file path", "ci/release.yml"),
        ("Environment name (optional)", "Release"),
    ]
    custom = DecodedToken({}, dict(gitlab.claims, iss="https://gitlab.example.org"))
    assert publisher_form(custom, "gitlab").query()["issuer_url"] == "https://gitlab.example.org"
    google = DecodedToken({}, {"email": "r@p.iam.gserviceaccount.com", "sub": "123"})
    assert publisher_to_configure(google, "google") == [
        ("Email", "r@p.iam.gserviceaccount.com"),
        ("Subject (optional)", "123"),
    ]
    active = DecodedToken({}, {"organization": "acme", "project": "pkg"})
    assert publisher_to_configure(active, "activestate") == [
        ("Organization", "acme"),
        ("Project", "pkg"),
        ("Actor username", "MISSING"),
    ]
    assert not publisher_form(active, "activestate").complete
    assert publisher_form(TOKEN, "github").complete
    assert claims_table(google, Provider.GOOGLE) == [
        ("email", "r@p.iam.gserviceaccount.com"),
        ("email_verified", "MISSING"),
        ("sub", "123"),
    ]


def test_links_use_form_field_names() -> None:
    links = publisher_links(publisher_form(TOKEN, "github"), "My_Pkg")
    assert set(links) == {"pypi-project", "pypi-pending", "testpypi-project", "testpypi-pending"}
    project = urlsplit(links["testpypi-project"])
    assert project.netloc == "test.pypi.org"
    assert project.path == "/manage/project/my-pkg/settings/publishing/"
    assert parse_qs(project.query) == {
        "provider": ["github"],
        "owner": ["octo"],
        "repository": ["pkg"],
        "workflow_filename": ["release.yml"],
        "environment": ["pypi"],
    }
    # Warehouse 6b62157 pre-fills only the project's publishing page (a GET with
    # ?provider=...); the pending-publisher page ignores the query, so none is sent.
    assert links["pypi-pending"] == "https://pypi.org/manage/account/publishing/"
    assert set(publisher_links(publisher_form(TOKEN, "github"), None)) == {
        "pypi-pending",
        "testpypi-pending",
    }


def test_index_text_echoing_a_token_is_redacted() -> None:
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl"
    minted = "pypi-AgEIcHlwaS5vcmcCJDEyMzQ1Njc4"
    explanation = explain_mint_error(
        "invalid-payload",
        f"weird index echoed {jwt} and {minted}",
        token=None,
        provider=None,
        declared=None,
        target_display="https://evil.example/legacy/",
    )
    text = render(explanation)
    assert jwt not in text
    assert minted not in text
    assert "weird index echoed *** and ***" in text
    audience = explain_audience_failure(403, f'{{"message": "{jwt}"}}', "x")
    assert jwt not in render(audience)
