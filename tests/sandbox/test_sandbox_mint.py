"""`/_/oidc/mint-token` and `/_/oidc/burn-token` over real HTTPS, with real signed tokens."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest

from helpers_sandbox import Sandbox, SandboxFactory, fingerprint, unique_name


def github_publisher(box: Sandbox, project: str, **extra: Any) -> str:
    """Register a GitHub publisher for ``octo/<project>`` and return the repository."""
    repository = f"octo/{project}"
    box.add_publisher(
        provider="github",
        repository=repository,
        workflow="release.yml",
        projects=[project],
        **extra,
    )
    return repository


def only_error(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["message"] == "Token request failed"
    assert "success" not in body
    assert len(body["errors"]) == 1
    error: dict[str, str] = body["errors"][0]
    return error


def test_mint_success(sandbox: Sandbox) -> None:
    project = unique_name()
    repository = github_publisher(sandbox, project)
    oidc = sandbox.oidc_token("github", repository=repository, workflow="release.yml")
    before = int(time.time())
    response = sandbox.mint(oidc)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    assert body["token"].startswith("pypi-")
    assert len(body["token"]) > 40
    assert before + 900 - 5 <= body["expires"] <= int(time.time()) + 900
    second = sandbox.mint(
        sandbox.oidc_token("github", repository=repository, workflow="release.yml")
    )
    assert second.json()["token"] != body["token"]


def test_mint_records_the_oidc_token_by_fingerprint(sandbox: Sandbox) -> None:
    oidc = sandbox.oidc_token("github", repository=f"octo/{unique_name()}")
    sandbox.mint(oidc)
    entries = [e for e in sandbox.log() if e["path"] == "/_/oidc/mint-token"]
    assert {"kind": "oidc", "fingerprint": fingerprint(oidc)} in entries[-1]["credentials"]
    text = (sandbox.state_dir / "requests.jsonl").read_text()
    assert oidc not in text
    assert oidc.split(".")[1] not in text


def test_github_alias_route(sandbox: Sandbox) -> None:
    project = unique_name()
    repository = github_publisher(sandbox, project)
    oidc = sandbox.oidc_token("github", repository=repository)
    with sandbox.client() as client:
        response = client.post("/_/oidc/github/mint-token", json={"token": oidc})
        assert response.status_code == 200
        assert client.get("/_/oidc/mint-token").status_code == 405


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"not json", "Invalid JSON"),
        (b'{"other": 1}', "Field required"),
        (b'{"token": 5}', "valid string"),
        (b"[1, 2]", "object"),
    ],
)
def test_invalid_payload(sandbox: Sandbox, body: bytes, needle: str) -> None:
    with sandbox.client() as client:
        error = only_error(client.post("/_/oidc/mint-token", content=body))
    assert error["code"] == "invalid-payload"
    assert needle in error["description"]
    assert "\n" in error["description"]


def test_malformed_jwt(sandbox: Sandbox) -> None:
    with sandbox.client() as client:
        error = only_error(client.post("/_/oidc/mint-token", json={"token": "a.b.c"}))
        assert error == {"code": "invalid-payload", "description": "malformed JWT"}
        no_iss = jwt.encode({"sub": "x"}, "k" * 32, algorithm="HS256")
        error = only_error(client.post("/_/oidc/mint-token", json={"token": no_iss}))
        assert error == {"code": "invalid-payload", "description": "malformed JWT"}


def test_unknown_issuer(sandbox: Sandbox) -> None:
    token = jwt.encode({"iss": "https://ci.example.invalid"}, "k" * 32, algorithm="HS256")
    error = only_error(sandbox.mint(token))
    assert error == {"code": "invalid-payload", "description": "unknown trusted publishing issuer"}


def test_invalid_token_wrong_audience(sandbox: Sandbox) -> None:
    project = unique_name()
    repository = github_publisher(sandbox, project)
    oidc = sandbox.oidc_token("github", audience="pypi", repository=repository)
    error = only_error(sandbox.mint(oidc))
    assert error == {"code": "invalid-token", "description": "malformed or invalid token"}


def test_invalid_token_forged_signature(sandbox: Sandbox) -> None:
    oidc = sandbox.oidc_token("github", repository=f"octo/{unique_name()}")
    other = sandbox.oidc_token("github", repository=f"octo/{unique_name()}")
    header, payload, _ = oidc.split(".")
    forged = f"{header}.{payload}.{other.split('.')[2]}"  # a valid signature, of another token
    error = only_error(sandbox.mint(forged))
    assert error["code"] == "invalid-token"


def test_not_enabled_per_provider(sandbox_factory: SandboxFactory) -> None:
    box = sandbox_factory("--disallow-oidc", "gitlab")
    with box.client() as client:
        assert client.get("/_/oidc/audience").status_code == 200
    error = only_error(box.mint(box.oidc_token("gitlab")))
    assert error == {
        "code": "not-enabled",
        "description": "gitlab trusted publishing functionality not enabled",
    }
    github = box.mint(box.oidc_token("github"))
    assert only_error(github)["code"] == "invalid-publisher"


def test_invalid_publisher_reason(sandbox: Sandbox) -> None:
    oidc = sandbox.oidc_token("github", repository=f"octo/{unique_name()}")
    error = only_error(sandbox.mint(oidc))
    assert error == {
        "code": "invalid-publisher",
        "description": "valid token, but no corresponding publisher "
        "(Publisher with matching claims was not found)",
    }


def test_environment_constraint(sandbox: Sandbox) -> None:
    project = unique_name()
    repository = github_publisher(sandbox, project, environment="pypi")
    without = sandbox.mint(sandbox.oidc_token("github", repository=repository))
    assert only_error(without)["code"] == "invalid-publisher"
    with_env = sandbox.mint(sandbox.oidc_token("github", repository=repository, environment="pypi"))
    assert with_env.status_code == 200


def test_reuse_is_refused_after_success_only(sandbox: Sandbox) -> None:
    project = unique_name()
    repository = f"octo/{project}"
    oidc = sandbox.oidc_token("github", repository=repository, workflow="release.yml")
    assert only_error(sandbox.mint(oidc))["code"] == "invalid-publisher"
    github_publisher(sandbox, project)
    assert sandbox.mint(oidc).status_code == 200  # the failed exchange did not burn the JTI
    error = only_error(sandbox.mint(oidc))
    assert error == {"code": "invalid-reuse-token", "description": "invalid token: already used"}


def test_pending_publisher_creates_the_project(sandbox: Sandbox) -> None:
    project = unique_name("Pending_Pkg")
    repository = github_publisher(sandbox, project, pending=True)
    with sandbox.client() as client:
        assert client.get(f"/pypi/{project}/json").status_code == 404
        response = sandbox.mint(sandbox.oidc_token("github", repository=repository))
        assert response.status_code == 200, response.text
        assert client.get(f"/pypi/{project}/json").json()["info"]["name"] == project
    again = sandbox.mint(sandbox.oidc_token("github", repository=repository))
    assert again.status_code == 200  # now a normal publisher


def test_pending_publisher_for_an_existing_project(sandbox: Sandbox) -> None:
    project = unique_name()
    taken = f"octo/{project}-first"
    sandbox.add_publisher(
        provider="github",
        repository=taken,
        workflow="release.yml",
        projects=[project],
        pending=True,
    )
    assert sandbox.mint(sandbox.oidc_token("github", repository=taken)).status_code == 200
    late = github_publisher(sandbox, project, pending=True)
    error = only_error(sandbox.mint(sandbox.oidc_token("github", repository=late)))
    assert error == {
        "code": "invalid-pending-publisher",
        "description": "valid token, but project already exists",
    }
    # the pending row was deleted: the next attempt finds no publisher at all
    error = only_error(sandbox.mint(sandbox.oidc_token("github", repository=late)))
    assert error["code"] == "invalid-publisher"


@pytest.mark.parametrize("provider", ["gitlab", "google", "activestate"])
def test_other_providers_mint(sandbox_factory: SandboxFactory, provider: str) -> None:
    box = sandbox_factory()
    fields: dict[str, Any] = {
        "gitlab": {"repository": "group/sub/proj", "workflow": ".gitlab-ci.yml"},
        "google": {"email": "ci@proj.iam.gserviceaccount.com"},
        "activestate": {"organization": "org", "project": "proj", "actor": "alice"},
    }[provider]
    box.add_publisher(provider=provider, projects=["proj"], **fields)
    response = box.mint(box.oidc_token(provider, **fields))
    assert response.status_code == 200, response.text


def test_owner_and_actor_ids_are_pinned_when_the_publisher_is_added(
    sandbox_factory: SandboxFactory,
) -> None:
    """PyPI records GitHub's repository_owner_id and ActiveState's actor_id when a publisher is
    added; a token from a re-created owner (same name, new id) or another actor is refused."""
    box = sandbox_factory()
    github = {"repository": "octo/pinned", "workflow": "release.yml"}
    added = box.add_publisher(provider="github", projects=["pinned"], **github)
    with box.client() as client:
        listed = client.get("/_sandbox/publishers").json()["publishers"]
    assert any(e["id"] == added["id"] for e in listed)
    recreated = box.oidc_token("github", claims={"repository_owner_id": "424242"}, **github)
    error = only_error(box.mint(recreated))
    assert error["code"] == "invalid-publisher"
    # Warehouse looks GitHub publishers up by owner id too (models/github.py lookup_by_claims)
    assert error["description"] == (
        "valid token, but no corresponding publisher (Publisher with matching claims was not found)"
    )
    assert box.mint(box.oidc_token("github", **github)).status_code == 200

    state = {"organization": "org", "project": "proj", "actor": "alice"}
    box.add_publisher(provider="activestate", projects=["as-proj"], **state)
    impostor = box.oidc_token("activestate", claims={"actor_id": "0000-other"}, **state)
    error = only_error(box.mint(impostor))
    assert error["code"] == "invalid-publisher"
    # looked up by actor_id as well (models/activestate.py lookup_by_claims)
    assert error["description"] == (
        "valid token, but no corresponding publisher (Publisher with matching claims was not found)"
    )
    assert box.mint(box.oidc_token("activestate", **state)).status_code == 200


def test_jwt_without_kid_is_an_invalid_token(sandbox: Sandbox) -> None:
    """Warehouse 6b62157 (oidc/services.py): no ``kid`` header -> PyJWTError -> invalid-token,
    even when the signature is the issuer's own."""
    import jwt

    project = unique_name()
    repository = github_publisher(sandbox, project)
    genuine = sandbox.oidc_token("github", repository=repository)
    claims = jwt.decode(genuine, options={"verify_signature": False})
    key = (sandbox.state_dir / "keys" / "github.pem").read_bytes()
    unnamed = jwt.encode(claims, key, algorithm="RS256", headers={"typ": "JWT"})
    assert "kid" not in jwt.get_unverified_header(unnamed)
    error = only_error(sandbox.mint(unnamed))
    assert error["code"] == "invalid-token"
    assert sandbox.mint(genuine).status_code == 200  # the same claims with the kid pass


def test_every_provider_mints_without_tls(sandbox_factory: SandboxFactory) -> None:
    """``sandbox serve --no-tls``: issuers are http:// URLs; every provider still matches
    (GitLab's ci_config_ref_uri carries the issuer's host without its scheme)."""
    box = sandbox_factory(tls=False)
    assert box.url.startswith("http://")
    fields: dict[str, dict[str, Any]] = {
        "github": {"repository": "octo/proj", "workflow": "release.yml"},
        "gitlab": {"repository": "group/sub/proj", "workflow": ".gitlab-ci.yml"},
        "google": {"email": "ci@proj.iam.gserviceaccount.com"},
        "activestate": {"organization": "org", "project": "proj", "actor": "alice"},
    }
    for provider, described in fields.items():
        box.add_publisher(provider=provider, projects=[f"proj-{provider}"], **described)
        response = box.mint(box.oidc_token(provider, **described))
        assert response.status_code == 200, (provider, response.text)


def test_burn_token(sandbox: Sandbox) -> None:
    project = unique_name()
    repository = github_publisher(sandbox, project)
    token = sandbox.minted_token("github", repository=repository)
    with sandbox.client() as client:
        burned = client.post("/_/oidc/burn-token", headers={"Authorization": f"token {token}"})
        assert burned.status_code == 200
        assert burned.json() == {"success": True}
        again = client.post("/_/oidc/burn-token", headers={"Authorization": f"token {token}"})
        assert again.status_code == 403
        assert "Invalid or non-existent authentication information" in again.reason_phrase
        unknown = client.post("/_/oidc/burn-token", headers={"Authorization": "token pypi-nope"})
        assert unknown.status_code == 403
    entries = [e for e in sandbox.log() if e["path"] == "/_/oidc/burn-token"]
    assert {"kind": "api-token", "fingerprint": fingerprint(token)} in entries[-3]["credentials"]


def test_burn_token_from_json_body(sandbox: Sandbox) -> None:
    # uv sends only {"token": ...} (no Authorization header), as Warehouse accepts.
    project = unique_name()
    repository = github_publisher(sandbox, project)
    token = sandbox.minted_token("github", repository=repository)
    with sandbox.client() as client:
        burned = client.post("/_/oidc/burn-token", json={"token": token})
        assert burned.status_code == 200
        assert burned.json() == {"success": True}
        again = client.post("/_/oidc/burn-token", json={"token": token})
        assert again.status_code == 403
        for body in (b"not json", b'["list"]', b'{"token": 5}', b'{"token": ""}'):
            refused = client.post("/_/oidc/burn-token", content=body)
            assert refused.status_code == 403, body


def test_pending_publisher_with_an_invalid_project_name(sandbox: Sandbox) -> None:
    repository = f"octo/{unique_name()}"
    sandbox.add_publisher(
        provider="github",
        repository=repository,
        workflow="release.yml",
        projects=["-bad-"],
        pending=True,
    )
    error = only_error(sandbox.mint(sandbox.oidc_token("github", repository=repository)))
    assert error["code"] == "invalid-payload"
    assert error["description"].startswith("The name '-bad-' is invalid.")


def test_self_managed_gitlab_issuer(sandbox_factory: SandboxFactory) -> None:
    """A second GitLab issuer (a self-managed instance), which PyPI accepts for a publisher
    naming it as ``issuer_url`` (Warehouse ``GitLabPublisher``, organizations' custom issuers).

    PyPI: a publisher for gitlab.com does not match such a token: 422 ``invalid-publisher``,
    "valid token, but no corresponding publisher (Publisher with matching claims was not found)".
    """
    box = sandbox_factory()
    custom = str(box.ready["gitlab_custom_issuer"])
    assert custom == f"{box.url}/_sandbox/gitlab-self-managed"
    with box.client() as client:
        discovery = client.get("/_sandbox/gitlab-self-managed/.well-known/openid-configuration")
        assert discovery.json()["issuer"] == custom
        jwks = client.get("/_sandbox/gitlab-self-managed/oauth/discovery/keys").json()
        gitlab_jwks = client.get("/_sandbox/gitlab/oauth/discovery/keys").json()
    assert jwks["keys"][0]["kid"] != gitlab_jwks["keys"][0]["kid"]

    fields = {"repository": "group/sub/proj", "workflow": ".gitlab-ci.yml"}
    token = box.oidc_token("gitlab", instance="self-managed", **fields)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == custom
    host = custom.removeprefix("https://")
    assert claims["ci_config_ref_uri"] == f"{host}/group/sub/proj//.gitlab-ci.yml@refs/tags/v1.0.0"
    assert jwt.get_unverified_header(token)["kid"] == jwks["keys"][0]["kid"]

    box.add_publisher(provider="gitlab", projects=["proj"], **fields)  # gitlab.com's
    assert only_error(box.mint(token)) == {
        "code": "invalid-publisher",
        "description": "valid token, but no corresponding publisher "
        "(Publisher with matching claims was not found)",
    }
    box.add_publisher(provider="gitlab", projects=["proj"], issuer=custom, **fields)
    response = box.mint(token)
    assert response.status_code == 200, response.text
    # and a gitlab.com token does not match the self-managed publisher only
    other = {"repository": "group/sub/other", "workflow": ".gitlab-ci.yml"}
    box.add_publisher(provider="gitlab", projects=["other"], issuer=custom, **other)
    refused = only_error(box.mint(box.oidc_token("gitlab", **other)))
    assert refused["code"] == "invalid-publisher"


def test_self_managed_is_a_gitlab_only_job_field(sandbox: Sandbox) -> None:
    with sandbox.client() as client:
        bad = client.post("/_sandbox/jobs", json={"provider": "gitlab", "instance": "other"})
        foreign = client.post("/_sandbox/jobs", json={"provider": "github", "instance": "x"})
    assert bad.status_code == 400
    assert bad.json() == {"message": "job field 'instance' must be gitlab.com or self-managed"}
    assert foreign.status_code == 400
    assert "does not apply to provider github" in foreign.json()["message"]
