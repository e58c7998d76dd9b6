"""``trustpub publish`` command line: options, env vars, mode errors, JSON and CI output.

These run in-process with click's CliRunner, in a clean environment (no CI
variables, a keyring backend that has nothing), on distributions built by
``fixtures_dists``. Nothing here needs a server: every case stops before the
network (the end-to-end tests in tests/e2e/ cover real uploads).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from fixtures_dists import make_release, make_wheel
from helpers_sandbox import Sandbox
from trustpub._secret import forget_all
from trustpub.cli import cli
from trustpub.errors import ExitCode

_CI_PREFIXES = ("GITHUB_", "ACTIONS_", "GITLAB_", "CI_", "TRUSTPUB_", "RUNNER_", "BUILDKITE")
_CI_NAMES = (
    "CI",
    "GCE_METADATA_HOST",
    "GCE_METADATA_IP",
    "GOOGLE_SERVICE_ACCOUNT_NAME",
    "ACTIVESTATE_OIDC_TOKEN",
    "PYPI_ID_TOKEN",
    "TESTPYPI_ID_TOKEN",
)

CANARY = "pypi-AgEIcHlwaS5vcmcCanaryTokenThatMustNeverBePrinted0123"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No CI here, an empty keyring, and a project directory as the cwd."""
    for name in list(os.environ):
        if name.startswith(_CI_PREFIXES) or name in _CI_NAMES or name.endswith("_ID_TOKEN"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    forget_all()
    yield project
    forget_all()


@pytest.fixture
def dist(clean_env: Path) -> Path:
    make_release(clean_env / "dist")
    return clean_env / "dist"


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["publish", *args], env=env, catch_exceptions=False)


def assert_clean_failure(result: Result, code: ExitCode, message: str) -> None:
    assert result.exit_code == int(code), result.output
    assert f"error: {message}" in result.stderr
    assert "Traceback" not in result.output


def test_help_lists_every_option_with_its_env_var() -> None:
    result = run("--help")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for option, envvar in [
        ("--repository", "TRUSTPUB_REPOSITORY"),
        ("--trusted-publishing", "TRUSTPUB_TRUSTED_PUBLISHING"),
        ("--token", "TRUSTPUB_TOKEN"),
        ("--keyring", "TRUSTPUB_KEYRING"),
        ("--skip-existing", "TRUSTPUB_SKIP_EXISTING"),
        ("--attestations", "TRUSTPUB_ATTESTATIONS"),
        ("--check", "TRUSTPUB_CHECK"),
        ("--jobs", "TRUSTPUB_JOBS"),
        ("--dry-run", "TRUSTPUB_DRY_RUN"),
        ("--json", "TRUSTPUB_JSON"),
        ("--oidc-token-env", "TRUSTPUB_OIDC_TOKEN_ENV"),
        ("--expect", "TRUSTPUB_EXPECT"),
        ("--verbose", "TRUSTPUB_VERBOSE"),
        ("--quiet", "TRUSTPUB_QUIET"),
    ]:
        assert option in text
        assert envvar in text


def test_always_outside_ci_fails_clearly(dist: Path) -> None:
    result = run("--trusted-publishing", "always")
    assert_clean_failure(
        result, ExitCode.IDENTITY, "no trusted-publishing identity in this environment"
    )
    hint = result.stderr.split("hint:", 1)[1]
    for name in ("GitHub Actions", "GitLab", "Google Cloud", "ActiveState", "--oidc-token-env"):
        assert name in hint


def test_always_from_the_environment(dist: Path) -> None:
    result = run(env={"TRUSTPUB_TRUSTED_PUBLISHING": "always"})
    assert_clean_failure(
        result, ExitCode.IDENTITY, "no trusted-publishing identity in this environment"
    )


def test_never_without_token_explains_the_options(dist: Path) -> None:
    result = run("--trusted-publishing", "never")
    assert_clean_failure(result, ExitCode.IDENTITY, "no API token for --trusted-publishing never")
    assert "--token" in result.stderr
    assert "keyring (service https://upload.pypi.org/legacy/, user __token__)" in result.stderr


def test_never_without_keyring_does_not_mention_it(dist: Path) -> None:
    result = run("--trusted-publishing", "never", "--no-keyring")
    assert_clean_failure(result, ExitCode.IDENTITY, "no API token for --trusted-publishing never")
    assert "keyring" not in result.stderr


def test_auto_on_a_laptop_without_token(dist: Path) -> None:
    result = run("-r", "testpypi")
    assert_clean_failure(
        result,
        ExitCode.IDENTITY,
        "no credentials: not in a trusted-publishing CI job, and no API token given",
    )
    assert "https://test.pypi.org/legacy/" in result.stderr


def test_token_with_always_is_a_usage_error(dist: Path) -> None:
    result = run("--trusted-publishing", "always", "--token", CANARY)
    assert_clean_failure(
        result, ExitCode.USAGE, "--token cannot be combined with --trusted-publishing always"
    )
    assert CANARY not in result.output
    assert CANARY[5:] not in result.output


def test_unknown_repository(dist: Path) -> None:
    result = run("-r", "warehouse")
    assert_clean_failure(result, ExitCode.USAGE, "unknown repository 'warehouse'")


def test_repository_from_the_environment(dist: Path) -> None:
    result = run(env={"TRUSTPUB_REPOSITORY": "http://example.org/legacy/"})
    assert_clean_failure(result, ExitCode.USAGE, "refusing plain http for example.org")


def test_bad_jobs_value_is_rejected_by_click(dist: Path) -> None:
    result = run("--jobs", "0")
    assert result.exit_code == 2
    assert "--jobs" in result.output


def test_bad_mode_value(dist: Path) -> None:
    result = run("--trusted-publishing", "sometimes")
    assert result.exit_code == 2
    assert "'sometimes' is not one of" in result.output


def test_nothing_to_upload(clean_env: Path) -> None:
    result = run()
    assert result.exit_code == int(ExitCode.INVALID_DIST), result.output
    assert "Traceback" not in result.output


def test_invalid_distribution_stops_before_identity(clean_env: Path) -> None:
    make_wheel(clean_env / "dist", meta_name="other-pkg")
    # Even `always` outside CI reports the broken file: validation comes first.
    result = run("--trusted-publishing", "always")
    assert result.exit_code == int(ExitCode.INVALID_DIST), result.output
    assert "trusted-publishing identity" not in result.output


def test_json_error_document(dist: Path) -> None:
    result = run("--trusted-publishing", "never", "--json")
    assert result.exit_code == int(ExitCode.IDENTITY)
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert document["trusted_publishing"] is False
    assert document["provider"] is None
    assert [entry["status"] for entry in document["files"]] == ["not-attempted"] * 2
    assert {entry["filename"] for entry in document["files"]} == {
        "example_pkg-1.0.0-py3-none-any.whl",
        "example_pkg-1.0.0.tar.gz",
    }
    assert set(document["files"][0]) == {
        "filename",
        "size",
        "sha256",
        "status",
        "url",
        "message",
        "attestation",
    }
    assert document["project_url"] == "https://pypi.org/project/example-pkg/"
    assert document["release_url"] == "https://pypi.org/project/example-pkg/1.0.0/"
    error = document["error"]
    assert error["message"] == "no API token for --trusted-publishing never"
    assert error["hint"].startswith("give an API token via --token")
    assert error["code"] == "no-credentials"
    assert error["exit_code"] == int(ExitCode.IDENTITY)
    assert set(document) >= {
        "repository",
        "trusted_publishing",
        "provider",
        "files",
        "project_url",
        "release_url",
        "ok",
        "error",
    }


def test_json_for_an_invalid_distribution(clean_env: Path) -> None:
    make_wheel(clean_env / "dist", corrupt=True)
    result = run("--json", env={"TRUSTPUB_REPOSITORY": "testpypi"})
    assert result.exit_code == int(ExitCode.INVALID_DIST)
    document = json.loads(result.stdout)
    assert document["repository"] == "testpypi"
    assert document["files"] == []
    assert document["project_url"] is None
    assert document["error"]["exit_code"] == int(ExitCode.INVALID_DIST)


def test_github_failure_writes_outputs_summary_and_annotation(dist: Path, tmp_path: Path) -> None:
    output = tmp_path / "github_output"
    summary = tmp_path / "step_summary.md"
    output.touch()
    summary.touch()
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    result = run("--trusted-publishing", "never", "--token", "", env=env)
    assert result.exit_code == int(ExitCode.IDENTITY)
    assert "::error title=trustpub publish::no API token for --trusted-publishing never" in (
        result.stdout
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    files = json.loads(outputs["files"])
    assert [entry["status"] for entry in files] == ["not-attempted", "not-attempted"]
    assert outputs["trusted-publishing"] == "false"
    assert outputs["project-url"] == ""
    assert outputs["release-url"] == ""
    text = summary.read_text()
    assert "trustpub publish: failed" in text
    assert "no API token for --trusted-publishing never" in text


def test_github_masks_a_token_once(dist: Path, sandbox: Sandbox) -> None:
    """The --token is masked when parsed; the core handing it back adds no second line."""
    token = sandbox.api_token
    env = {"GITHUB_ACTIONS": "true", **sandbox.env()}
    result = run("--dry-run", "-r", sandbox.upload_url, "--token", token, env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.count(f"::add-mask::{token}") == 1, result.stdout
    assert result.stdout.startswith(f"::add-mask::{token}\n")


def test_json_keeps_workflow_commands_off_stdout(dist: Path, tmp_path: Path) -> None:
    env = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(tmp_path / "out")}
    result = run("--trusted-publishing", "never", "--json", env=env)
    json.loads(result.stdout)  # the whole of stdout is one document
    assert "::error" in result.stderr


def test_gitlab_sections_wrap_the_run(dist: Path) -> None:
    result = run("--trusted-publishing", "never", env={"GITLAB_CI": "true"})
    assert "section_start:" in result.stdout
    assert "section_end:" in result.stdout
    # The diagnosis is outside (after) the collapsed section.
    assert result.stderr.index("error: no API token") >= 0


def test_expect_syntax_error_is_a_usage_error(dist: Path) -> None:
    result = run("--expect", "nonsense", "--oidc-token-env", "MY_TOKEN", env={"MY_TOKEN": "x.y.z"})
    assert_clean_failure(result, ExitCode.USAGE, "--expect: expected KEY=VALUE, got 'nonsense'")


def test_ctrl_c_before_the_upload(dist: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import trustpub.publish

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(trustpub.publish, "publish", interrupted)
    result = run("--json")
    assert result.exit_code == int(ExitCode.INTERRUPTED)
    assert "error: interrupted before the upload started; nothing was uploaded" in result.stderr
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert document["error"]["exit_code"] == int(ExitCode.INTERRUPTED)


def test_oidc_token_env_with_never_is_a_usage_error(dist: Path) -> None:
    result = run("--trusted-publishing", "never", "--oidc-token-env", "MY_TOKEN")
    assert_clean_failure(
        result,
        ExitCode.USAGE,
        "--oidc-token-env cannot be combined with --trusted-publishing never",
    )


def test_attest_json_error_without_a_ci_identity(dist: Path) -> None:
    """``attest --json`` outside CI: the diagnosis on stderr, one document on stdout."""
    result = CliRunner().invoke(cli, ["attest", "--json"], env={}, catch_exceptions=False)
    assert result.exit_code == int(ExitCode.IDENTITY)
    message = "no CI identity to sign with: attestations are signed with the job's OIDC identity"
    assert f"error: {message}" in result.stderr
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert document["files"] == []
    assert document["error"]["message"] == message
    assert document["error"]["exit_code"] == int(ExitCode.IDENTITY)
    assert document["error"]["anchor"] == "attestations-not-possible"
