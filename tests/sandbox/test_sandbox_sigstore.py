"""The sandbox's Sigstore: the real sigstore-python client signs against it and verifies.

sigstore-python (4.5.x) asks the sandbox's CA for a certificate (it checks the
embedded SCT against the trust root's CT key), records the signature in the
sandbox's log (it checks nothing there; the verifier checks the inclusion proof,
the signed checkpoint and the signed entry timestamp), and its ``Verifier``,
built from the sandbox's trusted root, verifies the bundle. pypi-attestations'
publisher policies (the ones Warehouse calls) accept the certificate's identity.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from pypi_attestations import (
    Attestation,
    Distribution,
    GitHubPublisher,
    GitLabPublisher,
    GooglePublisher,
)
from sigstore._internal.fulcio.client import FulcioClientError
from sigstore.errors import VerificationError
from sigstore.models import ClientTrustConfig
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext
from sigstore.verify import Verifier
from sigstore.verify.policy import Identity, UnsafeNoOp

from helpers_sandbox import Sandbox
from trustpub.sandbox.sigstore.rekor import audit_path, leaf_hash, tree_hash

pytestmark = pytest.mark.e2e


@pytest.fixture
def trust(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> ClientTrustConfig:
    # sigstore-python talks through requests, which trusts the sandbox's CA this way
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(sandbox.ca_cert))
    path = Path(sandbox.ready["trust_config"])
    config = ClientTrustConfig.from_json(path.read_text())
    config.force_tlog_version = 1
    return config


def _sign_artifact(trust: ClientTrustConfig, token: str, data: bytes) -> object:
    context = SigningContext.from_trust_config(trust)
    with context.signer(IdentityToken(token)) as signer:
        return signer.sign_artifact(data)


def test_trust_config_is_in_the_ready_line(sandbox: Sandbox) -> None:
    path = Path(sandbox.ready["trust_config"])
    assert path.parent.parent == sandbox.state_dir.resolve()
    data = json.loads(path.read_text())
    assert data["mediaType"] == "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"
    assert data["signingConfig"]["caUrls"][0]["url"] == sandbox.url


def test_github_artifact_signs_and_verifies(sandbox: Sandbox, trust: ClientTrustConfig) -> None:
    token = sandbox.oidc_token("github", audience="sigstore", repository="octo/proj")
    bundle = _sign_artifact(trust, token, b"hello sandbox")
    verifier = Verifier(trusted_root=trust.trusted_root)
    policy = Identity(
        identity="https://github.com/octo/proj/.github/workflows/release.yml@refs/tags/v1.0.0",
        issuer="https://token.actions.githubusercontent.com",
    )
    verifier.verify_artifact(b"hello sandbox", bundle, policy)  # type: ignore[arg-type]
    with pytest.raises(VerificationError):
        verifier.verify_artifact(b"other bytes", bundle, UnsafeNoOp())  # type: ignore[arg-type]


def _wheel(tmp_path: Path) -> Path:
    path = tmp_path / "demo_pkg-1.0-py3-none-any.whl"
    path.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    return path


@pytest.mark.parametrize(
    ("provider", "description", "publisher"),
    [
        (
            "github",
            {"repository": "octo/proj", "workflow": "release.yml"},
            GitHubPublisher(repository="octo/proj", workflow="release.yml"),
        ),
        (
            "gitlab",
            {"repository": "group/proj", "workflow": ".gitlab-ci.yml"},
            GitLabPublisher(repository="group/proj", workflow_filepath=".gitlab-ci.yml"),
        ),
        (
            "google",
            {"email": "release@proj.iam.gserviceaccount.com"},
            GooglePublisher(email="release@proj.iam.gserviceaccount.com"),
        ),
    ],
)
def test_attestation_verifies_with_pypis_publisher_policy(
    sandbox: Sandbox,
    trust: ClientTrustConfig,
    tmp_path: Path,
    provider: str,
    description: dict[str, str],
    publisher: GitHubPublisher | GitLabPublisher | GooglePublisher,
) -> None:
    token = sandbox.oidc_token(provider, audience="sigstore", **description)
    dist = Distribution.from_file(_wheel(tmp_path))
    context = SigningContext.from_trust_config(trust)
    with context.signer(IdentityToken(token)) as signer:
        attestation = Attestation.sign(signer, dist)
    verifier = Verifier(trusted_root=trust.trusted_root)
    payload_type, payload = verifier.verify_dsse(attestation.to_bundle(), publisher._as_policy())
    assert payload_type == "application/vnd.in-toto+json"
    statement = json.loads(payload)
    assert statement["subject"] == [{"name": dist.name, "digest": {"sha256": dist.digest}}]
    assert statement["predicateType"] == "https://docs.pypi.org/attestations/publish/v1"


def test_attestation_from_another_repository_fails_the_policy(
    sandbox: Sandbox, trust: ClientTrustConfig, tmp_path: Path
) -> None:
    token = sandbox.oidc_token("github", audience="sigstore", repository="mallory/fork")
    context = SigningContext.from_trust_config(trust)
    with context.signer(IdentityToken(token)) as signer:
        attestation = Attestation.sign(signer, Distribution.from_file(_wheel(tmp_path)))
    verifier = Verifier(trusted_root=trust.trusted_root)
    policy = GitHubPublisher(repository="octo/proj", workflow="release.yml")._as_policy()
    with pytest.raises(VerificationError, match="SourceRepositoryURI does not match"):
        verifier.verify_dsse(attestation.to_bundle(), policy)


def test_ca_refuses_a_token_for_another_audience(sandbox: Sandbox) -> None:
    token = sandbox.oidc_token("github")  # audience: the index's, not sigstore
    with sandbox.client() as client:
        response = client.post(
            "/api/v2/signingCert",
            json={"certificateSigningRequest": ""},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 401
    assert response.json()["message"] == "There was an error processing the identity token"


def test_ca_refuses_activestate(sandbox: Sandbox, trust: ClientTrustConfig) -> None:
    token = sandbox.oidc_token("activestate", audience="sigstore")
    with pytest.raises(FulcioClientError):
        _sign_artifact(trust, token, b"x")


def test_leaf_has_fulcio_extensions(sandbox: Sandbox, trust: ClientTrustConfig) -> None:
    token = sandbox.oidc_token("github", audience="sigstore", repository="octo/proj")
    bundle = _sign_artifact(trust, token, b"x")
    cert: x509.Certificate = bundle.signing_certificate  # type: ignore[attr-defined]
    oids = {e.oid.dotted_string for e in cert.extensions}
    assert "1.3.6.1.4.1.11129.2.4.2" in oids  # embedded SCT
    assert {f"1.3.6.1.4.1.57264.1.{n}" for n in (1, 8, 9, 12, 18)} <= oids
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert lifetime.total_seconds() == 600


def test_log_grows_and_proofs_check(sandbox: Sandbox, trust: ClientTrustConfig) -> None:
    with sandbox.client() as client:
        before = client.get("/_sandbox/rekor/api/v1/log").json()["treeSize"]
    token = sandbox.oidc_token("github", audience="sigstore")
    _sign_artifact(trust, token, b"a")
    with sandbox.client() as client:
        info = client.get("/_sandbox/rekor/api/v1/log").json()
    assert info["treeSize"] == before + 1


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13])
def test_audit_paths_rebuild_the_root(size: int) -> None:
    leaves = [leaf_hash(bytes([i])) for i in range(size)]
    root = tree_hash(leaves)
    for index in range(size):
        node, position, width = leaves[index], index, size
        path = audit_path(index, leaves)
        # recompute the root the RFC 9162 way (independent of sigstore's code)
        import hashlib

        fn, sn = position, width - 1
        for sibling in path:
            if fn % 2 == 1 or fn == sn:
                node = hashlib.sha256(b"\x01" + sibling + node).digest()
                while fn % 2 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
            else:
                node = hashlib.sha256(b"\x01" + node + sibling).digest()
            fn, sn = fn >> 1, sn >> 1
        assert node == root


def test_entry_with_a_bad_signature_is_refused(sandbox: Sandbox) -> None:
    body = {
        "kind": "hashedrekord",
        "apiVersion": "0.0.1",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": "00" * 32}},
            "signature": {
                "content": base64.b64encode(b"junk").decode(),
                "publicKey": {"content": base64.b64encode(b"not pem").decode()},
            },
        },
    }
    with sandbox.client() as client:
        response = client.post("/_sandbox/rekor/api/v1/log/entries", json=body)
    assert response.status_code == 400
    assert isinstance(response, httpx.Response)
