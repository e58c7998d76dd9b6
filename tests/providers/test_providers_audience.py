"""A token for another audience (sigstore) from the detected provider, and the id-library fallback.

GitHub and Google are asked by the sandbox's imitations of their token endpoints (real
HTTP on 127.0.0.1); GitLab reads ``SIGSTORE_ID_TOKEN``; the fallback runs the real ``id``
library against a stand-in ``buildkite-agent`` executable on PATH.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers_sandbox import Sandbox
from trustpub._secret import forget_all, scrub
from trustpub.errors import IdentityError
from trustpub.oidc.claims import decode_unverified
from trustpub.providers import ambient, detect, google, token_for_audience


@pytest.fixture(autouse=True)
def _clean() -> None:
    forget_all()


def _aud(token: str) -> object:
    return decode_unverified(token).claims.get("aud")


def _jwt(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        raw = json.dumps(value).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2ln"


def test_github_asks_its_token_service_for_the_audience(sandbox: Sandbox) -> None:
    env = sandbox.job(provider="github", repository="octo/pkg")["env"]
    detection = detect(env, probe=False)
    assert detection is not None
    assert detection.provider == "github"
    with sandbox.client() as client:
        token = token_for_audience(detection, "sigstore", client)
        assert _aud(token.reveal()) == "sigstore"
        assert _aud(detection.fetch_token(sandbox.audience, client=client).reveal()) == (
            sandbox.audience
        )


def test_google_asks_the_metadata_server_for_the_audience(sandbox: Sandbox) -> None:
    env = sandbox.job(provider="google")["env"]
    detection = detect(env)
    assert detection is not None
    assert detection.provider == "google"
    assert _aud(token_for_audience(detection, "sigstore").reveal()) == "sigstore"


def test_gitlab_reads_the_audience_variable() -> None:
    env = {
        "GITLAB_CI": "true",
        "PYPI_ID_TOKEN": _jwt({"aud": "pypi"}),
        "SIGSTORE_ID_TOKEN": _jwt({"aud": "sigstore"}),
    }
    detection = detect(env, probe=False)
    assert detection is not None
    assert _aud(token_for_audience(detection, "sigstore").reveal()) == "sigstore"
    del env["SIGSTORE_ID_TOKEN"]
    detection = detect(env, probe=False)
    assert detection is not None
    with pytest.raises(IdentityError) as caught:
        token_for_audience(detection, "sigstore")
    assert caught.value.message == (
        "this GitLab CI/CD job has no ID token for audience 'sigstore' "
        "(SIGSTORE_ID_TOKEN is not set)"
    )
    assert caught.value.hint.endswith(
        "publish:\n  id_tokens:\n    SIGSTORE_ID_TOKEN:\n      aud: sigstore"
    )


def test_a_fixed_token_for_another_audience_is_refused() -> None:
    env = {"MY_TOKEN": _jwt({"aud": "pypi"})}
    detection = detect(env, oidc_token_env="MY_TOKEN")
    assert detection is not None
    with pytest.raises(IdentityError) as caught:
        token_for_audience(detection, "sigstore")
    assert caught.value.message == (
        "OIDC token from $MY_TOKEN holds a token for audience 'pypi', not 'sigstore'"
    )
    assert caught.value.anchor == "oidc-token-audience"


# ---------------------------------------------------------------------- the id fallback

_OWN_MARKERS = (
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "ACTIVESTATE_OIDC_TOKEN",
    "GCE_METADATA_HOST",
    "GCE_METADATA_IP",
    "GOOGLE_SERVICE_ACCOUNT_NAME",
    "K_SERVICE",
    "CLOUD_RUN_JOB",
    "FUNCTION_TARGET",
    "GAE_ENV",
    "CIRCLECI",
)


@pytest.fixture
def buildkite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Buildkite-like job: BUILDKITE=true and a ``buildkite-agent`` that mints for the audience."""
    for name in _OWN_MARKERS:
        monkeypatch.delenv(name, raising=False)
    # On a Google Cloud VM (some CI runners) Google would be detected first, from DMI.
    monkeypatch.setattr(google, "DMI_PRODUCT_NAME", tmp_path / "no-dmi")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    agent = bin_dir / "buildkite-agent"
    agent.write_text(
        f"#!{sys.executable}\n"
        "import base64, json, sys, time\n"
        "args = sys.argv[1:]\n"
        "if args[:2] != ['oidc', 'request-token'] or args[2] != '--audience':\n"
        "    print('bad arguments'); sys.exit(2)\n"
        "def part(v):\n"
        "    return base64.urlsafe_b64encode(json.dumps(v).encode()).rstrip(b'=').decode()\n"
        "now = int(time.time())\n"
        "claims = {'iss': 'https://agent.buildkite.com', 'aud': args[3], 'iat': now,\n"
        "          'exp': now + 300}\n"
        "print(part({'alg': 'RS256'}) + '.' + part(claims) + '.c2ln')\n",
        encoding="utf-8",
    )
    agent.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("BUILDKITE", "true")
    return agent


def test_a_ci_only_id_knows_is_detected_and_asked_through_id(buildkite: Path) -> None:
    detection = detect(probe=False)
    assert detection is not None
    assert detection.provider == ambient.NAME
    assert detection.description == "Buildkite (OIDC token via the id library)"
    assert _aud(detection.fetch_token("pypi").reveal()) == "pypi"
    assert _aud(token_for_audience(detection, "sigstore").reveal()) == "sigstore"


def test_claims_in_a_buildkite_job_gets_the_token_through_id(
    buildkite: Path, sandbox: Sandbox, tmp_path: Path
) -> None:
    # A real `trustpub claims` process: detection, the index's audience, the token via id.
    if _on_google_cloud():
        pytest.skip("a Google Cloud VM: the child process detects Google first")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "ACTIONS_", "GITLAB_", "CI_", "TRUSTPUB_", "GCE_"))
        and not k.endswith("_ID_TOKEN")
    }
    env.update(sandbox.env())
    command = [sys.executable, "-m", "trustpub", "claims", "-r", sandbox.upload_url, "--json"]
    result = subprocess.run(
        [*command, "--pyproject", str(tmp_path / "absent.toml")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    document = json.loads(result.stdout)
    assert document["source"] == "Buildkite (OIDC token via the id library)"
    assert document["audience"] == sandbox.audience
    assert document["issuer"] == "https://agent.buildkite.com"
    # PyPI would not accept Buildkite's issuer; on another index it is only a warning.
    assert [(f["id"], f["severity"]) for f in document["findings"]] == [
        ("unknown-issuer", "warning")
    ]
    assert result.returncode == 0, result.stderr


def test_the_fallback_only_reads_the_process_environment(buildkite: Path) -> None:
    # id reads os.environ; a mapping handed to detect() describes another job.
    assert detect(dict(os.environ), probe=False) is None


def test_an_id_failure_becomes_an_identity_error_without_secrets(buildkite: Path) -> None:
    leaked = _jwt({"aud": "leak"})
    buildkite.write_text(f"#!/bin/sh\necho 'agent failed, token {leaked}'\nexit 1\n")
    detection = detect(probe=False)
    assert detection is not None
    with pytest.raises(IdentityError) as caught:
        detection.fetch_token("pypi")
    assert caught.value.message.startswith(
        "the id library could not get an OIDC token for audience 'pypi': "
    )
    assert leaked not in caught.value.message
    assert leaked not in scrub(str(caught.value))


def _on_google_cloud() -> bool:
    try:
        product = Path("/sys/class/dmi/id/product_name").read_text(encoding="utf-8").strip()
    except OSError:
        return False
    return product in google.GOOGLE_PRODUCT_NAMES


def test_a_laptop_is_not_detected(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (*_OWN_MARKERS, "BUILDKITE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(google, "DMI_PRODUCT_NAME", tmp_path / "no-dmi")
    assert detect(probe=False) is None


# ---------------------------------------------------------------------- each source's own hints


def test_each_source_words_its_own_fixes() -> None:
    gitlab = detect({"GITLAB_CI": "true"}, probe=False)
    assert gitlab is not None
    assert gitlab.audience_hint("testpypi") == (
        "set the ID token's aud in .gitlab-ci.yml:\n"
        "publish:\n  id_tokens:\n    TESTPYPI_ID_TOKEN:\n      aud: testpypi"
    )
    assert gitlab.expired_hint == (
        "GitLab ID tokens expire with the job's timeout; publish earlier in the job "
        "or raise the job's timeout"
    )
    handed = detect({"T": _jwt({"aud": "pypi"})}, oidc_token_env="T")
    assert handed is not None
    assert handed.audience_hint("pypi") == "request the OIDC token for audience 'pypi'"
    assert handed.expired_hint == (
        "obtain the token just before running trustpub; check this machine's clock"
    )
    github = detect(
        {
            "GITHUB_ACTIONS": "true",
            "ACTIONS_ID_TOKEN_REQUEST_URL": "https://x.example/t",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token-canary-0123456789",
        },
        probe=False,
    )
    assert github is not None
    assert github.audience_hint("pypi") == (
        "the github token source ignored the audience 'pypi'; report this"
    )
    assert github.expired_hint == "check this machine's clock (NTP) and retry"
