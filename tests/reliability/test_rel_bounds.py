"""Bounded time and memory against a hostile index of the tests' own (issue 14, classes 3 and 4).

* A token endpoint that drips its answer one byte at a time never trips a
  per-read timeout; the overall deadline ends the request (here set to 2 s
  with ``TRUSTPUB_EXCHANGE_DEADLINE``; the drip would last days).
* A 1 GiB answer and a small wheel whose METADATA inflates to 300 MiB are
  refused at their caps; the child's peak memory, read from ``wait4``'s
  resource usage of that one process, stays under 100 MiB.

No timing decides a result: the slow server never finishes, so only the
deadline can end the run; memory is measured, not time.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from fixtures_dists import make_release
from helpers_canary import canary_jwt, clean_env

pytestmark = pytest.mark.e2e

PEAK_LIMIT_MIB = 100
GIB = 1024**3


@contextmanager
def hostile_server(kind: str) -> Iterator[str]:
    """A loopback HTTP server whose every answer is ``drip`` (one byte at a time) or ``huge``."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def answer(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                if kind == "drip":
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Content-Length: 100000\r\n\r\n{"
                    )
                    while not stop.wait(0.2):  # the hostile behaviour, not an ordering sleep
                        conn.sendall(b" ")
                else:
                    head = b'{"audience": "'
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        + f"Content-Length: {GIB + len(head) + 2}\r\n\r\n".encode()
                        + head
                    )
                    chunk = b"a" * (1024 * 1024)
                    for _ in range(1024):
                        if stop.is_set():
                            return
                        conn.sendall(chunk)
                    conn.sendall(b'"}')
            except OSError:
                return

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()


# Linux keeps a process's peak RSS across exec, and a child forked (or vforked) from the test
# process starts from the test process's own peak: a measurement taken that way reports pytest's
# memory, not trustpub's (349 MiB late in a full run). So a small launcher, whose own memory is
# fresh after its exec, forks trustpub and reports the grandchild's peak from wait4.
_LAUNCHER = """\
import os, sys
report, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    os.execv(argv[0], argv)
_pid, status, usage = os.wait4(pid, 0)
with open(report, "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, float]:
    """Run ``trustpub ARGS``; (exit code, stderr, trustpub's own peak RSS in MiB)."""
    report = cwd / ".peak-rss"
    command = [sys.executable, "-m", "trustpub", *args]
    result = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, str(report), *command],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        timeout=300,
        check=False,
    )
    stderr = result.stderr.decode(errors="replace")
    peak_kib = int(report.read_text(encoding="utf-8"))
    return result.returncode, stderr, peak_kib / 1024  # Linux: KiB


def _trusted_args(index: str) -> tuple[list[str], dict[str, str]]:
    args = ["publish", "--no-keyring", "--trusted-publishing", "always"]
    args += ["--oidc-token-env", "CANARY_OIDC", "-r", f"{index}/legacy/"]
    return args, clean_env({"CANARY_OIDC": canary_jwt()})


def test_a_dripping_token_endpoint_meets_the_deadline(tmp_path: Path) -> None:
    make_release(tmp_path / "dist")
    with hostile_server("drip") as index:
        args, env = _trusted_args(index)
        env["TRUSTPUB_EXCHANGE_DEADLINE"] = "2"
        result = subprocess.run(
            [sys.executable, "-m", "trustpub", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    assert result.returncode == 7, result.stderr
    assert "no complete answer within 2 s from 127.0.0.1 (token exchange deadline)" in (
        result.stderr
    )
    assert "TRUSTPUB_EXCHANGE_DEADLINE" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_1_gib_answer_is_refused_at_its_cap_in_little_memory(tmp_path: Path) -> None:
    make_release(tmp_path / "dist")
    with hostile_server("huge") as index:
        args, env = _trusted_args(index)
        code, stderr, peak = run_measured(args, env, tmp_path)
    assert code == 7, stderr
    assert "is larger than 1 MiB, the limit for a token exchange answer" in stderr
    assert peak < PEAK_LIMIT_MIB, f"peak memory {peak:.0f} MiB"


def _inflating_wheel(directory: Path) -> Path:
    """A wheel of a few hundred KiB whose METADATA inflates to 300 MiB."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "bomb-1.0.0-py3-none-any.whl"
    head = b"Metadata-Version: 2.1\nName: bomb\nVersion: 1.0.0\n\n"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb/__init__.py", "")
        with archive.open("bomb-1.0.0.dist-info/METADATA", "w", force_zip64=True) as member:
            member.write(head)
            block = b"x" * (1024 * 1024)
            for _ in range(300):
                member.write(block)
        archive.writestr("bomb-1.0.0.dist-info/WHEEL", "Wheel-Version: 1.0\nTag: py3-none-any\n")
        archive.writestr("bomb-1.0.0.dist-info/RECORD", "")
    assert path.stat().st_size < 2 * 1024 * 1024
    return path


def test_an_inflating_wheel_is_refused_in_little_memory(tmp_path: Path) -> None:
    _inflating_wheel(tmp_path / "dist")
    args = ["publish", "--no-keyring", "--trusted-publishing", "never", "--token", "pypi-x" * 4]
    args += ["-r", "http://127.0.0.1:9/legacy/", "dist/*"]
    code, stderr, peak = run_measured(args, clean_env(), tmp_path)
    assert code == 3, stderr
    # PyPI's verdict (Warehouse forklift: zip bombs): "Invalid distribution file. File exceeds
    # compression ratio of 50"; trustpub refuses it the same way, before inflating anything.
    assert "File exceeds compression ratio of 50" in stderr
    assert peak < PEAK_LIMIT_MIB, f"peak memory {peak:.0f} MiB"
