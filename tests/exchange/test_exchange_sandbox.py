"""End to end against the real sandbox over TLS: detect() in a fake CI job, mint, burn.

For each provider the job's environment comes from ``trustpub sandbox env``
(``helpers_env.sandbox_env``); nothing third-party is patched. The process
environment gets the job's ``SSL_CERT_FILE`` so that trustpub's own HTTP
client trusts the sandbox CA, exactly as in a real job.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from helpers_env import sandbox_env
from helpers_sandbox import Sandbox, fingerprint, unique_name
from trustpub._http import make_client
from trustpub._secret import forget_all
from trustpub.errors import IdentityError
from trustpub.exchange import MintRefused, TrustedPublisher
from trustpub.providers import detect
from trustpub.repository import resolve_repository

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    forget_all()
    yield
    forget_all()


def _job_env(
    monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox, provider: str, **job: Any
) -> dict[str, str]:
    env = sandbox_env(sandbox, provider, **job)
    for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        if name in env:
            monkeypatch.setenv(name, env[name])
    return env


def _exchange(sandbox: Sandbox, env: dict[str, str], client: httpx.Client) -> TrustedPublisher:
    detection = detect(env)
    assert detection is not None
    return TrustedPublisher(resolve_repository(sandbox.upload_url), detection, client=client)


def _jobs() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(provider, publisher fields, job fields) with unique names per call."""
    github_repo = f"octo/{unique_name('gh')}"
    gitlab_repo = f"group/sub/{unique_name('gl')}"
    email = f"{unique_name('sa')}@proj.iam.gserviceaccount.com"
    org = unique_name("org")
    return [
        (
            "github",
            {"repository": github_repo, "workflow": "release.yml", "environment": "pypi"},
            {"repository": github_repo, "workflow": "release.yml", "environment": "pypi"},
        ),
        (
            "gitlab",
            {"repository": gitlab_repo, "workflow": ".gitlab-ci.yml"},
            {"repository": gitlab_repo, "workflow": ".gitlab-ci.yml"},
        ),
        ("google", {"email": email}, {"email": email}),
        (
            "activestate",
            {"organization": org, "project": "pkg", "actor": "someone"},
            {"organization": org, "project": "pkg", "actor": "someone"},
        ),
    ]


@pytest.mark.parametrize("index", range(4), ids=["github", "gitlab", "google", "activestate"])
def test_each_provider_mints_a_real_token_and_burns_it(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, index: int
) -> None:
    provider, publisher, job = _jobs()[index]
    sandbox.add_publisher(provider=provider, projects=[unique_name()], **publisher)
    env = _job_env(monkeypatch, sandbox, provider, **job)
    with make_client() as client:
        exchange = _exchange(sandbox, env, client)
        assert exchange.audience() == sandbox.audience
        credential = exchange.credential()
        assert credential.username == "__token__"
        assert credential.password.reveal().startswith("pypi-")
        assert credential.source == "trusted-publishing"
        assert exchange.minted_count == 1
        exchange.burn()
    log = sandbox.log()
    token_print = fingerprint(credential.password.reveal())
    burns = [
        entry
        for entry in log
        if entry["path"] == "/_/oidc/burn-token"
        and any(c["fingerprint"] == token_print for c in entry.get("credentials", []))
    ]
    assert [entry["status"] for entry in burns] == [200]
    mints = [e for e in log if e["path"] == "/_/oidc/mint-token" and e["status"] == 200]
    assert mints
    # The token really is burned: the index no longer knows it.
    with sandbox.client() as check:
        response = check.post(
            "/_/oidc/burn-token",
            headers={"Authorization": f"token {credential.password.reveal()}"},
        )
    assert response.status_code == 403


def test_google_impersonation_goes_through_the_iam_imitation(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = f"{unique_name('release')}@proj.iam.gserviceaccount.com"
    sandbox.add_publisher(provider="google", email=target, projects=[unique_name()])
    env = _job_env(
        monkeypatch,
        sandbox,
        "google",
        email=f"{unique_name('vm')}@proj.iam.gserviceaccount.com",
        impersonate=target,
    )
    with make_client() as client:
        exchange = _exchange(sandbox, env, client)
        _, decoded = exchange.oidc_token()
        assert decoded.claims["email"] == target
        assert exchange.credential().password.reveal().startswith("pypi-")
        exchange.burn()
    assert any("/_sandbox/google/iam/" in entry["path"] for entry in sandbox.log())


def test_an_unmatched_publisher_is_a_refusal_with_claims(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = f"octo/{unique_name('nomatch')}"
    env = _job_env(monkeypatch, sandbox, "github", repository=repo)
    with make_client() as client:
        exchange = _exchange(sandbox, env, client)
        with pytest.raises(MintRefused) as caught:
            exchange.credential()
    error = caught.value
    assert [e.code for e in error.errors] == ["invalid-publisher"]
    assert error.token_claims is not None
    assert error.token_claims.claims["repository"] == repo
    assert exchange.minted_count == 0


def test_github_without_id_token_permission_fails_at_detection(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _job_env(monkeypatch, sandbox, "github", id_token=False)
    with pytest.raises(IdentityError) as caught:
        detect(env)
    assert caught.value.anchor == "github-missing-id-token-permission"


def test_github_fork_pull_request_is_explained(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _job_env(monkeypatch, sandbox, "github", event="pull_request", fork=True)
    with pytest.raises(IdentityError) as caught:
        detect(env)
    assert caught.value.anchor == "github-fork-pull-request"


def test_gitlab_token_for_another_audience_names_the_yaml(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _job_env(monkeypatch, sandbox, "gitlab", audience="something-else")
    with make_client() as client:
        exchange = _exchange(sandbox, env, client)
        with pytest.raises(IdentityError) as caught:
            exchange.credential()
    assert "id_tokens:" in caught.value.hint
    assert f"aud: {sandbox.audience}" in caught.value.hint
