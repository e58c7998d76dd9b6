"""End to end: ``trustpub publish`` signs PEP 740 attestations in a sandbox job, over TLS.

The job's environment comes from ``trustpub sandbox env``: it names the sandbox's
Sigstore trust config (``TRUSTPUB_SIGSTORE_TRUST_CONFIG``), so sigstore-python
signs against the sandbox's CA and log. The sandbox verifies each attestation as
PyPI does (Warehouse 6b62157) and serves the provenance, which is verified here
again with sigstore-python's own verifier against the sandbox's trust root.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers_e2e import (
    child_env,
    json_result,
    masked_values,
    run_publish,
    run_trustpub,
    secret_pieces,
    without_mask_lines,
)

from fixtures_dists import make_release, make_wheel
from helpers_attest import verify_provenance
from helpers_env import sandbox_env
from helpers_sandbox import Sandbox, SandboxFactory, unique_name

pytestmark = pytest.mark.e2e

IDENTITIES = {
    "github": "https://github.com/octo-org/{project}/.github/workflows/release.yml@refs/tags/v1.0.0",
    "gitlab": "https://gitlab.com/group/{project}//.gitlab-ci.yml@refs/tags/v1.0.0",
    "google": "{project}@example-project.iam.gserviceaccount.com",
}


def _job(box: Sandbox, provider: str, project: str) -> dict[str, str]:
    if provider == "github":
        repository = f"octo-org/{project}"
        box.add_publisher(
            provider="github",
            repository=repository,
            workflow="release.yml",
            projects=[project],
            pending=True,
        )
        return sandbox_env(box, "github", repository=repository, workflow="release.yml")
    if provider == "gitlab":
        repository = f"group/{project}"
        box.add_publisher(
            provider="gitlab",
            repository=repository,
            workflow=".gitlab-ci.yml",
            projects=[project],
            pending=True,
        )
        return sandbox_env(
            box, "gitlab", repository=repository, workflow=".gitlab-ci.yml", audience=box.audience
        )
    if provider == "google":
        email = f"{project}@example-project.iam.gserviceaccount.com"
        box.add_publisher(provider="google", email=email, projects=[project], pending=True)
        return sandbox_env(box, "google", email=email)
    organization = f"org-{project}"
    box.add_publisher(
        provider="activestate",
        organization=organization,
        project=project,
        actor="example-user",
        projects=[project],
        pending=True,
    )
    return sandbox_env(
        box,
        "activestate",
        organization=organization,
        project=project,
        actor="example-user",
        audience=box.audience,
    )


def _provenance(box: Sandbox, url: str) -> dict[str, Any]:
    with box.client() as client:
        response = client.get(url, headers={"Accept": "application/vnd.pypi.integrity.v1+json"})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _simple_files(box: Sandbox, project: str) -> dict[str, dict[str, Any]]:
    with box.client() as client:
        page = client.get(
            f"/simple/{project}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
        ).json()
    return {entry["filename"]: entry for entry in page["files"]}


def _uploads(box: Sandbox, start: int) -> list[dict[str, Any]]:
    return [e for e in box.log()[start:] if e["method"] == "POST" and e["path"] == "/legacy/"]


@pytest.mark.parametrize("provider", ["github", "gitlab", "google"])
def test_publish_signs_and_provenance_verifies(
    sandbox: Sandbox, tmp_path: Path, provider: str
) -> None:
    project = unique_name(provider)
    files = make_release(tmp_path / "dist", project, "1.0.0")
    job_env = _job(sandbox, provider, project)

    result = run_publish(
        ["-vv", "-r", sandbox.upload_url, "--attestations", "require", "--json"],
        env=child_env(sandbox.env(), job_env),
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    document = json_result(result)
    identity = IDENTITIES[provider].format(project=project)
    assert document["attestation_identity"] == identity
    assert {e["attestation"] for e in document["files"]} == {"signed"}
    served = _simple_files(sandbox, project)
    for path in files:
        assert (path.parent / (path.name + ".publish.attestation")).is_file()
        provenance = _provenance(sandbox, served[path.name]["provenance"])
        claims = verify_provenance(sandbox, provenance, path)
        assert (
            claims["1.3.6.1.4.1.57264.1.8"]
            == {
                "github": "https://token.actions.githubusercontent.com",
                "gitlab": "https://gitlab.com",
                "google": "https://accounts.google.com",
            }[provider]
        )
    # The sigstore token is a secret like the others: masked, never printed.
    masked = masked_values(result.stdout)
    masked += masked_values(result.stderr)
    visible = without_mask_lines(result.stdout) + without_mask_lines(result.stderr)
    for secret in masked:
        for piece in secret_pieces(secret):
            assert piece not in visible
    assert "eyJ" not in visible  # no JWT (OIDC or sigstore token) outside the mask lines


def test_existing_attestations_are_reused_not_signed_again(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """``trustpub attest`` writes the files; ``trustpub publish`` then uploads them as they are."""
    project = unique_name("reuse")
    files = make_release(tmp_path / "dist", project, "1.0.0")
    job_env = _job(sandbox, "github", project)
    env = child_env(sandbox.env(), job_env)
    attest = run_trustpub(["attest", "dist/*"], env=env, cwd=tmp_path)
    assert attest.returncode == 0, attest.stderr
    sidecars = {p: (p.parent / (p.name + ".publish.attestation")).read_bytes() for p in files}
    assert "identity: https://github.com/octo-org/" in attest.stdout
    rows = [line for line in without_mask_lines(attest.stdout).splitlines() if line]
    assert sorted(rows[:-1]) == sorted(
        f"signed  {p.relative_to(tmp_path)}.publish.attestation" for p in files
    )
    again = run_trustpub(["attest", "--json", "dist/*"], env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    document = json_result(again)  # the whole of stdout is the one document
    assert document["ok"] is True
    assert document["error"] is None
    assert document["identity"] is None  # nothing was signed this time
    assert sorted(
        (f["distribution"], f["attestation"], f["status"]) for f in document["files"]
    ) == (
        sorted(
            (str(p.relative_to(tmp_path)), f"{p.relative_to(tmp_path)}.publish.attestation", "kept")
            for p in files
        )
    )

    result = run_publish(["-r", sandbox.upload_url, "--json"], env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert {e["attestation"] for e in json_result(result)["files"]} == {"reused"}
    for path, data in sidecars.items():
        assert (path.parent / (path.name + ".publish.attestation")).read_bytes() == data
    served = _simple_files(sandbox, project)
    assert all(served[p.name]["provenance"] for p in files)


def test_trustpub_attest_then_uv_publish(sandbox: Sandbox, tmp_path: Path) -> None:
    """``trustpub attest`` files land with provenance through ``uv publish`` (uv sends them)."""
    uv = pytest.importorskip("uv")
    project = unique_name("uv")
    files = make_release(tmp_path / "dist", project, "1.0.0")
    env = child_env(sandbox.env(), _job(sandbox, "github", project))

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command,
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            stdin=subprocess.DEVNULL,
        )

    attest = run_trustpub(["attest", "dist/*"], env=env, cwd=tmp_path)
    assert attest.returncode == 0, attest.stderr
    published = run(
        uv.find_uv_bin(),
        "publish",
        "--trusted-publishing",
        "always",
        "--publish-url",
        sandbox.upload_url,
        "dist/*",
    )
    assert published.returncode == 0, published.stderr
    served = _simple_files(sandbox, project)
    for path in files:
        provenance = _provenance(sandbox, served[path.name]["provenance"])
        verify_provenance(sandbox, provenance, path)


@pytest.mark.parametrize("mode", ["auto", "require"])
def test_api_token_upload_does_not_send_attestations(
    sandbox: Sandbox, tmp_path: Path, mode: str
) -> None:
    project = unique_name("tok")
    wheel = make_wheel(tmp_path / "dist", project, "1.0.0")
    (wheel.parent / (wheel.name + ".publish.attestation")).write_text(json.dumps({"version": 1}))
    start = len(sandbox.log())

    result = run_publish(
        ["-r", sandbox.upload_url, "--attestations", mode, "--json"],
        env=child_env(sandbox.env(), {"TRUSTPUB_TOKEN": sandbox.api_token}),
        cwd=tmp_path,
    )

    document = json_result(result)
    if mode == "auto":  # PyPI would answer 400 "Attestations are only supported when ..."
        assert result.returncode == 0, result.stderr
        assert "uploading without attestations: PyPI accepts attestations only with" in (
            result.stderr
        )
        assert [e["status"] for e in _uploads(sandbox, start)] == [200]
        assert document["files"][0]["attestation"] == "none: API token"
    else:
        assert result.returncode != 0
        assert document["error"]["message"].startswith("attestations required, but PyPI")
        assert _uploads(sandbox, start) == []
    assert sandbox.api_token not in result.stdout + result.stderr


@pytest.mark.parametrize("mode", ["auto", "require"])
def test_activestate_publisher_is_predicted(sandbox: Sandbox, tmp_path: Path, mode: str) -> None:
    project = unique_name("as")
    make_wheel(tmp_path / "dist", project, "1.0.0")
    job_env = _job(sandbox, "activestate", project)
    start = len(sandbox.log())

    result = run_publish(
        ["-r", sandbox.upload_url, "--attestations", mode, "--json"],
        env=child_env(sandbox.env(), job_env),
        cwd=tmp_path,
    )

    document = json_result(result)
    if mode == "auto":
        assert result.returncode == 0, result.stderr
        assert result.stderr.count("uploading without attestations") == 1
        assert "ActiveState" in result.stderr
        assert [e["status"] for e in _uploads(sandbox, start)] == [200]
        assert document["files"][0]["attestation"] == "none: ActiveState publisher"
    else:
        assert result.returncode != 0
        assert "ActiveState" in document["error"]["message"]
        assert _uploads(sandbox, start) == []
        # refused before minting: no upload token exists
        assert not [e for e in sandbox.log()[start:] if "mint-token" in e["path"]]
    assert not list((tmp_path / "dist").glob("*.attestation"))
    assert "eyJ" not in without_mask_lines(result.stdout) + without_mask_lines(result.stderr)


def test_dry_run_says_what_would_be_attested(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name("dry")
    files = make_release(tmp_path / "dist", project, "1.0.0")
    (files[0].parent / (files[0].name + ".publish.attestation")).write_text("{}")
    job_env = _job(sandbox, "github", project)
    start = len(sandbox.log())

    result = run_publish(
        ["-r", sandbox.upload_url, "--dry-run", "--json"],
        env=child_env(sandbox.env(), job_env),
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    notes = {e["filename"]: e["attestation"] for e in json_result(result)["files"]}
    assert notes == {files[0].name: "would reuse", files[1].name: "would sign"}
    # nothing signed: no certificate requested, no log entry
    paths = [e["path"] for e in sandbox.log()[start:]]
    assert "/api/v2/signingCert" not in paths
    assert not any("rekor" in p for p in paths)


def test_sixty_files_with_a_twenty_second_token(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    """60 wheels signed and uploaded; the 20 s upload token is re-minted along the way."""
    box = sandbox_factory("--token-lifetime", "20", "--latency-ms", "700")
    project = unique_name("sixty")
    dist = tmp_path / "dist"
    for major in range(60):
        make_wheel(dist, project, "1.0.0", tag=f"cp3{major}-none-any")
    job_env = _job(box, "github", project)

    result = run_publish(
        ["-r", box.upload_url, "--json", "-j", "4", "--attestations", "require"],
        env=child_env(box.env(), job_env),
        cwd=tmp_path,
        timeout=600,
    )

    assert result.returncode == 0, result.stderr
    document = json_result(result)
    assert len(document["files"]) == 60
    assert {e["status"] for e in document["files"]} == {"uploaded"}
    assert {e["attestation"] for e in document["files"]} == {"signed"}
    entries = box.log()
    mints = [e for e in entries if e["path"] == "/_/oidc/mint-token"]
    assert len(mints) >= 2  # 60 x 0.7 s over 4 connections outlives the token's half-life
    served = _simple_files(box, project)
    assert len(served) == 60
    assert all(entry["provenance"] for entry in served.values())


def _reusable_job(box: Sandbox, project: str) -> tuple[dict[str, str], dict[str, Any]]:
    """A job of ci.yml that runs the reusable publish.yml; the publisher names publish.yml."""
    repository = f"octo-org/{project}"
    box.add_publisher(
        provider="github",
        repository=repository,
        workflow="publish.yml",
        projects=[project],
        pending=True,
    )
    job: dict[str, Any] = {
        "repository": repository,
        "workflow": "ci.yml",
        "claims": {
            "job_workflow_ref": f"{repository}/.github/workflows/publish.yml@refs/tags/v1.0.0"
        },
    }
    return sandbox_env(box, "github", **job), job


@pytest.mark.parametrize("mode", ["auto", "require"])
def test_reusable_workflow_is_predicted(sandbox: Sandbox, tmp_path: Path, mode: str) -> None:
    project = unique_name("reuse-wf")
    make_wheel(tmp_path / "dist", project, "1.0.0")
    job_env, _ = _reusable_job(sandbox, project)
    start = len(sandbox.log())

    result = run_publish(
        ["-r", sandbox.upload_url, "--attestations", mode, "--json"],
        env=child_env(sandbox.env(), job_env),
        cwd=tmp_path,
    )

    document = json_result(result)
    if mode == "auto":  # minting works (PyPI matches job_workflow_ref); attestations would not
        assert result.returncode == 0, result.stderr
        # one warning (on GitHub also as an annotation)
        assert result.stderr.count("warning: uploading without attestations") == 1
        assert "reusable workflow octo-org/" in result.stderr
        assert [e["status"] for e in _uploads(sandbox, start)] == [200]
        assert document["files"][0]["attestation"] == "none: reusable workflow"
    else:
        assert result.returncode != 0
        assert "reusable workflow" in document["error"]["message"]
        assert not [e for e in sandbox.log()[start:] if "mint-token" in e["path"]]
        assert _uploads(sandbox, start) == []
    assert "eyJ" not in without_mask_lines(result.stdout) + without_mask_lines(result.stderr)


def test_reusable_workflow_attestation_is_refused_by_the_index(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the prediction avoids: PyPI's verdict on such an attestation (400)."""
    from helpers_attest import sign

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(sandbox.ca_cert))
    project = unique_name("reuse-idx")
    wheel = make_wheel(tmp_path / "dist", project, "1.0.0")
    _, job = _reusable_job(sandbox, project)
    token = sandbox.minted_token("github", **job)
    attestation = sign(sandbox, wheel, **job)
    response = sandbox.upload(wheel, token, attestations=json.dumps([attestation]))
    assert response.status_code == 400
    # PyPI: pypi-attestations' GitHub policy compares the Build Config URI (workflow_ref: ci.yml)
    # with the publisher's workflow (publish.yml)
    assert response.reason_phrase.startswith(
        "Invalid attestations supplied during upload: Could not verify the uploaded artifact "
        "using the included attestation: Verification failed: Certificate's Build Config URI"
    )
    assert response.reason_phrase.endswith(
        f"does not match expected Trusted Publisher (publish.yml @ octo-org/{project})"
    )
