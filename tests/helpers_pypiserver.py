"""pypiserver (a real third-party index) on 127.0.0.1, for the API-token upload path.

:func:`start_pypiserver` writes an htpasswd file with one user, ``__token__``,
whose password is the given API token, starts ``pypi-server run`` as a child
process on a free loopback port, and waits until it answers. Uploads without
that exact token are refused by pypiserver itself.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from passlib.apache import HtpasswdFile  # type: ignore[import-untyped]


@dataclass(frozen=True)
class PypiServer:
    """A running pypiserver."""

    url: str
    packages: Path

    @property
    def upload_url(self) -> str:
        return f"{self.url}/"

    @property
    def simple_url(self) -> str:
        return f"{self.url}/simple/"

    def files(self) -> list[str]:
        """Names of the files the server has stored."""
        return sorted(path.name for path in self.packages.iterdir() if path.is_file())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def start_pypiserver(directory: Path, token: str, *, timeout: float = 30.0) -> Iterator[PypiServer]:
    """Run pypiserver with uploads protected by ``__token__`` / ``token``."""
    packages = directory / "packages"
    packages.mkdir(parents=True, exist_ok=True)
    htpasswd = directory / "htpasswd"
    users = HtpasswdFile(str(htpasswd), new=True)
    users.set_password("__token__", token)
    users.save()
    port = _free_port()
    log = (directory / "pypiserver.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pypiserver",
            "run",
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "-a",
            "update",
            "-P",
            str(htpasswd),
            "--hash-algo",
            "sha256",
            "--disable-fallback",
            str(packages),
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
                raise RuntimeError(
                    "pypiserver exited: " + (directory / "pypiserver.log").read_text()[-2000:]
                )
            try:
                with httpx.Client(trust_env=False, timeout=2.0) as client:
                    if client.get(f"{url}/simple/").status_code == 200:
                        break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("pypiserver did not start in time")
            time.sleep(0.2)
        yield PypiServer(url=url, packages=packages)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


__all__ = ["PypiServer", "start_pypiserver"]
