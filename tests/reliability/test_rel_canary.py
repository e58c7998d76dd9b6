"""Secret canaries: every failure path runs with known tokens, and none of them shows up anywhere.

A :class:`~helpers_canary.FakeIndex` on 127.0.0.1 plays a broken or hostile
index: its mint, upload, audience and burn answers repeat the credentials
they received (OIDC token, upload token, the Basic header and its decoded
form) in the body *and* the reason phrase. ``trustpub publish`` and
``trustpub claims`` run as real subprocesses at ``-vv`` (httpx traces on),
with ``--json``, and as a GitHub Actions step (workflow commands, step
summary, ``GITHUB_OUTPUT``). No stdout, stderr or file under the job's
directory may hold any 12-character piece of a canary, except GitHub's
``::add-mask::`` lines.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fixtures_dists import make_release
from helpers_canary import (
    FakeIndex,
    Reply,
    Route,
    Seen,
    assert_no_leaks,
    canary_api_token,
    canary_jwt,
    clean_env,
    echo_credentials,
    files_text,
    github_env,
    leaks,
    reply,
    run_cli,
)

pytestmark = pytest.mark.e2e

MINT_CODES = (
    "invalid-payload",
    "invalid-token",
    "invalid-publisher",
    "invalid-pending-publisher",
    "invalid-reuse-token",
    "not-enabled",
)


@dataclass(frozen=True)
class Scenario:
    """One failure path: route overrides (given the canaries) and the expected exit code."""

    routes: Callable[[str, str], dict[str, Route]]
    exit_code: int
    trusted: bool = True
    extra_args: tuple[str, ...] = ()
    expect_text: tuple[str, ...] = field(default=())


def _mint_refusal(code: str) -> Callable[[str, str], dict[str, Route]]:
    def routes(oidc: str, api: str) -> dict[str, Route]:
        def mint(seen: Seen) -> Reply:
            sent = seen.json()
            token = sent.get("token", "") if isinstance(sent, dict) else ""
            return Reply(
                422,
                {"errors": [{"code": code, "description": f"token {token} refused ({oidc})"}]},
                reason=f"Unprocessable {token}",
            )

        return {"/_/oidc/mint-token": mint}

    return routes


def _hostile_audience(oidc: str, api: str) -> dict[str, Route]:
    return {"/_/oidc/audience": reply(404, f"no such thing {oidc} {api}", reason=f"Gone {oidc}")}


SCENARIOS: dict[str, Scenario] = {
    **{
        f"mint-{code}": Scenario(_mint_refusal(code), 5, expect_text=(code,)) for code in MINT_CODES
    },
    "mint-422-no-errors": Scenario(lambda o, a: {"/_/oidc/mint-token": echo_credentials(422)}, 5),
    "mint-403-html": Scenario(
        lambda o, a: {"/_/oidc/mint-token": echo_credentials(403, json_body=False)}, 5
    ),
    "mint-200-malformed": Scenario(
        lambda o, a: {"/_/oidc/mint-token": reply(200, {"success": False, "token": o})}, 5
    ),
    "mint-200-not-json": Scenario(
        lambda o, a: {"/_/oidc/mint-token": reply(200, f"token={o}", reason=f"OK {o}")}, 5
    ),
    "mint-dropped": Scenario(lambda o, a: {"/_/oidc/mint-token": reply(0)}, 7),
    "audience-echo": Scenario(_hostile_audience, 5),
    "upload-400": Scenario(lambda o, a: {"/legacy/": echo_credentials(400)}, 6),
    "upload-403-html": Scenario(
        lambda o, a: {"/legacy/": echo_credentials(403, json_body=False)}, 6
    ),
    "upload-413": Scenario(lambda o, a: {"/legacy/": echo_credentials(413)}, 6),
    "upload-500": Scenario(
        lambda o, a: {
            "/legacy/": lambda seen: Reply(
                500,
                echo_credentials(500)(seen).body,
                reason=echo_credentials(500)(seen).reason,
                headers={"Retry-After": "0"},
            )
        },
        7,
    ),
    "burn-400": Scenario(lambda o, a: {"/_/oidc/burn-token": echo_credentials(400)}, 0),
    "token-upload-403": Scenario(
        lambda o, a: {"/legacy/": echo_credentials(403)}, 6, trusted=False
    ),
    "token-upload-400-html": Scenario(
        lambda o, a: {"/legacy/": echo_credentials(400, json_body=False)}, 6, trusted=False
    ),
}


def base_routes(oidc: str, minted: str) -> dict[str, Route]:
    return {
        "/_/oidc/audience": reply(200, {"audience": "fake-audience"}),
        "/_/oidc/mint-token": reply(
            200, {"success": True, "token": minted, "expires": int(time.time()) + 900}
        ),
        "/legacy/": reply(200, "OK"),
        "/_/oidc/burn-token": reply(200, {"success": True}),
    }


def run_scenario(
    tmp_path: Path, scenario: Scenario, mode: str, *, python_prefix: list[str] | None = None
) -> tuple[int, dict[str, str], list[str]]:
    """Run ``publish`` against a fake index; (exit code, every text to check, canaries)."""
    job = tmp_path / "job"
    make_release(job / "dist")
    oidc = canary_jwt()
    minted = canary_api_token()
    api = canary_api_token()
    request_token = "ghs_" + canary_api_token()[5:]
    routes = base_routes(oidc, minted)
    routes.update(scenario.routes(oidc, api if not scenario.trusted else minted))
    layers = github_env(job, ACTIONS_ID_TOKEN_REQUEST_TOKEN=request_token)
    args = ["publish", "--no-keyring"]
    if scenario.trusted:
        layers["CANARY_OIDC"] = oidc
        args += ["--trusted-publishing", "always", "--oidc-token-env", "CANARY_OIDC"]
    else:
        layers["TRUSTPUB_TOKEN"] = api
        args += ["--trusted-publishing", "never"]
    args += ["-vv"] if mode == "vv" else ["--json", "-v"]
    with FakeIndex(routes) as index:
        result = run_cli(
            [*args, "-r", index.upload_url, *scenario.extra_args],
            env=clean_env(layers),
            cwd=job,
            python_prefix=python_prefix,
        )
    texts = {"stdout": result.stdout, "stderr": result.stderr, **files_text(job)}
    return result.returncode, texts, [oidc, minted, api, request_token]


@pytest.mark.parametrize("mode", ["vv", "json"])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_publish_failure_paths_never_show_a_token(tmp_path: Path, name: str, mode: str) -> None:
    scenario = SCENARIOS[name]
    code, texts, canaries = run_scenario(tmp_path, scenario, mode)
    assert code == scenario.exit_code, texts["stderr"][-3000:]
    assert "Traceback" not in texts["stderr"]
    for expected in scenario.expect_text:
        assert expected in texts["stderr"] + texts["stdout"]
    assert_no_leaks(texts, canaries)
    # The GitHub files were written (the canary covered them, not skipped them).
    summary = next(text for where, text in texts.items() if where.endswith("step_summary"))
    assert "trustpub publish" in summary


def test_masking_is_the_only_place_a_token_appears(tmp_path: Path) -> None:
    """The check is real: the ``::add-mask::`` lines do carry the tokens, and only they do."""
    code, texts, canaries = run_scenario(tmp_path, SCENARIOS["upload-400"], "vv")
    assert code == 6
    oidc, minted = canaries[0], canaries[1]
    assert f"::add-mask::{oidc}" in texts["stdout"]
    assert f"::add-mask::{minted}" in texts["stdout"]
    assert leaks(texts["stdout"], oidc), "the leak detector does not see the mask line"
    assert_no_leaks(texts, canaries)


CRASH = """
import sys
import trustpub.upload.uploader as uploader

def boom(self, dist, fields):
    raise RuntimeError("unexpected failure, headers were: " + self._authorization())

uploader.Uploader._send = boom
from trustpub.cli import main
sys.argv[0] = "trustpub"
main()
"""


@pytest.mark.parametrize("mode", ["vv", "json"])
def test_a_crash_with_verbose_shows_the_traceback_but_no_token(tmp_path: Path, mode: str) -> None:
    """An unexpected exception whose text holds the Basic header: traceback yes, token no."""
    scenario = Scenario(lambda o, a: {}, 1)
    code, texts, canaries = run_scenario(
        tmp_path, scenario, mode, python_prefix=[sys.executable, "-c", CRASH]
    )
    assert code == 1, texts["stderr"][-3000:]
    assert "Traceback" in texts["stderr"], "-v should show the traceback of an internal error"
    assert "internal error" in texts["stderr"]
    assert_no_leaks(texts, canaries)


# ---------------------------------------------------------------------- claims


@pytest.mark.parametrize(
    ("audience_route", "args", "exit_codes"),
    [
        ("ok", ["-v"], {0, 1}),
        ("ok", ["--json"], {0, 1}),
        ("hostile", ["-v"], {1, 5}),
        ("hostile", ["--json"], {1, 5}),
        ("html", ["-v"], {1, 5}),
    ],
)
def test_claims_never_shows_the_token(
    tmp_path: Path, audience_route: str, args: list[str], exit_codes: set[int]
) -> None:
    oidc = canary_jwt(audience="fake-audience")
    request_token = "ghs_" + canary_api_token()[5:]
    routes: dict[str, Route] = {
        "ok": {"/_/oidc/audience": reply(200, {"audience": "fake-audience"})},
        "hostile": _hostile_audience(oidc, request_token),
        "html": {
            "/_/oidc/audience": reply(
                200, f"<html><body>{oidc}</body></html>", headers={"Content-Type": "text/html"}
            )
        },
    }[audience_route]
    layers = github_env(tmp_path, CANARY_OIDC=oidc, ACTIONS_ID_TOKEN_REQUEST_TOKEN=request_token)
    with FakeIndex(routes) as index:
        result = run_cli(
            ["claims", "-r", index.upload_url, "--oidc-token-env", "CANARY_OIDC", *args],
            env=clean_env(layers),
            cwd=tmp_path,
        )
    assert result.returncode in exit_codes, result.stderr
    assert "Traceback" not in result.stderr
    if audience_route == "ok":
        assert "canary-org/canary-repo" in result.stdout, "claims were not shown"
    texts = {"stdout": result.stdout, "stderr": result.stderr, **files_text(tmp_path)}
    assert_no_leaks(texts, [oidc, request_token])


def test_claims_token_file_with_a_broken_token(tmp_path: Path) -> None:
    """A token file whose JWT is damaged: diagnosed, never echoed."""
    oidc = canary_jwt()
    header, payload, signature = oidc.split(".")
    broken = f"{header}.{payload[:-7]}!!!{payload[-7:]}.{signature}"
    path = tmp_path / "token.txt"
    path.write_text(broken, encoding="utf-8")
    result = run_cli(["claims", "--token-file", str(path)], env=clean_env(), cwd=tmp_path)
    assert result.returncode == 4, result.stderr
    assert "error: the OIDC token's payload is not valid base64url" in result.stderr
    assert "hint:" in result.stderr
    assert "Traceback" not in result.stderr
    assert_no_leaks({"stdout": result.stdout, "stderr": result.stderr}, [broken, oidc])


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"exp": 1_000_000_000}, "expired"),
        ({"nbf": 4_000_000_000}, "future"),
        ({"aud": ["fake-audience", "other-audience"]}, "other-audience"),
        ({"aud": "someone-else"}, "someone-else"),
        ({"iss": None}, "issuer"),
    ],
    ids=["expired", "not-yet-valid", "list-audience", "wrong-audience", "no-issuer"],
)
@pytest.mark.parametrize("json_output", [False, True])
def test_claims_blockers_never_show_the_token(
    tmp_path: Path, claims: dict[str, object], expected: str, json_output: bool
) -> None:
    """Tokens ``claims`` must explain as blockers: the explanation never quotes the token."""
    extra: dict[str, Any] = dict(claims)
    audience = extra.pop("aud", "fake-audience")
    oidc = canary_jwt(audience=audience, **extra)
    layers = github_env(tmp_path, CANARY_OIDC=oidc)
    with FakeIndex({"/_/oidc/audience": reply(200, {"audience": "fake-audience"})}) as index:
        result = run_cli(
            ["claims", "-r", index.upload_url, "--oidc-token-env", "CANARY_OIDC", "-v"]
            + (["--json"] if json_output else []),
            env=clean_env(layers),
            cwd=tmp_path,
        )
    assert result.returncode != 0, result.stdout
    assert expected in result.stdout.lower(), result.stdout
    assert "Traceback" not in result.stderr
    texts = {"stdout": result.stdout, "stderr": result.stderr, **files_text(tmp_path)}
    assert_no_leaks(texts, [oidc])


# ---------------------------------------------------------------------- user names and passwords

PASSWORD_SOURCES = ("option", "trustpub-env", "twine-env", "url", "pypirc", "keyring")


def _password_job(
    tmp_path: Path, source: str, password: str, index: FakeIndex
) -> tuple[list[str], dict[str, str]]:
    """Arguments and variables that hand ``password`` (user alice) to trustpub via ``source``.

    The files that hold it on purpose (.pypirc, the keyring store) are outside the job's directory.
    """
    from helpers_keyring import STORE_ENV, write_store

    url = index.upload_url
    args: list[str] = ["-r", url]
    env: dict[str, str] = {"HOME": str(tmp_path / "home")}
    if source == "option":
        args += ["-u", "alice", "-p", password]
    elif source == "trustpub-env":
        env |= {"TRUSTPUB_USERNAME": "alice", "TRUSTPUB_PASSWORD": password}
    elif source == "twine-env":
        args = []
        env |= {"TWINE_REPOSITORY_URL": url, "TWINE_USERNAME": "alice", "TWINE_PASSWORD": password}
    elif source == "url":
        args = ["-r", url.replace("http://", f"http://alice:{password}@")]
    elif source == "pypirc":
        config = tmp_path / "pypirc"
        config.write_text(
            "[distutils]\nindex-servers = company\n\n"
            f"[company]\nrepository = {url}\nusername = alice\npassword = {password}\n"
        )
        args = ["-r", "company", "--config-file", str(config)]
    else:
        store = tmp_path / "keyring.json"
        write_store(store, url, "alice", password)
        args += ["-u", "alice"]
        env |= {
            "PYTHON_KEYRING_BACKEND": "helpers_keyring.FileKeyring",
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
            STORE_ENV: str(store),
        }
    return args, env


@pytest.mark.parametrize(
    ("source", "mode"),
    [(source, "vv") for source in PASSWORD_SOURCES] + [("pypirc", "json"), ("url", "json")],
)
def test_passwords_never_show_from_any_source(tmp_path: Path, source: str, mode: str) -> None:
    """A hostile index echoes user alice's Basic header and password on the lookup and the upload."""
    import base64

    job = tmp_path / "job"
    make_release(job / "dist")
    password = "pw-" + canary_api_token()[5:]
    basic = base64.b64encode(f"alice:{password}".encode()).decode()
    routes: dict[str, Route] = {
        "/legacy/": echo_credentials(403),
        "/simple/example-pkg/": lambda seen: Reply(404, echo_credentials(404)(seen).body),
    }
    with FakeIndex(routes) as index:
        args, env = _password_job(tmp_path, source, password, index)
        verbosity = ["-vv"] if mode == "vv" else ["--json", "-v"]
        result = run_cli(
            ["publish", *args, *verbosity, "--trusted-publishing", "never", "--skip-existing"],
            env=clean_env(github_env(job), env),
            cwd=job,
        )
        sent = [(seen.path, seen.authorization) for seen in index.requests]
    assert result.returncode == 6, result.stderr[-3000:]
    # The index did get alice's credentials, on the lookup (same host) and on the upload ...
    assert sent == [
        ("/simple/example-pkg/", f"Basic {basic}"),
        ("/legacy/", f"Basic {basic}"),
    ]
    # ... and GitHub was told to mask the password before anything else was printed (the
    # keyring's only once it is read, before any line about it) ...
    stream = result.stderr if mode == "json" else result.stdout
    mask = f"::add-mask::{password}\n"
    assert stream.startswith(mask) if source != "keyring" else mask in stream
    # ... and no output or file holds it, nor its Basic form.
    texts = {"stdout": result.stdout, "stderr": result.stderr, **files_text(job)}
    assert_no_leaks(texts, [password, basic])
    assert "Traceback" not in result.stderr
