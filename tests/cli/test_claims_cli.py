"""`trustpub claims --token-file`: text and JSON output, exit codes, and the token never shown."""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from trustpub._secret import forget_all
from trustpub.cli import cli
from trustpub.cli.claims import render_plain, report_document
from trustpub.inspection import inspect_token
from trustpub.oidc.claims import decode_unverified
from trustpub.repository import resolve_repository

CI_VARIABLES = (
    "GITHUB_ACTIONS",
    "GITHUB_EVENT_NAME",
    "GITHUB_EVENT_PATH",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "GITLAB_CI",
    "CI_SERVER_URL",
    "PYPI_ID_TOKEN",
    "TESTPYPI_ID_TOKEN",
    "ACTIVESTATE_OIDC_TOKEN",
    "GCE_METADATA_HOST",
    "GCE_METADATA_IP",
    "GOOGLE_SERVICE_ACCOUNT_NAME",
    "TRUSTPUB_REPOSITORY",
    "TRUSTPUB_OIDC_TOKEN_ENV",
    "TRUSTPUB_VERBOSE",
    "TRUSTPUB_QUIET",
    "TRUSTPUB_LOGLEVEL",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    forget_all()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


SIGNATURE = _b64(b"CANARY-signature-bytes-that-must-never-be-printed")


def make_token(**changes: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "https://token.actions.githubusercontent.com",
        "aud": "pypi",
        "sub": "repo:octo/pkg:environment:pypi",
        "iat": now - 5,
        "nbf": now - 600,
        "exp": now + 295,
        "jti": "jti-canary-0001",
        "repository": "octo/pkg",
        "repository_owner": "octo",
        "repository_owner_id": "1001",
        "job_workflow_ref": "octo/pkg/.github/workflows/release.yml@refs/tags/v1.0",
        "workflow_ref": "octo/pkg/.github/workflows/release.yml@refs/tags/v1.0",
        "ref": "refs/tags/v1.0",
        "sha": "abc123",
        "event_name": "push",
        "environment": "pypi",
        "runner_environment": "github-hosted",
    }
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    header = {"alg": "RS256", "kid": "canary-kid", "typ": "JWT"}
    return ".".join(
        (_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()), SIGNATURE)
    )


def write_token(path: Path, token: str) -> str:
    path.write_text(token + "\n")
    return str(path)


def assert_never_shown(token: str, text: str) -> None:
    assert token not in text
    for piece in token.split("."):
        assert piece not in text
    assert "CANARY-signature" not in text


def invoke(*args: str, input_text: str | None = None) -> Any:
    return CliRunner().invoke(cli, ["claims", *args], input=input_text)


def test_text_output_for_a_clean_token(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "My_Pkg"\n')
    token = make_token()
    result = invoke("--token-file", write_token(tmp_path / "t.jwt", token))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "decoded WITHOUT verifying the signature" in out
    assert "  provider: github" in out
    assert "  issuer: https://token.actions.githubusercontent.com" in out
    assert "  audience: pypi (index pypi expects pypi)" in out
    assert re.search(r"^  validity: expires in \d+ s$", out, re.MULTILINE)
    assert "Claims PyPI checks (for debugging only, do not copy into configuration blindly):" in out
    assert "  job_workflow_ref: octo/pkg/.github/workflows/release.yml@refs/tags/v1.0" in out
    assert "  Owner: octo\n  Repository name: pkg\n  Workflow name: release.yml\n" in out
    assert "  Environment name (optional): pypi" in out
    assert (
        "  pypi-project: https://pypi.org/manage/project/my-pkg/settings/publishing/?provider=github"
        in out
    )
    assert "  testpypi-pending: https://test.pypi.org/manage/account/publishing/\n" in out
    assert "the pending-publisher page is not pre-filled" in out
    assert "Preflight: no findings" in out
    assert out.rstrip().endswith("Result: nothing blocks publishing")
    assert_never_shown(token, out)


def test_missing_claims_are_marked(tmp_path: Path) -> None:
    token = make_token(environment=None, sub=None)
    result = invoke("--token-file", write_token(tmp_path / "t.jwt", token))
    assert result.exit_code == 0, result.output
    assert "  environment: MISSING" in result.output
    assert "  sub: MISSING" in result.output
    assert "  Environment name (optional): (leave empty)" in result.output
    assert "INFO [no-environment]" in result.output


def test_declared_publisher_mismatch_exits_1(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.trustpub.publisher]\nprovider = "github"\nrepository = "octo/pkg"\n'
        'workflow = "publish.yml"\n'
    )
    token = make_token()
    result = invoke("--token-file", write_token(tmp_path / "t.jwt", token))
    assert result.exit_code == 1
    out = result.output
    assert (
        "Declared publisher GitHub octo/pkg publish.yml: DOES NOT MATCH "
        "(Publisher with matching claims was not found)"
    ) in out
    assert "  [MISMATCH] job_workflow_ref: expected publish.yml, token has release.yml" in out
    assert (
        "      fix: the job runs workflow file 'release.yml': set the publisher's workflow to "
        "'release.yml', or publish from 'publish.yml'"
    ) in out
    assert "Result: publishing would fail" in out
    fixed = invoke("--token-file", str(tmp_path / "t.jwt"), "--expect", "workflow=release.yml")
    assert fixed.exit_code == 0, fixed.output
    assert "Declared publisher GitHub octo/pkg release.yml: MATCHES" in fixed.output


def test_expect_without_declared_publisher_uses_the_token_provider(tmp_path: Path) -> None:
    token = make_token()
    result = invoke(
        "--token-file",
        write_token(tmp_path / "t.jwt", token),
        "--expect",
        "repository=octo/pkg",
        "--expect",
        "workflow=release.yml",
        "--expect",
        "environment=staging",
    )
    assert result.exit_code == 1
    assert "  [MISMATCH] environment: expected staging, token has pypi" in result.output


def test_json_document(tmp_path: Path) -> None:
    token = make_token(aud="pypi")
    result = invoke(
        "--token-file", write_token(tmp_path / "t.jwt", token), "-r", "testpypi", "--json"
    )
    assert result.exit_code == 1
    document = json.loads(result.output)
    assert document["verified"] is False
    assert document["provider"] == "github"
    assert document["repository"] == "testpypi"
    assert document["expected_audience"] == "testpypi"
    assert document["audience"] == "pypi"
    assert document["validity"]["expired"] is False
    assert document["claims"]["repository_owner_id"] == "1001"
    assert document["missing_claims"] == []
    assert document["publisher_to_configure"][0] == {
        "field": "owner",
        "label": "Owner",
        "value": "octo",
        "optional": False,
    }
    assert document["findings"] == [
        {
            "id": "oidc-token-audience",
            "severity": "blocker",
            "message": "the token's audience is 'pypi' but the index expects 'testpypi'",
            "fix": "request the token for audience 'testpypi' (pypi for PyPI, testpypi for TestPyPI)",
        }
    ]
    assert document["ok"] is False
    assert document["declared"] is None
    assert_never_shown(token, result.output)


def test_json_ok_and_declared(tmp_path: Path) -> None:
    token = make_token()
    result = invoke(
        "--token-file",
        write_token(tmp_path / "t.jwt", token),
        "--json",
        "--expect",
        "provider=github",
        "--expect",
        "repository=octo/pkg",
        "--expect",
        "workflow=release.yml",
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["ok"] is True
    assert document["declared"]["ok"] is True
    assert document["declared"]["publisher"] == {
        "provider": "github",
        "repository": "octo/pkg",
        "workflow": "release.yml",
    }
    fields = {check["field"] for check in document["declared"]["checks"]}
    assert {"repository", "job_workflow_ref", "repository_owner_id", "environment"} <= fields


def test_expired_token_blocks(tmp_path: Path) -> None:
    token = make_token(exp=int(time.time()) - 100, iat=int(time.time()) - 400)
    result = invoke("--token-file", write_token(tmp_path / "t.jwt", token))
    assert result.exit_code == 1
    assert re.search(r"^  validity: EXPIRED \d+ s ago$", result.output, re.MULTILINE)
    assert re.search(r"BLOCKER \[oidc-token-expired\] the token expired \d+ s ago", result.output)


def test_token_from_stdin(tmp_path: Path) -> None:
    token = make_token(
        iss="https://gitlab.com",
        project_path="group/pkg",
        ci_config_ref_uri="gitlab.com/group/pkg//.gitlab-ci.yml@refs/tags/v1.0",
        ref_path="refs/tags/v1.0",
        environment="release",
    )
    result = invoke("--token-file", "-", input_text=token + "\n")
    assert result.exit_code == 0, result.output
    assert "  provider: gitlab" in result.output
    assert (
        "  Namespace: group\n  Project name: pkg\n  Top-level pipeline file path: .gitlab-ci.yml"
        in result.output
    )
    assert_never_shown(token, result.output)


def test_malformed_token_file_exits_4_without_echo(tmp_path: Path) -> None:
    secret = "CANARYnotajwtCANARYnotajwt"
    result = invoke("--token-file", write_token(tmp_path / "t.jwt", secret))
    assert result.exit_code == 4
    assert "the OIDC token has 1 dot-separated part(s), a JWT has 3" in result.output
    assert secret not in result.output
    missing = invoke("--token-file", str(tmp_path / "absent.jwt"))
    assert missing.exit_code == 4
    assert "cannot read the token file" in missing.output


def test_no_identity_outside_ci_exits_1() -> None:
    result = invoke("--json")
    assert result.exit_code == 1
    document = json.loads(result.output)
    assert [f["id"] for f in document["findings"]] == ["no-trusted-publishing-identity"]
    assert document["claims"] is None


def test_no_identity_outside_ci_says_nothing_was_decoded() -> None:
    """Issue 16: no token means no "decoded WITHOUT verifying" and no "provider: unknown"."""
    result = invoke()
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "OIDC token: none obtained (see Preflight below)"
    assert "WITHOUT" not in result.output
    assert "--token-file" not in lines[0]
    assert "provider:" not in result.output
    assert json.loads(invoke("--json").output)["source"] is None


def test_help_names_every_exit_code() -> None:
    """Issue 16: a malformed token exits 4, as the README says; --help says so too."""
    text = " ".join(invoke("--help").output.split())
    assert "Exit status: 0 when nothing blocks publishing, 1 when something does" in text
    assert "2 for a bad command line or configuration, 4 for a malformed token" in text


def test_github_without_permission_is_a_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "push")
    result = invoke()
    assert result.exit_code == 1
    assert result.output.count("BLOCKER [github-missing-id-token-permission]") == 1
    assert "id-token: write" in result.output


def test_on_github_the_token_is_masked_first_and_shown_nowhere_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", "https://127.0.0.1:9/token?x=1")
    token = make_token()
    result = invoke("--token-file", write_token(tmp_path / "t.jwt", token))
    lines = result.output.splitlines()
    assert lines[0] == f"::add-mask::{token}"
    assert_never_shown(token, "\n".join(lines[1:]))


def test_report_renderer_never_holds_the_token() -> None:
    # Without the CLI's scrubbing safety net: the report itself must not carry the token.
    forget_all()
    token = make_token()
    decoded = decode_unverified(token)
    report = inspect_token(
        decoded,
        source="--token-file",
        detected_provider=None,
        repository=resolve_repository("pypi").display,
        audience="pypi",
        declared=None,
        project="pkg",
        findings=[],
        now=time.time(),
        all_claims=True,
    )
    assert_never_shown(token, json.dumps(report_document(report)))
    assert_never_shown(token, repr(report))
    assert_never_shown(token, "\n".join(render_plain(report)))


def test_quiet(tmp_path: Path) -> None:
    result = invoke("--token-file", write_token(tmp_path / "t.jwt", make_token()), "-q")
    assert result.exit_code == 0
    assert result.output == "nothing blocks publishing\n"


def test_index_without_trusted_publishing_is_a_blocker(tmp_path: Path, httpx_mock: Any) -> None:
    httpx_mock.add_response(
        url="https://index.example/_/oidc/audience", status_code=404, text="Not Found"
    )
    token = make_token()
    result = invoke(
        "--token-file",
        write_token(tmp_path / "t.jwt", token),
        "-r",
        "https://index.example/legacy/",
        "--json",
    )
    assert result.exit_code == 1, result.output
    document = json.loads(result.output)
    assert document["expected_audience"] is None
    assert document["findings"][0]["id"] == "no-trusted-publishing"
    assert document["findings"][0]["severity"] == "blocker"
    assert document["repository"] == "https://index.example/legacy/"


def test_rich_rendering_escapes_values(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from trustpub.cli.claims import render_rich
    from trustpub.oidc.publishers import parse_expect

    token = make_token(aud=["[bold]x", "y"])
    report = inspect_token(
        decode_unverified(token),
        source="--token-file",
        detected_provider=None,
        repository=resolve_repository("pypi").display,
        audience="pypi",
        declared=parse_expect(["repository=octo/pkg", "workflow=x.yml"], provider="github"),
        project="pkg",
        findings=[],
        now=time.time(),
    )
    buffer = io.StringIO()
    monkeypatch.setattr("sys.stdout", buffer)
    render_rich(report)
    text = buffer.getvalue()
    assert '["[bold]x", "y"]' in text
    assert "MISMATCH" in text
    assert "fix job_workflow_ref: the job runs workflow file 'release.yml'" in text
    assert "PyPI would answer: Publisher with matching claims was not found" in text
    assert "Publishing would fail" in text
    assert_never_shown(token, text)


def test_verbose_lists_every_claim(tmp_path: Path) -> None:
    token = make_token()
    result = invoke("--token-file", write_token(tmp_path / "t.jwt", token), "-v")
    assert result.exit_code == 0, result.output
    assert (
        "All claims (for debugging only, do not copy into configuration blindly):" in result.output
    )
    assert "  runner_environment: github-hosted" in result.output
    assert "  jti: jti-canary-0001" in result.output
    assert_never_shown(token, result.output)
    quiet_json = json.loads(invoke("--token-file", str(tmp_path / "t.jwt"), "--json").output)
    assert "all_claims" not in quiet_json
