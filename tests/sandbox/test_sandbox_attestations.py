"""The sandbox verifies PEP 740 attestations on upload as PyPI does, and serves provenance.

PyPI's verdicts are Warehouse's at commit 6b62157 (forklift/legacy.py +
attestations/services.py; the verification itself is pypi-attestations 0.0.31's
``Attestation.verify``, its publisher policies and sigstore-python's verifier).
Each case names PyPI's status and message beside it.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from fixtures_dists import make_wheel
from helpers_attest import sign, verify_provenance
from helpers_sandbox import Sandbox, unique_name

pytestmark = pytest.mark.e2e
PREFIX = "Invalid attestations supplied during upload: "
NOT_VERIFIED = (
    PREFIX
    + "Could not verify the uploaded artifact using the included attestation: "
    + "Verification failed: "  # pypi-attestations VerificationError's own prefix
)


@pytest.fixture(autouse=True)
def attest_env(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(sandbox.ca_cert))


def _publisher(box: Sandbox, project: str, provider: str = "github") -> tuple[str, dict[str, Any]]:
    """Register a pending publisher for ``project``; a minted token and the job's description."""
    if provider == "activestate":
        job: dict[str, Any] = {"organization": "acme", "project": unique_name("as"), "actor": "bot"}
        box.add_publisher(provider="activestate", projects=[project], pending=True, **job)
        return box.minted_token("activestate", **job), job
    job = {"repository": f"octo/{unique_name('repo')}", "workflow": "release.yml"}
    box.add_publisher(provider="github", projects=[project], pending=True, **job)
    return box.minted_token("github", **job), job


def _refused(response: Any, message: str) -> None:
    assert response.status_code == 400, (response.status_code, response.reason_phrase)
    assert response.reason_phrase == message


def test_attested_upload_serves_verifiable_provenance(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name()
    token, job = _publisher(sandbox, project)
    wheel = make_wheel(tmp_path, name=project, version="1.0")
    attestation = sign(sandbox, wheel, **job)
    response = sandbox.upload(wheel, token, attestations=json.dumps([attestation]))
    assert response.status_code == 200, response.reason_phrase  # PyPI: 200 OK
    with sandbox.client() as client:
        page = client.get(
            f"/simple/{project}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
        ).json()
        (entry,) = page["files"]
        url = entry["provenance"]
        assert url == (f"{sandbox.url}/integrity/{project}/1.0/{wheel.name}/provenance")
        served = client.get(url, headers={"Accept": "application/vnd.pypi.integrity.v1+json"})
        assert served.headers["content-type"] == "application/vnd.pypi.integrity.v1+json"
        refused = client.get(url, headers={"Accept": "text/html"})
        assert (refused.status_code, refused.json()) == (406, {"message": "Request not acceptable"})
    provenance = served.json()
    assert provenance["attestation_bundles"][0]["publisher"] == {
        "kind": "GitHub",
        "repository": job["repository"],
        "workflow": "release.yml",
        "environment": None,
    }
    claims = verify_provenance(sandbox, provenance, wheel)
    assert claims["1.3.6.1.4.1.57264.1.12"] == f"https://github.com/{job['repository']}"


def test_unattested_file_has_no_provenance(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name()
    token, _ = _publisher(sandbox, project)
    wheel = make_wheel(tmp_path, name=project, version="1.0")
    assert sandbox.upload(wheel, token).status_code == 200
    with sandbox.client() as client:
        url = f"/integrity/{project}/1.0/{wheel.name}/provenance"
        response = client.get(url)
    # PyPI: 404 {"message": "No provenance available for <file>"}
    assert response.status_code == 404
    assert response.json() == {"message": f"No provenance available for {wheel.name}"}


def test_attestation_for_another_file(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name()
    token, job = _publisher(sandbox, project)
    wheel = make_wheel(tmp_path / "a", name=project, version="1.0")
    other = make_wheel(tmp_path / "b", name=project, version="2.0")
    attestation = sign(sandbox, other, **job)
    response = sandbox.upload(wheel, token, attestations=json.dumps([attestation]))
    # PyPI: 400, pypi-attestations compares the parsed subject name first
    _refused(
        response,
        NOT_VERIFIED + f"subject does not match distribution name: {other.name} != {wheel.name}",
    )


def test_attestation_with_the_right_name_and_another_digest(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    project = unique_name()
    token, job = _publisher(sandbox, project)
    wheel = make_wheel(tmp_path / "a", name=project, version="1.0")
    other = make_wheel(tmp_path / "b", name=project, version="1.0", tag="py2.py3-none-any")
    attestation = sign(sandbox, other, name=wheel.name, **job)
    response = sandbox.upload(wheel, token, attestations=json.dumps([attestation]))
    _refused(response, NOT_VERIFIED + "subject does not match distribution digest")  # PyPI: 400


def test_attestation_by_another_repository(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name()
    token, job = _publisher(sandbox, project)
    wheel = make_wheel(tmp_path, name=project, version="1.0")
    attestation = sign(sandbox, wheel, repository="mallory/fork", workflow="release.yml")
    response = sandbox.upload(wheel, token, attestations=json.dumps([attestation]))
    # PyPI: 400, the GitHub publisher policy's repository check (OIDCSourceRepositoryURI)
    _refused(
        response,
        NOT_VERIFIED + "Certificate's OIDCSourceRepositoryURI does not match "
        f"(got https://github.com/mallory/fork, expected https://github.com/{job['repository']})",
    )


def test_attestation_by_another_workflow(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name()
    token, job = _publisher(sandbox, project)
    wheel = make_wheel(tmp_path, name=project, version="1.0")
    attestation = sign(sandbox, wheel, repository=job["repository"], workflow="other.yml")
    response = sandbox.upload(wheel, token, attestations=json.dumps([attestation]))
    assert response.status_code == 400
    # PyPI: 400, the Build Config URI names other.yml, the publisher release.yml
    assert response.reason_phrase.startswith(NOT_VERIFIED + "Certificate's Build Config URI")
    assert response.reason_phrase.endswith(
        f"does not match expected Trusted Publisher (release.yml @ {job['repository']})"
    )


def test_tampered_signature(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name()
    token, job = _publisher(sandbox, project)
    wheel = make_wheel(tmp_path, name=project, version="1.0")
    attestation = sign(sandbox, wheel, **job)
    signature = bytearray(base64.b64decode(attestation["envelope"]["signature"]))
    signature[-1] ^= 0x01
    attestation["envelope"]["signature"] = base64.b64encode(bytes(signature)).decode()
    response = sandbox.upload(wheel, token, attestations=json.dumps([attestation]))
    # PyPI: 400; the DSSE signature fails (sigstore-python's message)
    _refused(response, NOT_VERIFIED + "DSSE: invalid signature")


def test_two_of_the_same_predicate_type(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name()
    token, job = _publisher(sandbox, project)
    wheel = make_wheel(tmp_path, name=project, version="1.0")
    attestation = sign(sandbox, wheel, **job)
    response = sandbox.upload(wheel, token, attestations=json.dumps([attestation, attestation]))
    _refused(  # PyPI: 400 after both verify
        response,
        PREFIX + "Multiple attestations for the same file with the same predicate type "
        "(https://docs.pypi.org/attestations/publish/v1) are not supported",
    )


def test_three_attestations(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name()
    token, job = _publisher(sandbox, project)
    wheel = make_wheel(tmp_path, name=project, version="1.0")
    attestation = sign(sandbox, wheel, **job)
    response = sandbox.upload(wheel, token, attestations=json.dumps([attestation] * 3))
    _refused(response, PREFIX + "A maximum of 2 attestations per file are supported")  # PyPI: 400


def test_attestation_with_an_api_token(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name()
    _, job = _publisher(sandbox, project)
    wheel = make_wheel(tmp_path, name=project, version="1.0")
    attestation = sign(sandbox, wheel, **job)
    response = sandbox.upload(wheel, sandbox.api_token, attestations=json.dumps([attestation]))
    _refused(  # PyPI: 400
        response, PREFIX + "Attestations are only supported when using Trusted Publishing"
    )


def test_attestation_from_an_activestate_publisher(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name()
    token, _ = _publisher(sandbox, project, "activestate")
    github_project = unique_name()
    _, job = _publisher(sandbox, github_project)
    wheel = make_wheel(tmp_path, name=project, version="1.0")
    attestation = sign(sandbox, wheel, **job)  # the sandbox's CA does not certify ActiveState
    response = sandbox.upload(wheel, token, attestations=json.dumps([attestation]))
    _refused(  # PyPI: 400, before the attestation is even parsed
        response, PREFIX + "Attestations are not currently supported with ActiveState publishers"
    )
