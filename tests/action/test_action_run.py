"""The real action.yml and .gitlab-ci-template.yml, run locally against the sandbox index.

The composite steps run through tests/helpers_actions.py (a small runner imitation) in a
job environment from ``trustpub sandbox env``. pip installs trustpub from this checkout
with no network: its dependencies come from wheels repacked from the test environment.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from fixtures_dists import make_release
from helpers_actions import (
    ActionRun,
    action_checkout,
    offline_pip_env,
    offline_wheelhouse,
    run_action,
    run_gitlab_job,
    wheelhouse_lock,
)
from helpers_env import sandbox_env
from helpers_sandbox import Sandbox, unique_name

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        importlib.util.find_spec("trustpub.publish") is None,
        reason="trustpub.publish (the publish command) is not written yet",
    ),
]


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """trustpub's runtime dependencies and build backend, plus a trustpub wheel, offline."""
    runtime = [
        text
        for text in metadata.requires("trustpub") or []
        if Requirement(text).marker is None or "extra" not in str(Requirement(text).marker)
    ]
    house = offline_wheelhouse(tmp_path_factory.mktemp("wheelhouse"), [*runtime, "hatchling"])
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(house), str(ROOT)],
        env={**os.environ, **offline_pip_env(house)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    return house


@pytest.fixture(scope="module")
def action_dir(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    """This checkout's action, its lock pinning the offline wheels by hash instead of PyPI's."""
    lock = wheelhouse_lock(wheelhouse, skip=["trustpub"])
    return action_checkout(ROOT, tmp_path_factory.mktemp("action"), lock)


def _base_env(wheelhouse: Path, path: str) -> dict[str, str]:
    keep = ("HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env["PATH"] = path
    env.update(offline_pip_env(wheelhouse))
    return env


def _python_path() -> str:
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


def _path_without_python(tmp_path: Path) -> str:
    """A PATH with the shell tools the action needs and no python at all."""
    tools = tmp_path / "tools"
    tools.mkdir()
    for name in ("bash", "sh", "tr", "cat", "env", "dirname", "basename", "uname"):
        for directory in ("/usr/bin", "/bin"):
            source = Path(directory) / name
            if source.exists():
                (tools / name).symlink_to(source)
                break
    return str(tools)


def _github_job(sandbox: Sandbox, name: str, workflow: str) -> dict[str, str]:
    return sandbox_env(
        sandbox,
        "github",
        repository=f"octo/{name}",
        workflow=workflow,
        environment="pypi",
        ref="refs/tags/v1.0.0",
        event="release",
    )


def _run(
    sandbox: Sandbox,
    wheelhouse: Path,
    action_dir: Path,
    tmp_path: Path,
    job: dict[str, str],
    path: str,
    **inputs: str,
) -> ActionRun:
    return run_action(
        action_dir,
        inputs={"repository-url": sandbox.upload_url, **inputs},
        env={**_base_env(wheelhouse, path), **sandbox.env(), **job},
        workspace=tmp_path / "workspace",
        runner_dir=tmp_path / "runner",
    )


def _no_secret_leaks(run: ActionRun, *secrets: str) -> None:
    for step in run.steps:
        for line in (step.stdout + step.stderr).splitlines():
            if line.startswith("::add-mask::"):
                continue
            for secret in secrets:
                assert secret not in line, f"a secret leaked in step {step.name!r}"


def test_action_publishes_with_trusted_publishing(
    sandbox: Sandbox, wheelhouse: Path, action_dir: Path, tmp_path: Path
) -> None:
    name = unique_name("act")
    sandbox.add_publisher(
        provider="github",
        repository=f"octo/{name}",
        workflow="release.yml",
        environment="pypi",
        projects=[name],
        pending=True,
    )
    dists = make_release(tmp_path / "workspace" / "dist", name, "1.0.0")
    job = _github_job(sandbox, name, "release.yml")
    run = _run(
        sandbox,
        wheelhouse,
        action_dir,
        tmp_path,
        job,
        _python_path(),
        expect=f"repository=octo/{name}\n  workflow=release.yml\nenvironment=pypi\n",
        **{"print-hash": "true"},
    )
    assert run.ok, run.stdout + run.stderr
    assert not run.step("setup-python").stand_in
    assert run.step("setup-python").skipped
    files = json.loads(run.outputs["files"])
    assert sorted(entry["filename"] for entry in files) == sorted(d.name for d in dists)
    assert {entry["status"] for entry in files} == {"uploaded"}
    assert run.outputs["trusted-publishing"] == "true"
    assert name in run.outputs["project-url"]
    assert "1.0.0" in run.outputs["release-url"]
    assert "sha256" in run.step("publish").stdout  # print-hash
    assert dists[0].name in run.summary
    assert not [a for a in run.annotations if a.level == "error"]
    with sandbox.client() as client:
        page = client.get(f"/simple/{name}/")
    assert page.status_code == 200
    for dist in dists:
        assert dist.name in page.text
    _no_secret_leaks(run, job["ACTIONS_ID_TOKEN_REQUEST_TOKEN"])


def test_action_with_a_wrong_publisher_fails_with_an_annotation(
    sandbox: Sandbox, wheelhouse: Path, action_dir: Path, tmp_path: Path
) -> None:
    """No python on PATH (setup-python's stand-in runs) and a publisher for another workflow."""
    name = unique_name("act")
    sandbox.add_publisher(
        provider="github",
        repository=f"octo/{name}",
        workflow="release.yml",
        projects=[name],
        pending=True,
    )
    make_release(tmp_path / "workspace" / "dist", name, "1.0.0")
    job = _github_job(sandbox, name, "ci.yml")
    run = _run(sandbox, wheelhouse, action_dir, tmp_path, job, _path_without_python(tmp_path))
    log = run.stdout + run.stderr + run.summary
    assert not run.ok, log
    assert run.step("setup-python").stand_in
    assert run.step("install").returncode == 0, log
    assert run.step("publish").returncode == 5, log  # ExitCode.EXCHANGE: refused before upload
    errors = [a for a in run.annotations if a.level == "error"]
    assert any("publisher" in a.message for a in errors), log
    assert "failed" in run.summary.lower(), log
    assert "ci.yml" in run.summary, log  # the diagnosis names the job's workflow
    with sandbox.client() as client:
        assert client.get(f"/simple/{name}/").status_code == 404
    _no_secret_leaks(run, job["ACTIONS_ID_TOKEN_REQUEST_TOKEN"])


def test_action_with_an_api_token_masks_it_first(
    sandbox: Sandbox, wheelhouse: Path, action_dir: Path, tmp_path: Path
) -> None:
    name = unique_name("act")
    make_release(tmp_path / "workspace" / "dist", name, "2.0.0")
    job = _github_job(sandbox, name, "release.yml")
    token = sandbox.api_token
    run = _run(sandbox, wheelhouse, action_dir, tmp_path, job, _python_path(), password=token)
    assert run.ok, run.stdout + run.stderr
    assert run.masks[0] == token  # the very first thing the action prints
    assert run.outputs["trusted-publishing"] == "false"
    assert {e["status"] for e in json.loads(run.outputs["files"])} == {"uploaded"}
    _no_secret_leaks(run, token, job["ACTIONS_ID_TOKEN_REQUEST_TOKEN"])


def test_action_refuses_a_missing_packages_dir(
    sandbox: Sandbox, wheelhouse: Path, action_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "workspace").mkdir()
    job = _github_job(sandbox, unique_name("act"), "release.yml")
    run = _run(
        sandbox, wheelhouse, action_dir, tmp_path, job, _python_path(), **{"packages-dir": "nope"}
    )
    assert run.step("publish").returncode == 2
    assert any("packages-dir 'nope'" in a.message for a in run.annotations)


@pytest.mark.parametrize(
    ("job_name", "token_variable", "version"),
    [
        (".trustpub-publish", "PYPI_ID_TOKEN", ""),
        (".trustpub-publish-testpypi", "TESTPYPI_ID_TOKEN", metadata.version("trustpub")),
    ],
)
def test_gitlab_template_publishes(
    sandbox: Sandbox,
    wheelhouse: Path,
    tmp_path: Path,
    job_name: str,
    token_variable: str,
    version: str,
) -> None:
    name = unique_name("glab")
    sandbox.add_publisher(
        provider="gitlab",
        repository=f"group/{name}",
        workflow=".gitlab-ci.yml",
        projects=[name],
        pending=True,
    )
    dists = make_release(tmp_path / "dist", name, "1.0.0")
    job = sandbox_env(sandbox, "gitlab", repository=f"group/{name}", workflow=".gitlab-ci.yml")
    # trustpub refuses the reserved audiences pypi/testpypi from any host but PyPI's, so the
    # sandbox keeps its own audience: its token stands in for the one the job declares.
    sandbox_token_variable = "TRUSTPUB_SANDBOX_ID_TOKEN"
    token = job.pop(sandbox_token_variable)
    sigstore_token = job.pop("SIGSTORE_ID_TOKEN")  # the sandbox job's sigstore-audience token
    audiences: list[str] = []

    def id_token(audience: str) -> str:
        audiences.append(audience)
        return sigstore_token if audience == "sigstore" else token

    run = run_gitlab_job(
        ROOT / ".gitlab-ci-template.yml",
        job_name,
        env={**_base_env(wheelhouse, _python_path()), **sandbox.env(), **job},
        workdir=tmp_path,
        id_token=id_token,
        variables={
            "TRUSTPUB_REPOSITORY": sandbox.upload_url,
            "TRUSTPUB_OIDC_TOKEN_ENV": token_variable,
            "TRUSTPUB_VERSION": version,  # "" = the newest; else pinned
            "TMPDIR": str(tmp_path),
        },
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert audiences == [token_variable.removesuffix("_ID_TOKEN").lower(), "sigstore"]
    assert token not in run.stdout + run.stderr
    assert sigstore_token not in run.stdout + run.stderr
    for dist in dists:  # signed with the template's SIGSTORE_ID_TOKEN (PEP 740)
        assert (dist.parent / (dist.name + ".publish.attestation")).is_file()
    with sandbox.client() as client:
        page = client.get(f"/simple/{name}/")
    assert page.status_code == 200
    for dist in dists:
        assert dist.name in page.text


BROKEN_WORKFLOW = """\
name: release
on:
  release:
    types: [published]
permissions: {}
jobs:
  publish:
    runs-on: ubuntu-latest
    environment: pypi
    permissions:
      contents: read
    steps:
      - run: uv publish
"""


def test_action_check_only_reports_without_publishing(
    wheelhouse: Path, action_dir: Path, tmp_path: Path
) -> None:
    """`check-only: true`: trustpub check on the workspace, annotations on the lines, no upload."""
    workspace = tmp_path / "workspace"
    workflows = workspace / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "release.yml").write_text(BROKEN_WORKFLOW, encoding="utf-8")
    run = run_action(
        action_dir,
        inputs={
            "check-only": "true",
            "expect": "provider=github\nrepository=octo/pkg\nworkflow=release.yml\nenvironment=pypi",
        },
        env={**_base_env(wheelhouse, _python_path()), "GITHUB_ACTIONS": "true"},
        workspace=workspace,
        runner_dir=tmp_path / "runner",
    )
    log = run.stdout + run.stderr
    assert run.step("check").returncode == 1, log
    assert run.step("publish").skipped
    [error] = [a for a in run.annotations if a.level == "error"]
    assert error.properties["file"] == ".github/workflows/release.yml"
    assert error.properties["line"] == "10"
    assert "id-token: write" in error.message
    assert "release.yml:10: error [id-token-permission]" in run.step("check").stdout


def test_init_workflow_with_the_action_publishes(
    sandbox: Sandbox, wheelhouse: Path, action_dir: Path, tmp_path: Path
) -> None:
    """`trustpub init --action-commit SHA`: the publish job's `uses: trustpub/trustpub@SHA`
    step runs this checkout's action.yml (the commit stands for this tree)."""
    import shutil
    from collections.abc import Mapping

    from click.testing import CliRunner

    from helpers_actions import run_workflow_job, setup_python_stand_in
    from trustpub.cli import cli

    name = unique_name("initact")
    repo = tmp_path / "workspace"
    repo.mkdir()
    subprocess.run(["git", "-C", str(repo), "init", "-q"], check=True)
    subprocess.run(
        ["git", "-C", str(repo), "remote", "add", "origin", f"https://github.com/octo/{name}.git"],
        check=True,
    )
    (repo / "pyproject.toml").write_text(f'[project]\nname = "{name}"\n', encoding="utf-8")
    commit = "0123456789abcdef0123456789abcdef01234567"
    made = CliRunner().invoke(cli, ["init", str(repo), "--yes", "--action-commit", commit])
    assert made.exit_code == 0, made.output
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
    env = {
        **_base_env(wheelhouse, _python_path()),
        **sandbox.env(),
        **_github_job(sandbox, name, "release.yml"),
        "TRUSTPUB_REPOSITORY": sandbox.upload_url,
    }
    used: list[Mapping[str, str]] = []

    def action(with_inputs: Mapping[str, str], step_env: Mapping[str, str]) -> dict[str, str]:
        used.append(dict(with_inputs))
        inner = run_action(
            action_dir,
            inputs={**with_inputs, "repository-url": sandbox.upload_url},
            env=step_env,
            workspace=repo,
            runner_dir=tmp_path / "action-runner",
        )
        assert inner.ok, inner.stdout + inner.stderr
        return inner.outputs

    def download(with_inputs: Mapping[str, str], step_env: Mapping[str, str]) -> dict[str, str]:
        shutil.copytree(artifacts / with_inputs["name"], repo / with_inputs["path"])
        return {}

    run = run_workflow_job(
        repo / ".github" / "workflows" / "release.yml",
        "publish-pypi",
        env=env,
        workspace=repo,
        runner_dir=tmp_path / "runner",
        stand_ins={
            "actions/checkout": lambda with_inputs, step_env: {},
            "actions/download-artifact": download,
            "actions/setup-python": setup_python_stand_in,
            "trustpub/trustpub": action,
        },
    )
    assert run.ok, run.stdout + run.stderr
    assert used == [{"attestations": "true"}]
    with sandbox.client() as client:
        page = client.get(f"/simple/{name}/")
    assert page.status_code == 200
    for dist in dists:
        assert dist.name in page.text


@pytest.mark.slow  # two action runs (about 4 minutes here)
def test_action_inputs_cannot_inject_commands_or_options(
    sandbox: Sandbox, wheelhouse: Path, action_dir: Path, tmp_path: Path
) -> None:
    """Issue 14 class 8: a `user` with a newline stays in its one ::error line; a packages-dir
    starting with "-" is a path after "--", never an option."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    job = _github_job(sandbox, unique_name("act"), "release.yml")
    run = _run(
        sandbox,
        wheelhouse,
        action_dir,
        tmp_path,
        job,
        _python_path(),
        user="someone\n::stop-commands::injected",
        password="pypi-" + "A" * 40,
    )
    assert run.step("publish").returncode == 2
    publish_out = run.step("publish").stdout
    assert not any(line.startswith("::stop-commands") for line in publish_out.splitlines())
    assert any("user 'someone" in a.message for a in run.annotations), run.annotations
    make_release(workspace / "-dist", unique_name("act"), "1.0.0")
    run = _run(
        sandbox, wheelhouse, action_dir, tmp_path, job, _python_path(), **{"packages-dir": "-dist"}
    )
    assert "no such option" not in (run.stdout + run.stderr).lower()
