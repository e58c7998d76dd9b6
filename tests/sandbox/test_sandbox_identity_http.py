"""The identity providers over real HTTP, against a running sandbox (TLS)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import jwt
import pytest

from helpers_sandbox import Sandbox
from trustpub.sandbox import ids

pytestmark = pytest.mark.e2e

PROVIDERS = ("github", "gitlab", "google", "activestate")


def job(sandbox: Sandbox, **description: Any) -> dict[str, str]:
    env: dict[str, str] = sandbox.job(**description)["env"]
    return env


def github_request(
    sandbox: Sandbox, env: dict[str, str], *, audience: str | None, auth: str | None
) -> httpx.Response:
    url = env["ACTIONS_ID_TOKEN_REQUEST_URL"]
    if audience is not None:
        url += "&audience=" + quote(audience, safe="")  # as @actions/core appends it
    headers = {} if auth is None else {"Authorization": auth}
    with sandbox.client() as client:
        return client.get(url, headers=headers)


def verify_with_jwks(sandbox: Sandbox, provider: str, token: str, audience: str) -> dict[str, Any]:
    """Verify like a relying party: discovery -> jwks_uri -> key by kid -> PyJWT."""
    with sandbox.client() as client:
        discovery = client.get(f"/_sandbox/{provider}/.well-known/openid-configuration")
        assert discovery.status_code == 200
        document = discovery.json()
        jwks = client.get(document["jwks_uri"])
        assert jwks.status_code == 200
    kid = jwt.get_unverified_header(token)["kid"]
    matching = [entry for entry in jwks.json()["keys"] if entry["kid"] == kid]
    assert len(matching) == 1
    claims: dict[str, Any] = jwt.decode(
        token,
        jwt.PyJWK(matching[0]).key,
        algorithms=["RS256"],
        audience=audience,
        issuer=document["issuer"],
        options={"strict_aud": True, "require": ["iss", "iat", "exp", "aud"]},
    )
    return claims


@pytest.mark.parametrize("provider", PROVIDERS)
def test_discovery_and_jwks(sandbox: Sandbox, provider: str) -> None:
    issuer = f"{sandbox.url}/_sandbox/{provider}"
    with sandbox.client() as client:
        document = client.get(f"/_sandbox/{provider}/.well-known/openid-configuration").json()
        assert document["issuer"] == issuer
        assert document["jwks_uri"].startswith(issuer + "/")
        assert document["id_token_signing_alg_values_supported"] == ["RS256"]
        keys = client.get(document["jwks_uri"]).json()["keys"]
        alias = client.get(f"/_sandbox/{provider}/jwks").json()["keys"]
    assert keys == alias
    assert len(keys) == 1
    assert keys[0]["kty"] == "RSA"
    assert keys[0]["alg"] == "RS256"
    assert keys[0]["use"] == "sig"


def test_tokens_of_every_provider_verify_against_the_published_keys(sandbox: Sandbox) -> None:
    audience = sandbox.audience
    for provider in PROVIDERS:
        token = sandbox.oidc_token(provider)
        claims = verify_with_jwks(sandbox, provider, token, audience)
        assert claims["iss"] == f"{sandbox.url}/_sandbox/{provider}"


def test_issuers_do_not_share_keys(sandbox: Sandbox) -> None:
    token = sandbox.oidc_token("gitlab")
    with pytest.raises(AssertionError):
        # The GitLab kid is not in GitHub's JWKS.
        verify_with_jwks(sandbox, "github", token, sandbox.audience)


def test_sandbox_mint_accepts_the_tokens(sandbox: Sandbox) -> None:
    # No publisher matches these jobs: a *valid* token gets invalid-publisher, not invalid-token.
    response = sandbox.mint(sandbox.oidc_token("github", repository="nobody/nothing"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "invalid-publisher"


# ---------------------------------------------------------------- GitHub request endpoint


def test_github_endpoint_requires_the_bearer_request_token(sandbox: Sandbox) -> None:
    env = job(sandbox, provider="github")
    request_token = env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]
    missing = github_request(sandbox, env, audience="x", auth=None)
    assert missing.status_code == 401
    assert "message" in missing.json()
    wrong_scheme = github_request(sandbox, env, audience="x", auth=f"token {request_token}")
    assert wrong_scheme.status_code == 401
    wrong = github_request(sandbox, env, audience="x", auth="bearer not-the-request-token")
    assert wrong.status_code == 403
    assert wrong.json()["message"] == "Bad credentials"
    assert request_token not in wrong.text
    other_job = job(sandbox, provider="github")
    crossed = github_request(
        sandbox, other_job, audience="x", auth=f"bearer {request_token}"
    )  # one job's request token does not open another job
    assert crossed.status_code == 403


def test_github_endpoint_answers_like_github(sandbox: Sandbox) -> None:
    env = job(sandbox, provider="github", repository="octo/pkg", environment="pypi")
    assert "?job=" in env["ACTIONS_ID_TOKEN_REQUEST_URL"]
    auth = f"BEARER {env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']}"  # the scheme is case-insensitive
    first = github_request(sandbox, env, audience="my aud/1", auth=auth)
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("application/json")
    body = first.json()
    assert body["count"] == 1
    claims = verify_with_jwks(sandbox, "github", body["value"], "my aud/1")
    assert claims["repository"] == "octo/pkg"
    assert claims["environment"] == "pypi"
    assert claims["repository_owner_id"] == ids.github_owner_id("octo")
    assert claims["exp"] - claims["iat"] == 300
    second = github_request(sandbox, env, audience="my aud/1", auth=auth).json()["value"]
    assert jwt.decode(second, options={"verify_signature": False})["jti"] != claims["jti"]


def test_github_endpoint_default_audience(sandbox: Sandbox) -> None:
    env = job(sandbox, provider="github", repository="octo/pkg")
    auth = f"bearer {env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']}"
    response = github_request(sandbox, env, audience=None, auth=auth)
    assert response.status_code == 200
    claims = jwt.decode(response.json()["value"], options={"verify_signature": False})
    assert claims["aud"] == "https://github.com/octo"


def test_github_endpoint_unknown_job(sandbox: Sandbox) -> None:
    with sandbox.client() as client:
        response = client.get(
            "/_sandbox/github/token",
            params={"job": "0123456789abcdef", "audience": "x"},
            headers={"Authorization": "bearer whatever"},
        )
    assert response.status_code == 404


# ---------------------------------------------------------------- jobs endpoint


def test_jobs_endpoint_refuses_bad_descriptions(sandbox: Sandbox) -> None:
    with sandbox.client() as client:
        not_json = client.post("/_sandbox/jobs", content=b"{nope")
        assert not_json.status_code == 400
        assert "JSON object" in not_json.json()["message"]
        bad = client.post("/_sandbox/jobs", json={"provider": "github", "ref": "main"})
        assert bad.status_code == 400
        assert "full ref" in bad.json()["message"]
        created = client.post("/_sandbox/jobs", json={"provider": "activestate"})
    assert created.status_code == 200
    body = created.json()
    assert (sandbox.state_dir / "jobs" / body["job"] / "job.json").is_file()
    assert body["env"]["TRUSTPUB_SANDBOX_JOB"] == body["job"]


# ---------------------------------------------------------------- Google


def metadata(sandbox: Sandbox, path: str, **kwargs: Any) -> httpx.Response:
    assert sandbox.metadata_host is not None
    with httpx.Client(base_url=f"http://{sandbox.metadata_host}", timeout=60.0) as client:
        return client.get(path, **kwargs)


IDENTITY = "/computeMetadata/v1/instance/service-accounts/default/identity"
FLAVOR = {"Metadata-Flavor": "Google"}


def test_metadata_detection_probes(sandbox: Sandbox) -> None:
    root = metadata(sandbox, "/")
    assert root.status_code == 200
    assert root.headers["metadata-flavor"] == "Google"
    v1 = metadata(sandbox, "/computeMetadata/v1/", headers=FLAVOR)
    assert v1.status_code == 200
    assert v1.headers["metadata-flavor"] == "Google"
    refused = metadata(sandbox, "/computeMetadata/v1/")
    assert refused.status_code == 403
    assert refused.headers["metadata-flavor"] == "Google"


def test_metadata_identity(sandbox: Sandbox) -> None:
    email = "release@my-proj.iam.gserviceaccount.com"
    env = job(sandbox, provider="google", email=email)
    assert env["GCE_METADATA_HOST"] == sandbox.metadata_host
    params = {"audience": sandbox.audience, "format": "full"}
    without_header = metadata(sandbox, IDENTITY, params=params)
    assert without_header.status_code == 403
    response = metadata(sandbox, IDENTITY, params=params, headers=FLAVOR)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["metadata-flavor"] == "Google"
    token = response.text
    assert token.count(".") == 2
    assert not token.startswith("{")
    claims = verify_with_jwks(sandbox, "google", token, sandbox.audience)
    assert claims["email"] == email
    assert claims["email_verified"] is True
    assert claims["sub"] == ids.google_subject(email)
    assert claims["google"]["compute_engine"]["project_id"] == "my-proj"
    standard = metadata(sandbox, IDENTITY, params={"audience": "a"}, headers=FLAVOR).text
    assert "email" not in jwt.decode(standard, options={"verify_signature": False})
    no_audience = metadata(sandbox, IDENTITY, headers=FLAVOR)
    assert no_audience.status_code == 400
    by_email = metadata(
        sandbox,
        f"/computeMetadata/v1/instance/service-accounts/{email}/identity",
        params=params,
        headers=FLAVOR,
    )
    assert by_email.status_code == 200
    stranger = metadata(
        sandbox,
        "/computeMetadata/v1/instance/service-accounts/other@x.iam.gserviceaccount.com/identity",
        params=params,
        headers=FLAVOR,
    )
    assert stranger.status_code == 404


def test_metadata_email_and_token_then_iam_impersonation(sandbox: Sandbox) -> None:
    email = "vm@proj-2.iam.gserviceaccount.com"
    target = "publisher@proj-2.iam.gserviceaccount.com"
    env = job(sandbox, provider="google", email=email, impersonate=target)
    assert env["GOOGLE_SERVICE_ACCOUNT_NAME"] == target
    accounts = "/computeMetadata/v1/instance/service-accounts/default"
    assert metadata(sandbox, f"{accounts}/email", headers=FLAVOR).text == email
    access = metadata(sandbox, f"{accounts}/token", headers=FLAVOR).json()
    assert access["token_type"] == "Bearer"
    iam = env["TRUSTPUB_GOOGLE_IAM_URL"]
    url = f"{iam}/v1/projects/-/serviceAccounts/{target}:generateIdToken"
    payload = {"audience": sandbox.audience, "includeEmail": True}
    with sandbox.client() as client:
        refused = client.post(url, json=payload)
        assert refused.status_code == 401
        assert refused.json()["error"]["status"] == "UNAUTHENTICATED"
        wrong = client.post(url, json=payload, headers={"Authorization": "Bearer ya29.nope"})
        assert wrong.status_code == 401
        bearer = {"Authorization": f"Bearer {access['access_token']}"}
        no_audience = client.post(url, json={"includeEmail": True}, headers=bearer)
        assert no_audience.status_code == 400
        response = client.post(url, json=payload, headers=bearer)
    assert response.status_code == 200
    claims = verify_with_jwks(sandbox, "google", response.json()["token"], sandbox.audience)
    assert claims["email"] == target
    assert claims["sub"] == ids.google_subject(target)
    assert "google" not in claims
