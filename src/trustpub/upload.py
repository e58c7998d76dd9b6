"""Discovery, validation, hashing and streamed upload of distributions.

The public face of the upload half of ``trustpub publish`` (see
``docs/dev/contracts.md``, "Upload")::

    collected = collect(["dist/*"])              # files, directories, globs
    dists = validate(collected.files)            # every file checked before any upload
    report = Uploader(target, credential, client=client).upload(dists)

Core code only: nothing here prints; progress goes to a ``Reporter``.
"""

from __future__ import annotations

from trustpub._upload.discover import DEFAULT_PATHS, Collected, collect
from trustpub._upload.index import IndexFile, project_files
from trustpub._upload.multipart import CHUNK_SIZE, MultipartBody, form_fields
from trustpub._upload.uploader import (
    ABSENT,
    DIFFERENT,
    FAILED,
    IDENTICAL,
    NOT_ATTEMPTED,
    SKIPPED,
    UPLOADED,
    FileResult,
    Uploader,
    UploadReport,
    server_message,
)
from trustpub._upload.validate import (
    SDIST,
    WHEEL,
    Distribution,
    InvalidDistributionsError,
    Problem,
    validate,
)

__all__ = [
    "ABSENT",
    "CHUNK_SIZE",
    "DEFAULT_PATHS",
    "DIFFERENT",
    "FAILED",
    "IDENTICAL",
    "NOT_ATTEMPTED",
    "SDIST",
    "SKIPPED",
    "UPLOADED",
    "WHEEL",
    "Collected",
    "Distribution",
    "FileResult",
    "IndexFile",
    "InvalidDistributionsError",
    "MultipartBody",
    "Problem",
    "UploadReport",
    "Uploader",
    "collect",
    "form_fields",
    "project_files",
    "server_message",
    "validate",
]
