"""Fault injection: 503 answers and dropped connections, deterministic with a seed.

One random stream per server decides, request by request in arrival order,
whether an index request is answered normally, with 503, or cut off: the
sandbox reads the start of the request and aborts the connection, so the
client sees it drop mid-request, with no response. Upload latency
is applied by the upload endpoint itself. Sandbox-only routes (``/_sandbox/``)
are never faulted, so tests can always read the log.
"""

from __future__ import annotations

import asyncio
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


class UploadHold:
    """Holds ``/legacy/`` requests open until a test releases them.

    Tests drive races with it instead of sleeping: ``POST /_sandbox/hold``
    (``{"after": n}``: let ``n`` more uploads through first) starts holding,
    ``GET /_sandbox/held?count=n`` answers once ``n`` uploads are held, and
    ``POST /_sandbox/release`` lets every held upload go on and stops holding.
    The asyncio primitives belong to the server's event loop; every method runs there.
    """

    def __init__(self) -> None:
        self.active = False
        self.after = 0
        self.held = 0
        self._released: asyncio.Event | None = None
        self._changed: asyncio.Condition | None = None

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    def start(self, after: int) -> None:
        self.active = True
        self.after = max(0, after)
        self._released = asyncio.Event()

    async def release(self) -> int:
        count, self.active = self.held, False
        if self._released is not None:
            self._released.set()
        changed = self._condition()
        async with changed:
            changed.notify_all()
        return count

    async def wait_if_held(self) -> None:
        """Called by the upload endpoint before it reads a request."""
        if not self.active or self._released is None:
            return
        if self.after > 0:
            self.after -= 1
            return
        released = self._released
        changed = self._condition()
        async with changed:
            self.held += 1
            changed.notify_all()
        try:
            await released.wait()
        finally:
            self.held -= 1

    async def wait_for(self, count: int, timeout: float) -> bool:
        """True once ``count`` uploads are held; False after ``timeout`` seconds."""
        changed = self._condition()

        async def reached() -> None:
            async with changed:
                await changed.wait_for(lambda: self.held >= count)

        try:
            await asyncio.wait_for(reached(), timeout)
        except asyncio.TimeoutError:
            return False
        return True


__all__ = [
    "FAULTED_PREFIXES",
    "DropSimulatedCuts",
    "Fault",
    "FaultPlan",
    "SimulatedCut",
    "UploadHold",
]
