"""A real, file-backed keyring backend for tests.

Selected in a subprocess with ``PYTHON_KEYRING_BACKEND=helpers_keyring.FileKeyring``
(and ``tests/`` on ``PYTHONPATH``); the store is the JSON file named by
``TRUSTPUB_TEST_KEYRING``: ``{"<service>": {"<username>": "<password>"}}``.
It goes through keyring's normal backend loading and ``get_password`` path, so
the code under test talks to keyring exactly as it would to a system keyring.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

STORE_ENV = "TRUSTPUB_TEST_KEYRING"


def _store_path() -> Path:
    return Path(os.environ[STORE_ENV])


def _load() -> dict[str, dict[str, str]]:
    path = _store_path()
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def _save(data: dict[str, dict[str, str]]) -> None:
    _store_path().write_text(json.dumps(data), encoding="utf-8")


class FileKeyring(KeyringBackend):
    """Passwords in a JSON file (tests only: plain text on disk)."""

    priority = 1

    def get_password(self, service: str, username: str) -> str | None:
        return _load().get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        data = _load()
        data.setdefault(service, {})[username] = password
        _save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = _load()
        if username not in data.get(service, {}):
            raise PasswordDeleteError(f"no password for {username!r} at {service!r}")
        del data[service][username]
        _save(data)


def write_store(path: Path, service: str, username: str, password: str) -> None:
    """Create a store file holding one password."""
    path.write_text(json.dumps({service: {username: password}}), encoding="utf-8")


__all__ = ["STORE_ENV", "FileKeyring", "write_store"]
