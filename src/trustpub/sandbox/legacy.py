"""``POST /legacy/`` (``:action=file_upload``): PyPI's upload rules, in PyPI's order.

The form is parsed by Starlette, which spools file parts to disk; the file is
then hashed (SHA-256 and BLAKE2b-256) while it is copied in 1 MiB chunks to the
state directory, so a large upload never sits in memory. Every refusal carries
its message in the status line's reason phrase (see ``responses.py``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import io
import re
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
import readme_renderer.rst
from packaging.utils import (
    InvalidWheelFilename,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from trustpub.sandbox.attestations import AttestationRefusal, AttestationVerifier, write_provenance
from trustpub.sandbox.config import SandboxSettings
from trustpub.sandbox.context import SandboxContext
from trustpub.sandbox.mint import INVALID_AUTH, PROJECT_NAME
from trustpub.sandbox.responses import error_response
from trustpub.sandbox.sigstore.trust import trust_config_path
from trustpub.sandbox.state import FileRecord, IndexState, TokenRecord

CORE_METADATA = "https://packaging.python.org/specifications/core-metadata"
MIGRATE = (
    "Username/Password authentication is no longer supported. Migrate to API Tokens or "
    "Trusted Publishers instead. See https://pypi.org/help/#apitoken and "
    "https://pypi.org/help/#trusted-publishers"
)
NON_USER = (
    "Non-user identities cannot create new projects. This was probably caused by "
    "successfully using a pending publisher but specifying the project name incorrectly "
    "(either in the publisher or in your project's metadata). Please ensure that both match. "
    "See: https://docs.pypi.org/trusted-publishers/internals/"
)
METADATA_VERSIONS = {"1.0", "1.1", "1.2", "2.1", "2.2", "2.3", "2.4", "2.5"}
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_CHUNK = 1024 * 1024
_PLATFORM = re.compile(
    r"^(any|win32|win_amd64|win_arm64|win_ia64"
    r"|macosx_\d+_\d+_[a-z0-9_]+"
    r"|manylinux1_(x86_64|i686)|manylinux2010_(x86_64|i686)"
    r"|manylinux2014_(x86_64|i686|aarch64|armv7l|ppc64|ppc64le|s390x)"
    r"|(many|musl)linux_\d+_\d+_(x86_64|i686|aarch64|armv7l|ppc64|ppc64le|s390x|riscv64)"
    r"|linux_(armv6l|armv7l)"
    r"|ios_\d+_\d+_[a-z0-9_]+|android_\d+_[a-z0-9_]+)$"
)
"""Platform tags PyPI accepts (a plain ``linux_x86_64`` wheel is refused)."""


class Refused(Exception):
    """An upload refusal: HTTP status and PyPI's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Hashed:
    size: int
    sha256: str
    blake2_256: str
    md5: str


def _copy_and_hash(source: Any, target: Path) -> Hashed:
    sha256 = hashlib.sha256()
    blake2 = hashlib.blake2b(digest_size=32)
    md5 = hashlib.md5(usedforsecurity=False)
    size = 0
    source.seek(0)
    with target.open("wb") as out:
        while chunk := source.read(_CHUNK):
            size += len(chunk)
            sha256.update(chunk)
            blake2.update(chunk)
            md5.update(chunk)
            out.write(chunk)
    return Hashed(size, sha256.hexdigest(), blake2.hexdigest(), md5.hexdigest())


_T = TypeVar("_T")

_INLINE_LIMIT = _CHUNK
"""Uploads up to this size are copied, hashed and checked on the event loop itself."""


async def _blocking(size: int | None, function: Callable[..., _T], *args: Any) -> _T:
    """``function(*args)`` on a worker thread, or inline when the upload is small.

    Handing a sub-millisecond job to a thread and back costs more than the job
    (the event loop and the worker take turns on the GIL); a large file must not
    stall the other requests, so it still goes to a thread.
    """
    if size is not None and size <= _INLINE_LIMIT:
        return function(*args)
    return await anyio.to_thread.run_sync(function, *args)


def _rst_fails(text: str) -> bool:
    """Whether a reStructuredText description fails to render (as PyPI would refuse it)."""
    return readme_renderer.rst.render(text, stream=io.StringIO()) is None


def _field(form: FormData, name: str) -> str | None:
    values = form.getlist(name)
    if not values:
        return None
    value = values[0]
    if not isinstance(value, str):
        raise Refused(400, f"{name}: Should not be a tuple.")
    return value


def _invalid(value: str, label: str, error: str) -> Refused:
    return Refused(
        400,
        f"'{value}' is an invalid value for {label}. Error: {error} See {CORE_METADATA} for more information.",
    )


class UploadEndpoint:
    """``/legacy/`` of one sandbox index."""

    def __init__(self, ctx: SandboxContext, settings: SandboxSettings, state: IndexState) -> None:
        self.ctx = ctx
        self.settings = settings
        self.state = state
        self.verifier = AttestationVerifier(trust_config_path(ctx.state_dir))

    def _attestations(
        self, raw: str, token: TokenRecord, filename: str, sha256: str
    ) -> dict[str, Any]:
        publisher = None
        if token.kind == "oidc":
            with self.state.lock:
                found = [e for e in self.state.publishers if e.id == token.publisher_id]
            publisher = found[0].publisher if found else None
        try:
            return self.verifier.check(raw, publisher, filename, sha256)
        except AttestationRefusal as refusal:
            raise Refused(400, refusal.message) from None

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/legacy/", self.upload, methods=["POST"]),
            Route("/legacy", self.redirect, methods=["POST"]),
        ]

    async def redirect(self, request: Request) -> Response:
        return RedirectResponse("/legacy/", status_code=308)

    def _authenticate(self, request: Request) -> TokenRecord:
        header = request.headers.get("authorization", "").strip()
        scheme, _, credentials = header.partition(" ")
        credentials = credentials.strip()
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise Refused(403, INVALID_AUTH) from None
            username, _, password = decoded.partition(":")
            if username != "__token__":
                raise Refused(403, MIGRATE)
            token = password.strip()
        elif scheme.lower() in ("token", "bearer"):
            token = credentials
        else:
            raise Refused(403, INVALID_AUTH)
        if not token:
            raise Refused(403, INVALID_AUTH)
        record = self.state.token(token)
        if record is None:
            raise Refused(403, INVALID_AUTH)
        return record

    async def upload(self, request: Request) -> Response:
        if self.settings.latency_ms:
            await asyncio.sleep(self.settings.latency_ms / 1000)
        try:
            token = self._authenticate(request)
            async with request.form(
                max_files=4, max_fields=2000, max_part_size=16 * 1024 * 1024
            ) as form:
                return await self._upload(request, form, token)
        except Refused as refused:
            return error_response(request, refused.status, refused.message)
        except MultiPartException as error:
            return error_response(request, 400, f"Invalid multipart form: {error.message}")

    async def _upload(self, request: Request, form: FormData, token: TokenRecord) -> Response:
        action = _field(form, ":action") or request.query_params.get(":action")
        if action in ("submit", "doc_upload"):
            raise Refused(410, f"Uploading documentation or '{action}' is no longer supported.")
        if action != "file_upload":
            raise Refused(400, "Missing or unknown ':action'; use ':action=file_upload'.")

        protocol = _field(form, "protocol_version")
        if protocol is not None and protocol != "1":
            raise Refused(400, "Unknown protocol version.")

        metadata_version = _field(form, "metadata_version") or ""
        name = _field(form, "name") or ""
        version_text = _field(form, "version") or ""
        if not metadata_version:
            raise _invalid(metadata_version, "Metadata-Version", "This field is required.")
        if metadata_version not in METADATA_VERSIONS:
            raise _invalid(metadata_version, "Metadata-Version", "Use a known metadata version.")
        if not name:
            raise _invalid(name, "Name", "This field is required.")
        if not PROJECT_NAME.match(name):
            raise _invalid(
                name,
                "Name",
                "Start and end with a letter or numeral containing only ASCII numeric and "
                "'.', '_' and '-'.",
            )
        if not version_text:
            raise _invalid(version_text, "Version", "This field is required.")
        try:
            version = Version(version_text)
        except InvalidVersion:
            raise _invalid(
                version_text, "Version", "Use a valid PEP 440 version (e.g. 1.0.2)."
            ) from None

        filetype = _field(form, "filetype")
        if filetype not in ("sdist", "bdist_wheel"):
            raise Refused(400, "Invalid value for filetype. Error: Use a known file type.")
        pyversion = _field(form, "pyversion") or ""
        if filetype == "bdist_wheel" and not pyversion:
            raise Refused(
                400,
                "Invalid value for pyversion. Error: Python version is required for binary "
                "distribution uploads.",
            )
        if filetype == "sdist" and pyversion not in ("", "source"):
            raise Refused(
                400,
                "Invalid value for pyversion. Error: Use 'source' as Python version for an sdist.",
            )
        digests: dict[str, str] = {}
        for key, pattern, label in (
            ("md5_digest", _HEX32, "MD5"),
            ("sha256_digest", _HEX64, "SHA256"),
            ("blake2_256_digest", _HEX64, "blake2b_256"),
        ):
            value = _field(form, key)
            if value:
                value = value.lower()
                if not pattern.match(value):
                    raise Refused(
                        400,
                        f"Invalid value for {key}. Error: Use a valid, hex-encoded, {label} "
                        "message digest.",
                    )
                digests[key] = value
        if not digests:
            raise Refused(400, "Error: Include at least one message digest.")
        if version.local is not None:
            raise Refused(
                400, f"Can't use PEP 440 local versions. See {CORE_METADATA} for more information."
            )

        content = form.get("content")
        if not isinstance(content, UploadFile):
            raise Refused(400, "Upload payload does not have a file.")

        normalized = canonicalize_name(name)
        project = self.state.project(name)
        if project is None and token.kind == "oidc":
            raise Refused(400, NON_USER)
        display = project.name if project is not None else name

        now = self.ctx.clock()
        if token.expires is not None and now >= token.expires:
            raise Refused(403, "Invalid API Token: token is expired")
        if token.projects is not None and normalized not in token.projects:
            raise Refused(
                403, f"Invalid API Token: OIDC scoped token is not valid for project '{display}'"
            )

        description = _field(form, "description")
        if description and description != "UNKNOWN":
            content_kind = (_field(form, "description_content_type") or "text/x-rst").split(";")[0]
            content_kind = content_kind.strip().lower()
            if content_kind == "text/x-rst" and await anyio.to_thread.run_sync(
                _rst_fails, description
            ):
                raise Refused(
                    400,
                    f"The description failed to render for '{content_kind}'. See "
                    "https://pypi.org/help/#description-content-type for more information.",
                )

        filename = content.filename or ""
        if (
            not filename
            or any(c in filename for c in "/\\")
            or any(ord(c) < 32 or ord(c) == 127 for c in filename)
        ):
            raise Refused(
                400, "Cannot upload a file with '/' or '\\' or control characters in the name."
            )
        if filetype == "sdist":
            ext_ok = filename.endswith((".tar.gz", ".zip"))
        else:
            ext_ok = filename.endswith(".whl")
        if not ext_ok:
            raise Refused(
                400,
                f"Invalid file extension: Use .tar.gz, .whl or .zip extension for {filetype}. "
                "See https://www.python.org/dev/peps/pep-0527 and "
                "https://peps.python.org/pep-0715/ for more information",
            )
        # Warehouse's form parser gives a file part sent without a Content-Type header the
        # type text/plain (uv sends none); only an empty or image/* type is refused.
        content_type = "text/plain" if content.content_type is None else content.content_type
        if not content_type or content_type.startswith("image/"):
            raise Refused(400, "Invalid distribution file.")

        limit = self.settings.max_file_size
        if content.size is not None and content.size > limit:
            raise Refused(400, self._too_large(display))
        staged = self.state.staging_file()
        try:
            hashed = await _blocking(content.size, _copy_and_hash, content.file, staged)
            response = await self._store(
                form, token, staged, hashed, display, filename, filetype, version_text, version
            )
        finally:
            staged.unlink(missing_ok=True)
        return response

    def _too_large(self, display: str) -> str:
        megabytes = self.settings.max_file_size // (1024 * 1024)
        return (
            f"File too large. Limit for project '{display}' is {megabytes} MB. See "
            "https://docs.pypi.org/project-management/storage-limits#requesting-a-file-size-limit-increase "
            "for more information."
        )

    async def _store(
        self,
        form: FormData,
        token: TokenRecord,
        staged: Path,
        hashed: Hashed,
        display: str,
        filename: str,
        filetype: str,
        version_text: str,
        version: Version,
    ) -> Response:
        if hashed.size > self.settings.max_file_size:
            raise Refused(400, self._too_large(display))
        supplied = {
            "md5_digest": hashed.md5,
            "sha256_digest": hashed.sha256,
            "blake2_256_digest": hashed.blake2_256,
        }
        for key, expected in supplied.items():
            given = (_field(form, key) or "").lower()
            if given and given != expected:
                raise Refused(
                    400,
                    "The digest supplied does not match a digest calculated from the uploaded file.",
                )
        normalized = canonicalize_name(display)
        with self.state.lock:
            existing = self.state.find_file(filename, hashed.blake2_256)
            if existing is not None:
                if (
                    existing.filename == filename
                    and existing.sha256 == hashed.sha256
                    and existing.blake2_256 == hashed.blake2_256
                ):
                    return PlainTextResponse("OK")
                raise Refused(
                    400,
                    f"File already exists ('{filename}', with blake2_256 hash "
                    f"'{hashed.blake2_256}'). See https://pypi.org/help/#file-name-reuse for more "
                    "information.",
                )
            project = self.state.project(display)
            if filetype == "sdist" and project is not None:
                for record in project.files:
                    if record.filetype == "sdist" and Version(record.version) == version:
                        raise Refused(400, "Only one sdist may be uploaded per release.")
        prefix = normalized.replace("-", "_")
        if filetype == "sdist":
            expected_name = f"{prefix}-{version}.tar.gz"
            if filename != expected_name:
                raise Refused(
                    400, f"Filename '{filename}' is invalid, should be '{expected_name}'."
                )
            if not await _blocking(hashed.size, tarfile.is_tarfile, staged):
                raise Refused(400, "Invalid distribution file. Not a tar.gz archive")
        else:
            try:
                _, wheel_version, _, tags = parse_wheel_filename(filename)
            except InvalidWheelFilename as error:
                raise Refused(400, str(error)) from None
            for tag in sorted(tags, key=str):
                if not _PLATFORM.match(tag.platform):
                    raise Refused(
                        400,
                        f"Binary wheel '{filename}' has an unsupported platform tag "
                        f"'{tag.platform}'.",
                    )
            written = filename.split("-", 1)[0]
            if written != prefix:
                raise Refused(
                    400,
                    f"Filename '{filename}' should contain the normalized project name "
                    f"'{prefix}', not '{written}'.",
                )
            if wheel_version != version:
                raise Refused(
                    400,
                    f"Version in filename should be '{version}' not '{wheel_version}'.",
                )
            if not await _blocking(hashed.size, zipfile.is_zipfile, staged):
                raise Refused(400, "Invalid distribution file. Not a zip archive")

        raw_attestations = _field(form, "attestations")
        provenance: dict[str, Any] | None = None
        if raw_attestations is not None:  # sandbox/attestations.py: Warehouse's checks
            provenance = await anyio.to_thread.run_sync(
                self._attestations, raw_attestations, token, filename, hashed.sha256
            )

        record = FileRecord(
            filename=filename,
            version=version_text,
            filetype=filetype,
            size=hashed.size,
            sha256=hashed.sha256,
            blake2_256=hashed.blake2_256,
            requires_python=(_field(form, "requires_python") or None),
            upload_time=self.ctx.clock(),
            attestations=provenance is not None,
        )
        with self.state.lock:
            if self.state.find_file(filename, hashed.blake2_256) is not None:
                raise Refused(
                    400,
                    f"File already exists ('{filename}', with blake2_256 hash "
                    f"'{hashed.blake2_256}'). See https://pypi.org/help/#file-name-reuse for more "
                    "information.",
                )
            self.state.add_file(display, record, staged)
            if provenance is not None:
                write_provenance(self.state.file_path(display, filename), provenance)
        return PlainTextResponse("OK")


__all__ = ["MIGRATE", "NON_USER", "Refused", "UploadEndpoint"]
