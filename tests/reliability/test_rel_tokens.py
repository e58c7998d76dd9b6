"""Token lifecycle and where credentials travel, through the real CLI.

* Short-lived upload tokens are re-minted, each mint spends a fresh OIDC token,
  and every upload token used is burned at the end.
* Expired / not-yet-valid OIDC tokens are diagnosed before any mint request.
* The sandbox's request log proves which endpoint received which credential kind.
* Redirects are refused, never followed with credentials (a second loopback
  server records anything that reaches it).
* The audience guard, the http-only-on-loopback rule and TLS verification.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fixtures_dists import make_release, make_sdist, make_wheel
from helpers_canary import (
    FakeIndex,
    Reply,
    assert_no_leaks,
    basic_header,
    canary_api_token,
    canary_jwt,
    clean_env,
    json_document,
    reply,
    run_cli,
)
from helpers_env import sandbox_env
from helpers_sandbox import Sandbox, fingerprint, unique_name

pytestmark = pytest.mark.e2e

SandboxFactory = Callable[..., Sandbox]

CREDENTIAL_HOMES = {
    "oidc": {"/_/oidc/mint-token"},
    # The sigstore-audience token signs attestations: the sandbox's Fulcio, nowhere else.
    "sigstore-oidc": {"/api/v2/signingCert"},
    "api-token": {"/legacy/", "/_/oidc/burn-token"},
    "github-request-token": {"/_sandbox/github/token"},
}


def github_job(box: Sandbox, project: str, **job: Any) -> dict[str, str]:
    repository = f"tok-org/{project}"
    box.add_publisher(
        provider="github",
        repository=repository,
        workflow="release.yml",
        projects=[project],
        pending=True,
    )
    return sandbox_env(box, "github", repository=repository, workflow="release.yml", **job)


def entries(box: Sandbox, start: int, path: str, method: str = "POST") -> list[dict[str, Any]]:
    return [e for e in box.log()[start:] if e["path"] == path and e["method"] == method]


def fingerprints(entry: dict[str, Any], kind: str) -> list[str]:
    return [c["fingerprint"] for c in entry.get("credentials", []) if c["kind"] == kind]


def assert_credentials_stay_home(log: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Every credential kind reached only its own endpoints; returns kind -> paths seen."""
    reached: dict[str, set[str]] = defaultdict(set)
    for entry in log:
        for credential in entry.get("credentials", []):
            reached[credential["kind"]].add(entry["path"])
    for kind, paths in reached.items():
        allowed = CREDENTIAL_HOMES.get(kind)
        assert allowed is not None, f"unexpected credential kind {kind!r} in the log"
        assert paths <= allowed, f"{kind} reached {sorted(paths - allowed)}"
    return reached


# ---------------------------------------------------------------------- lifecycle


@pytest.mark.parametrize(("jobs", "wheels"), [(1, 4), (4, 12)])
def test_short_lived_tokens_are_reminted_with_fresh_jwts_and_burned(
    sandbox_factory: SandboxFactory, tmp_path: Path, jobs: int, wheels: int
) -> None:
    """10 s tokens, 2.5 s per upload: ~12 s of uploads, sequential or 4 at a time."""
    box = sandbox_factory("--token-lifetime", "10", "--latency-ms", "2500")
    project = unique_name("remint")
    dist = tmp_path / "dist"
    for n in range(wheels):
        make_wheel(dist, project, "1.0.0", tag=f"cp3{n}-none-any")
    make_sdist(dist, project, "1.0.0")
    env = clean_env(box.env(), github_job(box, project))

    result = run_cli(
        ["publish", "-r", box.upload_url, "--json", "-j", str(jobs)],
        env=env,
        cwd=tmp_path,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert {f["status"] for f in json_document(result)["files"]} == {"uploaded"}
    log = box.log()
    mints = [e for e in log if e["path"] == "/_/oidc/mint-token"]
    assert len(mints) >= 2, "a 10 s token should have been re-minted during ~12 s of uploads"
    assert all(e["status"] == 200 for e in mints)
    jwts = [fp for e in mints for fp in fingerprints(e, "oidc")]
    assert len(jwts) == len(mints), "each mint request carries exactly one OIDC token"
    assert len(set(jwts)) == len(jwts), "an OIDC token (JWT) was sent twice"
    uploads = [e for e in log if e["path"] == "/legacy/" and e["method"] == "POST"]
    assert all(e["status"] == 200 for e in uploads), [e["status"] for e in uploads]
    used = {fp for e in uploads for fp in fingerprints(e, "api-token")}
    assert len(used) >= 2, "the uploads should have used more than one minted token"
    burned = {
        fp
        for e in log
        if e["path"] == "/_/oidc/burn-token" and e["status"] == 200
        for fp in fingerprints(e, "api-token")
    }
    assert used <= burned, "an upload token was not burned at the end"
    assert_credentials_stay_home(log)
    # The minted tokens (announced to GitHub for masking) are dead: the index refuses them now.
    minted = [
        v for v in re.findall(r"^::add-mask::(.+)$", result.stderr, re.M) if v.startswith("pypi-")
    ]
    assert len(minted) == len(mints)
    assert {fingerprint(value) for value in minted} == used
    late = make_wheel(tmp_path / "late", project, "1.0.1")
    for value in minted:
        assert box.upload(late, value).status_code == 403, "a burned token still uploads"


@pytest.mark.parametrize(
    ("claim", "offset", "expected"),
    [
        ("exp", -3600, "the OIDC token expired at"),
        ("nbf", 3600, "the OIDC token is not valid before"),
        ("iat", 3600, "the OIDC token is not valid before"),
    ],
)
def test_expired_or_future_oidc_token_is_diagnosed_before_minting(
    sandbox: Sandbox, tmp_path: Path, claim: str, offset: int, expected: str
) -> None:
    project = unique_name(f"clock-{claim}")
    make_release(tmp_path / "dist", project, "1.0.0")
    job = github_job(sandbox, project, claims={claim: int(time.time()) + offset})
    start = len(sandbox.log())

    result = run_cli(
        ["publish", "-r", sandbox.upload_url], env=clean_env(sandbox.env(), job), cwd=tmp_path
    )

    assert result.returncode == 4, result.stderr
    assert expected in result.stderr
    assert "hint:" in result.stderr
    assert "clock" in result.stderr.lower() or "NTP" in result.stderr
    assert "Traceback" not in result.stderr
    assert not entries(sandbox, start, "/_/oidc/mint-token"), "a mint request went out"
    assert not entries(sandbox, start, "/legacy/")


def test_credentials_reach_only_their_endpoints(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name("homes")
    make_release(tmp_path / "dist", project, "1.0.0")
    job = github_job(sandbox, project)
    start = len(sandbox.log())

    result = run_cli(
        ["publish", "-r", sandbox.upload_url, "--skip-existing"],
        env=clean_env(sandbox.env(), job),
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    log = sandbox.log()[start:]
    reached = assert_credentials_stay_home(log)
    assert reached["oidc"] == {"/_/oidc/mint-token"}
    assert reached["api-token"] == {"/legacy/", "/_/oidc/burn-token"}
    assert reached["github-request-token"] == {"/_sandbox/github/token"}
    # Reads (audience, simple pages) carry no credential at all.
    for entry in log:
        if entry["method"] == "GET" and not entry["path"].startswith("/_sandbox/"):
            assert not entry.get("credentials"), entry


# ---------------------------------------------------------------------- redirects


@pytest.fixture
def elsewhere() -> Any:
    """A second loopback server (another port, named ``localhost``) that records everything."""
    with FakeIndex({}) as server:
        server.routes = {
            "/_/oidc/audience": reply(200, {"audience": "fake-audience"}),
            "/_/oidc/mint-token": reply(200, {"success": True, "token": canary_api_token()}),
        }
        yield server


def _index(redirect: str, target: FakeIndex) -> FakeIndex:
    api = canary_api_token()
    routes = {
        "/_/oidc/audience": reply(200, {"audience": "fake-audience"}),
        "/_/oidc/mint-token": reply(
            200, {"success": True, "token": api, "expires": int(time.time()) + 900}
        ),
        "/legacy/": reply(200, "OK"),
        "/_/oidc/burn-token": reply(200, {"success": True}),
        "/simple/example-pkg/": reply(404, "Not Found"),
        "/pypi/example-pkg/json": reply(404, "Not Found"),
    }
    location = f"http://localhost:{target.port}{redirect}"
    routes[redirect] = lambda _seen: Reply(307, "moved", headers={"Location": location})
    return FakeIndex(routes)


@pytest.mark.parametrize(
    ("redirect", "mode", "exit_code"),
    [
        ("/_/oidc/audience", "always", 5),
        ("/_/oidc/mint-token", "always", 5),
        ("/legacy/", "always", 6),
        ("/legacy/", "never", 6),
    ],
)
def test_redirects_are_refused_not_followed(
    elsewhere: FakeIndex, tmp_path: Path, redirect: str, mode: str, exit_code: int
) -> None:
    make_release(tmp_path / "dist")
    oidc = canary_jwt()
    api = canary_api_token()
    layers = {"CANARY_OIDC": oidc} if mode == "always" else {"TRUSTPUB_TOKEN": api}
    with _index(redirect, elsewhere) as index:
        args = ["publish", "-r", index.upload_url, "--trusted-publishing", mode, "-vv"]
        if mode == "always":
            args += ["--oidc-token-env", "CANARY_OIDC"]
        result = run_cli(args, env=clean_env(layers), cwd=tmp_path)
        assert index.seen(redirect), "the redirecting endpoint was never asked"

    assert elsewhere.requests == [], "a request followed the redirect to another host"
    assert result.returncode == exit_code, result.stderr
    assert "redirect" in result.stderr.lower()
    assert "Traceback" not in result.stderr
    assert_no_leaks({"stdout": result.stdout, "stderr": result.stderr}, [oidc, api])


# ---------------------------------------------------------------------- audience guard, transport


@pytest.mark.parametrize("audience", ["pypi", "testpypi"])
def test_reserved_audience_is_refused_for_other_hosts(
    sandbox: Sandbox, tmp_path: Path, audience: str
) -> None:
    """A GitHub job against a local index that asks for PyPI's audience: no token is even fetched."""
    project = unique_name("aud")
    make_release(tmp_path / "dist")
    job = github_job(sandbox, project)
    start = len(sandbox.log())
    routes = {"/_/oidc/audience": reply(200, {"audience": audience})}
    with FakeIndex(routes) as index:
        result = run_cli(
            ["publish", "-r", index.upload_url],
            env=clean_env(sandbox.env(), job),
            cwd=tmp_path,
        )
        asked = [s.path for s in index.requests]

    assert result.returncode == 5, result.stderr
    assert f"refusing to request an OIDC token for audience {audience!r}" in result.stderr
    assert "hint:" in result.stderr
    assert "Traceback" not in result.stderr
    assert asked == ["/_/oidc/audience"], "anything after the audience request is a leak risk"
    fetched = [e for e in sandbox.log()[start:] if e["path"] == "/_sandbox/github/token"]
    assert fetched == [], "an OIDC token for a reserved audience was requested"


@pytest.mark.parametrize(
    "url",
    [
        "http://upload.example.org/legacy/",
        "http://10.0.0.1/legacy/",
        "http://pypi.org/legacy/",
    ],
)
def test_plain_http_is_refused_except_on_loopback(tmp_path: Path, url: str) -> None:
    make_release(tmp_path / "dist")
    api = canary_api_token()
    result = run_cli(
        ["publish", "-r", url, "--token", api], env=clean_env(), cwd=tmp_path, timeout=60
    )
    assert result.returncode == 2, result.stderr
    assert "refusing plain http" in result.stderr
    assert "loopback" in result.stderr
    assert "Traceback" not in result.stderr
    assert_no_leaks({"stderr": result.stderr, "stdout": result.stdout}, [api])


def test_plain_http_on_loopback_is_allowed(tmp_path: Path) -> None:
    make_release(tmp_path / "dist")
    routes = {
        "/legacy/": reply(200, "OK"),
        "/simple/example-pkg/": reply(404, "Not Found"),
    }
    with FakeIndex(routes) as index:
        result = run_cli(
            ["publish", "-r", index.upload_url, "--token", canary_api_token(), "--json"],
            env=clean_env(),
            cwd=tmp_path,
        )
        posted = index.seen("/legacy/", "POST")
    assert result.returncode == 0, result.stderr
    assert len(posted) == 2


def test_tls_is_verified_and_the_fix_is_named(sandbox: Sandbox, tmp_path: Path) -> None:
    """No SSL_CERT_FILE: the sandbox's private CA is not trusted, and the message says what to do."""
    project = unique_name("tls")
    make_release(tmp_path / "dist", project, "1.0.0")
    job = github_job(sandbox, project)
    start = len(sandbox.log())

    # The job's environment names the sandbox's CA (as a runner would be set up); drop it.
    job = {k: v for k, v in job.items() if k not in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")}
    result = run_cli(["publish", "-r", sandbox.upload_url], env=clean_env(job), cwd=tmp_path)

    assert result.returncode == 7, result.stderr
    assert "TLS certificate verification failed" in result.stderr
    assert "SSL_CERT_FILE" in result.stderr
    assert "Traceback" not in result.stderr
    assert not entries(sandbox, start, "/_/oidc/mint-token")
    assert not entries(sandbox, start, "/legacy/")


def test_tls_failure_with_an_api_token_is_also_clear(sandbox: Sandbox, tmp_path: Path) -> None:
    make_release(tmp_path / "dist", unique_name("tls-tok"), "1.0.0")
    start = len(sandbox.log())
    result = run_cli(
        ["publish", "-r", sandbox.upload_url, "--token", sandbox.api_token],
        env=clean_env(),
        cwd=tmp_path,
    )
    assert result.returncode == 7, result.stderr
    assert "SSL_CERT_FILE" in result.stderr
    assert "Traceback" not in result.stderr
    assert not entries(sandbox, start, "/legacy/")
    assert_no_leaks({"stderr": result.stderr, "stdout": result.stdout}, [sandbox.api_token])


def test_auto_with_a_token_never_sends_the_oidc_token(tmp_path: Path) -> None:
    """``auto`` with both a token and ``--oidc-token-env``: the token is used, the JWT goes nowhere."""
    make_release(tmp_path / "dist")
    oidc = canary_jwt()
    api = canary_api_token()
    routes = {
        "/_/oidc/audience": reply(200, {"audience": "fake-audience"}),
        "/_/oidc/mint-token": reply(200, {"success": True, "token": canary_api_token()}),
        "/legacy/": reply(200, "OK"),
    }
    with FakeIndex(routes) as index:
        result = run_cli(
            ["publish", "-r", index.upload_url, "--oidc-token-env", "CANARY_OIDC", "-vv"],
            env=clean_env({"CANARY_OIDC": oidc, "TRUSTPUB_TOKEN": api}),
            cwd=tmp_path,
        )
        seen = list(index.requests)
    assert result.returncode == 0, result.stderr
    assert [s.path for s in seen if s.method == "POST"] == ["/legacy/", "/legacy/"]
    assert not [s for s in seen if s.path.startswith("/_/oidc/")]
    assert all(
        s.authorization == "Basic " + basic_header(api) for s in seen if s.path == "/legacy/"
    )
    assert all(oidc not in s.body.decode("latin-1") for s in seen)
    assert_no_leaks({"stdout": result.stdout, "stderr": result.stderr}, [oidc, api])
