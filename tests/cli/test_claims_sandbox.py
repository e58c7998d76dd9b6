"""`trustpub claims` in a fake CI job of the sandbox: detection, audience and token as publish gets them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from helpers_env import sandbox_env
from helpers_sandbox import Sandbox

pytestmark = pytest.mark.e2e

_CI_PREFIXES = ("GITHUB_", "ACTIONS_", "GITLAB_", "CI_", "TRUSTPUB_", "GCE_METADATA", "GOOGLE_")


def run_claims(
    sandbox: Sandbox, job_env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_CI_PREFIXES)}
    env.pop("PYPI_ID_TOKEN", None)
    env.update(sandbox.env())
    env.update(job_env)
    return subprocess.run(
        [sys.executable, "-m", "trustpub", "claims", "-r", sandbox.upload_url, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_github_job_claims_match_the_declared_publisher(sandbox: Sandbox, tmp_path: Any) -> None:
    job_env = sandbox_env(sandbox, "github", repository="octo/claims-pkg", environment="pypi")
    result = run_claims(
        sandbox,
        job_env,
        "--json",
        "--pyproject",
        str(tmp_path / "absent.toml"),
        "--expect",
        "repository=octo/claims-pkg",
        "--expect",
        "workflow=release.yml",
        "--expect",
        "environment=pypi",
    )
    assert result.returncode == 0, result.stderr + result.stdout
    # GitHub masks the token first (on stderr with --json); stdout is the JSON document only.
    document = json.loads(result.stdout)
    assert document["provider"] == "github"
    assert document["expected_audience"] == sandbox.audience
    assert document["audience"] == sandbox.audience
    assert document["issuer"] == f"{sandbox.url}/_sandbox/github"
    assert document["claims"]["repository"] == "octo/claims-pkg"
    assert document["declared"]["ok"] is True
    assert document["ok"] is True
    masks = [line for line in result.stderr.splitlines() if line.startswith("::add-mask::")]
    assert len(masks) == 1
    token = masks[0].removeprefix("::add-mask::")
    assert token.count(".") == 2
    assert token not in result.stdout
    for piece in token.split("."):
        assert piece not in result.stdout


def test_github_job_with_wrong_environment_exits_1(sandbox: Sandbox, tmp_path: Any) -> None:
    job_env = sandbox_env(sandbox, "github", repository="octo/claims-pkg", environment="staging")
    result = run_claims(
        sandbox,
        job_env,
        "--pyproject",
        str(tmp_path / "absent.toml"),
        "--expect",
        "repository=octo/claims-pkg",
        "--expect",
        "workflow=release.yml",
        "--expect",
        "environment=pypi",
    )
    assert result.returncode == 1, result.stderr + result.stdout
    assert "  [MISMATCH] environment: expected pypi, token has staging" in result.stdout
    assert "Result: publishing would fail" in result.stdout


def test_github_job_without_id_token_permission(sandbox: Sandbox) -> None:
    job_env = sandbox_env(sandbox, "github", repository="octo/claims-pkg", id_token=False)
    result = run_claims(sandbox, job_env)
    assert result.returncode == 1, result.stderr + result.stdout
    assert "id-token: write" in result.stdout
