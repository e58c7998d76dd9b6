"""The workflow ``trustpub init`` writes, run job by job through the runner-like harness,
publishes to the sandbox.

The build job is stood in for by ready-made distributions (building needs the network);
the publishing job runs its real steps: the checkout and artifact steps are stand-ins, the
``run:`` scripts run in bash. ``python -m pip install "trustpub==<version>"`` finds this
checkout's trustpub already installed in the test interpreter (PIP_NO_INDEX: nothing is
downloaded; a version other than this checkout's would fail). TRUSTPUB_REPOSITORY points
"PyPI" at the sandbox, the only change to what a runner would see.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures_dists import make_release
from helpers_actions import StandIn, run_workflow_job, setup_python_stand_in
from helpers_env import sandbox_env
from helpers_sandbox import Sandbox, unique_name
from trustpub.cli import cli

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
]


def _init_repo(root: Path, name: str, *args: str) -> None:
    root.mkdir()
    subprocess.run(["git", "-C", str(root), "init", "-q"], check=True)
    subprocess.run(
        ["git", "-C", str(root), "remote", "add", "origin", f"git@github.com:octo/{name}.git"],
        check=True,
    )
    (root / "pyproject.toml").write_text(f'[project]\nname = "{name}"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["init", str(root), "--yes", *args])
    assert result.exit_code == 0, result.output


def _stand_ins(artifacts: Path, workspace: Path) -> dict[str, StandIn]:
    def checkout(with_inputs: Mapping[str, str], env: Mapping[str, str]) -> dict[str, str]:
        assert with_inputs.get("persist-credentials") == "false"
        return {}  # the workspace is the repository already

    def download(with_inputs: Mapping[str, str], env: Mapping[str, str]) -> dict[str, str]:
        target = workspace / with_inputs["path"]
        shutil.copytree(artifacts / with_inputs["name"], target, dirs_exist_ok=True)
        return {"download-path": str(target)}

    return {
        "actions/checkout": checkout,
        "actions/download-artifact": download,
        "actions/setup-python": setup_python_stand_in,
    }


def _job_env(sandbox: Sandbox, name: str) -> dict[str, str]:
    keep = ("HOME", "LANG", "LC_ALL", "TMPDIR")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env["PIP_NO_INDEX"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["TRUSTPUB_REPOSITORY"] = sandbox.upload_url
    env.update(sandbox.env())
    env.update(
        sandbox_env(
            sandbox,
            "github",
            repository=f"octo/{name}",
            workflow="release.yml",
            environment="pypi",
            ref="refs/tags/v1.0.0",
            event="release",
        )
    )
    return env


@pytest.mark.parametrize("mistake", [False, True], ids=["as-written", "with-pull-request"])
def test_init_workflow_publishes_in_the_harness(
    sandbox: Sandbox, tmp_path: Path, mistake: bool
) -> None:
    """As written: publishes, no workflow-check warning. With a pull_request trigger added
    (a warning, not an error): still publishes, and publish names the line to change."""
    name = unique_name("init")
    repo = tmp_path / "repo"
    _init_repo(repo, name)
    workflow = repo / ".github" / "workflows" / "release.yml"
    if mistake:
        text = workflow.read_text(encoding="utf-8")
        workflow.write_text(text.replace("on:\n", "on:\n  pull_request:\n", 1), encoding="utf-8")
    sandbox.add_publisher(
        provider="github",
        repository=f"octo/{name}",
        workflow="release.yml",
        environment="pypi",
        projects=[name],
        pending=True,
    )
    artifacts = tmp_path / "artifacts"
    dists = make_release(artifacts / "dists", name, "1.0.0")
    run = run_workflow_job(
        workflow,
        "publish-pypi",
        env=_job_env(sandbox, name),
        workspace=repo,
        runner_dir=tmp_path / "runner",
        stand_ins=_stand_ins(artifacts, repo),
    )
    log = run.stdout + run.stderr
    assert run.ok, log
    assert [s.name for s in run.steps if s.stand_in] == [
        "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1",
        "actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c",
        "actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97",
    ]
    assert "Requirement already satisfied: trustpub==" in log
    checks = [line for line in log.splitlines() if line.startswith("warning: workflow check:")]
    annotations = [a for a in run.annotations if "workflow check:" in a.message]
    if mistake:
        line = workflow.read_text(encoding="utf-8").splitlines().index("  pull_request:") + 1
        assert len(checks) == 1, log
        assert f".github/workflows/release.yml:{line}: warning [pull-request]" in checks[0]
        assert "troubleshooting/#check-pull-request" in checks[0]
        assert [a.level for a in annotations] == ["warning"]
    else:
        assert checks == [], log
        assert annotations == []
    with sandbox.client() as client:
        page = client.get(f"/simple/{name}/")
    assert page.status_code == 200
    for dist in dists:
        assert dist.name in page.text
