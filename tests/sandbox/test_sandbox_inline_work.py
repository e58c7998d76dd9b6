"""Small uploads are hashed and checked on the event loop; large ones on a worker thread."""

from __future__ import annotations

import asyncio
import threading

from trustpub.sandbox import legacy


def _where(label: str) -> tuple[str, int]:
    return label, threading.get_ident()


async def _run(size: int | None) -> tuple[tuple[str, int], int]:
    result = await legacy._blocking(size, _where, "done")
    return result, threading.get_ident()


def test_small_upload_runs_inline() -> None:
    (label, worker), loop_thread = asyncio.run(_run(legacy._INLINE_LIMIT))
    assert label == "done"
    assert worker == loop_thread


def test_large_or_unknown_size_goes_to_a_thread() -> None:
    for size in (legacy._INLINE_LIMIT + 1, None):
        (label, worker), loop_thread = asyncio.run(_run(size))
        assert label == "done"
        assert worker != loop_thread
