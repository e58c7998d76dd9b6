"""Publishing files the index already has, byte for byte: "already there, identical".

PyPI's verdict (Warehouse's duplicate rule, docs/../shared/reference/warehouse-server.md §3.4
step 11, the sandbox imitates it): an identical re-upload gets ``200 OK`` with nothing changed,
the same answer as a first upload. Issue 16: trustpub reported such files as ``uploaded``. It now
lists the project's files first and reports them as ``skipped`` with the message "already there,
identical", without sending them; the dry run says the same.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers_e2e import child_env, json_result, run_publish

from fixtures_dists import make_release
from helpers_env import sandbox_env
from helpers_sandbox import Sandbox, unique_name

pytestmark = pytest.mark.e2e


def test_republishing_identical_files_reports_already_there(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    project = unique_name("again")
    sandbox.add_publisher(
        provider="github",
        repository=f"octo-org/{project}",
        workflow="release.yml",
        projects=[project],
        pending=True,
    )
    make_release(tmp_path / "dist", project, "1.0.0")
    job = sandbox_env(sandbox, "github", repository=f"octo-org/{project}", workflow="release.yml")
    env = child_env(sandbox.env(), job)
    first = run_publish(["-r", sandbox.upload_url, "--json"], env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert {entry["status"] for entry in json_result(first)["files"]} == {"uploaded"}

    dry = run_publish(["-r", sandbox.upload_url, "--json", "--dry-run"], env=env, cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert {(e["status"], e["message"]) for e in json_result(dry)["files"]} == {
        ("would-skip", "already there, identical")
    }

    start = len(sandbox.log())
    again = run_publish(["-r", sandbox.upload_url, "--json"], env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    document = json_result(again)
    assert document["ok"] is True
    assert {(e["status"], e["message"]) for e in document["files"]} == {
        ("skipped", "already there, identical")
    }
    requests = [(e["method"], e["path"]) for e in sandbox.log()[start:]]
    assert ("POST", "/legacy/") not in requests
    assert ("GET", f"/simple/{project}/") in requests  # the one look before uploading
