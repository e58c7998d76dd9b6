"""`trustpub sandbox serve`: the ready line, TLS, options, and one-line startup errors."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from fixtures_dists import make_wheel
from helpers_sandbox import Sandbox, SandboxFactory, serve_command, start_sandbox


def run_serve(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = serve_command(tmp_path / "state", tmp_path / "ready.json", *args)
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def assert_one_line_error(result: subprocess.CompletedProcess[str], needle: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    assert needle in lines[0]
    assert any(line.startswith("hint: ") for line in lines[1:]), result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_ready_line_names_every_endpoint(sandbox: Sandbox) -> None:
    ready = json.loads((sandbox.state_dir / "ready.json").read_text())
    assert set(ready) >= {"url", "upload_url", "simple_url", "ca_cert", "audience", "metadata_host"}
    assert ready["url"].startswith("https://127.0.0.1:")
    assert ready["upload_url"] == ready["url"] + "/legacy/"
    assert ready["simple_url"] == ready["url"] + "/simple/"
    assert ready["audience"] == "trustpub-sandbox"
    assert Path(ready["ca_cert"]) == sandbox.state_dir.resolve() / "ca.pem"
    assert ready["metadata_host"].startswith("127.0.0.1:")
    assert sandbox.api_token.startswith("pypi-")


def test_ready_line_is_printed_once_on_stdout(tmp_path: Path) -> None:
    command = serve_command(tmp_path / "state", tmp_path / "ready.json")
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None
        line = process.stdout.readline()
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    printed = json.loads(line)
    assert printed == json.loads((tmp_path / "ready.json").read_text())
    assert rest == b""
    assert process.returncode == 0


def test_https_is_trusted_only_through_the_ca(sandbox: Sandbox) -> None:
    with httpx.Client() as plain, pytest.raises(httpx.ConnectError):
        plain.get(sandbox.url + "/simple/")
    with sandbox.client() as client:
        assert client.get("/simple/").status_code == 200


def test_audience_endpoint(sandbox: Sandbox) -> None:
    with sandbox.client() as client:
        response = client.get("/_/oidc/audience")
        assert response.status_code == 200
        assert response.json() == {"audience": "trustpub-sandbox"}
        refused = client.post("/_/oidc/audience")
        assert refused.status_code == 405
        assert "GET" in refused.headers["allow"]


def test_no_tls_custom_audience_and_sigterm(sandbox_factory: SandboxFactory) -> None:
    box: Sandbox = sandbox_factory("--audience", "other-aud", tls=False)
    assert box.url.startswith("http://127.0.0.1:")
    assert box.ca_cert is None
    with box.client() as client:
        assert client.get("/_/oidc/audience").json() == {"audience": "other-aud"}
    box.process.send_signal(signal.SIGTERM)
    assert box.process.wait(timeout=60) == 0


def test_disallow_all_turns_the_audience_off(sandbox_factory: SandboxFactory) -> None:
    box: Sandbox = sandbox_factory("--disallow-oidc", "all")
    with box.client() as client:
        response = client.get("/_/oidc/audience")
    assert response.status_code == 403
    assert response.json() == {"message": "Trusted publishing functionality not enabled"}


def test_config_file_sets_audience_and_publishers(sandbox_factory: SandboxFactory) -> None:
    config = """
audience = "from-config"
token_lifetime = 300

[[publishers]]
provider = "github"
repository = "octo/pkg"
workflow = "release.yml"
projects = ["pkg"]
"""
    box: Sandbox = sandbox_factory(config=config)
    assert box.audience == "from-config"
    with box.client() as client:
        listed = client.get("/_sandbox/publishers").json()["publishers"]
    assert [p["projects"] for p in listed] == [["pkg"]]


def test_state_dir_survives_a_restart(tmp_path: Path) -> None:
    pending = "provider=github,repository=octo/kept,workflow=release.yml,projects=kept,pending=true"
    first = start_sandbox(tmp_path / "state", publishers=[pending])
    try:
        assert first.ca_cert is not None
        pem = first.ca_cert.read_bytes()
        token = first.api_token
        minted = first.minted_token("github", repository="octo/kept")  # creates "kept"
        wheel = make_wheel(tmp_path / "dist", name="kept")
        assert first.upload(wheel, minted).status_code == 200
    finally:
        first.stop()
    again = start_sandbox(tmp_path / "state", publishers=[pending])
    try:
        assert again.ca_cert is not None
        assert again.ca_cert.read_bytes() == pem
        assert again.api_token == token
        with again.client() as client:
            assert wheel.name in client.get("/simple/kept/").text
            assert client.get(f"/files/kept/{wheel.name}").content == wheel.read_bytes()
        # the publisher was reified before the restart: a new job mints, no pending refusal
        assert again.mint(again.oidc_token("github", repository="octo/kept")).status_code == 200
    finally:
        again.stop()


def test_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        command = [*serve_command(tmp_path / "s", tmp_path / "r.json")[:-4], "--port", str(port)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert_one_line_error(result, f"cannot listen on 127.0.0.1:{port}")
    assert result.returncode == 2


def test_non_loopback_host_needs_allow_remote(tmp_path: Path) -> None:
    result = run_serve(tmp_path, "--host", "192.0.2.1")
    assert_one_line_error(result, "non-loopback host")


def test_unresolvable_host(tmp_path: Path) -> None:
    result = run_serve(tmp_path, "--host", "no-such-host.invalid", "--allow-remote")
    assert_one_line_error(result, "cannot resolve the host")


def test_malformed_config(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("audience = [unclosed\n")
    result = run_serve(tmp_path, "--config", str(config))
    assert_one_line_error(result, "is not valid TOML")


def test_unknown_config_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("audiense = 'x'\n")
    result = run_serve(tmp_path, "--config", str(config))
    assert_one_line_error(result, "unknown setting 'audiense'")


def test_unknown_provider_to_disallow(tmp_path: Path) -> None:
    result = run_serve(tmp_path, "--disallow-oidc", "circleci")
    assert_one_line_error(result, "unknown identity provider 'circleci'")


def test_unknown_provider_in_publisher(tmp_path: Path) -> None:
    result = run_serve(tmp_path, "--publisher", "provider=circleci,projects=x")
    assert_one_line_error(result, "circleci")


def test_serve_help_lists_the_interface() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "trustpub", "sandbox", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    for option in (
        "--state-dir",
        "--ready-file",
        "--audience",
        "--token-lifetime",
        "--fail-rate",
        "--cut-rate",
        "--seed",
        "--disallow-oidc",
        "--latency-ms",
        "--no-tls",
        "--publisher",
        "--config",
        "--allow-remote",
    ):
        assert option in result.stdout
