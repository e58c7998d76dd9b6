"""pypiserver (a real third-party index) on 127.0.0.1, for the API-token upload path.

:func:`start_pypiserver` writes an htpasswd file with one user, ``__token__``
(or another ``username``), whose password is the given API token, starts ``pypi-server run`` as a child
process on a free loopback port, and waits until it answers. Uploads without
that exact token are refused by pypiserver itself.

pypiserver takes uploads at its root (``POST /``). ``legacy_path=True`` serves
the same pypiserver application behind a one-line path shim that maps
``/legacy/`` to ``/`` (what a reverse proxy in front of it would do), so the
index can be named by a ``--repository`` URL the way PyPI's is.
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
    legacy_path: bool = False

    @property
    def upload_url(self) -> str:
        return f"{self.url}/legacy/" if self.legacy_path else f"{self.url}/"

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


_SHIM = """
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pypiserver
from pypiserver.config import Config

port, argv = int(sys.argv[1]), sys.argv[2:]
app = pypiserver.app_from_config(Config.from_args(["run", *argv]))


def shim(environ, start_response):
    if environ.get("PATH_INFO") == "/legacy/":
        environ["PATH_INFO"] = "/"
    return app(environ, start_response)


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


make_server("127.0.0.1", port, shim, handler_class=Quiet).serve_forever()
"""


@contextmanager
def start_pypiserver(
    directory: Path,
    token: str,
    *,
    timeout: float = 30.0,
    legacy_path: bool = False,
    username: str = "__token__",
    authenticate: str = "update",
) -> Iterator[PypiServer]:
    """Run pypiserver with uploads protected by ``username`` / ``token`` (its password)."""
    packages = directory / "packages"
    packages.mkdir(parents=True, exist_ok=True)
    htpasswd = directory / "htpasswd"
    users = HtpasswdFile(str(htpasswd), new=True)
    users.set_password(username, token)
    users.save()
    port = _free_port()
    log = (directory / "pypiserver.log").open("wb")
    options = [
        "-a",
        authenticate,
        "-P",
        str(htpasswd),
        "--hash-algo",
        "sha256",
        "--disable-fallback",
        str(packages),
    ]
    if legacy_path:
        command = [sys.executable, "-c", _SHIM, str(port), *options]
    else:
        command = [
            sys.executable,
            "-m",
            "pypiserver",
            "run",
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            *options,
        ]
    process = subprocess.Popen(
        command,
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
                    # 401: pypiserver -a list wants credentials even for its pages
                    if client.get(f"{url}/simple/").status_code in (200, 401):
                        break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("pypiserver did not start in time")
            time.sleep(0.2)
        yield PypiServer(url=url, packages=packages, legacy_path=legacy_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


__all__ = ["PypiServer", "start_pypiserver"]
