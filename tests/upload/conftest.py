"""Fixtures for the upload tests: a real pypiserver on 127.0.0.1, credentials, a client."""

from __future__ import annotations

import base64
import hashlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

TESTS_DIR = str(Path(__file__).resolve().parents[1])
if TESTS_DIR not in sys.path:  # tests/fixtures_dists.py is shared by every area
    sys.path.insert(0, TESTS_DIR)

from trustpub._http import make_client  # noqa: E402
from trustpub._secret import Secret  # noqa: E402
from trustpub.repository import IndexTarget  # noqa: E402

TOKEN = "pypi-AgEIcHlwaS5vcmcCJGNhbmFyeS11cGxvYWQtdG9rZW4tZm9yLXRlc3Rz"
"""The API token pypiserver accepts (user ``__token__``); a canary for leaks."""


@dataclass(frozen=True)
class Credential:
    """Shaped like ``trustpub.exchange.UploadCredential``."""

    username: str
    password: Secret
    source: str = "token"
    expires_at: float | None = None


class CountingCredential:
    """A credential callable that counts its calls (thread-safe enough for a counter)."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls = 0

    def __call__(self) -> Credential:
        self.calls += 1
        return Credential("__token__", Secret(self.token))


@dataclass(frozen=True)
class PypiServer:
    url: str
    packages: Path
    process: subprocess.Popen[bytes]

    @property
    def target(self) -> IndexTarget:
        # pypiserver takes uploads at its root, not at /legacy/.
        return IndexTarget(upload_url=f"{self.url}/", index_url=self.url)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _htpasswd_line(user: str, password: str) -> str:
    digest = base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()  # noqa: S324 - htpasswd {SHA} format
    return f"{user}:{{SHA}}{digest}\n"


@pytest.fixture
def pypi_server(tmp_path: Path) -> Iterator[PypiServer]:
    """pypiserver with uploads behind ``__token__:TOKEN``, no fallback to PyPI."""
    packages = tmp_path / "index-packages"
    packages.mkdir()
    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text(_htpasswd_line("__token__", TOKEN))
    port = free_port()
    log = (tmp_path / "pypiserver.log").open("wb")
    command = [
        str(Path(sys.executable).with_name("pypi-server")),
        "run",
        "-i",
        "127.0.0.1",
        "-p",
        str(port),
        "-a",
        "update",
        "-P",
        str(htpasswd),
        "--disable-fallback",
        "--hash-algo",
        "sha256",
        str(packages),
    ]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        with httpx.Client() as probe:
            while True:
                if process.poll() is not None:
                    log.flush()
                    pytest.fail(
                        f"pypiserver exited: {(tmp_path / 'pypiserver.log').read_text()[-2000:]}"
                    )
                try:
                    if probe.get(f"{url}/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail("pypiserver did not start within 30 s")
                time.sleep(0.1)
        yield PypiServer(url=url, packages=packages, process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_client(timeout=30.0) as made:
        yield made


@pytest.fixture
def credential() -> CountingCredential:
    return CountingCredential()
