"""PyPI's distribution rules: what Warehouse's upload endpoint refuses, and its words.

One module for both sides: the client (:mod:`trustpub.upload.validate`, before
anything is uploaded) and the sandbox's ``/legacy/`` endpoint
(:mod:`trustpub.sandbox.legacy`). Each check returns a :class:`Refusal` with
the message PyPI puts in its status line, so both sides say the same thing.

Learned by reading Warehouse at commit :data:`WAREHOUSE_COMMIT` (2026-08-21):
``forklift/forms.py`` (the upload form), ``forklift/metadata.py`` (the metadata
rules layered over ``packaging.metadata``), ``forklift/legacy.py`` (the order of
the checks, the archive checks, the platform tags, the wheel and sdist rules),
``utils/wheel.py`` (RECORD and entry points), ``utils/zipfiles.py`` (ZIP record
framing) and ``utils/readme.py`` (description rendering). The code is our own.

Order, as in ``file_upload``: the form (sandbox only), the metadata, the
description, the file name, the content type (sandbox only), the size, the
index's own state (sandbox only), then :func:`distribution_refusal`: archive
validity, sdist file name, ``License-File`` members, wheel platform tags, wheel
file name, wheel version, ``RECORD``, entry points, ``METADATA``.
"""

from __future__ import annotations

import configparser
import csv
import email.message
import email.utils
import io
import os
import posixpath
import re
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, cast

from packaging.metadata import (
    _LIST_FIELDS,
    _RAW_TO_EMAIL_MAPPING,
    _STRING_FIELDS,
    InvalidMetadata,
    Metadata,
    RawMetadata,
    _parse_keywords,
    _parse_project_urls,
)
from packaging.metadata import ExceptionGroup as _ExceptionGroup
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

WAREHOUSE_COMMIT = "6b62157124ab7865029afeeadf282bce27d601d9"
"""The Warehouse commit these rules were read from (pypi/warehouse, 2026-08-21)."""

CORE_METADATA = "https://packaging.python.org/specifications/core-metadata"
LOCAL_VERSIONS = (
    "https://packaging.python.org/en/latest/specifications/"
    "version-specifiers/#local-version-identifiers"
)
ONE_MIB = 1024 * 1024
MAX_FILE_SIZE = 100 * ONE_MIB
"""PyPI's default per-file upload limit (``warehouse/constants.py``)."""

MEMBER_READ_LIMIT = 16 * ONE_MIB
"""The most bytes read from one archive member (METADATA, PKG-INFO, RECORD, ...).

Metadata of a real project is far smaller (a long README is a few hundred KiB); the cap keeps
a small archive that inflates to gigabytes from taking the memory of the release job."""

SUPPORTED_METADATA_VERSIONS = frozenset({"1.0", "1.1", "1.2", "2.1", "2.2", "2.3", "2.4", "2.5"})

DYNAMIC_FIELDS = frozenset(
    field.lower()
    for field in (
        "Platform",
        "Supported-Platform",
        "Summary",
        "Description",
        "Description-Content-Type",
        "Keywords",
        "Home-Page",
        "Download-Url",
        "Author",
        "Author-Email",
        "Maintainer",
        "Maintainer-Email",
        "License",
        "License-Expression",
        "License-File",
        "Classifier",
        "Requires-Dist",
        "Requires-Python",
        "Requires-External",
        "Project-Url",
        "Provides-Extra",
        "Provides-Dist",
        "Obsoletes-Dist",
        "Requires",
        "Provides",
        "Obsoletes",
        "Import-Name",
        "Import-Namespace",
    )
)
"""Fields PyPI lets ``Dynamic`` name (``forklift/metadata.py``)."""

_LENGTH_LIMITS = {"summary": 512}
_FIELD_ORDER = ("metadata-version", "name", "version")
"""Which field's error PyPI reports first; the others by field name."""

COMPRESSION_RATIO_MIN_SIZE = 64 * ONE_MIB
COMPRESSION_RATIO_THRESHOLD = 50
ARCHIVES_URL = "https://docs.pypi.org/archives"


@dataclass(frozen=True)
class Refusal:
    """What PyPI answers when it refuses an upload."""

    message: str
    """The text of PyPI's status line (after the status code)."""
    rule: str
    """Which rule refused: ``metadata``, ``description``, ``filename``, ``size``, ``archive``,
    ``sdist-filename``, ``name-mismatch``, ``license-file``, ``platform-tag``, ``wheel-filename``,
    ``wheel-version``, ``record``, ``entry-points``, ``wheel-metadata``."""
    status: int = 400


# --- the upload form's name ----------------------------------------------------------------------

PROJECT_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])\Z", re.IGNORECASE | re.ASCII)
"""PyPI's project name rule (``utils/project.py``): PEP 508 names, ASCII only."""


def form_name_refusal(name: str) -> Refusal | None:
    """The form's ``name`` field (twine sends the metadata name with unsafe runs as ``-``)."""
    if name and PROJECT_NAME.match(name):
        return None
    error = (
        "Start and end with a letter or numeral containing only ASCII numeric and '.', '_' and '-'."
        if name
        else "This field is required."
    )
    shown = name[:30] + "..." + name[-30:] if len(name) > 60 else name
    return Refusal(
        f"{shown!r} is an invalid value for Name. Error: {error} See {CORE_METADATA} "
        "for more information.",
        "metadata",
    )


# --- metadata ------------------------------------------------------------------------------------

_FORM_OVERRIDES = {
    "platforms": "platform",
    "supported_platforms": "supported_platform",
    "license_files": "license_file",
    "import_names": "import_name",
    "import_namespaces": "import_namespace",
}
_FORM_TO_RAW = {_FORM_OVERRIDES.get(raw, raw): raw for raw in _RAW_TO_EMAIL_MAPPING}


def sanitize_form(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The form fields as PyPI keeps them: ``UNKNOWN`` dropped, NUL escaped."""
    kept = []
    for key, value in pairs:
        if value.strip() == "UNKNOWN":
            continue
        kept.append((key, value.replace("\x00", "\\x00")))
    # PyPI deletes every value of a key that had one UNKNOWN value.
    unknown = {key for key, value in pairs if value.strip() == "UNKNOWN"}
    return [(key, value) for key, value in kept if key not in unknown]


def raw_from_form(pairs: Sequence[tuple[str, str]]) -> tuple[RawMetadata, list[InvalidMetadata]]:
    """The core metadata in upload form fields, as Warehouse reads it back.

    Returns the raw metadata and the fields PyPI cannot parse (each an error).
    """
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    raw: dict[str, Any] = {}
    unparsed: list[InvalidMetadata] = []
    for key, values in grouped.items():
        raw_name = _FORM_TO_RAW.get(key)
        if raw_name is None or values == [""]:
            continue
        if raw_name in _STRING_FIELDS and len(values) == 1:
            raw[raw_name] = values[0]
        elif raw_name in _LIST_FIELDS:
            raw[raw_name] = values
        elif raw_name == "keywords" and len(values) == 1:
            raw[raw_name] = _parse_keywords(values[0])
        elif raw_name == "project_urls":
            try:
                raw[raw_name] = _parse_project_urls(values)
            except KeyError:
                unparsed.append(InvalidMetadata(key, f"{key!r} has invalid data"))
        else:
            unparsed.append(InvalidMetadata(key, f"{key!r} has invalid data"))
    return cast(RawMetadata, raw), unparsed


def _email(field: str) -> str:
    return _RAW_TO_EMAIL_MAPPING.get(field, field)


@lru_cache(maxsize=256)
def _is_valid_url(url: str) -> bool:
    """Warehouse's ``is_valid_uri(url, require_authority=False)``: http(s), a valid URI."""
    from rfc3986 import exceptions, uri_reference, validators

    reference = uri_reference(url).normalize()
    validator = validators.Validator().allow_schemes("http", "https")
    validator.require_presence_of("scheme")
    validator.check_validity_of("scheme", "host", "port", "path", "query")
    try:
        validator.validate(reference)
    except exceptions.ValidationError:
        return False
    return True


@lru_cache(maxsize=256)
def _email_problem(address: str) -> str | None:
    import email_validator

    try:
        email_validator.validate_email(address, check_deliverability=False)
    except email_validator.EmailNotValidError as error:
        return str(error)
    return None


def _classifier_errors(classifiers: Sequence[str]) -> list[InvalidMetadata]:
    if not classifiers:
        return []
    from trove_classifiers import all_classifiers, deprecated_classifiers

    errors = [
        InvalidMetadata("classifier", f"{c!r} is not a valid classifier.")
        for c in sorted(set(classifiers) - set(all_classifiers))
    ]
    for classifier in sorted(set(classifiers) & deprecated_classifiers.keys()):
        replacements = deprecated_classifiers[classifier]
        text = f"The classifier {classifier!r} has been deprecated"
        text += f", use one of {replacements} instead." if replacements else "."
        errors.append(InvalidMetadata("classifier", text))
    return errors


def _contact_errors(meta: Metadata) -> list[InvalidMetadata]:
    errors = []
    for field in ("author_email", "maintainer_email"):
        value = getattr(meta, field)
        if value is None:
            continue
        _, address = email.utils.parseaddr(value)
        if address and (problem := _email_problem(address)) is not None:
            errors.append(
                InvalidMetadata(
                    _email(field), f"{address!r} is not a valid email address: {problem}"
                )
            )
    return errors


def _url_errors(meta: Metadata) -> list[InvalidMetadata]:
    errors = [
        InvalidMetadata(_email(field), f"{url!r} is not a valid url.")
        for field in ("home_page", "download_url")
        if (url := getattr(meta, field)) is not None and not _is_valid_url(url)
    ]
    for label, url in (meta.project_urls or {}).items():
        if not label:
            errors.append(InvalidMetadata("project-url", "Must have a label"))
        elif len(label) > 32:
            errors.append(
                InvalidMetadata("project-url", f"{label!r} must be 32 characters or less.")
            )
        elif not url:
            errors.append(InvalidMetadata("project-url", "Must have a URL"))
        elif not _is_valid_url(url):
            errors.append(InvalidMetadata("project-url", f"{url!r} is not a valid url"))
    return errors


def _dependency_errors(meta: Metadata) -> list[InvalidMetadata]:
    errors = []
    for field in ("provides_dist", "obsoletes_dist"):
        for text in getattr(meta, field) or []:
            try:
                requirement = Requirement(text)
            except InvalidRequirement as error:
                errors.append(InvalidMetadata(_email(field), f"{text!r} is invalid: {error}"))
                continue
            if requirement.url is not None:
                errors.append(
                    InvalidMetadata(_email(field), f"Can't have direct dependency: {text!r}")
                )
    errors.extend(
        InvalidMetadata("requires-dist", f"Can't have direct dependency: {requirement}")
        for requirement in meta.requires_dist or []
        if requirement.url is not None
    )
    return errors


def _pypi_errors(meta: Metadata) -> list[InvalidMetadata]:
    """The rules PyPI adds to ``packaging.metadata``'s, in ``_validate_metadata``'s order."""
    errors: list[InvalidMetadata] = []
    if meta.metadata_version not in SUPPORTED_METADATA_VERSIONS:
        errors.append(
            InvalidMetadata(
                "metadata-version", f"{meta.metadata_version!r} is not a valid metadata version"
            )
        )
    if meta.version.local:
        errors.append(
            InvalidMetadata(
                "version", f"The use of local versions in '{meta.version}' is not allowed."
            )
        )
    for field, limit in _LENGTH_LIMITS.items():
        value = getattr(meta, field)
        if isinstance(value, str) and len(value) > limit:
            name = _email(field)
            errors.append(
                InvalidMetadata(name, f"{name!r} field must be {limit} characters or less.")
            )
    errors.extend(_contact_errors(meta))
    errors.extend(_classifier_errors(meta.classifiers or []))
    errors.extend(_url_errors(meta))
    errors.extend(_dependency_errors(meta))
    errors.extend(
        InvalidMetadata("dynamic", f"Dynamic field {key!r} is not a valid dynamic field.")
        for key in meta.dynamic or []
        if key not in DYNAMIC_FIELDS
    )
    if meta.license and meta.license_expression:
        errors.append(
            InvalidMetadata(
                "license",
                "License is deprecated when License-Expression is present. "
                "Only License-Expression should be present.",
            )
        )
    return errors


def _format(errors: Sequence[InvalidMetadata]) -> list[Refusal]:
    """Every error as PyPI words it; the one PyPI reports first comes first."""
    by_field: dict[str, list[InvalidMetadata]] = {}
    for error in errors:
        by_field.setdefault(error.field, []).append(error)
    first = next((name for name in _FIELD_ORDER if name in by_field), None)
    order = ([first] if first else []) + sorted(name for name in by_field if name != first)
    refusals = []
    for name in order:
        local = name == "version" and any("use of local versions" in str(e) for e in by_field[name])
        see = LOCAL_VERSIONS if local else CORE_METADATA
        for error in by_field[name]:
            text = str(error)
            text += "" if text.endswith(".") else "."
            refusals.append(Refusal(f"{text} See {see} for more information.", "metadata"))
    return refusals


def check_metadata(raw: RawMetadata) -> tuple[Metadata | None, list[Refusal]]:
    """Validate core metadata as PyPI does; the parsed metadata (if valid) and the refusals.

    The first refusal is the one PyPI answers with; the others are what it would
    report once that one is fixed (for the same field, or later fields).
    """
    try:
        meta = Metadata.from_raw(raw)
    except _ExceptionGroup as group:
        errors = [error for error in group.exceptions if isinstance(error, InvalidMetadata)]
        return None, _format(errors)
    return meta, _format(_pypi_errors(meta))


def check_form_metadata(pairs: Sequence[tuple[str, str]]) -> tuple[Metadata | None, list[Refusal]]:
    """:func:`check_metadata` on the metadata carried by upload form fields."""
    raw, unparsed = raw_from_form(pairs)
    if unparsed:
        return None, _format(unparsed)
    return check_metadata(raw)


# --- description -----------------------------------------------------------------------------------


def _content_type(declared: str | None) -> str | None:
    if not declared:
        return None
    message = email.message.EmailMessage()
    message["content-type"] = declared
    return message.get_content_type()


@lru_cache(maxsize=64)
def _rst_renders(text: str) -> bool:
    import readme_renderer.rst  # docutils is slow to import: only when needed

    return readme_renderer.rst.render(text, stream=io.StringIO()) is not None


def description_refusal(meta: Metadata) -> Refusal | None:
    """PyPI renders the description and refuses the upload when that fails.

    Only reStructuredText can fail: Markdown (cmarkgfm, GitHub's variant) and plain
    text always render, and other types fall back to plain text.
    """
    if not meta.description:
        return None
    content_type = _content_type(meta.description_content_type)
    if content_type not in (None, "text/x-rst") or _rst_renders(meta.description):
        return None
    if meta.description_content_type:
        text = f"The description failed to render for '{meta.description_content_type}'."
    else:
        text = "The description failed to render in the default format of reStructuredText."
    return Refusal(
        f"{text} See https://pypi.org/help/#description-content-type for more information.",
        "description",
    )


# --- file name, size -------------------------------------------------------------------------------

_EXTENSIONS = {"sdist": (".zip", ".tar.gz"), "bdist_wheel": (".whl",)}
_DIST_FILE = re.compile(r".+?(?P<extension>\.(tar\.gz|zip|whl))$", re.IGNORECASE)


def filename_refusal(filename: str, filetype: str) -> Refusal | None:
    """The characters and the extension of the uploaded file's name."""
    if any(ord(char) < 32 or ord(char) == 127 for char in filename):
        return Refusal(
            "Cannot upload a file with non-printable characters (ordinals 0-31) or the DEL "
            "character (ordinal 127) in the name.",
            "filename",
        )
    if "/" in filename or "\\" in filename:
        return Refusal("Cannot upload a file with '/' or '\\' in the name.", "filename")
    match = _DIST_FILE.match(filename)
    if match is None:
        return Refusal(
            "Invalid file extension: Use .tar.gz, .whl or .zip extension. See "
            "https://www.python.org/dev/peps/pep-0527 and https://peps.python.org/pep-0715/ "
            "for more information",
            "filename",
        )
    extension = match.group("extension")
    if extension not in _EXTENSIONS.get(filetype, ()):
        return Refusal(
            f"Invalid file extension: Extension {extension} is invalid for filetype {filetype}. "
            "See https://www.python.org/dev/peps/pep-0527 for more information.",
            "filename",
        )
    return None


def size_refusal(size: int, limit: int, project: str) -> Refusal | None:
    """The per-file size limit (PyPI's default is 100 MB; projects may have more)."""
    if size <= limit:
        return None
    return Refusal(
        f"File too large. Limit for project {project!r} is {limit // ONE_MIB} MB. See "
        "https://docs.pypi.org/project-management/storage-limits"
        "#requesting-a-file-size-limit-increase for more information.",
        "size",
    )


# --- platform tags ---------------------------------------------------------------------------------

_STATIC_PLATFORMS = frozenset(
    {
        "any",
        "win32",
        "win_arm64",
        "win_amd64",
        "win_ia64",
        "manylinux1_x86_64",
        "manylinux1_i686",
        "manylinux2010_x86_64",
        "manylinux2010_i686",
        "manylinux2014_x86_64",
        "manylinux2014_i686",
        "manylinux2014_aarch64",
        "manylinux2014_armv7l",
        "manylinux2014_ppc64",
        "manylinux2014_ppc64le",
        "manylinux2014_s390x",
        "linux_armv6l",
        "linux_armv7l",
    }
)
_MACOS = re.compile(r"macosx_(?P<major>\d+)_(?P<minor>\d+)_(?P<arch>.*)")
_MACOS_ARCHES = frozenset(
    {"ppc", "ppc64", "i386", "x86_64", "arm64", "intel", "fat", "fat3", "fat64", "universal"}
    | {"universal2"}
)
_MACOS_MAJORS = frozenset({"11", "12", "13", "14", "15", "26"})
_IOS = re.compile(r"ios_(\d+)_(\d+)_(?P<arch>.*)_(iphoneos|iphonesimulator)")
_IOS_ARCHES = frozenset({"arm64", "x86_64"})
_ANDROID = re.compile(r"android_(\d+)_(?P<arch>.*)")
_ANDROID_ARCHES = frozenset({"armeabi_v7a", "arm64_v8a", "x86", "x86_64"})
_LINUX = re.compile(r"(?P<libc>(many|musl))linux_(\d+)_(\d+)_(?P<arch>.*)")
_MUSLLINUX_ARCHES = frozenset(
    {"x86_64", "i686", "aarch64", "armv7l", "ppc64le", "s390x", "riscv64"}
)
_MANYLINUX_ARCHES = _MUSLLINUX_ARCHES | {"ppc64"}
_PYEMSCRIPTEN = re.compile(r"pyemscripten_(?P<major>\d+)_(?P<minor>\d+)_wasm32")


def valid_platform_tag(platform: str) -> bool:
    """Whether PyPI accepts a wheel platform tag (``_valid_platform_tag`` in legacy.py).

    Patterns are matched at the start only, as Warehouse's ``re.match`` does.
    """
    if platform in _STATIC_PLATFORMS:
        return True
    if match := _MACOS.match(platform):
        arch_ok = match.group("arch") in _MACOS_ARCHES
        if arch_ok and match.group("major") == "10":
            return True
        if arch_ok and match.group("major") in _MACOS_MAJORS and match.group("minor") == "0":
            return True
    if match := _LINUX.match(platform):
        arches = _MUSLLINUX_ARCHES if match.group("libc") == "musl" else _MANYLINUX_ARCHES
        return match.group("arch") in arches
    if (match := _IOS.match(platform)) and match.group("arch") in _IOS_ARCHES:
        return True
    if (match := _ANDROID.match(platform)) and match.group("arch") in _ANDROID_ARCHES:
        return True
    return _PYEMSCRIPTEN.match(platform) is not None


# --- archives --------------------------------------------------------------------------------------


class MemberTooLarge(Exception):
    """An archive member is larger than the caller is willing to read."""


def read_member(handle: IO[bytes], limit: int = MEMBER_READ_LIMIT) -> bytes:
    """Read an open archive member, refusing to read more than ``limit`` bytes."""
    data = handle.read(limit + 1)
    if len(data) > limit:
        raise MemberTooLarge(f"more than {limit} bytes")
    return data


def _zip_read(archive: zipfile.ZipFile, name: str) -> bytes:
    """A member of a zip (KeyError if absent), read through :func:`read_member`."""
    with archive.open(name) as handle:
        return read_member(handle)


def _commonpath(names: Sequence[str]) -> str:
    if not names:
        return ""
    try:
        return os.path.commonpath(names)
    except ValueError:  # absolute and relative names mixed
        return ""


class _Framing(Exception):
    pass


_UNPRINTABLE = frozenset(range(32)) | {127}


def _read_exact(handle: IO[bytes], size: int) -> bytes:
    data = handle.read(size)
    if len(data) != size:
        raise _Framing("Malformed zip file")
    return data


def _local_header(handle: IO[bytes], central: dict[str, tuple[int, int]]) -> bytes:
    flags, method, packed, size, name_len, extra_len = struct.unpack(
        "<xxHHxxxxxxxxLLHH", _read_exact(handle, 26)
    )
    name = _read_exact(handle, name_len)
    extra = _read_exact(handle, extra_len)
    if any(byte in _UNPRINTABLE for byte in name):
        raise _Framing("Invalid character in filename")
    seen: set[int] = set()
    while extra:
        if len(extra) < 4:
            raise _Framing("Malformed zip file")
        kind, length = struct.unpack("<HH", extra[:4])
        if length + 4 > len(extra):
            raise _Framing("Malformed zip file")
        if kind in seen and kind in (0x0001, 0x7075):
            raise _Framing("Invalid duplicate extra in local file")
        seen.add(kind)
        if kind == 0x0001:
            packed, size = _zip64_sizes(extra[4 : 4 + length], method, packed, size)
        extra = extra[length + 4 :]
    if flags & 0x08:
        raise _Framing("ZIP contains a data descriptor")
    try:
        expected = central[name.decode("utf-8")]
    except UnicodeError:
        raise _Framing("Filename not unicode") from None
    except KeyError:
        raise _Framing("Filename not in central directory") from None
    if expected[0] != packed:
        raise _Framing("Mis-matched data size")
    if expected[1] != size:
        raise _Framing("Mis-matched file size")
    handle.seek(packed, os.SEEK_CUR)
    return name


def _zip64_sizes(data: bytes, method: int, packed: int, size: int) -> tuple[int, int]:
    if len(data) not in (0, 8, 16, 24, 28):
        raise _Framing("Malformed zip file")
    if not data:
        if 0xFFFFFFFF in (packed, size):
            raise _Framing("Malformed zip file")
        return packed, size
    if len(data) == 8:
        if method != zipfile.ZIP_STORED:
            raise _Framing("Malformed zip file")
        (whole,) = struct.unpack("<Q", data)
        return whole, whole if size == 0xFFFFFFFF else size
    if size == 0xFFFFFFFF:
        (size,) = struct.unpack("<Q", data[:8])
    (packed,) = struct.unpack("<Q", data[8:16])
    return packed, size


def _central_header(handle: IO[bytes]) -> bytes:
    name_len, extra_len, comment_len = struct.unpack(
        "<xxxxxxxxxxxxxxxxxxxxxxxxHHHxxxxxxxxxxxx", _read_exact(handle, 42)
    )
    if comment_len:
        raise _Framing("Comment in central directory")
    name = _read_exact(handle, name_len)
    _read_exact(handle, extra_len)
    if any(byte in _UNPRINTABLE for byte in name):
        raise _Framing("Invalid character in filename")
    return name


class _Records:
    """The walk over a zip's records, from the first byte to the end of the directory."""

    def __init__(self, handle: IO[bytes], central: dict[str, tuple[int, int]]) -> None:
        self.handle = handle
        self.central = central
        self.local: set[bytes] = set()
        self.listed: set[bytes] = set()

    def walk(self) -> None:
        """Raise :class:`_Framing` at the first record PyPI would not accept."""
        while True:
            signature = _read_exact(self.handle, 4)
            if signature == b"PK\x03\x04":
                self._local()
            elif signature == b"PK\x01\x02":
                self._listed()
            elif signature == b"PK\x05\x06":
                self._end()
                return
            elif signature == b"PK\x06\x06":
                (size,) = struct.unpack("<Q", _read_exact(self.handle, 8))
                if size != 44:
                    raise _Framing("ZIP64 extensible data not allowed")
                _read_exact(self.handle, 44)
            elif signature == b"PK\x06\x07":
                _read_exact(self.handle, 16)
            else:
                raise _Framing("Unknown record signature")

    def _local(self) -> None:
        name = _local_header(self.handle, self.central)
        if name in self.local:
            raise _Framing("Duplicate filename in local headers")
        self.local.add(name)

    def _listed(self) -> None:
        name = _central_header(self.handle)
        if name in self.listed:
            raise _Framing("Duplicate filename in central directory")
        if name not in self.local:
            raise _Framing("Missing filename in local headers")
        self.listed.add(name)

    def _end(self) -> None:
        on_disk, records, comment = struct.unpack("<xxxxHHxxxxxxxxH", _read_exact(self.handle, 18))
        if on_disk != records:
            raise _Framing("Malformed zip file")
        if records != len(self.listed) and records != 0xFFFF:
            raise _Framing("Mismatched central directory records")
        self.handle.seek(comment, os.SEEK_CUR)


def zip_framing_problem(archive: zipfile.ZipFile) -> str | None:
    """Whether the local headers and the central directory describe the same files.

    PyPI walks the records from the start and refuses archives a streaming reader
    would see differently (``utils/zipfiles.py``): data descriptors, comments in the
    central directory, duplicate or missing names, unknown records, trailing data.
    """
    central = {
        info.orig_filename: (info.compress_size, info.file_size) for info in archive.filelist
    }
    handle = archive.fp
    if handle is None:
        return "Malformed zip file"
    handle.seek(0)
    try:
        _Records(handle, central).walk()
    except _Framing as problem:
        return str(problem.args[0])
    end = handle.tell()
    handle.seek(0, os.SEEK_END)
    if end != handle.tell():
        return "Trailing data"
    return None


def _zip_problem(archive: zipfile.ZipFile, path: Path, filename: str) -> str | None:
    infos = archive.infolist()
    unpacked = sum(info.file_size for info in infos)
    packed = max(path.stat().st_size, 1)
    if unpacked > COMPRESSION_RATIO_MIN_SIZE and unpacked / packed > COMPRESSION_RATIO_THRESHOLD:
        return f"File exceeds compression ratio of {COMPRESSION_RATIO_THRESHOLD}"
    if any(info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for info in infos):
        return "File does not use a supported compression type"
    if filename.endswith(".zip"):
        top = _commonpath(archive.namelist())
        if top in (".", "/", ""):
            return "Incorrect number of top-level directories in sdist"
        target = os.path.join(top, "PKG-INFO")
        if target not in archive.NameToInfo:
            return f"PKG-INFO not found at {target}"
    if filename.endswith(".whl"):
        parts = filename.split("-", 2)
        if len(parts) != 3:
            return "Unable to parse name and version from wheel filename"
        target = f"{parts[0]}-{parts[1]}.dist-info/WHEEL"
        if target not in archive.NameToInfo:
            return f"WHEEL not found at {target}"
    framing = zip_framing_problem(archive)
    if framing is not None:
        return f"ZIP archive not accepted: {framing}. See {ARCHIVES_URL} for more information"
    return None


def _tar_problem(archive: tarfile.TarFile) -> str | None:
    members = archive.getmembers()  # reads the whole stream, as PyPI does
    top = _commonpath([member.name for member in members])
    if any(member.issparse() for member in members):
        return (
            "tar archive not accepted: Sparse members are not allowed. "
            f"See {ARCHIVES_URL} for more information"
        )
    if top in (".", "/", ""):
        return "Incorrect number of top-level directories in sdist"
    target = os.path.join(top, "PKG-INFO")
    try:
        archive.getmember(target)
    except KeyError:
        return f"PKG-INFO not found at {target}"
    return None


@dataclass
class Opened:
    """A distribution opened once for every check (zip or tar, or None if neither)."""

    path: Path
    filename: str
    zip: zipfile.ZipFile | None = None
    tar: tarfile.TarFile | None = None
    problem: str | None = None
    """Why the archive is not acceptable (PyPI's words after ``Invalid distribution file.``);
    ``"None"`` where PyPI itself says ``None``."""


def open_distribution(path: Path, filename: str, stack: ExitStack) -> Opened:
    """Open ``path`` (uploaded as ``filename``) and run PyPI's archive checks.

    Warehouse opens ``.whl``/``.zip`` as zip and ``.tar.gz`` as gzip'd tar; a file
    that is both a zip and a tar, or neither as its name says, is refused. When
    the gzip'd tar cannot be opened at all, PyPI's message is literally
    ``Invalid distribution file. None`` (``_is_valid_dist_file`` returns no message).
    """
    opened = Opened(path, filename)
    is_zip = zipfile.is_zipfile(path)
    is_tar = _is_tarfile(path)
    if is_zip and is_tar:
        opened.problem = "File is both a zip and a tar file"
        return opened
    try:
        if filename.endswith((".zip", ".whl")):
            if not is_zip:
                opened.problem = "File is not a zipfile"
                return opened
            opened.zip = stack.enter_context(zipfile.ZipFile(path))
            opened.problem = _zip_problem(opened.zip, path, filename)
        elif filename.endswith(".tar.gz"):
            if not is_tar:
                opened.problem = "File is not a tarfile"
                return opened
            opened.tar = stack.enter_context(tarfile.open(path, mode="r:gz"))  # noqa: SIM115
            opened.problem = _tar_problem(opened.tar)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, OSError):
        opened.problem = "None"
    return opened


def _is_tarfile(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except (OSError, EOFError, zlib.error):
        return False


def _tar_top(archive: tarfile.TarFile) -> str:
    return _commonpath(archive.getnames())


def read_core_metadata(opened: Opened) -> bytes | None:
    """The ``METADATA`` (wheel) or ``PKG-INFO`` (sdist) file where PyPI looks for it.

    Raises :class:`MemberTooLarge` past :data:`MEMBER_READ_LIMIT`.
    """
    if opened.zip is not None:
        if opened.filename.endswith(".whl"):
            parts = opened.filename.split("-", 2)
            if len(parts) < 3:
                return None
            target = f"{parts[0]}-{parts[1]}.dist-info/METADATA"
        else:
            target = posixpath.join(_commonpath(opened.zip.namelist()), "PKG-INFO")
        try:
            return _zip_read(opened.zip, target)
        except KeyError:
            return None
    if opened.tar is not None:
        try:
            member = opened.tar.getmember(posixpath.join(_tar_top(opened.tar), "PKG-INFO"))
        except KeyError:
            return None
        handle = opened.tar.extractfile(member)
        return None if handle is None else read_member(handle)
    return None


def read_any_wheel_metadata(opened: Opened) -> bytes | None:
    """A wheel's ``METADATA`` wherever a client finds it (any top-level ``.dist-info``).

    twine builds the upload form from the first ``*.dist-info/METADATA`` it finds; PyPI
    only refuses a wheel without one at its own path after every other check.
    """
    if opened.zip is None:
        return None
    for name in sorted(opened.zip.namelist()):
        head, _, tail = name.partition("/")
        if tail == "METADATA" and head.endswith(".dist-info"):
            return _zip_read(opened.zip, name)
    return None


def _sdist_refusal(opened: Opened, meta: Metadata, project: str) -> Refusal | None:
    filename = opened.filename
    try:
        name, _version = parse_sdist_filename(filename)
    except InvalidSdistFilename:
        return Refusal(f"Invalid source distribution filename: {filename}", "sdist-filename")
    if (
        meta.version.is_postrelease
        and name != canonicalize_name(meta.name)
        and filename.count("-") >= 2
    ):
        candidate = filename.rpartition("-")[0].rpartition("-")[0]
        try:
            Version(filename[len(candidate) + 1 : -len(".tar.gz")])
        except InvalidVersion:
            pass
        else:
            name = canonicalize_name(candidate)
    normalized = canonicalize_name(project)
    prefix = normalized.replace("-", "_")
    if canonicalize_name(name) != normalized:
        return Refusal(f"Start filename for {project!r} with {prefix!r}.", "name-mismatch")
    expected = f"{prefix}-{meta.version}.tar.gz"
    if filename != expected:
        return Refusal(
            f"Filename {filename!r} is invalid, should be {expected!r}.", "sdist-filename"
        )
    if meta.license_files and opened.tar is not None:
        top = _tar_top(opened.tar)
        for license_file in meta.license_files:
            target = os.path.join(top, license_file)
            try:
                opened.tar.getmember(target)
            except KeyError:
                return Refusal(
                    f"License-File {license_file} does not exist in distribution file "
                    f"{filename} at {target}",
                    "license-file",
                )
    return None


def _wheel_name_refusal(filename: str, meta: Metadata, project: str) -> Refusal | None:
    try:
        name, version, _build, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename as error:
        return Refusal(str(error), "wheel-filename")
    for tag in tags:
        if not valid_platform_tag(tag.platform):
            return Refusal(
                f"Binary wheel '{filename}' has an unsupported platform tag '{tag.platform}'.",
                "platform-tag",
            )
    canonical = canonicalize_name(meta.name)
    if canonical != name:
        return Refusal(
            f"Start filename for {project!r} with {canonical.replace('-', '_')!r}.",
            "name-mismatch",
        )
    written = filename.split("-", 1)[0]
    normalized = canonicalize_name(project).replace("-", "_")
    if written != normalized:
        return Refusal(
            f"Filename {filename!r} should contain the normalized project name "
            f"{normalized!r}, not {written!r}.",
            "wheel-filename",
        )
    if meta.version != version:
        return Refusal(
            f"Version in filename should be {str(meta.version)!r} not {str(version)!r}.",
            "wheel-version",
        )
    return None


def _record_missing(archive: zipfile.ZipFile, record: str) -> bool:
    """PyPI refuses a wheel whose RECORD is absent or not UTF-8 CSV (a mismatch only emails)."""
    try:
        text = _zip_read(archive, record).decode()
        list(csv.reader(text.splitlines()))
    except (KeyError, UnicodeError, csv.Error):
        return True
    return False


class _CaseSensitiveParser(configparser.ConfigParser):
    def optionxform(self, optionstr: str) -> str:
        return optionstr


_ENTRY_POINT_NAME = re.compile(r"[\w.-]+")


def _entry_points_valid(archive: zipfile.ZipFile, target: str) -> bool:
    try:
        text = _zip_read(archive, target).decode()
    except KeyError:
        return True
    except UnicodeError:
        return False
    parser = _CaseSensitiveParser(delimiters=("=",))
    try:
        parser.read_string(text)
    except configparser.Error:
        return False
    for section in ("console_scripts", "gui_scripts"):
        if parser.has_section(section) and any(
            _ENTRY_POINT_NAME.fullmatch(name) is None for name in parser[section]
        ):
            return False
    return True


def _wheel_refusal(opened: Opened, meta: Metadata, project: str) -> Refusal | None:
    filename = opened.filename
    refusal = _wheel_name_refusal(filename, meta, project)
    if refusal is not None or opened.zip is None:
        return refusal
    archive = opened.zip
    name, version = filename.split("-", 2)[:2]
    info = f"{name}-{version}.dist-info"
    for license_file in meta.license_files or []:
        target = f"{info}/licenses/{license_file}"
        if target not in archive.NameToInfo:
            return Refusal(
                f"License-File {license_file} does not exist in distribution file "
                f"{filename} at {target}",
                "license-file",
            )
    if _record_missing(archive, f"{info}/RECORD"):
        return Refusal(
            f"Wheel '{filename}' does not contain the required RECORD file: {info}/RECORD",
            "record",
        )
    if not _entry_points_valid(archive, f"{info}/entry_points.txt"):
        return Refusal(
            f"Wheel '{filename}' has invalid entry points defined in the entry_points.txt file",
            "entry-points",
        )
    if f"{info}/METADATA" not in archive.NameToInfo:
        return Refusal(
            f"Wheel '{filename}' does not contain the required METADATA file: {info}/METADATA",
            "wheel-metadata",
        )
    return None


def distribution_refusal(opened: Opened, meta: Metadata, project: str) -> Refusal | None:
    """PyPI's checks of the file itself, after its metadata was accepted.

    ``project`` is the project's name as PyPI shows it (PyPI renames a project
    to the metadata's spelling before these checks, so it is ``meta.name``).
    """
    if opened.problem is not None:
        return Refusal(f"Invalid distribution file. {opened.problem}", "archive")
    try:
        if opened.filename.endswith(".whl"):
            return _wheel_refusal(opened, meta, project)
        if opened.tar is not None or opened.filename.endswith((".tar.gz", ".zip")):
            return _sdist_refusal(opened, meta, project)
    except MemberTooLarge as error:
        return Refusal(f"Invalid distribution file. A member has {error}", "archive")
    return None


__all__ = [
    "CORE_METADATA",
    "MAX_FILE_SIZE",
    "MEMBER_READ_LIMIT",
    "PROJECT_NAME",
    "WAREHOUSE_COMMIT",
    "MemberTooLarge",
    "Opened",
    "Refusal",
    "check_form_metadata",
    "check_metadata",
    "description_refusal",
    "distribution_refusal",
    "filename_refusal",
    "form_name_refusal",
    "open_distribution",
    "raw_from_form",
    "read_any_wheel_metadata",
    "read_core_metadata",
    "read_member",
    "sanitize_form",
    "size_refusal",
    "valid_platform_tag",
]
