"""The fidelity table: what PyPI answers to each distribution, checked against both sides.

Every row is a distribution (built by a real build backend, or by hand) with the
status and message PyPI gives. No row was sent to PyPI itself (tests never leave the
machine): every verdict was taken from reading Warehouse's source at commit
``6b62157124ab7865029afeeadf282bce27d601d9`` (2026-08-21); ``source`` names the file
and function that decides it. Each row is checked against

* the sandbox, over HTTPS: the upload form trustpub would send (or, when the file is
  too broken for a client to build one, a minimal hand-made form) is posted to
  ``/legacy/`` with a user API token; the status and the reason phrase must be PyPI's;
* ``trustpub publish --dry-run --json`` on every file at once: a refused file's first
  problem must be PyPI's message, and a file PyPI accepts must have no problem.

The verdicts here are what a reader of Warehouse predicts, not what our code says: a
sandbox that agrees with our client proves nothing unless both agree with this table.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers_builds import BACKENDS, build

from fixtures_dists import BAD_RST, filename_name, make_sdist, make_wheel, metadata_text
from helpers_sandbox import Sandbox, file_sha256
from trustpub.upload.multipart import form_fields
from trustpub.upload.rules import WAREHOUSE_COMMIT
from trustpub.upload.validate import inspect

CORE = "See https://packaging.python.org/specifications/core-metadata for more information."
ARCHIVES = "See https://docs.pypi.org/archives for more information"
RENDER = "See https://pypi.org/help/#description-content-type for more information."

Build = Callable[[Path, str], Path]


@dataclass(frozen=True)
class Row:
    id: str
    build: Build
    status: int
    message: str | None
    """PyPI's reason phrase; ``{file}``, ``{name}``, ``{under}`` and ``{info}`` are filled in."""
    source: str
    """Where in Warehouse the verdict is decided (read, not observed)."""

    def expected(self, path: Path, name: str) -> str | None:
        if self.message is None:
            return None
        under = filename_name(name)
        return self.message.format(
            file=path.name, name=name, under=under, info=f"{under}-1.0.dist-info"
        )


# --- hand-made archives --------------------------------------------------------------------------


def _wheel_members(name: str, **metadata: Any) -> dict[str, bytes]:
    under = filename_name(name)
    info = f"{under}-1.0.dist-info"
    return {
        f"{under}/__init__.py": b"",
        f"{info}/METADATA": metadata_text(name, "1.0", **metadata).encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\n",
        f"{info}/RECORD": b"",
    }


def _zip(
    path: Path,
    members: dict[str, bytes],
    *,
    compression: int = zipfile.ZIP_DEFLATED,
    comment: bool = False,
    streamed: bool = False,
    trailing: bytes = b"",
) -> Path:
    """Write a zip; ``streamed`` writes through a non-seekable stream (data descriptors)."""
    buffer = io.BytesIO()
    target: Any = _Unseekable(buffer) if streamed else buffer
    with zipfile.ZipFile(target, "w", compression=compression) as archive:
        for member, data in members.items():
            info = zipfile.ZipInfo(member, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = compression
            if comment:
                info.comment = b"a comment"
            archive.writestr(info, data)
    path.write_bytes(buffer.getvalue() + trailing)
    return path


class _Unseekable(io.RawIOBase):
    def __init__(self, buffer: io.BytesIO) -> None:
        self.buffer = buffer

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return self.buffer.write(data)

    def flush(self) -> None:
        pass


def _wheel(**change: Any) -> Build:
    """A hand-made wheel ``<under>-1.0-<tag>.whl``, changed as asked."""

    def make(directory: Path, name: str) -> Path:
        tag = change.pop("tag", "py3-none-any")
        drop = change.pop("drop", ())
        add = change.pop("add", {})
        options = {
            k: change.pop(k)
            for k in ("compression", "comment", "streamed", "trailing")
            if k in change
        }
        members = _wheel_members(name, **change)
        under = filename_name(name)
        for suffix in drop:
            members.pop(f"{under}-1.0.dist-info/{suffix}")
        members.update({key.format(under=under): value for key, value in add.items()})
        return _zip(directory / f"{under}-1.0-{tag}.whl", members, **options)

    return make


def _fixture_wheel(**options: Any) -> Build:
    return lambda directory, name: make_wheel(directory, name, "1.0", **options)


def _fixture_sdist(**options: Any) -> Build:
    return lambda directory, name: make_sdist(directory, name, "1.0", **options)


def _tar(plain: bool = False, two_tops: bool = False) -> Build:
    def make(directory: Path, name: str) -> Path:
        under = filename_name(name)
        path = directory / f"{under}-1.0.tar.gz"
        pkg_info = metadata_text(name, "1.0").encode()
        with tarfile.open(path, "w" if plain else "w:gz", format=tarfile.PAX_FORMAT) as tar:
            members = [(f"{under}-1.0/PKG-INFO", pkg_info)]
            if two_tops:
                members.append(("other-1.0/setup.py", b""))
            for member, data in members:
                info = tarfile.TarInfo(member)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return path

    return make


def _bomb(directory: Path, name: str) -> Path:
    members = _wheel_members(name)
    members[f"{filename_name(name)}/zeros.bin"] = bytes(65 * 1024 * 1024)
    return _zip(directory / f"{filename_name(name)}-1.0-py3-none-any.whl", members)


def _licensed(license_file: bool, sdist: bool = False) -> Build:
    headers = [("License-Expression", "MIT"), ("License-File", "LICENSE")]

    def make(directory: Path, name: str) -> Path:
        under = filename_name(name)
        if sdist:
            files = [("LICENSE", b"MIT")] if license_file else []
            return make_sdist(
                directory,
                name,
                "1.0",
                metadata_version="2.4",
                extra_headers=headers,
                extra_files=files,
            )
        files = [(f"{under}-1.0.dist-info/licenses/LICENSE", b"MIT")] if license_file else []
        return make_wheel(
            directory,
            name,
            "1.0",
            metadata_version="2.4",
            extra_headers=headers,
            extra_files=files,
        )

    return make


def _renamed_wheel(directory: Path, name: str) -> Path:
    """A wheel whose file name spells the project in capitals (its .dist-info too)."""
    written = filename_name(name).upper()
    return make_wheel(
        directory,
        name,
        "1.0",
        filename=f"{written}-1.0-py3-none-any.whl",
        extra_files=[(f"{written}-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\n")],
    )


def _tag(tag: str, status: int = 400) -> Row:
    message = (
        None
        if status == 200
        else "Binary wheel '{file}' has an unsupported platform tag '" + tag.split("-")[-1] + "'."
    )
    return Row(
        f"tag-{tag.split('-')[-1]}",
        _fixture_wheel(tag=tag),
        status,
        message,
        "forklift/legacy.py _valid_platform_tag",
    )


LONG_LABEL = "L" * 33
DIRECT = "dep @ https://example.com/dep-1.0.tar.gz"

ROWS: list[Row] = [
    # ---- accepted hand-made distributions
    Row("wheel-minimal", _fixture_wheel(), 200, None, "forklift/legacy.py file_upload"),
    Row("sdist-minimal", _fixture_sdist(), 200, None, "forklift/legacy.py file_upload"),
    Row(
        "wheel-metadata-1.2",
        _fixture_wheel(metadata_version="1.2", description_content_type=None, description=None),
        200,
        None,
        "forklift/metadata.py SUPPORTED_METADATA_VERSIONS",
    ),
    Row(
        "wheel-metadata-2.5",
        _fixture_wheel(metadata_version="2.5"),
        200,
        None,
        "forklift/metadata.py SUPPORTED_METADATA_VERSIONS",
    ),
    Row(
        "wheel-license-2.4", _licensed(True), 200, None, "forklift/legacy.py License-File in wheel"
    ),
    Row(
        "sdist-license-2.4",
        _licensed(True, sdist=True),
        200,
        None,
        "forklift/legacy.py License-File in sdist",
    ),
    Row(
        "license-file-before-2.4-dropped-by-client",
        _fixture_wheel(extra_headers=[("License-File", "LICENSE")]),
        200,
        None,
        "twine/trustpub leave License-File out of the form under 2.4; forklift/metadata.py never sees it",
    ),
    Row(
        "rst-description-renders",
        _fixture_wheel(
            description="Title\n=====\n\nFine *text*.\n", description_content_type="text/x-rst"
        ),
        200,
        None,
        "utils/readme.py render",
    ),
    Row(
        "plain-description",
        _fixture_wheel(description="<b>plain</b>", description_content_type="text/plain"),
        200,
        None,
        "utils/readme.py render",
    ),
    Row(
        "known-classifiers",
        _fixture_wheel(classifiers=["Typing :: Typed", "License :: OSI Approved :: MIT License"]),
        200,
        None,
        "forklift/metadata.py trove_classifiers",
    ),
    Row(
        "dynamic-license-2.2",
        _fixture_wheel(metadata_version="2.2", extra_headers=[("Dynamic", "License")]),
        200,
        None,
        "forklift/metadata.py DYNAMIC_FIELDS",
    ),
    Row(
        "requires-dist-markers",
        _fixture_wheel(requires_dist=["tomli>=2; python_version < '3.11'", "rich[jupyter]>=13"]),
        200,
        None,
        "forklift/metadata.py requires_dist",
    ),
    Row(
        "project-urls",
        _fixture_wheel(
            project_urls=["Homepage, https://example.org", "Issues, https://example.org/issues"]
        ),
        200,
        None,
        "forklift/metadata.py project_urls",
    ),
    Row(
        "post-release-sdist",
        lambda d, n: make_sdist(d, n, "1.0.post1"),
        200,
        None,
        "forklift/legacy.py PEP 625 name",
    ),
    Row(
        "wheel-version-not-normalized",
        lambda d, n: make_wheel(d, n, "1.00"),
        200,
        None,
        "forklift/legacy.py compares Version objects, not spellings",
    ),
    _tag("cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64", 200),
    _tag("cp312-cp312-musllinux_1_2_aarch64", 200),
    _tag("cp312-cp312-macosx_11_0_arm64", 200),
    _tag("cp312-cp312-macosx_10_9_x86_64", 200),
    _tag("cp312-cp312-win_amd64", 200),
    _tag("cp312-cp312-android_21_arm64_v8a", 200),
    _tag("cp312-cp312-ios_13_0_arm64_iphoneos", 200),
    _tag("cp312-cp312-pyemscripten_2024_0_wasm32", 200),
    _tag("cp312-cp312-linux_armv7l", 200),
    # ---- metadata refused (forklift/metadata.py over packaging.metadata)
    Row(
        "summary-513",
        _fixture_wheel(summary="s" * 513),
        400,
        f"'summary' field must be 512 characters or less. {CORE}",
        "forklift/metadata.py _LENGTH_LIMITS",
    ),
    Row(
        "direct-url-dependency",
        _fixture_wheel(requires_dist=[DIRECT]),
        400,
        f"Can't have direct dependency: {DIRECT}. {CORE}",
        "forklift/metadata.py requires_dist",
    ),
    Row(
        "license-expression-invalid",
        _fixture_wheel(metadata_version="2.4", extra_headers=[("License-Expression", "Foo-Bar")]),
        400,
        f"'Foo-Bar' is invalid for 'license-expression'. {CORE}",
        "packaging.metadata (SPDX), via forklift/metadata.py parse",
    ),
    Row(
        "license-expression-under-2.1",
        _fixture_wheel(extra_headers=[("License-Expression", "MIT")]),
        400,
        f"license-expression introduced in metadata version 2.4, not 2.1. {CORE}",
        "packaging.metadata field versions",
    ),
    Row(
        "license-and-expression",
        _fixture_wheel(
            metadata_version="2.4",
            extra_headers=[("License", "MIT"), ("License-Expression", "MIT")],
        ),
        400,
        f"License is deprecated when License-Expression is present. Only License-Expression should be present. {CORE}",
        "forklift/metadata.py License vs License-Expression",
    ),
    Row(
        "unknown-classifier",
        _fixture_wheel(classifiers=["Foo :: Bar"]),
        400,
        f"'Foo :: Bar' is not a valid classifier. {CORE}",
        "forklift/metadata.py all_classifiers",
    ),
    Row(
        "deprecated-classifier",
        _fixture_wheel(classifiers=["License :: OSI Approved :: Jabber Open Source License"]),
        400,
        f"The classifier 'License :: OSI Approved :: Jabber Open Source License' has been deprecated. {CORE}",
        "forklift/metadata.py deprecated_classifiers",
    ),
    Row(
        "dynamic-name",
        _fixture_wheel(metadata_version="2.2", extra_headers=[("Dynamic", "Name")]),
        400,
        f"'name' is not allowed as a dynamic field. {CORE}",
        "packaging.metadata dynamic",
    ),
    Row(
        "dynamic-unknown",
        _fixture_wheel(metadata_version="2.2", extra_headers=[("Dynamic", "Colour")]),
        400,
        f"'colour' is not a valid dynamic field. {CORE}",
        "packaging.metadata dynamic",
    ),
    Row(
        "metadata-version-2.6",
        _fixture_wheel(metadata_version="2.6"),
        400,
        f"'2.6' is not a valid metadata version. {CORE}",
        "forklift/metadata.py SUPPORTED_METADATA_VERSIONS",
    ),
    Row(
        "metadata-version-3.0",
        _fixture_wheel(metadata_version="3.0"),
        400,
        f"'3.0' is not a valid metadata version. {CORE}",
        "packaging.metadata metadata versions",
    ),
    Row(
        "local-version",
        lambda d, n: make_wheel(d, n, "1.0+local"),
        400,
        "The use of local versions in '1.0+local' is not allowed. See https://packaging.python.org/en/latest/specifications/version-specifiers/#local-version-identifiers for more information.",
        "forklift/metadata.py local versions; legacy.py _see_url",
    ),
    Row(
        "invalid-version",
        _fixture_wheel(meta_version="one point oh"),
        400,
        f"'one point oh' is invalid for 'version'. {CORE}",
        "packaging.metadata version",
    ),
    Row(
        "author-email-invalid",
        _fixture_wheel(extra_headers=[("Author-email", "nobody")]),
        400,
        f"'nobody' is not a valid email address: An email address must have an @-sign. {CORE}",
        "forklift/metadata.py email_validator",
    ),
    Row(
        "home-page-not-http",
        _fixture_wheel(extra_headers=[("Home-page", "ftp://example.org/pkg")]),
        400,
        f"'ftp://example.org/pkg' is not a valid url. {CORE}",
        "forklift/metadata.py is_valid_uri",
    ),
    Row(
        "project-url-label-33",
        _fixture_wheel(project_urls=[f"{LONG_LABEL}, https://example.org"]),
        400,
        f"'{LONG_LABEL}' must be 32 characters or less. {CORE}",
        "forklift/metadata.py project_urls",
    ),
    Row(
        "project-url-javascript",
        _fixture_wheel(project_urls=["Docs, javascript:alert(1)"]),
        400,
        f"'javascript:alert(1)' is not a valid url. {CORE}",
        "forklift/metadata.py project_urls",
    ),
    Row(
        "requires-dist-invalid",
        _fixture_wheel(requires_dist=["dep >"]),
        400,
        f"'dep >' is invalid for 'requires-dist'. {CORE}",
        "packaging.metadata requires_dist",
    ),
    Row(
        "requires-python-invalid",
        _fixture_wheel(requires_python=">=3.x"),
        400,
        f"'>=3.x' is invalid for 'requires-python'. {CORE}",
        "packaging.metadata requires_python",
    ),
    Row(
        "description-content-type-latin1",
        _fixture_wheel(description_content_type="text/plain; charset=latin1"),
        400,
        f"'description-content-type' can only specify the UTF-8 charset, not 'latin1'. {CORE}",
        "packaging.metadata description_content_type",
    ),
    Row(
        "name-not-a-project-name",
        lambda d, n: make_wheel(d, n, "1.0", meta_name=n + "!"),
        400,
        "'{name}-' is an invalid value for Name. Error: Start and end with a letter or numeral containing only ASCII numeric and '.', '_' and '-'. "
        + CORE,
        "forklift/forms.py UploadForm.name (twine sends the name with '!' as '-')",
    ),
    # ---- description (forklift/legacy.py, utils/readme.py)
    Row(
        "rst-fails-declared",
        _fixture_wheel(description=BAD_RST, description_content_type="text/x-rst"),
        400,
        f"The description failed to render for 'text/x-rst'. {RENDER}",
        "forklift/legacy.py readme.render",
    ),
    Row(
        "rst-fails-default",
        _fixture_sdist(description=BAD_RST, description_content_type=None),
        400,
        f"The description failed to render in the default format of reStructuredText. {RENDER}",
        "forklift/legacy.py readme.render",
    ),
    # ---- archives (forklift/legacy.py _is_valid_dist_file, utils/zipfiles.py)
    Row(
        "wheel-not-a-zip",
        _fixture_wheel(corrupt=True),
        400,
        "Invalid distribution file. File is not a zipfile",
        "forklift/legacy.py _is_valid_dist_file",
    ),
    Row(
        "sdist-not-a-tar",
        _fixture_sdist(corrupt=True),
        400,
        "Invalid distribution file. File is not a tarfile",
        "forklift/legacy.py _is_valid_dist_file",
    ),
    Row(
        "sdist-uncompressed-tar",
        _tar(plain=True),
        400,
        "Invalid distribution file. None",
        "forklift/legacy.py: tarfile.open(r:gz) fails and _is_valid_dist_file returns no message",
    ),
    Row(
        "sdist-two-top-level-dirs",
        _tar(two_tops=True),
        400,
        "Invalid distribution file. Incorrect number of top-level directories in sdist",
        "forklift/legacy.py _is_valid_dist_file",
    ),
    Row(
        "sdist-without-pkg-info",
        _fixture_sdist(pkg_info=False),
        400,
        "Invalid distribution file. PKG-INFO not found at {under}-1.0/PKG-INFO",
        "forklift/legacy.py _is_valid_dist_file",
    ),
    Row(
        "wheel-without-wheel-file",
        _wheel(drop=["WHEEL"]),
        400,
        "Invalid distribution file. WHEEL not found at {info}/WHEEL",
        "forklift/legacy.py _is_valid_dist_file",
    ),
    Row(
        "wheel-bzip2",
        _wheel(compression=zipfile.ZIP_BZIP2),
        400,
        "Invalid distribution file. File does not use a supported compression type",
        "forklift/legacy.py _is_valid_dist_file",
    ),
    Row(
        "wheel-compression-bomb",
        _bomb,
        400,
        "Invalid distribution file. File exceeds compression ratio of 50",
        "forklift/legacy.py COMPRESSION_RATIO_THRESHOLD",
    ),
    Row(
        "wheel-member-comment",
        _wheel(comment=True),
        400,
        f"Invalid distribution file. ZIP archive not accepted: Comment in central directory. {ARCHIVES}",
        "utils/zipfiles.py _handle_central_directory_header",
    ),
    Row(
        "wheel-trailing-data",
        _wheel(trailing=b"extra bytes"),
        400,
        f"Invalid distribution file. ZIP archive not accepted: Trailing data. {ARCHIVES}",
        "utils/zipfiles.py validate_zipfile",
    ),
    Row(
        "wheel-data-descriptor",
        _wheel(streamed=True),
        400,
        f"Invalid distribution file. ZIP archive not accepted: ZIP contains a data descriptor. {ARCHIVES}",
        "utils/zipfiles.py _handle_local_file_header",
    ),
    Row(
        "wheel-without-record",
        _wheel(drop=["RECORD"]),
        400,
        "Wheel '{file}' does not contain the required RECORD file: {info}/RECORD",
        "forklift/legacy.py validate_record",
    ),
    Row(
        "wheel-without-metadata",
        _wheel(drop=["METADATA"]),
        400,
        "Wheel '{file}' does not contain the required METADATA file: {info}/METADATA",
        "forklift/legacy.py METADATA",
    ),
    Row(
        "wheel-bad-entry-point",
        _wheel(
            add={
                "{under}-1.0.dist-info/entry_points.txt": b"[console_scripts]\nbad/name = pkg:main\n"
            }
        ),
        400,
        "Wheel '{file}' has invalid entry points defined in the entry_points.txt file",
        "utils/wheel.py validate_entrypoints",
    ),
    Row(
        "wheel-license-file-missing",
        _licensed(False),
        400,
        "License-File LICENSE does not exist in distribution file {file} at {info}/licenses/LICENSE",
        "forklift/legacy.py License-File in wheel",
    ),
    Row(
        "sdist-license-file-missing",
        _licensed(False, sdist=True),
        400,
        "License-File LICENSE does not exist in distribution file {file} at {under}-1.0/LICENSE",
        "forklift/legacy.py License-File in sdist",
    ),
    # ---- file names (forklift/legacy.py)
    Row(
        "zip-sdist",
        _fixture_sdist(zip_format=True),
        400,
        "Filename '{file}' is invalid, should be '{under}-1.0.tar.gz'.",
        "forklift/legacy.py PEP 625",
    ),
    Row(
        "sdist-name-not-normalized",
        lambda d, n: make_sdist(d, n, "1.0", filename=f"{n.upper()}-1.0.tar.gz"),
        400,
        "Filename '{file}' is invalid, should be '{under}-1.0.tar.gz'.",
        "forklift/legacy.py PEP 625",
    ),
    Row(
        "sdist-version-mismatch",
        _fixture_sdist(meta_version="1.0.1"),
        400,
        "Filename '{file}' is invalid, should be '{under}-1.0.1.tar.gz'.",
        "forklift/legacy.py PEP 625",
    ),
    Row(
        "sdist-other-project",
        lambda d, n: make_sdist(
            d, n, "1.0", filename="another-1.0.tar.gz", top_dir=f"{filename_name(n)}-1.0"
        ),
        400,
        "Start filename for '{name}' with '{under}'.",
        "forklift/legacy.py sdist name",
    ),
    Row(
        "wheel-other-project",
        lambda d, n: make_wheel(d, "another", "1.0", meta_name=n),
        400,
        "Start filename for '{name}' with '{under}'.",
        "forklift/legacy.py wheel name",
    ),
    Row(
        "wheel-name-not-normalized",
        _renamed_wheel,
        400,
        "Filename '{file}' should contain the normalized project name '{under}', not '%s'.",
        "forklift/legacy.py wheel name normalization",
    ),
    Row(
        "wheel-version-mismatch",
        _fixture_wheel(meta_version="2.0"),
        400,
        "Version in filename should be '2.0' not '1.0'.",
        "forklift/legacy.py wheel version",
    ),
    Row(
        "wheel-filename-parts",
        lambda d, n: make_wheel(d, n, "1.0", filename=f"{filename_name(n)}-1.0-py3-none.whl"),
        400,
        "Invalid wheel filename (wrong number of parts): '{under}-1.0-py3-none'",
        "forklift/legacy.py parse_wheel_filename",
    ),
    Row(
        "wheel-filename-unparsable",
        lambda d, n: make_wheel(d, n, "1.0", filename=f"{filename_name(n)}.whl"),
        400,
        "Invalid distribution file. Unable to parse name and version from wheel filename",
        "forklift/legacy.py _is_valid_dist_file",
    ),
    # ---- platform tags refused (forklift/legacy.py _valid_platform_tag)
    _tag("cp312-cp312-linux_x86_64"),
    _tag("cp312-cp312-macosx_11_3_arm64"),
    _tag("cp312-cp312-macosx_10_9_sparc"),
    _tag("cp312-cp312-musllinux_1_2_ppc64"),
    _tag("cp312-cp312-manylinux_2_17_mips"),
    _tag("cp312-cp312-android_21_mips"),
    _tag("cp312-cp312-ios_13_0_arm64"),
    _tag("cp312-cp312-freebsd_14_0_amd64"),
]

REAL = [f"{backend}-{kind}" for backend in BACKENDS for kind in ("wheel", "sdist")]
"""Real builds: every one is accepted by PyPI (``forklift/legacy.py file_upload``)."""


@dataclass
class Prepared:
    row_id: str
    path: Path
    name: str
    status: int
    message: str | None


@pytest.fixture(scope="module")
def real_builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every backend's wheel and sdist, built once for the session (offline)."""
    root = tmp_path_factory.mktemp("real-builds")
    built: dict[str, Path] = {}
    for backend in BACKENDS:
        wheel, sdist = build(root, backend)
        built[f"{backend}-wheel"] = wheel
        built[f"{backend}-sdist"] = sdist
    return built


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory, real_builds: dict[str, Path]) -> list[Prepared]:
    root = tmp_path_factory.mktemp("fidelity")
    prepared = []
    for number, row in enumerate(ROWS):
        name = f"fid{number}-{row.id}"[:60].rstrip("-.")
        directory = root / row.id
        directory.mkdir()
        path = row.build(directory, name)
        message = row.expected(path, name)
        if row.id == "wheel-name-not-normalized" and message is not None:
            message = message % filename_name(name).upper()
        prepared.append(Prepared(row.id, path, name, row.status, message))
    prepared.extend(
        Prepared(key, path, path.name.split("-")[0], 200, None) for key, path in real_builds.items()
    )
    return prepared


def test_the_table_is_large_enough() -> None:
    assert len(ROWS) + len(REAL) >= 60
    assert WAREHOUSE_COMMIT == "6b62157124ab7865029afeeadf282bce27d601d9"
    assert all(row.source for row in ROWS)
    assert len({row.id for row in ROWS}) == len(ROWS)


def _form(entry: Prepared) -> list[tuple[str, str]]:
    """The form trustpub sends for a file; a minimal hand-made one if it cannot build one."""
    dist, _problems = inspect(entry.path, check=False)
    if dist is not None:
        return form_fields(dist, attestations=False)
    wheel = entry.path.name.endswith(".whl")
    return [
        (":action", "file_upload"),
        ("protocol_version", "1"),
        ("metadata_version", "2.1"),
        ("name", entry.name),
        ("version", "1.0"),
        ("filetype", "bdist_wheel" if wheel else "sdist"),
        ("pyversion", "py3" if wheel else "source"),
        ("sha256_digest", file_sha256(entry.path)),
    ]


def _post(box: Sandbox, path: Path, fields: Sequence[tuple[str, str]]) -> httpx.Response:
    data: dict[str, list[str]] = {}
    for key, value in fields:
        data.setdefault(key, []).append(value)
    basic = base64.b64encode(f"__token__:{box.api_token}".encode()).decode()
    with box.client() as client, path.open("rb") as handle:
        return client.post(
            "/legacy/",
            data=data,
            files={"content": (path.name, handle, "application/octet-stream")},
            headers={"Authorization": f"Basic {basic}"},
            timeout=120,
        )


def test_sandbox_answers_as_pypi(sandbox: Sandbox, table: list[Prepared]) -> None:
    """Every row over HTTPS against the running sandbox: PyPI's status and reason phrase."""
    wrong = []
    for entry in table:
        response = _post(sandbox, entry.path, _form(entry))
        got = (
            response.status_code,
            None if response.status_code == 200 else response.reason_phrase,
        )
        if got != (entry.status, entry.message):
            wrong.append(f"{entry.row_id}: expected {(entry.status, entry.message)}, got {got}")
    assert not wrong, "\n".join(wrong)


def _check_all(paths: Sequence[Path], cwd: Path) -> dict[str, str]:
    """``trustpub publish --dry-run --json`` on every file: the first problem of each file."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "trustpub",
            "publish",
            "--dry-run",
            "--json",
            "--repository",
            "http://127.0.0.1:9/legacy/",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "TRUSTPUB_TOKEN": "pypi-unused"},
    )
    assert done.returncode == 3, done.stderr
    details: list[str] = json.loads(done.stdout)["error"]["details"]
    first: dict[str, str] = {}
    for line in details:
        filename, _, rest = line.partition(": ")
        message = rest.rsplit(" (hint: ", 1)[0]
        first.setdefault(filename, message)
    return first


def test_publish_check_refuses_as_pypi(table: list[Prepared], tmp_path: Path) -> None:
    """One ``publish --dry-run`` over every row: PyPI's message first for each refused file."""
    first = _check_all([entry.path for entry in table], tmp_path)
    wrong = []
    for entry in table:
        got = first.get(entry.path.name)
        if got != entry.message:
            wrong.append(f"{entry.row_id}: expected {entry.message!r}, got {got!r}")
    assert not wrong, "\n".join(wrong)


def test_real_builds_pass_both(real_builds: dict[str, Path]) -> None:
    """Six backends, wheel and sdist: nothing to report (the table uploads them too)."""
    assert sorted(real_builds) == sorted(REAL)
    for key, path in real_builds.items():
        dist, problems = inspect(path)
        assert dist is not None, key
        assert problems == [], (key, [problem.message for problem in problems])
    assert real_builds["maturin-wheel"].name.endswith("x86_64.whl")
    assert "manylinux" in real_builds["maturin-wheel"].name
