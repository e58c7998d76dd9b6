"""Shared pieces of the upload tests: a counting credential and a pypiserver starter.

(Not a ``conftest.py``: a second module named ``conftest`` breaks the whole-tree mypy run.)
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from trustpub._secret import Secret
from trustpub.exchange import UploadCredential
from trustpub.repository import IndexTarget

if TYPE_CHECKING:
    from helpers_pypiserver import PypiServer

TOKEN = "pypi-AgEIcHlwaS5vcmcCJGNhbmFyeS11cGxvYWQtdG9rZW4tZm9yLXRlc3Rz"
"""The API token pypiserver accepts (user ``__token__``); also a canary for leaks."""


class CountingCredential:
    """A credential callable that counts its calls."""

    def __init__(self, token: str = TOKEN, source: str = "token") -> None:
        self.token = token
        self.source = source
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self) -> UploadCredential:
        with self._lock:
            self.calls += 1
        return UploadCredential("__token__", Secret(self.token), self.source, None)


def pypiserver_target(server: PypiServer) -> IndexTarget:
    """pypiserver takes uploads at its root, not at ``/legacy/``."""
    return IndexTarget(upload_url=server.upload_url, index_url=server.url)


@contextmanager
def running_pypiserver(directory: Path, token: str = TOKEN) -> Iterator[PypiServer]:
    """pypiserver with uploads behind ``__token__:token``, no fallback to PyPI."""
    with warnings.catch_warnings():
        # passlib (used to write the htpasswd file) imports the deprecated ``crypt`` module.
        warnings.simplefilter("ignore", DeprecationWarning)
        from helpers_pypiserver import start_pypiserver

    with start_pypiserver(directory, token) as server:
        yield server


__all__ = ["TOKEN", "CountingCredential", "pypiserver_target", "running_pypiserver"]
