"""``providers.preflight``: the provider-aware entry to :mod:`trustpub.oidc.preflight`.

The rules live in :mod:`trustpub.oidc.preflight` (one implementation, shared
with ``trustpub claims``); this adapter feeds it the detection's provider and
returns findings that also read well as text (``str(finding)``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from trustpub.oidc import preflight as rules
from trustpub.oidc.claims import DecodedToken
from trustpub.providers._base import Detection


@dataclass(frozen=True)
class Finding(rules.Finding):
    """A :class:`trustpub.oidc.preflight.Finding` whose ``str()`` is one readable line."""

    def __str__(self) -> str:
        text = f"{self.severity}: {self.message}"
        return f"{text} (fix: {self.fix})" if self.fix else text


def preflight(
    detection: Detection,
    token: DecodedToken | None,
    env: Mapping[str, str],
    *,
    audience: str | None = None,
    now: float | None = None,
) -> list[Finding]:
    """Offline advice for this identity and token, blockers first."""
    found = rules.preflight(
        detection.provider,
        token,
        env,
        audience=audience,
        now=time.time() if now is None else now,
    )
    return [Finding(f.id, f.severity, f.message, f.fix) for f in found]


__all__ = ["Finding", "preflight"]
