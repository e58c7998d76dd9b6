"""Faults: a flaky index, an index that goes away, and Ctrl-C, through the real CLI.

Every run is a ``python -m trustpub publish`` subprocess in a fake GitHub job
against a sandbox over TLS. What landed is read back from the sandbox itself
(its request log and ``/simple/`` page), never taken from trustpub's word.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixtures_dists import make_sdist, make_wheel
from helpers_canary import (
    TcpProxy,
    assert_no_leaks,
    clean_env,
    json_document,
    run_cli,
    start_cli,
)
from helpers_env import sandbox_env
from helpers_sandbox import Sandbox, unique_name

SandboxFactory = Callable[..., Sandbox]

pytestmark = pytest.mark.e2e

MASKED = re.compile(r"^::add-mask::(.+)$", re.MULTILINE)


def release(directory: Path, project: str, wheels: int, version: str = "1.0.0") -> list[Path]:
    """``wheels`` small wheels with distinct tags plus one sdist."""
    files = [make_wheel(directory, project, version, tag=f"cp3{n}-none-any") for n in range(wheels)]
    files.append(make_sdist(directory, project, version))
    return files


def github_job(box: Sandbox, project: str) -> dict[str, str]:
    """Register a pending GitHub publisher for ``project``; a new job's environment."""
    repository = f"rel-org/{project}"
    box.add_publisher(
        provider="github",
        repository=repository,
        workflow="release.yml",
        projects=[project],
        pending=True,
    )
    return new_job(box, project)


def new_job(box: Sandbox, project: str) -> dict[str, str]:
    return sandbox_env(box, "github", repository=f"rel-org/{project}", workflow="release.yml")


def landed(box: Sandbox) -> Counter[str]:
    """File name -> number of successful uploads, from the sandbox's request log."""
    counts: Counter[str] = Counter()
    for entry in box.log():
        if (
            entry["method"] == "POST"
            and entry["path"].startswith("/legacy")
            and entry["status"] == 200
        ):
            counts["upload"] += 1
    return counts


def index_files(box: Sandbox, project: str) -> set[str]:
    """The file names the sandbox's JSON simple page lists for ``project``.

    A sandbox started with faults answers this read with 503s and dropped
    connections too, so the check retries (a bounded number of times): the
    read is the test's own evidence, not the behaviour under test.
    """
    for _ in range(50):
        try:
            with box.client() as client:
                response = client.get(
                    f"/simple/{project}/",
                    headers={"Accept": "application/vnd.pypi.simple.v1+json"},
                )
        except httpx.TransportError:
            continue
        if response.status_code == 503:
            continue
        if response.status_code == 404:
            return set()
        response.raise_for_status()
        return {str(entry["filename"]) for entry in response.json()["files"]}
    raise AssertionError("the sandbox's simple page never answered")


def uploads_ok(box: Sandbox) -> int:
    return landed(box)["upload"]


def assert_tokens_masked_and_hidden(stdout: str, stderr: str, env: dict[str, str]) -> None:
    """The sandbox's real tokens (announced on ``::add-mask::`` lines) appear nowhere else."""
    masked = MASKED.findall(stdout + "\n" + stderr)
    assert any(value.startswith("eyJ") for value in masked), "the OIDC token was not masked"
    assert any(value.startswith("pypi-") for value in masked), "the upload token was not masked"
    texts = {"stdout": stdout, "stderr": stderr}
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
        if env.get(name) and Path(env[name]).is_file():
            texts[name] = Path(env[name]).read_text(encoding="utf-8")
    assert_no_leaks(texts, [*masked, env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]])


def statuses(document: dict[str, Any]) -> dict[str, str]:
    return {str(entry["filename"]): str(entry["status"]) for entry in document["files"]}


def test_flaky_index_41_files_land_once(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    """20 % 503s and 5 % dropped connections: all 41 files land, each exactly once."""
    box = sandbox_factory("--fail-rate", "0.2", "--cut-rate", "0.05", "--seed", "7")
    project = unique_name("flaky")
    files = release(tmp_path / "dist", project, 40)
    assert len(files) == 41
    job = github_job(box, project)

    result = run_cli(
        ["publish", "-r", box.upload_url, "--json", "-j", "4"],
        env=clean_env(box.env(), job),
        cwd=tmp_path,
        timeout=600,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert_tokens_masked_and_hidden(result.stdout, result.stderr, job)
    document = json_document(result)
    assert statuses(document) == {path.name: "uploaded" for path in files}
    assert index_files(box, project) == {path.name for path in files}
    log = box.log()
    faults = Counter(entry.get("fault") for entry in log)
    assert faults["fail"] >= 3, "the sandbox injected too few 503s to prove anything"
    assert faults["cut"] >= 1, "the sandbox dropped no connection"
    # Each file accepted once: exactly 41 successful upload requests, no 400 "already exists".
    upload_entries = [e for e in log if e["method"] == "POST" and e["path"].startswith("/legacy")]
    assert sum(1 for e in upload_entries if e["status"] == 200) == 41
    assert not [e for e in upload_entries if e["status"] == 400]
    burns = [e for e in log if e["path"] == "/_/oidc/burn-token" and e["status"] == 200]
    assert burns, "the upload token was not burned"


def _wait_for_lines(
    process: subprocess.Popen[str], count: int, pattern: Callable[[str], bool]
) -> tuple[list[str], threading.Thread]:
    """Read stderr until ``count`` lines match; keep reading in a thread afterwards."""
    assert process.stderr is not None
    seen: list[str] = []
    matched = 0
    for line in process.stderr:
        seen.append(line)
        if pattern(line):
            matched += 1
            if matched >= count:
                break

    def drain() -> None:
        assert process.stderr is not None
        seen.extend(process.stderr)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    return seen, reader


def _start_publish(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "trustpub", "publish", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def test_index_down_mid_run_then_skip_existing(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    """The index vanishes after two files: the summary tells landed from not; a re-run finishes."""
    box = sandbox_factory("--latency-ms", "300")
    port = int(box.url.rsplit(":", 1)[1])
    proxy = TcpProxy(port)
    try:
        via_proxy = box.upload_url.replace(f":{port}/", f":{proxy.port}/")
        project = unique_name("down")
        files = release(tmp_path / "dist", project, 7)
        names = {path.name for path in files}
        env = clean_env(box.env(), github_job(box, project))

        process = _start_publish(["-r", via_proxy, "--json", "-j", "1"], env, tmp_path)
        try:
            seen, reader = _wait_for_lines(
                process, 2, lambda line: any(line.startswith(f"{n}: ") for n in names)
            )
            proxy.down()
            stdout = process.stdout.read() if process.stdout else ""
            process.wait(timeout=300)
            reader.join(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()
        stderr = "".join(seen)

        assert process.returncode not in (0, None), stderr
        assert "Traceback" not in stderr
        assert_tokens_masked_and_hidden(stdout, stderr, env)
        document = json.loads(stdout)
        first = statuses(document)
        assert set(first) == names, "the summary must name every file"
        uploaded = {name for name, status in first.items() if status == "uploaded"}
        missing = names - uploaded
        assert len(uploaded) >= 2
        assert missing, "nothing was left for the re-run"
        assert {status for name, status in first.items() if name in missing} <= {
            "failed",
            "not-attempted",
        }
        on_index = index_files(box, project)
        assert uploaded <= on_index, "a file reported uploaded is not on the index"
        not_attempted = {name for name, status in first.items() if status == "not-attempted"}
        assert not (not_attempted & on_index), "a file reported not attempted is on the index"
        assert document["error"], "the summary must carry the error"
        assert "error:" in stderr

        proxy.up()
        before = uploads_ok(box)
        env = clean_env(box.env(), new_job(box, project))
        second = run_cli(
            ["publish", "-r", via_proxy, "--json", "--skip-existing"], env=env, cwd=tmp_path
        )
        assert second.returncode == 0, second.stderr[-3000:]
        again = statuses(json_document(second))
        assert {name for name, status in again.items() if status == "skipped"} == on_index
        assert {name for name, status in again.items() if status == "uploaded"} == names - on_index
        assert index_files(box, project) == names
        assert uploads_ok(box) - before == len(names - on_index), "a file was uploaded twice"
    finally:
        proxy.close()


def _plain_statuses(stdout: str, names: set[str]) -> dict[str, str]:
    """File -> status word from the plain summary's rows."""
    words = {"uploaded": "uploaded", "FAILED": "failed", "not attempted": "not-attempted"}
    found: dict[str, str] = {}
    for line in stdout.splitlines():
        for name in names:
            if line.strip().startswith(name):
                hits = [status for word, status in words.items() if word in line]
                if hits:
                    found[name] = hits[0]
    return found


SIGNAL_CASES = {
    # name: (signals sent, --jobs, output, disposition the child starts with)
    "sigint-j1-json": ((signal.SIGINT,), 1, "json", "default"),
    "sigint-j2-plain": ((signal.SIGINT,), 2, "plain", "default"),
    "sigterm-j2-json": ((signal.SIGTERM,), 2, "json", "default"),
    # A cancelled GitHub job: SIGINT, then SIGTERM while trustpub is cleaning up.
    "sigint-then-sigterm-j2-plain": ((signal.SIGINT, signal.SIGTERM), 2, "plain", "default"),
    # Started with SIGINT ignored (a background job of a script): trustpub's own handler acts.
    "sigint-ignored-at-start-j2-json": ((signal.SIGINT,), 2, "json", "ignored"),
}


@pytest.mark.parametrize("case", sorted(SIGNAL_CASES))
def test_signal_during_uploads_stops_cleanly(
    sandbox_factory: SandboxFactory, tmp_path: Path, case: str
) -> None:
    """A signal mid-release: exit 130/143 within 5 s, the same per-file summary, the token burned.

    The sandbox holds the uploads after the first one open until the signal has
    been delivered and trustpub has exited (they are released only afterwards),
    so the test does not depend on timing, and it proves that requests in
    flight are abandoned rather than waited for.
    """
    sent, jobs, output, disposition = SIGNAL_CASES[case]
    box = sandbox_factory()
    project = unique_name("signal")
    files = release(tmp_path / "dist", project, 4)
    names = {path.name for path in files}
    env = clean_env(box.env(), github_job(box, project))
    box.hold_uploads(after=1)  # the first file goes alone and lands; the next ones are held

    extra = ["--json"] if output == "json" else []
    process = start_cli(
        ["publish", "-r", box.upload_url, *extra, "-j", str(jobs)],
        env=env,
        cwd=tmp_path,
        signals=disposition,
    )
    try:
        box.wait_until_held(jobs)
        for signum in sent:
            process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=5)  # exits within 5 s of the signal
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        box.release_uploads()

    assert process.returncode == 128 + sent[0], stderr
    assert "Traceback" not in stderr
    assert_tokens_masked_and_hidden(stdout, stderr, env)
    assert "interrupted" in stderr
    result = statuses(json.loads(stdout)) if output == "json" else _plain_statuses(stdout, names)
    assert set(result) == names, stdout
    on_index = index_files(box, project)
    uploaded = {name for name, status in result.items() if status == "uploaded"}
    assert len(uploaded) == 1, result  # the first file, which the index answered
    assert uploaded <= on_index
    held = {name for name, status in result.items() if status == "failed"}
    assert len(held) == jobs, result  # the uploads in flight: abandoned, reported failed
    not_attempted = {name for name, status in result.items() if status == "not-attempted"}
    assert not_attempted == names - uploaded - held
    assert not (not_attempted & on_index)
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    for name in names:
        assert name in summary, "the step summary must list every file of an interrupted run"
    outputs = Path(env["GITHUB_OUTPUT"]).read_text(encoding="utf-8")
    assert "files<<" in outputs or "files=" in outputs
    burns = [e for e in box.log() if e["path"] == "/_/oidc/burn-token" and e["status"] == 200]
    assert burns, "an interrupted run must still burn its upload token"
