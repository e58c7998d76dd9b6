"""Unit tests of the local action runner (tests/helpers_actions.py) on tiny actions."""

from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from helpers_actions import (
    HarnessError,
    as_string,
    condition,
    evaluate,
    interpolate,
    parse_commands,
    parse_key_values,
    repack_wheel,
    requirement_closure,
    resolve_gitlab_job,
    run_action,
    run_gitlab_job,
)

CONTEXTS: dict[str, Any] = {
    "inputs": {"password": "", "user": "__token__", "jobs": "4"},
    "github": {"action_path": "/actions/trustpub", "event_name": "release"},
    "env": {"HOME": "/home/runner"},
    "steps": {"find": {"outputs": {"python": "/usr/bin/python3"}}},
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("inputs.user", "__token__"),
        ("github.action_path", "/actions/trustpub"),
        ("env.HOME", "/home/runner"),
        ("steps.find.outputs.python", "/usr/bin/python3"),
        ("steps.missing.outputs.python", None),
        ("inputs.password || 'fallback'", "fallback"),
        ("inputs.user || 'fallback'", "__token__"),
        ("steps.find.outputs.python == ''", False),
        ("steps.missing.outputs.python == null", True),
        ("inputs.password == ''", True),
        ("inputs.user == '__TOKEN__'", True),  # string comparison ignores case
        ("inputs.user != 'x' && inputs.jobs", "4"),
        ("!inputs.password", True),
        ("(inputs.password || inputs.user) == '__token__'", True),
        ("'it''s'", "it's"),
        ("true && false", False),
        ("3", 3.0),
    ],
)
def test_evaluate(expression: str, expected: object) -> None:
    assert evaluate(expression, CONTEXTS) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "runner.os",  # a context the action must not use
        "success()",  # functions are not implemented
        "inputs",  # a whole object
        "inputs.user ==",
        "inputs.user = 'x'",
        "(inputs.user",
        "format('{0}', inputs.user)",
    ],
)
def test_unsupported_expressions_fail_loudly(expression: str) -> None:
    with pytest.raises(HarnessError):
        evaluate(expression, CONTEXTS)


def test_interpolate_and_condition() -> None:
    assert (
        interpolate("python=${{ steps.find.outputs.python }}!", CONTEXTS)
        == "python=/usr/bin/python3!"
    )
    assert interpolate("${{ steps.nope.outputs.x }}", CONTEXTS) == ""
    assert condition("steps.find.outputs.python != ''", CONTEXTS) is True
    assert condition("${{ inputs.password != '' }}", CONTEXTS) is False
    assert as_string(True) == "true"
    assert as_string(4.0) == "4"


def test_parse_key_values_with_heredoc() -> None:
    text = 'a=1\nfiles<<EOF_x\n[\n  {"f": 1}\n]\nEOF_x\nb=x=y\n'
    assert parse_key_values(text) == {"a": "1", "files": '[\n  {"f": 1}\n]', "b": "x=y"}
    with pytest.raises(HarnessError):
        parse_key_values("k<<END\nnever closed\n")
    with pytest.raises(HarnessError):
        parse_key_values("no separator\n")


def test_parse_commands() -> None:
    annotations, masks = parse_commands(
        "plain\n::add-mask::s3cr3t\n::error title=a%3A b%2C c,file=x::bad%0Asecond line\n::warning::w\n"
    )
    assert masks == ["s3cr3t"]
    assert [(a.level, a.message) for a in annotations] == [
        ("error", "bad\nsecond line"),
        ("warning", "w"),
    ]
    assert annotations[0].properties == {"title": "a: b, c", "file": "x"}


def _write_action(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "action.yml").write_text(text, encoding="utf-8")
    return directory


TINY_ACTION = """
name: tiny
description: a test action
inputs:
  greeting:
    description: what to say
    default: hello
  fail:
    description: fail in the second step
    default: "false"
outputs:
  said:
    description: what was said
    value: ${{ steps.say.outputs.said }}
  python:
    description: python from the stand-in
    value: ${{ steps.setup.outputs.python-path }}
runs:
  using: composite
  steps:
    - id: say
      shell: bash
      env:
        GREETING: ${{ inputs.greeting }}
        WHERE: ${{ github.action_path }}
      run: |
        echo "said<<END" >> "$GITHUB_OUTPUT"
        printf '%s\\nfrom %s\\n' "$GREETING" "$(basename "$WHERE")" >> "$GITHUB_OUTPUT"
        echo "END" >> "$GITHUB_OUTPUT"
        echo "EXPORTED=yes" >> "$GITHUB_ENV"
        mkdir -p "$RUNNER_TEMP/bin"
        printf '#!/bin/sh\\necho tool-ran\\n' > "$RUNNER_TEMP/bin/mytool"
        chmod +x "$RUNNER_TEMP/bin/mytool"
        echo "$RUNNER_TEMP/bin" >> "$GITHUB_PATH"
        echo "::add-mask::hidden-value"
        echo "## Summary" >> "$GITHUB_STEP_SUMMARY"
    - id: check
      shell: bash
      env:
        FAIL: ${{ inputs.fail }}
      run: |
        test "$EXPORTED" = yes
        mytool
        if [ "$FAIL" = true ]; then echo "::error title=tiny::it failed"; exit 3; fi
    - id: setup
      if: steps.say.outputs.said != ''
      uses: actions/setup-python@0123456789012345678901234567890123456789
      with:
        python-version: ${{ inputs.greeting }}
    - id: never
      if: steps.say.outputs.said == ''
      shell: bash
      run: exit 1
"""


def _env() -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}


def test_run_action_end_to_end(tmp_path: Path) -> None:
    action_dir = _write_action(tmp_path / "tiny-action", TINY_ACTION)
    seen: dict[str, Any] = {}

    def stand_in(with_inputs: Any, env: Any) -> dict[str, str]:
        seen.update(with_inputs)
        return {"python-path": sys.executable}

    run = run_action(
        action_dir,
        inputs={"greeting": "hi there"},
        env=_env(),
        workspace=tmp_path,
        runner_dir=tmp_path / "runner",
        stand_ins={"actions/setup-python": stand_in},
    )
    assert run.ok, run.stderr
    assert run.outputs == {"said": "hi there\nfrom tiny-action", "python": sys.executable}
    assert seen == {"python-version": "hi there"}
    assert "tool-ran" in run.step("check").stdout
    assert run.step("never").skipped
    assert run.step("setup").stand_in
    assert run.masks == ["hidden-value"]
    assert run.summary == "## Summary\n"
    assert run.env == {"EXPORTED": "yes"}


def test_failed_step_skips_the_rest_and_records_the_annotation(tmp_path: Path) -> None:
    action_dir = _write_action(tmp_path / "a", TINY_ACTION)
    run = run_action(
        action_dir,
        inputs={"fail": "true"},
        env=_env(),
        workspace=tmp_path,
        runner_dir=tmp_path / "runner",
    )
    assert not run.ok
    assert run.step("check").returncode == 3
    assert run.step("setup").skipped
    assert [(a.level, a.message) for a in run.annotations] == [("error", "it failed")]
    assert run.outputs["python"] == ""


def test_undeclared_input_and_missing_stand_in_fail_loudly(tmp_path: Path) -> None:
    action_dir = _write_action(tmp_path / "a", TINY_ACTION)
    with pytest.raises(HarnessError, match="not declared"):
        run_action(
            action_dir,
            inputs={"nope": "1"},
            env=_env(),
            workspace=tmp_path,
            runner_dir=tmp_path / "r",
        )
    with pytest.raises(HarnessError, match="no stand-in"):
        run_action(
            action_dir, env=_env(), workspace=tmp_path, runner_dir=tmp_path / "r", stand_ins={}
        )


def test_expression_inside_run_is_refused(tmp_path: Path) -> None:
    action_dir = _write_action(
        tmp_path / "a",
        """
name: bad
description: injects an input into a script
inputs:
  x:
    description: x
runs:
  using: composite
  steps:
    - shell: bash
      run: echo "${{ inputs.x }}"
""",
    )
    with pytest.raises(HarnessError, match="inside `run:`"):
        run_action(action_dir, env=_env(), workspace=tmp_path, runner_dir=tmp_path / "r")


GITLAB = """
.base:
  stage: deploy
  image: python:3.13-slim
  variables:
    A: from-base
    B: base
  script:
    - echo "A=$A B=$B TOKEN=$MY_ID_TOKEN CI=$GITLAB_CI"
    - test "$B" != fail
.job:
  extends: .base
  id_tokens:
    MY_ID_TOKEN:
      aud: my-audience
  variables:
    B: job
"""


def test_gitlab_extends_variables_and_id_tokens(tmp_path: Path) -> None:
    template = tmp_path / "ci.yml"
    template.write_text(GITLAB, encoding="utf-8")
    job = resolve_gitlab_job(
        {"x": {"variables": {"a": 1}}, "y": {"extends": "x", "variables": {"b": 2}}}, "y"
    )
    assert job == {"variables": {"a": 1, "b": 2}}
    run = run_gitlab_job(
        template, ".job", env=_env(), workdir=tmp_path, id_token=lambda aud: f"token-for-{aud}"
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "A=from-base B=job TOKEN=token-for-my-audience CI=true"
    failing = run_gitlab_job(
        template, ".job", env=_env(), workdir=tmp_path, id_token=str, variables={"B": "fail"}
    )
    assert failing.returncode != 0
    with pytest.raises(HarnessError, match="no job"):
        run_gitlab_job(template, ".nope", env=_env(), workdir=tmp_path, id_token=str)


def test_repack_wheel_round_trip(tmp_path: Path) -> None:
    closure = {dist.metadata["Name"].lower() for dist in requirement_closure(["click>=8"])}
    assert "click" in closure
    [click] = [d for d in requirement_closure(["click"]) if d.metadata["Name"].lower() == "click"]
    wheel = repack_wheel(click, tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        record = archive.read(next(n for n in names if n.endswith(".dist-info/RECORD"))).decode()
    assert "click/__init__.py" in names
    assert any(name.endswith(".dist-info/METADATA") for name in names)
    assert "click/__init__.py,sha256=" in record
    with pytest.raises(HarnessError, match="not installed"):
        requirement_closure(["surely-not-installed-package-xyz"])
