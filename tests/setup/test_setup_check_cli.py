"""``trustpub check`` as users run it: exit codes, text, JSON and GitHub annotations."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result
from corpus_cases import CORPUS, load_case

from trustpub.cli import cli

PYPROJECT = """\
[project]
name = "pkg"

[tool.trustpub.publisher]
provider = "github"
repository = "octo/pkg"
workflow = "release.yml"
environment = "pypi"
"""


def _repo(tmp_path: Path, case: str, *, pyproject: bool = True) -> Path:
    load_case(CORPUS / f"{case}.yml").write(tmp_path)
    if pyproject:
        (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    return tmp_path


def _check(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["check", *args], env={"GITHUB_ACTIONS": "", **(env or {})})


def test_clean_repository_exits_0(tmp_path: Path) -> None:
    result = _check(str(_repo(tmp_path, "gh-ok-pypa-action")))
    assert result.exit_code == 0, result.output
    assert (
        result.output.splitlines()[0] == "publisher: GitHub octo/pkg release.yml (environment pypi)"
    )
    assert "checked 1 file(s), 1 publishing job(s): 0 error(s), 0 warning(s)" in result.output


def test_error_exits_1_with_file_line_pypi_fix_and_docs(tmp_path: Path) -> None:
    result = _check(str(_repo(tmp_path, "gh-missing-id-token")))
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[1] == (
        ".github/workflows/release.yml:24: error [id-token-permission] job 'publish' publishes "
        "but is not granted id-token: write"
    )
    assert lines[2] == (
        "    PyPI: GitHub gives the job no ID token, so no upload token can be minted"
    )
    assert lines[3:7] == [
        "    fix:",
        "      on job 'publish':",
        "      permissions:",
        "        contents: read",
    ]
    assert (
        "docs: https://trustpub.readthedocs.io/en/latest/troubleshooting/#check-id-token-permission"
        in result.output
    )


def test_warnings_fail_only_with_strict(tmp_path: Path) -> None:
    root = str(_repo(tmp_path, "gh-unpinned-action"))
    assert _check(root).exit_code == 0
    strict = _check(root, "--strict")
    assert strict.exit_code == 1
    assert "warning [unpinned-action]" in strict.output


def test_json(tmp_path: Path) -> None:
    result = _check(str(_repo(tmp_path, "gh-renamed-workflow")), "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False
    assert data["jobs"] == [{"file": ".github/workflows/publish.yml", "job": "publish", "line": 20}]
    [finding] = data["findings"]
    assert finding["kind"] == "workflow-name"
    assert finding["line"] == 31
    assert finding["severity"] == "error"
    assert finding["anchor"] == "check-workflow-name"
    assert "invalid-publisher" in finding["pypi"]


def test_expect_overrides_the_declared_publisher(tmp_path: Path) -> None:
    root = str(_repo(tmp_path, "gh-renamed-workflow"))
    assert _check(root, "--expect", "workflow=publish.yml").exit_code == 0


def test_without_a_publisher_only_general_rules(tmp_path: Path) -> None:
    result = _check(str(_repo(tmp_path, "gh-renamed-workflow", pyproject=False)))
    assert result.exit_code == 0, result.output
    assert "no declared publisher" in result.output


def test_github_annotations(tmp_path: Path) -> None:
    result = _check(str(_repo(tmp_path, "gh-pull-request-target")), env={"GITHUB_ACTIONS": "true"})
    assert result.exit_code == 1
    first = result.output.splitlines()[0]
    assert first.startswith(
        "::error file=.github/workflows/release.yml,line=3,title=trustpub check%3A pull-request-target::"
    )


def test_bad_expect_is_a_usage_error(tmp_path: Path) -> None:
    result = _check(str(tmp_path), "--expect", "nonsense")
    assert result.exit_code == 2
    assert "expected KEY=VALUE" in result.output


def test_running_job_file_github_and_gitlab(tmp_path: Path) -> None:
    from trustpub.setup.check import check_running_job, running_job_file

    _repo(tmp_path, "gh-missing-id-token")
    env = {
        "GITHUB_WORKFLOW_REF": "octo/pkg/.github/workflows/release.yml@refs/tags/v1",
        "GITHUB_WORKSPACE": str(tmp_path),
    }
    assert running_job_file(env, "github") == (tmp_path, ".github/workflows/release.yml")
    [finding] = check_running_job(env, "github", None)
    assert (finding.kind, finding.line) == ("id-token-permission", 24)
    # another workflow of the repository, or no checkout: nothing to check
    other = {**env, "GITHUB_WORKFLOW_REF": "octo/pkg/.github/workflows/ci.yml@refs/heads/main"}
    assert check_running_job(other, "github", None) == []
    assert running_job_file({"GITHUB_WORKSPACE": str(tmp_path)}, "github") is None
    gitlab = tmp_path / "gl"
    load_case(CORPUS / "gl-missing-id-tokens.yml").write(gitlab)
    found = check_running_job({"CI_PROJECT_DIR": str(gitlab)}, "gitlab", None)
    assert {f.kind for f in found} == {"gitlab-id-tokens", "attestations-no-sigstore-token"}
    assert (
        running_job_file({"CI_PROJECT_DIR": str(gitlab), "CI_CONFIG_PATH": "../x.yml"}, "gitlab")
        is None
    )


def test_this_repository_checks_clean(tmp_path: Path) -> None:
    """trustpub's own release workflow (`uses: ./`, the action itself) against its publisher.

    A copy of the files, so that the checkout's git remote (a fork, say) plays no part.
    """
    import shutil

    root = Path(__file__).resolve().parents[2]
    shutil.copy(root / "action.yml", tmp_path / "action.yml")
    shutil.copytree(root / ".github" / "workflows", tmp_path / ".github" / "workflows")
    result = _check(
        str(tmp_path),
        "--expect",
        "provider=github",
        "--expect",
        "repository=trustpub/trustpub",
        "--expect",
        "workflow=release.yml",
        "--expect",
        "environment=pypi",
        "--strict",
    )
    assert result.exit_code == 0, result.output
    assert "1 publishing job(s): 0 error(s), 0 warning(s)" in result.output


def test_rich_output(tmp_path: Path) -> None:
    result = _check(str(_repo(tmp_path, "gh-environment-mismatch")), "--format", "rich")
    assert result.exit_code == 1
    assert ".github/workflows/release.yml:23 error [environment]" in result.output
    assert "environment: pypi" in result.output


def test_pre_commit_hook_runs_check(tmp_path: Path) -> None:
    """.pre-commit-hooks.yaml: the hook's entry and args, run as pre-commit would (no file names)."""
    import shlex
    import subprocess
    import sys

    import yaml

    root = Path(__file__).resolve().parents[2]
    [hook] = yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "trustpub-check"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    entry = shlex.split(hook["entry"])
    assert entry[0] == "trustpub"
    command = [sys.executable, "-m", "trustpub", *entry[1:], *hook["args"]]
    repo = _repo(tmp_path, "gh-pull-request-target")
    clean = _repo(tmp_path / "clean", "gh-ok-pypa-action")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    failing = subprocess.run(
        command, cwd=repo, capture_output=True, text=True, env=env, check=False
    )
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert ".github/workflows/release.yml:3: error [pull-request-target]" in failing.stdout
    passing = subprocess.run(
        command, cwd=clean, capture_output=True, text=True, env=env, check=False
    )
    assert passing.returncode == 0, passing.stdout + passing.stderr
