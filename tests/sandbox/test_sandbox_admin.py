"""Sandbox-only routes: publishers, the request log; the legacy action routing; the CLI group."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from fixtures_dists import make_wheel
from helpers_sandbox import Sandbox, SandboxFactory, fingerprint, unique_name


def test_publishers_add_list_clear(sandbox_factory: SandboxFactory) -> None:
    box = sandbox_factory(
        publishers=["provider=google,email=a@b.iam.gserviceaccount.com,projects=x"]
    )
    added = box.add_publisher(
        "provider=github,repository=octo/pkg,workflow=release.yml,projects=pkg+other,pending=false"
    )
    assert added["projects"] == ["pkg", "other"]
    assert added["pending"] is False
    with box.client() as client:
        listed = client.get("/_sandbox/publishers").json()["publishers"]
        assert len(listed) == 2
        bad = client.post("/_sandbox/publishers", json={"provider": "circleci"})
        assert bad.status_code == 400
        assert "circleci" in bad.json()["error"]
        assert client.post("/_sandbox/publishers", content=b"{").status_code == 400
        assert client.delete("/_sandbox/publishers").json() == {"removed": 2}
        assert client.get("/_sandbox/publishers").json() == {"publishers": []}
    refused = box.mint(box.oidc_token("github", repository="octo/pkg", workflow="release.yml"))
    assert refused.json()["errors"][0]["code"] == "invalid-publisher"


def test_log_tells_where_each_credential_went(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    box = sandbox_factory()
    box.add_publisher(
        provider="github",
        repository="octo/pkg",
        workflow="release.yml",
        projects=["pkg"],
        pending=True,
    )
    job = box.job(provider="github", repository="octo/pkg", workflow="release.yml")
    request_token = job["env"]["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]
    url = job["env"]["ACTIONS_ID_TOKEN_REQUEST_URL"] + "&audience=" + quote(box.audience)
    with box.client() as client:
        oidc = client.get(url, headers={"Authorization": f"bearer {request_token}"}).json()["value"]
        minted = client.post("/_/oidc/mint-token", json={"token": oidc}).json()["token"]
    assert box.upload(make_wheel(tmp_path, name="pkg"), minted).status_code == 200
    log = box.log()
    by_path = {entry["path"]: entry for entry in log}
    assert by_path["/_sandbox/github/token"]["credentials"] == [
        {"kind": "github-request-token", "fingerprint": fingerprint(request_token)}
    ]
    assert by_path["/_/oidc/mint-token"]["credentials"] == [
        {"kind": "oidc", "fingerprint": fingerprint(oidc)}
    ]
    assert by_path["/legacy/"]["credentials"] == [
        {"kind": "api-token", "fingerprint": fingerprint(minted)}
    ]
    assert by_path["/legacy/"]["status"] == 200
    assert all(entry["path"] != "/_sandbox/log" for entry in log)
    recorded = (box.state_dir / "requests.jsonl").read_text()
    for secret in (request_token, oidc, minted):
        assert secret not in recorded


def test_upload_actions(sandbox: Sandbox, tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, name=unique_name())
    gone = sandbox.upload(wheel, sandbox.api_token, **{":action": "doc_upload"})
    assert gone.status_code == 410
    missing = sandbox.upload(wheel, sandbox.api_token, omit=[":action"])
    assert missing.status_code == 400
    assert ":action" in missing.reason_phrase


def test_simple_root_json(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name()
    assert (
        sandbox.upload(
            make_wheel(tmp_path, name=project), sandbox.api_token, name=project
        ).status_code
        == 200
    )
    with sandbox.client() as client:
        response = client.get("/simple/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    assert response.json()["meta"]["api-version"] == "1.1"
    assert {"name": project} in response.json()["projects"]


def test_sandbox_group_lists_serve_and_env() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "trustpub", "sandbox", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "serve" in result.stdout
    assert "env" in result.stdout
    env_help = subprocess.run(
        [sys.executable, "-m", "trustpub", "sandbox", "env", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "--provider" in env_help.stdout
