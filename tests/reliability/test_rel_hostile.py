"""Hostile text and hostile encodings (issue 14, classes 1 and 6).

A :class:`~helpers_canary.FakeIndex` on 127.0.0.1 plays an index that answers
with workflow commands, markdown and the credentials it received in every
encoding; the distribution directory holds a file whose name carries a line
break and a ``::stop-commands::`` line. ``trustpub publish`` runs as a real
subprocess, as a GitHub Actions step, at ``-vv`` and with ``--json``.

What must hold (docs/security.md):

* no line of stdout or stderr is a workflow command trustpub did not write
  itself (``::add-mask::``, ``::group::``/``::endgroup::``, ``::error``,
  ``::warning``), and the ``::add-mask::`` lines come before any other line;
* the step summary renders outside text inert (no code fence it opened stays
  open, no image, link or HTML from the index);
* no canary appears in any output, whole, in pieces or encoded
  (base64 at any offset, URL-safe base64, hex, percent, HTML references).
"""

from __future__ import annotations

import base64
import html
import re
import time
from pathlib import Path

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
    files_text,
    github_env,
    reply,
    run_cli,
)

pytestmark = pytest.mark.e2e

STOP = "::stop-commands::hostile0token"
OWN_COMMANDS = ("::add-mask::", "::group::", "::endgroup::", "::error ", "::warning ")


def _every_encoding(secret: str) -> str:
    raw = secret.encode()
    return " ".join(
        (
            base64.b64encode(b"k=" + raw).decode(),
            base64.urlsafe_b64encode(raw).decode().rstrip("="),
            raw.hex(),
            "".join(f"%{byte:02X}" for byte in raw),
            "".join(f"&#{byte};" for byte in raw),
            html.escape(secret),
        )
    )


def _hostile_text(oidc: str, minted: str) -> str:
    """What the hostile index says: commands, markdown breakouts and the credentials, encoded."""
    return (
        f"refused\n{STOP}\r::notice ::pwned\n```\n![x](https://evil.invalid/p.png)\n"
        f"<img src=x onerror=alert(1)>\n##[add-mask]no\n"
        f"{_every_encoding(oidc)} {_every_encoding(minted)}"
    )


def _mint_refusal(oidc: str, minted: str) -> dict[str, Route]:
    def mint(seen: Seen) -> Reply:
        sent = seen.json()
        token = sent.get("token", "") if isinstance(sent, dict) else ""
        # Only what trustpub sent can leak: the OIDC token (no token was minted).
        text = _hostile_text(token, token)
        return Reply(422, {"errors": [{"code": "invalid-publisher", "description": text}]})

    return {"/_/oidc/mint-token": mint}


def _upload_refusal(oidc: str, minted: str) -> dict[str, Route]:
    text = _hostile_text(oidc, minted)
    return {"/legacy/": reply(400, text, reason="Bad " + re.sub(r"[\r\n]", " ", text)[:900])}


def _run(tmp_path: Path, routes_for: object, mode: str) -> tuple[int, dict[str, str], list[str]]:
    job = tmp_path / "job"
    make_release(job / "dist")
    (job / "dist" / f"notes\n{STOP}").write_text("not a distribution")
    oidc = canary_jwt()
    minted = canary_api_token()
    routes: dict[str, Route] = {
        "/_/oidc/audience": reply(200, {"audience": "fake-audience"}),
        "/_/oidc/mint-token": reply(
            200, {"success": True, "token": minted, "expires": int(time.time()) + 900}
        ),
        "/legacy/": reply(200, "OK"),
        "/_/oidc/burn-token": reply(200, {"success": True}),
    }
    routes.update(routes_for(oidc, minted))  # type: ignore[operator]
    layers = github_env(job, CANARY_OIDC=oidc)
    args = [
        "publish",
        "--no-keyring",
        "--trusted-publishing",
        "always",
        "--oidc-token-env",
        "CANARY_OIDC",
        *(["-vv"] if mode == "vv" else ["--json", "-v"]),
        "dist/*",
    ]
    with FakeIndex(routes) as index:
        result = run_cli([*args, "-r", index.upload_url], env=clean_env(layers), cwd=job)
    texts = {"stdout": result.stdout, "stderr": result.stderr, **files_text(job)}
    return result.returncode, texts, [oidc, minted]


def _assert_no_foreign_commands(text: str, where: str) -> None:
    # The runner splits lines on \n, \r and \r\n, and trims blanks before "::".
    for line in re.split(r"\r\n|\r|\n", text):
        stripped = line.lstrip()
        if stripped.startswith("::"):
            assert stripped.startswith(OWN_COMMANDS), f"{where}: a foreign command line: {line!r}"
        assert "##[" not in line, f"{where}: a v1 command: {line!r}"


def _assert_masks_first(stdout: str, stderr: str, mode: str) -> None:
    stream = stderr if mode == "json" else stdout
    lines = [line for line in stream.splitlines() if line]
    masks = [n for n, line in enumerate(lines) if line.startswith("::add-mask::")]
    assert masks, "no ::add-mask:: line"
    assert masks[0] == 0, f"output before the first mask: {lines[: masks[0]]}"
    if mode == "json":
        assert stdout.lstrip().startswith("{")


@pytest.mark.parametrize("mode", ["vv", "json"])
@pytest.mark.parametrize("where", ["mint", "upload"])
def test_hostile_text_never_becomes_a_command_or_markdown(
    tmp_path: Path, where: str, mode: str
) -> None:
    routes = _mint_refusal if where == "mint" else _upload_refusal
    code, texts, canaries = _run(tmp_path, routes, mode)

    assert code == (5 if where == "mint" else 6), texts["stderr"][-3000:]
    assert "Traceback" not in texts["stderr"]
    _assert_no_foreign_commands(texts["stdout"], "stdout")
    _assert_no_foreign_commands(texts["stderr"], "stderr")
    _assert_masks_first(texts["stdout"], texts["stderr"], mode)
    # The hostile file name was reported, escaped onto one line.
    assert "notes\\n::stop-commands::hostile0token" in texts["stderr"]
    summary = next(text for name, text in texts.items() if name.endswith("step_summary"))
    # Outside text is inert: escaped in the text, or inside a code block it cannot close.
    fences = [line for line in summary.splitlines() if line.startswith("```")]
    assert len(fences) % 2 == 0, fences
    assert all(line == fences[0] for line in fences), fences
    outside_blocks = (
        re.sub(rf"(?ms)^{re.escape(fences[0])}$.*?^{re.escape(fences[0])}$", "", summary)
        if fences
        else summary
    )
    assert "![" not in outside_blocks
    assert "<img" not in outside_blocks
    assert_no_leaks(texts, canaries)


def test_a_token_with_whitespace_is_refused_before_anything_is_printed(tmp_path: Path) -> None:
    job = tmp_path / "job"
    make_release(job / "dist")
    token = canary_api_token()
    broken = token[:30] + "\n::stop-commands::x\n" + token[30:]
    layers = github_env(job, TRUSTPUB_TOKEN=broken)
    with FakeIndex({"/legacy/": reply(200, "OK")}) as index:
        result = run_cli(
            ["publish", "--no-keyring", "--trusted-publishing", "never", "-r", index.upload_url],
            env=clean_env(layers),
            cwd=job,
        )
        assert not index.seen("/legacy/"), "nothing may be sent with a broken token"
    assert result.returncode == 4, result.stderr
    assert "refusing to use a token: it contains whitespace" in result.stderr
    assert "::add-mask::" not in result.stdout + result.stderr
    _assert_no_foreign_commands(result.stdout, "stdout")
    _assert_no_foreign_commands(result.stderr, "stderr")
    for piece in (token[5:30], token[30:]):
        assert piece not in result.stdout + result.stderr


def test_a_short_api_token_is_scrubbed_too(tmp_path: Path) -> None:
    job = tmp_path / "job"
    make_release(job / "dist")
    token = "Shrt7k"  # an index of one's own may issue short tokens
    echo = f"bad credential {token} {base64.b64encode(f'__token__:{token}'.encode()).decode()}"
    with FakeIndex({"/legacy/": reply(403, echo, reason=echo)}) as index:
        result = run_cli(
            [
                *("publish", "--no-keyring", "--trusted-publishing", "never", "-vv"),
                *("-r", index.upload_url, "--token", token),
            ],
            env=clean_env(github_env(job)),
            cwd=job,
        )
    assert result.returncode == 6, result.stderr
    texts = {"stdout": result.stdout, "stderr": result.stderr, **files_text(job)}
    basic = base64.b64encode(f"__token__:{token}".encode()).decode()
    for where, text in texts.items():
        visible = "\n".join(
            line for line in text.splitlines() if not line.startswith("::add-mask::")
        )
        assert not re.search(rf"\b{token}\b", visible), where
        assert basic not in visible, where


def test_plain_http_to_loopback_never_goes_through_a_proxy(tmp_path: Path) -> None:
    """Class 7: with HTTP_PROXY set, the credentials still go straight to the loopback index."""
    job = tmp_path / "job"
    make_release(job / "dist")
    token = canary_api_token()
    with FakeIndex({}) as proxy, FakeIndex({"/legacy/": reply(200, "OK")}) as index:
        proxies = {"HTTP_PROXY": proxy.url, "http_proxy": proxy.url, "ALL_PROXY": proxy.url}
        result = run_cli(
            ["publish", "--no-keyring", "--trusted-publishing", "never", "-r", index.upload_url],
            env=clean_env({"TRUSTPUB_TOKEN": token, "NO_PROXY": "", "no_proxy": "", **proxies}),
            cwd=job,
        )
        assert result.returncode == 0, result.stderr
        assert len(index.seen("/legacy/", "POST")) == 2
        assert proxy.requests == [], "a request went through the proxy"


def test_sandbox_env_refuses_variable_names_that_are_not_names(tmp_path: Path) -> None:
    """Class 8: `eval "$(trustpub sandbox env ...)"` must not run what a hostile --url sends."""
    env_answer = {"env": {"GITHUB_ACTIONS": "true", "X=1;touch pwned;Y": "1"}, "job": "j"}
    with FakeIndex({"POST /_sandbox/jobs": reply(200, env_answer)}) as server:
        result = run_cli(
            ["sandbox", "env", "--provider", "github", "--url", server.url],
            env=clean_env(),
            cwd=tmp_path,
        )
    assert result.returncode == 2, result.stderr
    assert "invalid variable name" in result.stderr
    assert result.stdout == ""
