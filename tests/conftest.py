"""Shared fixtures: the sandbox index (see ``tests/helpers_sandbox.py`` for the API).

* ``sandbox`` (session): one default TLS sandbox for the whole run.
* ``sandbox_factory`` (function): ``sandbox_factory(*serve_args, config=None,
  publishers=(), tls=True)`` starts a dedicated sandbox, stopped after the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers_sandbox import Sandbox, SandboxFactory, start_sandbox


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The default sandbox, shared by every test of the session."""
    box = start_sandbox(tmp_path_factory.mktemp("sandbox-session"))
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture
def sandbox_factory(tmp_path: Path) -> Iterator[SandboxFactory]:
    """Start dedicated sandboxes with special options; all stop after the test."""
    started: list[Sandbox] = []

    def factory(*args: str, **kwargs: Any) -> Sandbox:
        box = start_sandbox(tmp_path / f"sandbox-{len(started)}", *args, **kwargs)
        started.append(box)
        return box

    try:
        yield factory
    finally:
        for box in started:
            box.stop()
