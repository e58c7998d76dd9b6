"""The upload form and a streaming ``multipart/form-data`` body.

The body is an iterable of bytes with a Content-Length known in advance: the
small fields are encoded up front, the file is read in ``chunk_size`` pieces
while the request is being sent. Memory stays flat whatever the file size.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from trustpub.errors import DistributionError

if TYPE_CHECKING:
    from trustpub.upload.validate import Distribution

CHUNK_SIZE = 1 << 20
"""Bytes read from the file per chunk (1 MiB)."""

_SKIPPED_KEYS = frozenset({"gpg_signature", "attestations", "comment"})


class Aborted(Exception):
    """The upload was told to stop while its body was being sent."""


def form_fields(dist: Distribution, *, attestations: bool = True) -> list[tuple[str, str]]:
    """The non-file fields of the legacy upload form, in order.

    Built from twine's ``PackageFile.metadata_dictionary()``; lists become
    repeated fields, ``project_urls`` becomes ``"Label, URL"`` entries and
    ``keywords`` one comma-separated field (what Warehouse parses).
    """
    if dist.package is None:
        raise ValueError(f"{dist.filename} was not validated (no package metadata)")
    fields: list[tuple[str, str]] = [(":action", "file_upload"), ("protocol_version", "1")]
    metadata = dict(dist.package.metadata_dictionary())
    metadata["sha256_digest"] = dist.sha256
    if dist.blake2_256:
        metadata["blake2_256_digest"] = dist.blake2_256
    for key, value in metadata.items():
        if key in _SKIPPED_KEYS or value is None:
            continue
        if isinstance(value, dict):
            fields.extend((key, f"{label}, {url}") for label, url in value.items())
        elif key == "keywords" and isinstance(value, (list, tuple)):
            fields.append((key, ", ".join(str(item) for item in value)))
        elif isinstance(value, (list, tuple)):
            fields.extend((key, str(item)) for item in value)
        else:
            fields.append((key, str(value)))
    if attestations and dist.attestations:
        loaded = [_load_attestation(sidecar) for sidecar in dist.attestations]
        fields.append(("attestations", json.dumps(loaded, separators=(",", ":"))))
    return fields


def _load_attestation(sidecar: Path) -> object:
    try:
        return json.loads(sidecar.read_bytes())
    except (OSError, ValueError) as error:
        raise DistributionError(
            f"{sidecar.name}: could not read the attestation ({error})",
            hint="regenerate the attestation, or pass --no-attestations",
            anchor="invalid-attestation",
        ) from None


def _quote(value: str) -> str:
    """Escape a name or filename for a Content-Disposition parameter (as browsers do)."""
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


class MultipartBody:
    """A ``multipart/form-data`` body: fields, then one file part, streamed.

    Iterating it opens ``path``, yields it in chunks and calls
    ``on_chunk(len(chunk))`` after each one. Each iteration starts afresh, so
    the same body can be sent again on a retry. ``should_stop()`` is checked
    between chunks; when true, iteration raises :class:`Aborted`.
    """

    def __init__(
        self,
        fields: Sequence[tuple[str, str]],
        *,
        path: Path,
        filename: str,
        size: int,
        file_field: str = "content",
        file_content_type: str = "application/octet-stream",
        boundary: str | None = None,
        chunk_size: int = CHUNK_SIZE,
        on_chunk: Callable[[int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.boundary = boundary or f"trustpub-{secrets.token_hex(16)}"
        self.path = path
        self.filename = filename
        self.size = size
        self.chunk_size = chunk_size
        self.on_chunk = on_chunk
        self.should_stop = should_stop
        dash = f"--{self.boundary}".encode("ascii")
        head = bytearray()
        for name, value in fields:
            head += dash + b"\r\n"
            head += f'Content-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'.encode()
            head += value.encode("utf-8") + b"\r\n"
        head += dash + b"\r\n"
        head += (
            f'Content-Disposition: form-data; name="{_quote(file_field)}"; '
            f'filename="{_quote(filename)}"\r\n'
            f"Content-Type: {file_content_type}\r\n\r\n"
        ).encode()
        self.head = bytes(head)
        self.tail = b"\r\n" + dash + b"--\r\n"

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def content_length(self) -> int:
        return len(self.head) + self.size + len(self.tail)

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Type": self.content_type, "Content-Length": str(self.content_length)}

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        sent = 0
        with self.path.open("rb") as handle:
            while True:
                if self.should_stop is not None and self.should_stop():
                    raise Aborted(self.filename)
                chunk = handle.read(min(self.chunk_size, self.size - sent + 1))
                if not chunk:
                    break
                sent += len(chunk)
                if sent > self.size:
                    break
                yield chunk
                if self.on_chunk is not None:
                    self.on_chunk(len(chunk))
        if sent != self.size:
            raise DistributionError(
                f"{self.filename}: the file changed while it was being uploaded "
                f"({self.size} bytes when validated, now {'more' if sent > self.size else sent})",
                hint="do not modify dist/ during the upload; rebuild and run again",
                anchor="file-changed",
            )
        yield self.tail


__all__ = ["CHUNK_SIZE", "Aborted", "MultipartBody", "form_fields"]
