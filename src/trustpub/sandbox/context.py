"""What every part of a running sandbox needs to know about it.

The index (``app.py``) builds one :class:`SandboxContext` once the listening
sockets are bound, and hands it to the identity providers (``identity.py``),
which derive their issuer URLs from ``base_url``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class SandboxContext:
    """The facts of one running sandbox."""

    state_dir: Path
    base_url: str
    """``https://127.0.0.1:PORT`` (no trailing slash); ``http://`` with ``--no-tls``."""
    audience: str
    token_lifetime: int
    """Lifetime in seconds of the API tokens the sandbox mints."""
    metadata_host: str | None
    """``127.0.0.1:PORT`` of the Google metadata imitation, if it runs."""
    ca_cert: Path | None
    """The CA the HTTPS listener's certificate chains to (``None`` with ``--no-tls``)."""
    clock: Callable[[], float] = time.time


__all__ = ["SandboxContext"]
