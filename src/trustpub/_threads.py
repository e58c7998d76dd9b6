"""Worker threads that never take the process's signals.

A signal sent to the process may be delivered to any thread that does not block it. When a
worker thread takes SIGINT or SIGTERM, the main thread is not woken: blocked in a lock wait
(``as_completed``, ``pool.map``) it would wait for the workers, which are themselves waiting
on an index that holds the connection open, and the handler would never run. Workers block
both signals, so the kernel always delivers them to the main thread, which runs the handler.
"""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor

_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def block_signals() -> None:
    """Leave SIGINT and SIGTERM to the main thread (call at the start of a thread)."""
    if hasattr(signal, "pthread_sigmask"):  # POSIX; Windows has no per-thread signals
        signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)


def worker_pool(max_workers: int, name: str) -> ThreadPoolExecutor:
    """A thread pool whose threads leave SIGINT and SIGTERM to the main thread."""
    return ThreadPoolExecutor(
        max_workers=max_workers, thread_name_prefix=name, initializer=block_signals
    )


__all__ = ["block_signals", "worker_pool"]
