"""SHA-256 and BLAKE2b-256 of a file in one pass, on two threads.

The file is read once, in ``chunk_size`` pieces (1 MiB). Each chunk goes to
SHA-256 on a helper thread while the calling thread feeds the same chunk to
BLAKE2b and then reads the next one; hashlib releases the GIL while it hashes
a large buffer, so the two digests (and the next read) overlap. At most two
chunks are in memory at a time. Files of one chunk or less are hashed on the
calling thread (a thread costs more than it saves there).

BLAKE2b is absent from some FIPS builds of Python; its digest is then
``None`` (the upload form then carries SHA-256 only, as twine's does).
"""

from __future__ import annotations

import hashlib
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trustpub._threads import worker_pool

CHUNK_SIZE = 1 << 20
"""Bytes read per chunk (1 MiB)."""


@dataclass(frozen=True)
class FileDigests:
    """Hex digests and the number of bytes hashed."""

    sha256: str
    blake2_256: str | None
    size: int


def _blake2_256() -> Any:
    try:
        return hashlib.blake2b(digest_size=32)
    except (ValueError, TypeError, AttributeError):  # disabled (FIPS)
        return None


def file_digests(path: str | Path, *, chunk_size: int = CHUNK_SIZE) -> FileDigests:
    """Hash ``path`` once for both digests. Raises ``OSError`` when it cannot be read."""
    sha256 = hashlib.sha256()
    blake = _blake2_256()
    size = 0
    with open(path, "rb") as handle:
        chunk = handle.read(chunk_size)
        if len(chunk) < chunk_size:  # the whole file: no thread
            sha256.update(chunk)
            if blake is not None:
                blake.update(chunk)
            size = len(chunk)
        else:
            with worker_pool(1, "trustpub-hash") as pool:
                pending: Future[None] | None = None
                while chunk:
                    size += len(chunk)
                    if pending is not None:
                        pending.result()  # SHA-256 of the previous chunk is done
                    pending = pool.submit(sha256.update, chunk)
                    if blake is not None:
                        blake.update(chunk)
                    chunk = handle.read(chunk_size)
                if pending is not None:
                    pending.result()
    return FileDigests(
        sha256=sha256.hexdigest(),
        blake2_256=blake.hexdigest() if blake is not None else None,
        size=size,
    )


__all__ = ["CHUNK_SIZE", "FileDigests", "file_digests"]
