"""Build small wheels and sdists on the fly, valid or deliberately broken.

No network and no build backend: archives are written with :mod:`zipfile` and
:mod:`tarfile`. Every knob defaults to a valid distribution; pass one knob to
get one specific defect::

    wheel = make_wheel(tmp_path)                                  # example_pkg-1.0.0-py3-none-any.whl
    sdist = make_sdist(tmp_path, version="2.0")                   # example_pkg-2.0.tar.gz
    make_wheel(tmp_path, metadata=False)                          # no METADATA file
    make_wheel(tmp_path, meta_name="other-pkg")                   # filename/metadata name mismatch
    make_sdist(tmp_path, filename="Example-Pkg-1.0.0.tar.gz")     # not PEP 625
    make_wheel(tmp_path, description="Bad\\n=====\\n\\n`x <", description_content_type="text/x-rst")
    make_wheel(tmp_path, corrupt=True)                            # not a zip archive at all
    make_wheel(tmp_path, payload_size=200 * 2**20)                # a big (stored, zero-filled) wheel

Everything returns the :class:`~pathlib.Path` of the file written into
``directory`` (created if missing).
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import tarfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

BAD_RST = "Title\n=====\n\nA broken link `text <\n\n.. unknown-directive::\n"
"""A reStructuredText README that readme_renderer refuses to render."""

GOOD_DESCRIPTION = "# Example\n\nA tiny package built for trustpub's tests.\n"


def normalize(name: str) -> str:
    """PEP 503 normalization (``Example_Pkg`` -> ``example-pkg``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def filename_name(name: str) -> str:
    """The name as it appears in a wheel or PEP 625 sdist file name."""
    return normalize(name).replace("-", "_")


def wheel_filename(
    name: str = "example-pkg", version: str = "1.0.0", tag: str = "py3-none-any"
) -> str:
    return f"{filename_name(name)}-{version}-{tag}.whl"


def sdist_filename(name: str = "example-pkg", version: str = "1.0.0") -> str:
    return f"{filename_name(name)}-{version}.tar.gz"


def metadata_text(
    name: str = "example-pkg",
    version: str = "1.0.0",
    *,
    metadata_version: str = "2.1",
    summary: str | None = "An example package",
    description: str | None = GOOD_DESCRIPTION,
    description_content_type: str | None = "text/markdown",
    keywords: str | None = None,
    classifiers: Sequence[str] = (),
    requires_dist: Sequence[str] = (),
    project_urls: Sequence[str] = (),
    requires_python: str | None = None,
    extra_headers: Sequence[tuple[str, str]] = (),
) -> str:
    """A METADATA / PKG-INFO document (description in the body)."""
    lines = [f"Metadata-Version: {metadata_version}", f"Name: {name}", f"Version: {version}"]
    if summary is not None:
        lines.append(f"Summary: {summary}")
    if keywords is not None:
        lines.append(f"Keywords: {keywords}")
    lines.extend(f"Classifier: {value}" for value in classifiers)
    lines.extend(f"Requires-Dist: {value}" for value in requires_dist)
    lines.extend(f"Project-URL: {value}" for value in project_urls)
    if requires_python is not None:
        lines.append(f"Requires-Python: {requires_python}")
    if description_content_type is not None:
        lines.append(f"Description-Content-Type: {description_content_type}")
    lines.extend(f"{key}: {value}" for key, value in extra_headers)
    text = "\n".join(lines) + "\n"
    if description is not None:
        text += "\n" + description
    return text


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def make_wheel(
    directory: Path | str,
    name: str = "example-pkg",
    version: str = "1.0.0",
    *,
    tag: str = "py3-none-any",
    filename: str | None = None,
    meta_name: str | None = None,
    meta_version: str | None = None,
    metadata: bool | str = True,
    corrupt: bool = False,
    payload_size: int = 0,
    extra_files: Iterable[tuple[str, bytes]] = (),
    **metadata_fields: object,
) -> Path:
    """Write a wheel; knobs make it broken in one specific way.

    ``filename`` overrides the file name; ``meta_name``/``meta_version`` put a
    different name/version in METADATA than in the file name; ``metadata=False``
    leaves METADATA out, a string replaces its whole text; ``corrupt=True``
    writes bytes that are not a zip archive; ``payload_size`` adds a stored
    (uncompressed) zero-filled file of that many bytes. Other keyword arguments
    go to :func:`metadata_text` (``description=``, ``requires_dist=`` ...).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / (filename or wheel_filename(name, version, tag))
    if corrupt:
        path.write_bytes(b"PK\x03\x04 this is not really a zip archive" + bytes(64))
        return path
    dist_info = f"{filename_name(name)}-{version}.dist-info"
    package = filename_name(name)
    files: list[tuple[str, bytes]] = [
        (f"{package}/__init__.py", f'__version__ = "{version}"\n'.encode()),
        *extra_files,
    ]
    if metadata is not False:
        text = (
            metadata
            if isinstance(metadata, str)
            else metadata_text(meta_name or name, meta_version or version, **metadata_fields)  # type: ignore[arg-type]
        )
        files.append((f"{dist_info}/METADATA", text.encode()))
    files.append(
        (
            f"{dist_info}/WHEEL",
            f"Wheel-Version: 1.0\nGenerator: fixtures_dists\nRoot-Is-Purelib: true\nTag: {tag}\n".encode(),
        )
    )
    record = [_record_line(arcname, data) for arcname, data in files]
    if payload_size:
        record.append(f"{package}/payload.bin,,")
    record.append(f"{dist_info}/RECORD,,")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for arcname, data in files:
            archive.writestr(arcname, data)
        if payload_size:
            info = zipfile.ZipInfo(f"{package}/payload.bin", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            chunk = bytes(1 << 20)
            with archive.open(info, "w", force_zip64=payload_size > 2**31) as member:
                left = payload_size
                while left > 0:
                    step = min(left, len(chunk))
                    member.write(chunk[:step])
                    left -= step
        archive.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return path


def make_sdist(
    directory: Path | str,
    name: str = "example-pkg",
    version: str = "1.0.0",
    *,
    filename: str | None = None,
    top_dir: str | None = None,
    meta_name: str | None = None,
    meta_version: str | None = None,
    pkg_info: bool | str = True,
    corrupt: bool = False,
    zip_format: bool = False,
    extra_files: Iterable[tuple[str, bytes]] = (),
    **metadata_fields: object,
) -> Path:
    """Write an sdist (``.tar.gz`` by default); knobs as for :func:`make_wheel`.

    ``pkg_info=False`` leaves PKG-INFO out (a string replaces its text);
    ``top_dir`` names the single top-level directory (default: the file
    name's stem); ``zip_format=True`` writes a ``.zip`` sdist, which PyPI no
    longer accepts.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    default = sdist_filename(name, version)
    if zip_format:
        default = default[: -len(".tar.gz")] + ".zip"
    path = directory / (filename or default)
    if corrupt:
        path.write_bytes(b"\x1f\x8b\x08\x00 this is not really gzip data" + bytes(64))
        return path
    stem = path.name
    for suffix in (".tar.gz", ".zip"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
    root = top_dir if top_dir is not None else stem
    files: list[tuple[str, bytes]] = [
        ("pyproject.toml", f'[project]\nname = "{name}"\nversion = "{version}"\n'.encode()),
        (f"src/{filename_name(name)}/__init__.py", f'__version__ = "{version}"\n'.encode()),
        *extra_files,
    ]
    if pkg_info is not False:
        text = (
            pkg_info
            if isinstance(pkg_info, str)
            else metadata_text(meta_name or name, meta_version or version, **metadata_fields)  # type: ignore[arg-type]
        )
        files.append(("PKG-INFO", text.encode()))
    if zip_format:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for arcname, data in files:
                archive.writestr(f"{root}/{arcname}", data)
        return path
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as archive:
        for arcname, data in files:
            info = tarfile.TarInfo(f"{root}/{arcname}")
            info.size = len(data)
            info.mtime = 1_600_000_000
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return path


def make_release(
    directory: Path | str, name: str = "example-pkg", version: str = "1.0.0", **fields: object
) -> list[Path]:
    """A valid wheel and sdist of one release (the usual ``dist/`` content)."""
    return [
        make_wheel(directory, name, version, **fields),  # type: ignore[arg-type]
        make_sdist(directory, name, version, **fields),  # type: ignore[arg-type]
    ]


__all__ = [
    "BAD_RST",
    "GOOD_DESCRIPTION",
    "filename_name",
    "make_release",
    "make_sdist",
    "make_wheel",
    "metadata_text",
    "normalize",
    "sdist_filename",
    "wheel_filename",
]
