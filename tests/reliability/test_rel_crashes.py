"""Nothing from outside crashes trustpub (issue 14, class 5).

Each case is a hostile answer or input that once ended in ``internal error``
(RecursionError, OverflowError, ValueError): now a typed error with a message,
a hint and its exit code, and, once a file is uploaded, the usual summary with
the upload token burned.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from fixtures_dists import make_release
from helpers_canary import (
    FakeIndex,
    Reply,
    Route,
    canary_api_token,
    canary_jwt,
    clean_env,
    github_env,
    reply,
    run_cli,
)

pytestmark = pytest.mark.e2e

NESTED = "[" * 100_000 + "]" * 100_000


def _routes(minted: str) -> dict[str, Route]:
    return {
        "/_/oidc/audience": reply(200, {"audience": "fake-audience"}),
        "/_/oidc/mint-token": reply(
            200, {"success": True, "token": minted, "expires": int(time.time()) + 900}
        ),
        "/legacy/": reply(200, "OK"),
        "/_/oidc/burn-token": reply(200, {"success": True}),
    }


def _publish(
    tmp_path: Path, routes: dict[str, Route], oidc: str, *extra: str
) -> tuple[int, str, FakeIndex]:
    job = tmp_path / "job"
    make_release(job / "dist")
    env = clean_env(github_env(job, CANARY_OIDC=oidc))
    args = ["publish", "--no-keyring", "--trusted-publishing", "always"]
    args += ["--oidc-token-env", "CANARY_OIDC", "-j", "1", *extra]
    with FakeIndex(routes) as index:
        result = run_cli([*args, "-r", index.upload_url], env=env, cwd=job)
    assert "internal error" not in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    return result.returncode, result.stdout + result.stderr, index


@pytest.mark.parametrize("where", ["/_/oidc/audience", "/_/oidc/mint-token"])
def test_deeply_nested_json_is_an_answer_like_any_other(tmp_path: Path, where: str) -> None:
    routes = _routes(canary_api_token())
    routes[where] = reply(
        200 if where.endswith("audience") else 422,
        NESTED.encode(),
        headers={"Content-Type": "application/json"},
    )
    code, _text, _index = _publish(tmp_path, routes, canary_jwt())
    assert code == 5


def test_nested_json_in_an_upload_refusal_after_a_file_landed_keeps_the_summary(
    tmp_path: Path,
) -> None:
    routes = _routes(canary_api_token())
    answered: list[int] = []

    def upload(_seen: object) -> Reply:
        answered.append(1)
        if len(answered) == 1:
            return Reply(200, "OK")
        return Reply(400, NESTED.encode(), headers={"Content-Type": "application/json"})

    routes["/legacy/"] = upload
    code, text, index = _publish(tmp_path, routes, canary_jwt())
    assert code == 6
    assert "uploaded" in text
    assert "FAILED" in text
    assert index.seen("/_/oidc/burn-token"), "the token must be burned"


@pytest.mark.parametrize("expires", [float("nan"), float("inf"), 10**30, -1])
def test_an_absurd_expires_in_the_mint_answer_still_uploads_and_burns(
    tmp_path: Path, expires: float
) -> None:
    minted = canary_api_token()
    routes = _routes(minted)
    routes["/_/oidc/mint-token"] = reply(
        200, {"success": True, "token": minted, "expires": expires}
    )
    code, _text, index = _publish(tmp_path, routes, canary_jwt())
    assert code == 0
    assert index.seen("/_/oidc/burn-token")


@pytest.mark.parametrize(("claim", "exit_code"), [("exp", 0), ("nbf", 4)])
def test_an_absurd_time_claim_is_judged_not_crashed_on(
    tmp_path: Path, claim: str, exit_code: int
) -> None:
    """PyJWT (Warehouse) accepts an ``exp`` in the far future and refuses such an ``nbf``."""
    claims: dict[str, Any] = {claim: 10**400}
    oidc = canary_jwt(**claims)
    code, text, index = _publish(tmp_path, _routes(canary_api_token()), oidc)
    assert code == exit_code, text[-2000:]
    if exit_code == 4:
        assert not index.seen("/_/oidc/mint-token")


@pytest.mark.parametrize(
    "url",
    [
        "https://[::1",
        "https://\uff50\uff59\uff50\uff49.org/legacy/",  # full-width "pypi"
        "https://example.org:99999/legacy/",
    ],
)
def test_a_broken_repository_url_is_a_usage_error(tmp_path: Path, url: str) -> None:
    make_release(tmp_path / "dist")
    result = run_cli(
        ["publish", "--no-keyring", "--token", canary_api_token(), "-r", url],
        env=clean_env(),
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    assert "error: invalid repository URL" in result.stderr
    assert "internal error" not in result.stderr
