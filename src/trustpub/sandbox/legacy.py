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
import re
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
from packaging.metadata import Metadata
from packaging.utils import canonicalize_name
from packaging.version import Version
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from trustpub.sandbox.attestations import AttestationRefusal, AttestationVerifier, write_provenance
from trustpub.sandbox.config import SandboxSettings
from trustpub.sandbox.context import SandboxContext
from trustpub.sandbox.faults import UploadHold
from trustpub.sandbox.mint import INVALID_AUTH
from trustpub.sandbox.refusal import Refusal
from trustpub.sandbox.responses import error_response
from trustpub.sandbox.routing import Endpoints, route
from trustpub.sandbox.sigstore.trust import trust_config_path
from trustpub.sandbox.state import FileRecord, IndexState, TokenRecord
from trustpub.upload.rules import (
    check_form_metadata,
    description_refusal,
    distribution_refusal,
    filename_refusal,
    form_name_refusal,
    open_distribution,
    sanitize_form,
    size_refusal,
)

MIGRATE = (
    "Username/Password authentication is no longer supported. Migrate to API Tokens or "
    "Trusted Publishers instead. See https://pypi.org/help/#apitoken and "
    "https://pypi.org/help/#trusted-publishers"
)
NON_USER = (
    "Non-user identities cannot create new projects. This was probably caused by "
    "successfully using a pending publisher but specifying the project name incorrectly "
    "(either in the publisher or in your project's metadata). Please ensure that both match. "
    "See: https://docs.pypi.org/trusted-publishers/troubleshooting/"
)
_HEX64 = re.compile(r"^[0-9a-f]{64}$", re.IGNORECASE)
_CHUNK = 1024 * 1024


class Refused(Refusal):
    """An upload refusal: HTTP status and PyPI's message."""


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


def _field(form: FormData, name: str) -> str | None:
    values = form.getlist(name)
    if not values:
        return None
    value = values[0]
    if not isinstance(value, str):
        raise Refused(400, f"{name}: Should not be a tuple.")
    return value


def _form_refusal(form: FormData) -> Refused | None:
    """Warehouse's ``UploadForm``: name, filetype, pyversion, digests (``forklift/forms.py``)."""
    if (named := form_name_refusal(_field(form, "name") or "")) is not None:
        return Refused(400, named.message)
    # Field errors are reported in field-name order: blake2_256_digest, filetype, sha256_digest.
    filetype = _field(form, "filetype") or ""
    checks = (
        ("blake2_256_digest", _digest_error(form, "blake2_256_digest", "BLAKE2")),
        ("filetype", _filetype_error(filetype)),
        ("sha256_digest", _digest_error(form, "sha256_digest", "SHA256")),
    )
    for key, error in checks:
        if error is not None:
            return Refused(400, f"Invalid value for {key}. Error: {error}")
    pyversion = _field(form, "pyversion") or ""
    if filetype == "bdist_wheel" and not pyversion:
        return Refused(
            400,
            "Invalid value for pyversion. Error: Python version is required for binary "
            "distribution uploads.",
        )
    if filetype == "sdist" and pyversion not in ("", "source"):
        return Refused(
            400, "Invalid value for pyversion. Error: Use 'source' as Python version for an sdist."
        )
    if not any(_field(form, key) for key in ("md5_digest", "sha256_digest", "blake2_256_digest")):
        return Refused(400, "Error: Include at least one message digest.")
    return None


def _digest_error(form: FormData, key: str, label: str) -> str | None:
    value = _field(form, key)
    if value and not _HEX64.match(value):
        return f"Use a valid, hex-encoded, {label} message digest."
    return None


def _filetype_error(filetype: str | None) -> str | None:
    if not filetype:
        return "This field is required."
    if filetype not in ("sdist", "bdist_wheel"):
        return "Use a known file type."
    return None


def _form_pairs(form: FormData) -> list[tuple[str, str]]:
    return [(key, value) for key, value in form.multi_items() if isinstance(value, str)]


def _check_tuples(form: FormData) -> None:
    """PyPI refuses any field but ``content`` sent as a file part."""
    for key, value in form.multi_items():
        if key not in ("content", "gpg_signature") and not isinstance(value, str):
            raise Refused(400, f"{key}: Should not be a tuple.")


def _check_digests(form: FormData, hashed: Hashed) -> None:
    """Every digest the form gives must match the file's (PyPI compares those given)."""
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


def _file_refusal(staged: Path, filename: str, meta: Metadata) -> str | None:
    """PyPI's checks of the uploaded file itself (archive, names, tags, wheel files)."""
    with ExitStack() as stack:
        opened = open_distribution(staged, filename, stack)
        refusal = distribution_refusal(opened, meta, meta.name)
    return None if refusal is None else refusal.message


def _check_action(form: FormData, query_action: str | None) -> None:
    """The form's ``:action`` and ``protocol_version``, as Warehouse checks them first."""
    action = _field(form, ":action") or query_action
    if action in ("submit", "doc_upload"):
        raise Refused(410, f"Uploading documentation or '{action}' is no longer supported.")
    if action != "file_upload":
        raise Refused(400, "Missing or unknown ':action'; use ':action=file_upload'.")
    protocol = _field(form, "protocol_version")
    if protocol is not None and protocol != "1":
        raise Refused(400, "Unknown protocol version.")


class UploadEndpoint(Endpoints):
    """``/legacy/`` of one sandbox index."""

    def __init__(
        self,
        ctx: SandboxContext,
        settings: SandboxSettings,
        state: IndexState,
        hold: UploadHold | None = None,
    ) -> None:
        self.ctx = ctx
        self.settings = settings
        self.state = state
        self.hold = hold or UploadHold()
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

    @route("POST", "/legacy")
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

    @route("POST", "/legacy/")
    async def upload(self, request: Request) -> Response:
        await self.hold.wait_if_held()  # tests hold uploads open (POST /_sandbox/hold)
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

    def _check_restrictions(self, token: TokenRecord, normalized: str, shown: str) -> None:
        """A minted token's caveats in Warehouse's order (publisher and project, then
        expiry); PyPI stops at the first unmet one and joins the reasons with ", "."""
        restrictions = []
        if token.projects is not None and normalized not in token.projects:
            restrictions.append(f"OIDC scoped token is not valid for project '{shown}'")
        elif token.expires is not None and self.ctx.clock() >= token.expires:
            restrictions.append("token is expired")
        if restrictions:
            raise Refused(403, "Invalid API Token: " + ", ".join(restrictions))

    async def _upload(self, request: Request, form: FormData, token: TokenRecord) -> Response:
        _check_action(form, request.query_params.get(":action"))
        _check_tuples(form)
        refused = _form_refusal(form)
        if refused is not None:
            raise refused
        meta, refusals = check_form_metadata(sanitize_form(_form_pairs(form)))
        if meta is None or refusals:
            raise Refused(400, refusals[0].message)
        name = _field(form, "name") or ""
        filetype = _field(form, "filetype") or ""

        content = form.get("content")
        if not isinstance(content, UploadFile):
            raise Refused(400, "Upload payload does not have a file.")

        normalized = canonicalize_name(name)
        project = self.state.project(name)
        if project is None and token.kind == "oidc":
            raise Refused(400, NON_USER)
        # PyPI renames the project to the metadata's spelling before the file checks.
        display = meta.name

        shown = project.name if project is not None else name
        self._check_restrictions(token, normalized, shown)

        # Only reStructuredText can fail to render; docutils is slow, so off the event loop.
        rst = "markdown" not in (meta.description_content_type or "") and "plain" not in (
            meta.description_content_type or ""
        )
        if meta.description and rst:
            description = await anyio.to_thread.run_sync(description_refusal, meta)
            if description is not None:
                raise Refused(400, description.message)

        filename = content.filename or ""
        if (named := filename_refusal(filename, filetype)) is not None:
            raise Refused(400, named.message)
        # Warehouse's form parser gives a file part sent without a Content-Type header the
        # type text/plain (uv sends none); only an empty or image/* type is refused.
        content_type = "text/plain" if content.content_type is None else content.content_type
        if not content_type or content_type.startswith("image/"):
            raise Refused(400, "Invalid distribution file.")

        limit = self.settings.max_file_size
        if content.size is not None and (big := size_refusal(content.size, limit, display)):
            raise Refused(400, big.message)
        staged = self.state.staging_file()
        try:
            hashed = await _blocking(content.size, _copy_and_hash, content.file, staged)
            response = await self._store(form, token, staged, hashed, meta, filename, filetype)
        finally:
            staged.unlink(missing_ok=True)
        return response

    async def _store(
        self,
        form: FormData,
        token: TokenRecord,
        staged: Path,
        hashed: Hashed,
        meta: Metadata,
        filename: str,
        filetype: str,
    ) -> Response:
        display = meta.name
        version = meta.version
        version_text = str(_field(form, "version") or version)
        big = size_refusal(hashed.size, self.settings.max_file_size, display)
        if big is not None:
            raise Refused(400, big.message)
        _check_digests(form, hashed)
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
        refusal = await _blocking(hashed.size, _file_refusal, staged, filename, meta)
        if refusal is not None:
            raise Refused(400, refusal)

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
