"""Fixtures for the upload tests: a real pypiserver on 127.0.0.1, credentials, a client."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from trustpub._http import make_client
from trustpub._secret import Secret
from trustpub.exchange import UploadCredential
from trustpub.repository import IndexTarget

if TYPE_CHECKING:
    from helpers_pypiserver import PypiServer

TOKEN = "pypi-AgEIcHlwaS5vcmcCJGNhbmFyeS11cGxvYWQtdG9rZW4tZm9yLXRlc3Rz"
"""The API token pypiserver accepts (user ``__token__``); also a canary for leaks."""


class CountingCredential:
    """A credential callable that counts its calls."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self) -> UploadCredential:
        with self._lock:
            self.calls += 1
        return UploadCredential("__token__", Secret(self.token), "token", None)


def pypiserver_target(server: PypiServer) -> IndexTarget:
    """pypiserver takes uploads at its root, not at ``/legacy/``."""
    return IndexTarget(upload_url=server.upload_url, index_url=server.url)


@pytest.fixture
def pypi_server(tmp_path: Path) -> Iterator[PypiServer]:
    """pypiserver with uploads behind ``__token__:TOKEN``, no fallback to PyPI."""
    with warnings.catch_warnings():
        # passlib (used to write the htpasswd file) imports the deprecated ``crypt`` module.
        warnings.simplefilter("ignore", DeprecationWarning)
        from helpers_pypiserver import start_pypiserver

    with start_pypiserver(tmp_path / "pypiserver", TOKEN) as server:
        yield server


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_client(timeout=60.0) as made:
        yield made


@pytest.fixture
def credential() -> CountingCredential:
    return CountingCredential()


@pytest.fixture
def token() -> str:
    return TOKEN


@pytest.fixture
def pypi_target(pypi_server: PypiServer) -> IndexTarget:
    return pypiserver_target(pypi_server)


@pytest.fixture
def make_credential() -> type[CountingCredential]:
    """The credential class, for tests that need a wrong or second token."""
    return CountingCredential
