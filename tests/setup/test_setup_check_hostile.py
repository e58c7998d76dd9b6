"""Hostile or odd CI files never crash ``trustpub check``, never make it grow without bound."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trustpub.setup.check import run_check
from trustpub.setup.yamldoc import MAX_NODES, YamlProblem, parse

LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
)

ODD = [
    "jobs: [1, 2]\n",
    "on: 5\njobs:\n  p:\n    steps: {run: twine upload}\n",
    "jobs:\n  p:\n    permissions: 7\n    steps:\n      - run: [uv publish]\n      - 3\n      - uses: 4\n",
    "jobs:\n  p:\n    environment: {name: [x]}\n    steps:\n      - run: uv publish\n",
    "? [complex, key]\n: value\njobs: {}\n",
    "jobs:\n  p:\n    uses: 42\n",
    "!!binary aGVsbG8=\n",
    "--- a\n--- b\n",
    "",
]


def test_alias_bomb_is_refused_not_expanded() -> None:
    with pytest.raises(YamlProblem, match=str(MAX_NODES)):
        parse(LAUGHS)


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(YamlProblem):
        parse("[" * 1200 + "]" * 1200)


@pytest.mark.parametrize("text", ODD)
def test_odd_workflows_do_not_crash(tmp_path: Path, text: str) -> None:
    for rel in (".github/workflows/release.yml", ".gitlab-ci.yml"):
        target = tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    report = run_check(tmp_path, None)
    assert all(f.line >= 1 for f in report.findings)


def test_binary_and_huge_files(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "a.yml").write_bytes(b"\xff\xfe\x00jobs")
    (workflows / "b.yml").write_bytes(b"x: " + b"y" * 1_100_000)
    (tmp_path / ".gitlab-ci.yml").write_text("include: [.gitlab-ci.yml, x.yml]\n", encoding="utf-8")
    report = run_check(tmp_path, None)
    assert {(f.file, f.kind) for f in report.findings} == {
        (".github/workflows/a.yml", "invalid-yaml"),
        (".github/workflows/b.yml", "invalid-yaml"),
    }


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(alphabet=st.sampled_from(list("ab: -[]{}&*!|>\n'\"#$uvtwinepublish")), max_size=200))
def test_any_text(tmp_path: Path, text: str) -> None:
    target = tmp_path / ".gitlab-ci.yml"
    target.write_text(text, encoding="utf-8")
    run_check(tmp_path, None)
