"""One result per file: what happened to it (or, in a dry run, what would)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from trustpub.errors import TrustpubError


class FileStatus(str, Enum):
    """A file's status; the value is what JSON, outputs and summaries show."""

    UPLOADED = "uploaded"
    SKIPPED = "skipped"
    """An identical file is already on the index."""
    FAILED = "failed"
    NOT_ATTEMPTED = "not-attempted"
    WOULD_UPLOAD = "would-upload"
    WOULD_SKIP = "would-skip"
    CONFLICT = "conflict"
    """Dry run: a different file with this name is already on the index."""

    # Equal to its value (a str), so it must hash like it too (Enum hashes the name).
    def __hash__(self) -> int:
        return hash(self.value)

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


@dataclass(frozen=True)
class FileResult:
    """One file's outcome: a line of the summary, an entry of the JSON ``files`` list."""

    filename: str
    size: int
    sha256: str
    status: FileStatus
    url: str = ""
    message: str = ""
    attestation: str = ""
    """``signed``, ``reused``, ``none: <why>``, ``off``; in a dry run ``would sign``,
    ``would reuse`` or ``none: <why>``; empty when the file was not uploaded."""

    def as_dict(self) -> dict[str, object]:
        return {
            "filename": self.filename,
            "size": self.size,
            "sha256": self.sha256,
            "status": self.status.value,
            "url": self.url,
            "message": self.message,
            "attestation": self.attestation,
        }


@dataclass(frozen=True)
class UploadReport:
    """The outcome of an upload run, in upload order (wheels first)."""

    results: tuple[FileResult, ...]
    ok: bool
    error: TrustpubError | None = None

    def count(self, status: FileStatus) -> int:
        return sum(1 for result in self.results if result.status == status)


__all__ = ["FileResult", "FileStatus", "UploadReport"]
