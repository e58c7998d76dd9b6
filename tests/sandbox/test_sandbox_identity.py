"""The sandbox's identity providers in-process: keys, claims, lifetimes, verify()."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from trustpub.providers.activestate import TOKEN_ENV
from trustpub.providers.gitlab import token_env_name as client_token_env_name
from trustpub.sandbox import ids
from trustpub.sandbox.context import SandboxContext
from trustpub.sandbox.identity import IdentityProviders, InvalidToken
from trustpub.sandbox.jobs import JobError, gitlab_token_env_name, parse_claim_option, parse_job

BASE = "https://127.0.0.1:8443"
AUD = "trustpub-sandbox"
NOW = 1_800_000_000.0


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_providers(state_dir: Path, clock: Clock) -> IdentityProviders:
    ctx = SandboxContext(
        state_dir=state_dir,
        base_url=BASE,
        audience=AUD,
        token_lifetime=900,
        metadata_host="127.0.0.1:9999",
        ca_cert=state_dir / "ca.pem",
        clock=clock,
    )
    return IdentityProviders(ctx)


@pytest.fixture
def idp(tmp_path: Path, clock: Clock) -> IdentityProviders:
    return make_providers(tmp_path / "state", clock)


def unverified(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def github_token(idp: IdentityProviders, audience: str = AUD, **description: Any) -> str:
    job, _ = idp.create_job({"provider": "github", **description})
    return idp.job_token(job, audience)


def env_token(idp: IdentityProviders, provider: str, **description: Any) -> tuple[str, str]:
    """(env var name, token) of a GitLab/ActiveState job."""
    _, env = idp.create_job({"provider": provider, **description})
    # GitLab jobs also get SIGSTORE_ID_TOKEN (for attestations): only for that audience.
    sigstore = env.get("SIGSTORE_ID_TOKEN")
    if sigstore is not None:
        assert provider == "gitlab"
        assert unverified(sigstore)["aud"] == "sigstore"
    names = [n for n, value in env.items() if value.startswith("eyJ") and n != "SIGSTORE_ID_TOKEN"]
    assert len(names) == 1, names
    return names[0], env[names[0]]


# ---------------------------------------------------------------- issuers and keys


def test_issuer_urls_and_reverse_lookup(idp: IdentityProviders) -> None:
    for provider in ("github", "gitlab", "google", "activestate"):
        issuer = idp.issuer_url(provider)
        assert issuer == f"{BASE}/_sandbox/{provider}"
        assert idp.provider_for_issuer(issuer) == provider
    assert idp.provider_for_issuer("https://token.actions.githubusercontent.com") is None
    assert idp.provider_for_issuer(f"{BASE}/_sandbox/github/") is None


def test_keys_are_generated_once_and_reused(tmp_path: Path, clock: Clock) -> None:
    state = tmp_path / "state"
    first = make_providers(state, clock)
    token = github_token(first)
    key_file = state / "keys" / "github.pem"
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # A new process on the same state dir verifies the old token: same key, same kid.
    second = make_providers(state, clock)
    assert second.key("github").kid == first.key("github").kid
    assert second.verify(token, provider="github", audience=AUD)["repository"]
    # Each provider has a key of its own.
    kids = {idp_provider: first.key(idp_provider).kid for idp_provider in ("github", "gitlab")}
    assert kids["github"] != kids["gitlab"]


def test_kid_shapes_imitate_the_real_providers(idp: IdentityProviders) -> None:
    github = idp.key("github")
    assert len(github.kid) == 40
    assert github.kid == github.kid.upper()
    assert github.x5t is not None
    google = idp.key("google")
    assert len(google.kid) == 40
    assert google.kid == google.kid.lower()
    # GitLab: an RFC 7638 thumbprint, which PyJWT can recompute from the JWK.
    gitlab = idp.key("gitlab")
    assert len(gitlab.kid) == 43
    jwk = gitlab.jwk()
    assert jwk["kid"] == gitlab.kid
    assert jwk["alg"] == "RS256"
    assert jwk["kty"] == "RSA"
    header = jwt.get_unverified_header(env_token(idp, "gitlab")[1])
    assert header == {"alg": "RS256", "kid": gitlab.kid, "typ": "JWT"}


def test_discovery_document(idp: IdentityProviders) -> None:
    document = idp.discovery("gitlab")
    assert document["issuer"] == f"{BASE}/_sandbox/gitlab"
    assert document["jwks_uri"] == f"{BASE}/_sandbox/gitlab/oauth/discovery/keys"
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert {"ci_config_ref_uri", "project_path", "environment"} <= set(document["claims_supported"])


# ---------------------------------------------------------------- GitHub claims

GITHUB_CLAIMS = {
    "jti", "sub", "aud", "ref", "sha", "repository", "repository_owner", "repository_owner_id",
    "run_id", "run_number", "run_attempt", "repository_visibility", "repository_id", "actor_id",
    "actor", "workflow", "head_ref", "base_ref", "event_name", "ref_protected", "ref_type",
    "workflow_ref", "workflow_sha", "job_workflow_ref", "job_workflow_sha", "check_run_id",
    "runner_environment", "iss", "nbf", "exp", "iat",
}  # fmt: skip


def test_github_claims_defaults(idp: IdentityProviders) -> None:
    token = github_token(idp)
    claims = idp.verify(token, provider="github", audience=AUD)
    assert set(claims) == GITHUB_CLAIMS
    assert claims["iss"] == f"{BASE}/_sandbox/github"
    assert claims["iat"] == int(NOW)
    assert claims["exp"] == claims["iat"] + 300
    assert claims["nbf"] == claims["iat"] - 600
    assert claims["repository"] == "octo-org/example-pkg"
    assert claims["repository_owner"] == "octo-org"
    assert claims["repository_owner_id"] == ids.github_owner_id("octo-org")
    assert claims["ref"] == "refs/tags/v1.0.0"
    assert claims["ref_type"] == "tag"
    assert claims["event_name"] == "release"
    assert claims["sub"] == "repo:octo-org/example-pkg:ref:refs/tags/v1.0.0"
    assert (
        claims["job_workflow_ref"]
        == "octo-org/example-pkg/.github/workflows/release.yml@refs/tags/v1.0.0"
    )
    assert claims["workflow_ref"] == claims["job_workflow_ref"]
    assert len(claims["sha"]) == 40
    assert claims["workflow_sha"] == claims["sha"]
    assert claims["runner_environment"] == "github-hosted"
    # GitHub puts every id in a string.
    for name in ("repository_owner_id", "repository_id", "run_id", "actor_id", "check_run_id"):
        assert isinstance(claims[name], str)
        assert claims[name].isdigit()


def test_github_claims_for_a_described_job(idp: IdentityProviders) -> None:
    sha = "a" * 40
    token = github_token(
        idp,
        repository="Octo/Pkg",
        workflow="publish.yaml",
        ref="refs/heads/main",
        sha=sha,
        environment="pypi",
        event="workflow_dispatch",
        actor="alice",
        runner="self-hosted",
    )
    claims = unverified(token)
    assert set(claims) == GITHUB_CLAIMS | {"environment", "environment_node_id"}
    assert claims["environment"] == "pypi"
    assert claims["sub"] == "repo:Octo/Pkg:environment:pypi"
    assert claims["job_workflow_ref"] == "Octo/Pkg/.github/workflows/publish.yaml@refs/heads/main"
    assert claims["sha"] == sha
    assert claims["ref_type"] == "branch"
    assert claims["actor"] == "alice"
    assert claims["runner_environment"] == "self-hosted"
    assert claims["event_name"] == "workflow_dispatch"


def test_github_sub_forms(idp: IdentityProviders) -> None:
    pr = unverified(github_token(idp, event="pull_request"))
    assert pr["sub"] == "repo:octo-org/example-pkg:pull_request"
    assert pr["ref"] == "refs/pull/1/merge"
    assert (pr["head_ref"], pr["base_ref"]) == ("feature", "main")
    colon = unverified(github_token(idp, environment="prod:eu"))
    assert colon["sub"] == "repo:octo-org/example-pkg:environment:prod%3Aeu"


def test_github_jti_is_fresh_on_every_token(idp: IdentityProviders, clock: Clock) -> None:
    job, _ = idp.create_job({"provider": "github"})
    first = unverified(idp.job_token(job, AUD))
    clock.now += 7
    second = unverified(idp.job_token(job, AUD))
    assert first["jti"] != second["jti"]
    assert second["iat"] == first["iat"] + 7
    assert first["run_id"] == second["run_id"]


# ---------------------------------------------------------------- GitLab claims

GITLAB_CLAIMS = {
    "namespace_id", "namespace_path", "project_id", "project_path", "project_visibility",
    "user_id", "user_login", "user_email", "user_access_level", "groups_direct", "pipeline_id",
    "pipeline_source", "job_id", "ref", "ref_type", "ref_path", "ref_protected", "runner_id",
    "runner_environment", "sha", "ci_config_ref_uri", "ci_config_sha", "jti", "iss", "iat",
    "nbf", "exp", "sub", "aud",
}  # fmt: skip


def test_gitlab_token_and_claims(idp: IdentityProviders) -> None:
    name, token = env_token(
        idp,
        "gitlab",
        repository="group/sub/proj",
        workflow="ci/release.yml",
        ref="refs/heads/main",
        environment="Production",
    )
    assert name == "TRUSTPUB_SANDBOX_ID_TOKEN"
    claims = idp.verify(token, provider="gitlab", audience=AUD)
    assert set(claims) == GITLAB_CLAIMS | {
        "environment",
        "environment_protected",
        "deployment_tier",
        "environment_action",
    }
    assert claims["project_path"] == "group/sub/proj"
    assert claims["namespace_path"] == "group/sub"
    assert claims["namespace_id"] == ids.gitlab_namespace_id("group/sub")
    assert claims["project_id"] == ids.gitlab_project_id("group/sub/proj")
    assert claims["ref"] == "main"
    assert claims["ref_path"] == "refs/heads/main"
    assert claims["sub"] == "project_path:group/sub/proj:ref_type:branch:ref:main"
    assert claims["ci_config_ref_uri"] == (
        "127.0.0.1:8443/_sandbox/gitlab/group/sub/proj//ci/release.yml@refs/heads/main"
    )
    assert claims["environment"] == "Production"
    assert claims["deployment_tier"] == "production"
    assert claims["exp"] == claims["iat"] + 3600
    assert claims["nbf"] == claims["iat"] - 5
    assert isinstance(claims["runner_id"], int)


def test_gitlab_timeout_and_other_audience(idp: IdentityProviders) -> None:
    name, token = env_token(idp, "gitlab", audience="pypi", timeout=600)
    assert name == "PYPI_ID_TOKEN"
    claims = idp.verify(token, provider="gitlab", audience="pypi")
    assert claims["exp"] == claims["iat"] + 600
    with pytest.raises(InvalidToken):
        idp.verify(token, provider="gitlab", audience=AUD)


def test_gitlab_token_env_name() -> None:
    assert gitlab_token_env_name("trustpub-sandbox") == "TRUSTPUB_SANDBOX_ID_TOKEN"
    assert gitlab_token_env_name("testpypi") == "TESTPYPI_ID_TOKEN"
    assert gitlab_token_env_name("https://a.b/c") == "HTTPS___A_B_C_ID_TOKEN"
    assert gitlab_token_env_name("1x") == "_X_ID_TOKEN"
    # The client reads the variable the sandbox writes.
    for audience in ("pypi", "trustpub-sandbox", "https://a.b/c", "9lives", "über"):
        assert gitlab_token_env_name(audience) == client_token_env_name(audience)


def test_gitlab_env(idp: IdentityProviders) -> None:
    _, env = idp.create_job({"provider": "gitlab", "repository": "ns/proj", "environment": "pypi"})
    assert env["GITLAB_CI"] == "true"
    assert env["CI"] == "true"
    assert env["CI_PROJECT_PATH"] == "ns/proj"
    assert env["CI_PROJECT_NAMESPACE"] == "ns"
    assert env["CI_PROJECT_NAME"] == "proj"
    assert env["CI_COMMIT_REF_NAME"] == "v1.0.0"
    assert env["CI_COMMIT_TAG"] == "v1.0.0"
    assert env["CI_CONFIG_PATH"] == ".gitlab-ci.yml"
    assert env["CI_SERVER_URL"] == f"{BASE}/_sandbox/gitlab"
    assert env["CI_ENVIRONMENT_NAME"] == "pypi"
    assert env["CI_JOB_ID"].isdigit()
    assert env["CI_PIPELINE_ID"].isdigit()
    assert env["SSL_CERT_FILE"] == env["REQUESTS_CA_BUNDLE"]
    token = env["TRUSTPUB_SANDBOX_ID_TOKEN"]
    assert unverified(token)["sha"] == env["CI_COMMIT_SHA"]


# ---------------------------------------------------------------- Google and ActiveState


def test_google_claims_standard_and_full(idp: IdentityProviders) -> None:
    job, env = idp.create_job({"provider": "google", "email": "ci@proj-1.iam.gserviceaccount.com"})
    assert env["GCE_METADATA_HOST"] == "127.0.0.1:9999"
    assert env["TRUSTPUB_GOOGLE_IAM_URL"] == f"{BASE}/_sandbox/google/iam"
    assert "CI" not in env
    full = idp.verify(
        idp.google_token(
            job, email=job.spec.email or "", audience=AUD, full=True, compute_engine=True
        ),
        provider="google",
        audience=AUD,
    )
    subject = ids.google_subject("ci@proj-1.iam.gserviceaccount.com")
    assert full["email"] == "ci@proj-1.iam.gserviceaccount.com"
    assert full["email_verified"] is True
    assert full["sub"] == subject
    assert full["azp"] == subject
    assert full["exp"] == full["iat"] + 3600
    assert "nbf" not in full
    assert "jti" not in full
    assert full["google"]["compute_engine"]["project_id"] == "proj-1"
    standard = unverified(
        idp.google_token(job, email="x@y.z", audience=AUD, full=False, compute_engine=True)
    )
    assert set(standard) == {"aud", "azp", "exp", "iat", "iss", "sub"}


def test_activestate_claims(idp: IdentityProviders) -> None:
    name, token = env_token(idp, "activestate", organization="acme", project="widgets", actor="bob")
    assert name == TOKEN_ENV
    claims = idp.verify(token, provider="activestate", audience=AUD)
    assert claims["sub"] == "org:acme:project:widgets"
    assert claims["organization"] == "acme"
    assert claims["project"] == "widgets"
    assert claims["actor"] == "bob"
    assert claims["actor_id"] == ids.activestate_actor_id("bob")
    assert claims["builder"] == "pypi-publisher"
    assert claims["project_path"] == "acme/widgets"
    assert claims["exp"] == claims["iat"] + 300
    assert {
        "organization_id",
        "project_id",
        "project_visibility",
        "ingredient",
        "artifact_id",
    } < set(claims)


# ---------------------------------------------------------------- overrides and job parsing


def test_claim_overrides_and_removal(idp: IdentityProviders) -> None:
    job, _ = idp.create_job(
        {
            "provider": "github",
            "claims": {"repository_owner_id": "1", "aud": ["a", "b"], "extra": {"x": 1}},
            "remove_claims": ["ref", "environment"],
        }
    )
    claims = unverified(idp.job_token(job, AUD))
    assert claims["repository_owner_id"] == "1"
    assert claims["aud"] == ["a", "b"]
    assert claims["extra"] == {"x": 1}
    assert "ref" not in claims
    google_job, _ = idp.create_job({"provider": "google", "claims": {"email_verified": False}})
    google = unverified(
        idp.google_token(google_job, email="a@b.c", audience=AUD, full=True, compute_engine=False)
    )
    assert google["email_verified"] is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("email_verified=false", ("email_verified", False, False)),
        ('aud=["a","b"]', ("aud", ["a", "b"], False)),
        ("repository_owner_id=123", ("repository_owner_id", 123, False)),
        ('repository_owner_id="123"', ("repository_owner_id", "123", False)),
        ("ref=refs/heads/x", ("ref", "refs/heads/x", False)),
        ("note=a=b", ("note", "a=b", False)),
        ("gone=", ("gone", None, True)),
        ("nothing=null", ("nothing", None, False)),
    ],
)
def test_parse_claim_option(text: str, expected: tuple[str, Any, bool]) -> None:
    assert parse_claim_option(text) == expected


@pytest.mark.parametrize("text", ["noequals", "=value", ""])
def test_parse_claim_option_refuses(text: str) -> None:
    with pytest.raises(JobError):
        parse_claim_option(text)


@pytest.mark.parametrize(
    ("description", "message"),
    [
        ({"provider": "circleci"}, "'provider' must be one of"),
        ({"provider": "github", "colour": "red"}, "unknown job field 'colour'"),
        ({"provider": "gitlab", "email": "a@b"}, "'email' does not apply to provider gitlab"),
        ({"provider": "github", "repository": "just-a-name"}, "owner/name"),
        ({"provider": "github", "repository": "a/b/c"}, "owner/name"),
        ({"provider": "github", "workflow": ".github/workflows/x.yml"}, "no directory"),
        ({"provider": "gitlab", "workflow": "/ci.yml"}, "repository-relative"),
        ({"provider": "github", "ref": "main"}, "full ref"),
        ({"provider": "github", "sha": "abc"}, "40 lower-case hex"),
        ({"provider": "github", "runner": "gitlab-hosted"}, "github-hosted or self-hosted"),
        ({"provider": "github", "fork": True}, "only to pull_request"),
        ({"provider": "gitlab", "timeout": 0}, "positive number"),
        ({"provider": "google", "email": "not-an-email"}, "service-account email"),
        ({"provider": "github", "repository": 3}, "must be a string"),
        ({"provider": "github", "claims": ["x"]}, "'claims' must be an object"),
        ({"provider": "github", "remove_claims": "x"}, "'remove_claims' must be a list"),
    ],
)
def test_parse_job_refuses(description: dict[str, Any], message: str) -> None:
    with pytest.raises(JobError, match=message.replace("(", r"\(")):
        parse_job(description)


def test_parse_job_defaults() -> None:
    spec = parse_job({"provider": "activestate"})
    assert (spec.organization, spec.project, spec.actor, spec.builder) == (
        "example-org",
        "example-pkg",
        "example-user",
        "pypi-publisher",
    )
    fork = parse_job({"provider": "github", "event": "pull_request", "fork": True})
    assert fork.id_token is False  # fork PRs get no OIDC on GitHub
    granted = parse_job(
        {"provider": "github", "event": "pull_request", "fork": True, "id_token": True}
    )
    assert granted.id_token is True


def test_github_env_and_event_file(idp: IdentityProviders, tmp_path: Path) -> None:
    job, env = idp.create_job(
        {"provider": "github", "repository": "octo/pkg", "event": "pull_request", "fork": True}
    )
    assert "ACTIONS_ID_TOKEN_REQUEST_URL" not in env
    assert "ACTIONS_ID_TOKEN_REQUEST_TOKEN" not in env
    event = json.loads(Path(env["GITHUB_EVENT_PATH"]).read_text(encoding="utf-8"))
    assert event["pull_request"]["head"]["repo"]["fork"] is True
    assert env["GITHUB_EVENT_NAME"] == "pull_request"
    assert Path(env["GITHUB_EVENT_PATH"]).parent == tmp_path / "state" / "jobs" / job.id
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH"):
        assert Path(env[name]).is_file()

    _, release = idp.create_job({"provider": "github", "repository": "octo/pkg"})
    assert release["GITHUB_ACTIONS"] == "true"
    assert release["CI"] == "true"
    assert release["ACTIONS_ID_TOKEN_REQUEST_URL"].startswith(f"{BASE}/_sandbox/github/token?job=")
    assert release["GITHUB_REPOSITORY_OWNER_ID"] == ids.github_owner_id("octo")
    assert release["GITHUB_REF_NAME"] == "v1.0.0"
    assert release["GITHUB_REF_TYPE"] == "tag"
    assert (
        release["GITHUB_WORKFLOW_REF"] == "octo/pkg/.github/workflows/release.yml@refs/tags/v1.0.0"
    )
    assert release["RUNNER_ENVIRONMENT"] == "github-hosted"
    payload = json.loads(Path(release["GITHUB_EVENT_PATH"]).read_text(encoding="utf-8"))
    assert payload["release"]["tag_name"] == "v1.0.0"
    stored = tmp_path / "state" / "jobs" / release["TRUSTPUB_SANDBOX_JOB"] / "job.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600


def test_jobs_survive_a_restart(tmp_path: Path, clock: Clock) -> None:
    state = tmp_path / "state"
    job, _ = make_providers(state, clock).create_job({"provider": "github"})
    again = make_providers(state, clock).jobs.get(job.id)
    assert again == job
    assert make_providers(state, clock).jobs.get("../../etc") is None


# ---------------------------------------------------------------- verify()


def test_verify_refuses_a_token_signed_by_another_key(idp: IdentityProviders) -> None:
    claims = unverified(github_token(idp))
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": idp.key("github").kid})
    with pytest.raises(InvalidToken):
        idp.verify(forged, provider="github", audience=AUD)


def test_verify_refuses_unknown_kid_and_wrong_provider(idp: IdentityProviders) -> None:
    claims = unverified(github_token(idp))
    key = idp.key("github").private_key
    other_kid = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "nope"})
    with pytest.raises(InvalidToken):
        idp.verify(other_kid, provider="github", audience=AUD)
    no_kid = jwt.encode(claims, key, algorithm="RS256")
    with pytest.raises(InvalidToken):
        idp.verify(no_kid, provider="github", audience=AUD)
    # A GitLab token is not a GitHub token, even with every claim right.
    _, gitlab = env_token(idp, "gitlab")
    with pytest.raises(InvalidToken):
        idp.verify(gitlab, provider="github", audience=AUD)


def test_verify_refuses_wrong_issuer(idp: IdentityProviders) -> None:
    token = idp.sign(
        "github",
        {**unverified(github_token(idp)), "iss": "https://token.actions.githubusercontent.com"},
    )
    with pytest.raises(InvalidToken):
        idp.verify(token, provider="github", audience=AUD)


def test_verify_refuses_list_and_wrong_audience(idp: IdentityProviders) -> None:
    claims = unverified(github_token(idp))
    listed = idp.sign("github", {**claims, "aud": [AUD]})
    with pytest.raises(InvalidToken):
        idp.verify(listed, provider="github", audience=AUD)
    with pytest.raises(InvalidToken):
        idp.verify(idp.sign("github", claims), provider="github", audience="pypi")
    assert idp.verify(idp.sign("github", claims), provider="github", audience=AUD)


@pytest.mark.parametrize("missing", ["iss", "iat", "exp", "aud"])
def test_verify_requires_claims(idp: IdentityProviders, missing: str) -> None:
    claims = unverified(github_token(idp))
    del claims[missing]
    with pytest.raises(InvalidToken):
        idp.verify(idp.sign("github", claims), provider="github", audience=AUD)


def test_verify_refuses_garbage_and_other_algorithms(idp: IdentityProviders) -> None:
    for token in ("", "not.a.jwt", "eyJhbGciOiJub25lIn0.e30."):
        with pytest.raises(InvalidToken):
            idp.verify(token, provider="github", audience=AUD)
    claims = unverified(github_token(idp))
    hmac = jwt.encode(
        claims, "a-shared-secret-of-32-bytes-long!", algorithm="HS256",
        headers={"kid": idp.key("github").kid},
    )  # fmt: skip
    with pytest.raises(InvalidToken):
        idp.verify(hmac, provider="github", audience=AUD)
    with pytest.raises(InvalidToken):
        idp.verify(github_token(idp), provider="bitbucket", audience=AUD)


def test_verify_exp_leeway(idp: IdentityProviders, clock: Clock) -> None:
    token = github_token(idp)
    exp = unverified(token)["exp"]
    clock.now = exp + 29  # expired, but within the 30 s leeway
    assert idp.verify(token, provider="github", audience=AUD)
    clock.now = exp + 30
    with pytest.raises(InvalidToken):
        idp.verify(token, provider="github", audience=AUD)


def test_verify_future_nbf_and_iat_leeway(idp: IdentityProviders, clock: Clock) -> None:
    claims = unverified(github_token(idp))
    future_nbf = idp.sign("github", {**claims, "nbf": int(NOW) + 30})
    assert idp.verify(future_nbf, provider="github", audience=AUD)
    too_early = idp.sign("github", {**claims, "nbf": int(NOW) + 31})
    with pytest.raises(InvalidToken):
        idp.verify(too_early, provider="github", audience=AUD)
    future_iat = idp.sign("github", {**claims, "iat": int(NOW) + 30})
    assert idp.verify(future_iat, provider="github", audience=AUD)
    too_new = idp.sign("github", {**claims, "iat": int(NOW) + 31})
    with pytest.raises(InvalidToken):
        idp.verify(too_new, provider="github", audience=AUD)
    no_nbf = dict(claims)
    del no_nbf["nbf"]
    assert idp.verify(idp.sign("github", no_nbf), provider="github", audience=AUD)
    bad_type = idp.sign("github", {**claims, "exp": "tomorrow"})
    with pytest.raises(InvalidToken):
        idp.verify(bad_type, provider="github", audience=AUD)


def test_invalid_token_never_carries_the_token(idp: IdentityProviders) -> None:
    token = idp.sign("github", {**unverified(github_token(idp)), "aud": ["x"]})
    with pytest.raises(InvalidToken) as caught:
        idp.verify(token, provider="github", audience=AUD)
    text = str(caught.value)
    assert token not in text
    assert all(part not in text for part in token.split("."))
