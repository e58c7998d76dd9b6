"""Fault injection: 503 answers and dropped connections, deterministic with a seed.

One random stream per server decides, request by request in arrival order,
whether an index request is answered normally, with 503, or cut off: the
sandbox reads the start of the request and aborts the connection, so the
client sees it drop mid-request, with no response. Upload latency
is applied by the upload endpoint itself. Sandbox-only routes (``/_sandbox/``)
are never faulted, so tests can always read the log.
"""

from __future__ import annotations

import logging
import random
import threading
from typing import Literal

Fault = Literal["fail", "cut"]

FAULTED_PREFIXES = ("/_/oidc/", "/legacy", "/simple", "/pypi/", "/files/")


class SimulatedCut(Exception):
    """Raised after a partial response so that the server drops the connection."""


class DropSimulatedCuts(logging.Filter):
    """Keep the server's error log free of the tracebacks of deliberate cuts."""

    def filter(self, record: logging.LogRecord) -> bool:
        info = record.exc_info
        return not (info and isinstance(info[1], SimulatedCut))


class FaultPlan:
    """Decides the fault (if any) of each index request."""

    def __init__(self, *, fail_rate: float, cut_rate: float, seed: int | None) -> None:
        self.fail_rate = fail_rate
        self.cut_rate = cut_rate
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return self.fail_rate > 0 or self.cut_rate > 0

    def decide(self, path: str) -> Fault | None:
        if not self.active or not path.startswith(FAULTED_PREFIXES):
            return None
        with self._lock:
            roll = self._random.random()
        if roll < self.fail_rate:
            return "fail"
        if roll < self.fail_rate + self.cut_rate:
            return "cut"
        return None


__all__ = ["FAULTED_PREFIXES", "DropSimulatedCuts", "Fault", "FaultPlan", "SimulatedCut"]
