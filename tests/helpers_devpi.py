"""devpi-server (a real third-party index) on 127.0.0.1, with users and an index made over its API.

:func:`start_devpi` initialises a server directory with ``devpi-init`` (no
mirror of PyPI: ``--no-root-pypi``), runs ``devpi-server --offline-mode`` as a
child process on a free loopback port, waits until ``/+api`` answers, then
creates users ``alice`` and ``bob`` (``PUT /<user>``) and alice's non-volatile
index ``alice/dev`` (``PUT /alice/dev`` as alice, HTTP Basic auth). devpi
takes uploads at ``/<user>/<index>/`` and serves the simple index at
``/<user>/<index>/+simple/``.

Startup takes seconds (argon2's cost is lowered), so tests share one server per module.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class Devpi:
    """A running devpi-server with users alice and bob and alice's index ``alice/dev``."""

    url: str
    passwords: dict[str, str]

    @property
    def upload_url(self) -> str:
        return f"{self.url}/alice/dev/"

    @property
    def simple_url(self) -> str:
        return f"{self.url}/alice/dev/+simple/"

    def files(self, project: str) -> dict[str, str]:
        """``filename -> sha256`` of what alice/dev lists for ``project``."""
        with httpx.Client(trust_env=False, timeout=10.0) as client:
            response = client.get(
                f"{self.simple_url}{project}/",
                headers={"Accept": "application/vnd.pypi.simple.v1+json"},
            )
        if response.status_code == 404:
            return {}
        response.raise_for_status()
        return {entry["filename"]: entry["hashes"]["sha256"] for entry in response.json()["files"]}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tool(name: str) -> str:
    """A devpi console script installed beside this Python."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise RuntimeError(f"{name} is not installed (pip install -e '.[test]')")
    return str(path)


def _setup(url: str, passwords: dict[str, str]) -> None:
    with httpx.Client(base_url=url, trust_env=False, timeout=30.0) as client:
        for user, password in passwords.items():
            created = client.put(
                f"/{user}", json={"password": password, "email": f"{user}@example.org"}
            )
            assert created.status_code == 201, created.text
        index = client.put(
            "/alice/dev",
            json={"type": "stage", "bases": [], "volatile": False},
            auth=("alice", passwords["alice"]),
        )
        assert index.status_code == 200, index.text


@contextmanager
def start_devpi(directory: Path, *, timeout: float = 120.0) -> Iterator[Devpi]:
    """Run devpi-server on 127.0.0.1 with users alice and bob and the index alice/dev."""
    serverdir = directory / "server"
    log_path = directory / "devpi.log"
    passwords = {user: f"{user}-{secrets.token_urlsafe(18)}" for user in ("alice", "bob")}
    with log_path.open("wb") as log:
        subprocess.run(
            [
                _tool("devpi-init"),
                "--serverdir",
                str(serverdir),
                "--no-root-pypi",
                "--root-passwd",
                secrets.token_urlsafe(18),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=True,
            timeout=timeout,
        )
    port = _free_port()
    log = log_path.open("ab")
    process = subprocess.Popen(
        [
            _tool("devpi-server"),
            "--serverdir",
            str(serverdir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--offline-mode",
            "--threads",
            "8",
            # The server secret is derived with argon2 at startup; its default cost takes a
            # minute on a loaded 2-core machine. A test server needs no such protection.
            "--argon2-time-cost",
            "1",
            "--argon2-memory-cost",
            "8",
            "--argon2-parallelism",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                log.flush()
                raise RuntimeError("devpi-server exited: " + log_path.read_text()[-2000:])
            try:
                with httpx.Client(trust_env=False, timeout=2.0) as client:
                    if client.get(f"{url}/+api").status_code == 200:
                        break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("devpi-server did not start in time")
            time.sleep(0.2)
        _setup(url, passwords)
        yield Devpi(url=url, passwords=passwords)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


__all__ = ["Devpi", "start_devpi"]
