"""``trustpub sandbox env``: option handling, output formats, and the real command."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import jwt
import pytest

from helpers_env import env_arguments, run_sandbox_env, sandbox_env
from helpers_sandbox import Sandbox
from trustpub.cli.sandbox_env import build_job, render
from trustpub.errors import ExitCode, UsageError

# ---------------------------------------------------------------- units


def test_build_job_from_options() -> None:
    job = build_job(
        "github",
        {"repository": "o/r", "environment": None, "fork": False, "id_token": None},
        ("email_verified=false", 'aud=["a","b"]', "gone=", "note=plain text"),
    )
    assert job == {
        "provider": "github",
        "repository": "o/r",
        "claims": {"email_verified": False, "aud": ["a", "b"], "note": "plain text"},
        "remove_claims": ["gone"],
    }
    assert build_job("github", {"fork": True, "id_token": False}, ())["id_token"] is False
    # The last --claim for a key wins, whether it sets or deletes.
    assert build_job("gitlab", {}, ("x=1", "x="))["remove_claims"] == ["x"]
    assert build_job("gitlab", {}, ("x=", "x=1"))["claims"] == {"x": 1}


def test_build_job_refuses_unknown_provider_and_bad_claim() -> None:
    with pytest.raises(UsageError, match="unknown provider"):
        build_job("jenkins", {}, ())
    with pytest.raises(UsageError) as caught:
        build_job("github", {}, ("no-equals-sign",))
    assert "KEY= to delete" in caught.value.hint


TRICKY = {
    "PLAIN": "abc",
    "URL": "https://127.0.0.1:1/_sandbox/github/token?job=00&audience=x",
    "QUOTES": 'it\'s "quoted" $HOME `cmd` \\ end',
    "EMPTY": "",
    "SPACES": "two  spaces",
}


def test_render_shell_is_valid_shell(tmp_path: Path) -> None:
    script = tmp_path / "env.sh"
    script.write_text(render(TRICKY, "shell") + "\n", encoding="utf-8")
    names = " ".join(f'"${name}"' for name in TRICKY)
    out = subprocess.run(
        ["bash", "-c", f'source "$1" && printf "%s\\0" {names}', "bash", str(script)],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    ).stdout
    assert out.split("\0")[:-1] == list(TRICKY.values())


def test_render_json_and_dotenv() -> None:
    assert json.loads(render(TRICKY, "json")) == TRICKY
    lines = dict(line.split("=", 1) for line in render(TRICKY, "dotenv").splitlines())
    assert lines["PLAIN"] == "abc"
    assert lines["URL"] == TRICKY["URL"]
    assert lines["SPACES"] == "'two  spaces'"
    assert lines["QUOTES"] == '"it\'s \\"quoted\\" $HOME `cmd` \\\\ end"'


def test_env_arguments_maps_keywords_to_options() -> None:
    args = env_arguments(
        "github",
        repository="o/r",
        fork=True,
        id_token=True,
        claims={"repository_owner_id": "123"},
        remove_claims=["ref"],
    )
    assert args == [
        "--provider",
        "github",
        "--repository",
        "o/r",
        "--fork",
        "--id-token",
        "--claim",
        'repository_owner_id="123"',
        "--claim",
        "ref=",
    ]
    with pytest.raises(TypeError, match="colour"):
        env_arguments("github", colour="red")


# ---------------------------------------------------------------- the real command


def decode(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def test_shell_output_sources_in_bash(sandbox: Sandbox, tmp_path: Path) -> None:
    actor = "o'brien $HOME"
    result = run_sandbox_env(
        sandbox, "--provider", "gitlab", "--repository", "grp/sub/proj", "--actor", actor
    )
    assert result.returncode == 0, result.stderr
    assert all(line.startswith("export ") for line in result.stdout.splitlines())
    script = tmp_path / "env.sh"
    script.write_text(result.stdout, encoding="utf-8")
    read_back = subprocess.run(
        [
            "bash",
            "-c",
            'source "$1" && printf "%s\\0" "$GITLAB_CI" "$CI_PROJECT_PATH" '
            '"$GITLAB_USER_LOGIN" "$TRUSTPUB_SANDBOX_ID_TOKEN" "$SSL_CERT_FILE"',
            "bash",
            str(script),
        ],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    ).stdout.split("\0")
    assert read_back[:3] == ["true", "grp/sub/proj", actor]
    assert decode(read_back[3])["user_login"] == actor
    assert read_back[4] == str(sandbox.ca_cert)


def test_json_output_and_claim_overrides(sandbox: Sandbox) -> None:
    variables = sandbox_env(
        sandbox,
        "activestate",
        organization="acme",
        claims={"builder": "other-builder", "actor_id": "123"},
        remove_claims=["ingredient"],
    )
    tokens = [value for value in variables.values() if value.startswith("eyJ")]
    assert len(tokens) == 1
    claims = decode(tokens[0])
    assert claims["organization"] == "acme"
    assert claims["builder"] == "other-builder"
    assert claims["actor_id"] == "123"
    assert "ingredient" not in claims


def test_gitlab_audience_option(sandbox: Sandbox) -> None:
    result = run_sandbox_env(
        sandbox, "--provider", "gitlab", "--gitlab-aud", "testpypi", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    variables = json.loads(result.stdout)
    assert decode(variables["TESTPYPI_ID_TOKEN"])["aud"] == "testpypi"
    assert "TRUSTPUB_SANDBOX_ID_TOKEN" not in variables


def test_ready_file_and_env_url(sandbox: Sandbox, tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    ready.write_text(json.dumps(sandbox.ready) + "\n", encoding="utf-8")
    from_file = subprocess.run(
        [*_command(), "--ready-file", str(ready), "--provider", "github", "--format", "dotenv"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert from_file.returncode == 0, from_file.stderr
    assert "GITHUB_ACTIONS=true" in from_file.stdout.splitlines()
    from_env = subprocess.run(
        [*_command(), "--provider", "google", "--ca-cert", str(sandbox.ca_cert)],
        capture_output=True,
        text=True,
        check=False,
        env={"TRUSTPUB_SANDBOX_URL": sandbox.url, "PATH": "/usr/bin:/bin"},
    )
    assert from_env.returncode == 0, from_env.stderr
    assert f"export GCE_METADATA_HOST={sandbox.metadata_host}" in from_env.stdout.splitlines()


def _command() -> list[str]:
    return [sys.executable, "-m", "trustpub", "sandbox", "env"]


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ")
    assert text in lines[0]
    assert any(line.startswith("hint: ") for line in lines[1:])
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_errors_are_one_line_with_a_hint(sandbox: Sandbox) -> None:
    assert_one_line_error(
        run_sandbox_env(sandbox, "--provider", "travis"), ExitCode.USAGE, "unknown provider"
    )
    assert_one_line_error(
        run_sandbox_env(sandbox, "--provider", "github", "--claim", "nothing"),
        ExitCode.USAGE,
        "--claim expects KEY=VALUE",
    )
    assert_one_line_error(
        run_sandbox_env(sandbox, "--provider", "github", "--email", "a@b.c"),
        ExitCode.USAGE,
        "'email' does not apply to provider github",
    )
    no_url = subprocess.run(
        [*_command(), "--provider", "github"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert_one_line_error(no_url, ExitCode.USAGE, "no sandbox URL")


def test_unreachable_and_untrusted_sandbox(sandbox: Sandbox, unused_port: int) -> None:
    closed = subprocess.run(
        [*_command(), "--url", f"https://127.0.0.1:{unused_port}", "--provider", "github"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert_one_line_error(closed, ExitCode.NETWORK, "could not connect")
    untrusted = run_sandbox_env(sandbox, "--provider", "github", use_ca=False)
    assert_one_line_error(untrusted, ExitCode.NETWORK, "TLS certificate verification failed")
    assert "--ca-cert" in untrusted.stderr


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
