"""trustpub.attest: predicted refusals, modes, and the signer's refresh (against the sandbox)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixtures_dists import make_wheel
from helpers_attest import trust_config
from helpers_sandbox import Sandbox
from trustpub._secret import Secret
from trustpub.attest import (
    TRUST_CONFIG_ENV,
    AttestationError,
    DistSigner,
    parse_mode,
    predict_refusal,
)
from trustpub.errors import UsageError

LOCAL = "https://127.0.0.1:8443/legacy/"
PYPI = "https://upload.pypi.org/legacy/"
GITHUB = {
    "workflow_ref": "octo/pkg/.github/workflows/release.yml@refs/tags/v1",
    "job_workflow_ref": "octo/pkg/.github/workflows/release.yml@refs/tags/v1",
}


@pytest.mark.parametrize(
    ("text", "mode"),
    [("auto", "auto"), ("REQUIRE", "require"), ("off", "off"), ("true", "auto"), ("false", "off")],
)
def test_parse_mode(text: str, mode: str) -> None:
    assert parse_mode(text) == mode


def test_parse_mode_refuses_other_words() -> None:
    with pytest.raises(UsageError, match="unknown --attestations value 'sometimes'"):
        parse_mode("sometimes")


def test_nothing_to_predict_for_a_plain_github_job() -> None:
    assert (
        predict_refusal(trusted=True, provider="github", claims=GITHUB, upload_url=PYPI, env={})
        is None
    )


def test_api_token() -> None:
    refusal = predict_refusal(trusted=False, provider=None, claims={}, upload_url=PYPI, env={})
    assert refusal is not None
    assert refusal.short == "API token"
    error = refusal.error()
    assert isinstance(error, AttestationError)
    assert error.anchor == "attestations-need-trusted-publishing"


def test_activestate() -> None:
    refusal = predict_refusal(
        trusted=True, provider="activestate", claims={}, upload_url=PYPI, env={}
    )
    assert refusal is not None
    assert "ActiveState" in refusal.reason


def test_reusable_workflow() -> None:
    claims = {
        "workflow_ref": "octo/pkg/.github/workflows/ci.yml@refs/tags/v1",
        "job_workflow_ref": "octo/shared/.github/workflows/publish.yml@refs/heads/main",
    }
    refusal = predict_refusal(
        trusted=True, provider="github", claims=claims, upload_url=PYPI, env={}
    )
    assert refusal is not None
    assert refusal.short == "reusable workflow"
    assert "octo/shared/.github/workflows/publish.yml" in refusal.reason
    assert "octo/pkg/.github/workflows/ci.yml" in refusal.reason


@pytest.mark.parametrize(
    ("issuer", "refused"),
    [
        ("https://gitlab.com", False),
        ("https://127.0.0.1:8443/_sandbox/gitlab", False),
        ("https://gitlab.example.org", True),
    ],
)
def test_gitlab_issuer(issuer: str, refused: bool) -> None:
    refusal = predict_refusal(
        trusted=True, provider="gitlab", claims={"iss": issuer}, upload_url=PYPI, env={}
    )
    assert (refusal is not None) is refused
    if refusal is not None:
        assert refusal.short == "self-managed GitLab"


def test_an_index_other_than_pypi_gets_no_attestations() -> None:
    refusal = predict_refusal(
        trusted=True, provider="github", claims=GITHUB, upload_url=LOCAL, env={}
    )
    assert refusal is not None
    assert refusal.short == "not PyPI"
    testpypi = "https://test.pypi.org/legacy/"
    assert (
        predict_refusal(trusted=True, provider="github", claims=GITHUB, upload_url=testpypi, env={})
        is None
    )


def test_private_sigstore_is_never_used_for_a_real_index() -> None:
    env = {TRUST_CONFIG_ENV: "/tmp/sandbox/sigstore/trust_config.json"}
    refusal = predict_refusal(
        trusted=True,
        provider="github",
        claims=GITHUB,
        upload_url="https://upload.pypi.org/legacy/",
        env=env,
    )
    assert refusal is not None
    assert refusal.short == "private Sigstore"
    assert (
        predict_refusal(trusted=True, provider="github", claims=GITHUB, upload_url=LOCAL, env=env)
        is None
    )


@pytest.mark.e2e
def test_signer_refreshes_token_and_certificate(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A margin as long as the certificate's life: every file needs a fresh token and certificate."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(sandbox.ca_cert))
    fetched: list[Secret] = []

    def fetch() -> Secret:
        fetched.append(Secret(sandbox.oidc_token("github", audience="sigstore")))
        return fetched[-1]

    wheels = [make_wheel(tmp_path, "demo-pkg", "1.0", tag=f"cp3{i}-none-any") for i in range(3)]
    signer = DistSigner(fetch, trust_config(sandbox), margin=600)
    written = signer.write_all(wheels, jobs=1)
    assert signer.certificates == len(fetched) == 3
    for wheel in wheels:
        data = json.loads(written[wheel].read_text())
        assert data["version"] == 1
    # the default margin: one token, one certificate for all files
    again = DistSigner(fetch, trust_config(sandbox))
    again.write_all(wheels, jobs=2)
    assert again.certificates == 1
    assert again.identity is not None
    assert again.identity.startswith("https://github.com/")
