"""Build the distributions the benchmark uploads, offline and deterministically.

Self-contained on purpose (standard library only): ``bench/`` must not import
the test helpers. Archives are written with :mod:`zipfile` and :mod:`tarfile`.

* :func:`release_tags` - the 40 wheel tags of a cibuildwheel-sized release
  (5 CPython versions x 8 platforms, with realistic compressed tag sets);
* :func:`build_release` - those 40 wheels plus the sdist, for one version;
* :func:`build_wheel` - one wheel, optionally with a large stored payload
  (written in chunks, so a 500 MB wheel never sits in memory).
"""

from __future__ import annotations

import base64
import hashlib
import io
import random
import re
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

PYTHONS = ("cp310", "cp311", "cp312", "cp313", "cp314")
"""The CPython versions a 2026 release builds for."""

PLATFORMS = (
    "manylinux_2_17_x86_64.manylinux2014_x86_64",
    "manylinux_2_17_aarch64.manylinux2014_aarch64",
    "musllinux_1_2_x86_64",
    "musllinux_1_2_aarch64",
    "macosx_10_13_x86_64",
    "macosx_11_0_arm64",
    "win_amd64",
    "win32",
)
"""The platform tags cibuildwheel's default matrix produces (compressed sets as auditwheel writes)."""

_CHUNK = 1 << 20


def normalize(name: str) -> str:
    """PEP 503 normalization."""
    return re.sub(r"[-_.]+", "-", name).lower()


def file_stem(name: str) -> str:
    """The name as written in wheel and PEP 625 sdist file names."""
    return normalize(name).replace("-", "_")


def release_tags() -> list[str]:
    """``python-abi-platform`` for every wheel of the release (40 of them)."""
    return [f"{py}-{py}-{platform}" for py in PYTHONS for platform in PLATFORMS]


def metadata(name: str, version: str) -> str:
    """A METADATA / PKG-INFO document with a Markdown description."""
    return (
        "Metadata-Version: 2.4\n"
        f"Name: {name}\n"
        f"Version: {version}\n"
        "Summary: A package built by trustpub's benchmark\n"
        "License-Expression: Apache-2.0\n"
        "Requires-Python: >=3.10\n"
        "Classifier: Programming Language :: Python :: 3\n"
        "Description-Content-Type: text/markdown\n"
        "\n"
        f"# {name}\n\nGenerated for upload benchmarks; not a real package.\n"
    )


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def _payload_chunks(size: int, seed: int) -> Iterator[bytes]:
    """``size`` bytes of incompressible data, one reusable 1 MiB block at a time."""
    block = random.Random(seed).randbytes(min(size, _CHUNK))
    left = size
    while left > 0:
        step = min(left, len(block))
        yield block[:step]
        left -= step


def build_wheel(
    directory: Path,
    name: str,
    version: str,
    tag: str = "py3-none-any",
    *,
    payload_size: int = 0,
    seed: int = 0,
) -> Path:
    """Write one valid wheel; ``payload_size`` bytes of stored data make it big."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = file_stem(name)
    path = directory / f"{stem}-{version}-{tag}.whl"
    dist_info = f"{stem}-{version}.dist-info"
    python, abi, platforms = tag.split("-")
    tags = [f"{py}-{abi}-{plat}" for py in python.split(".") for plat in platforms.split(".")]
    wheel_text = "Wheel-Version: 1.0\nGenerator: trustpub-bench\n"
    wheel_text += f"Root-Is-Purelib: {'true' if abi == 'none' else 'false'}\n"
    wheel_text += "".join(f"Tag: {t}\n" for t in tags)
    files = [
        (f"{stem}/__init__.py", f'__version__ = "{version}"\n'.encode()),
        (f"{dist_info}/METADATA", metadata(name, version).encode()),
        (f"{dist_info}/WHEEL", wheel_text.encode()),
    ]
    record = [_record_line(arcname, data) for arcname, data in files]
    payload_name = f"{stem}/_native.bin"
    digest = hashlib.sha256()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for arcname, data in files:
            archive.writestr(arcname, data)
        if payload_size:
            info = zipfile.ZipInfo(payload_name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            with archive.open(info, "w", force_zip64=payload_size > 2**31) as member:
                for chunk in _payload_chunks(payload_size, seed):
                    digest.update(chunk)
                    member.write(chunk)
            hashed = base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()
            record.append(f"{payload_name},sha256={hashed},{payload_size}")
        record.append(f"{dist_info}/RECORD,,")
        archive.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return path


def build_sdist(directory: Path, name: str, version: str, *, payload_size: int = 0) -> Path:
    """Write a valid PEP 625 ``.tar.gz`` sdist with PKG-INFO."""
    directory.mkdir(parents=True, exist_ok=True)
    root = f"{file_stem(name)}-{version}"
    path = directory / f"{root}.tar.gz"
    files = [
        ("PKG-INFO", metadata(name, version).encode()),
        (
            "pyproject.toml",
            f'[project]\nname = "{name}"\nversion = "{version}"\n'.encode(),
        ),
        (f"src/{file_stem(name)}/__init__.py", f'__version__ = "{version}"\n'.encode()),
        (f"src/{file_stem(name)}/data.bin", random.Random(version).randbytes(payload_size)),
    ]
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as archive:
        for arcname, data in files:
            info = tarfile.TarInfo(f"{root}/{arcname}")
            info.size = len(data)
            info.mtime = 1_767_225_600
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return path


def build_release(
    directory: Path, name: str, version: str, *, wheel_size: int = 256 * 1024
) -> list[Path]:
    """The 40 wheels (wheels first, as every tool uploads them) and the sdist."""
    wheels = [
        build_wheel(directory, name, version, tag, payload_size=wheel_size, seed=index)
        for index, tag in enumerate(release_tags())
    ]
    return [*wheels, build_sdist(directory, name, version, payload_size=wheel_size // 4)]


__all__ = [
    "PLATFORMS",
    "PYTHONS",
    "build_release",
    "build_sdist",
    "build_wheel",
    "file_stem",
    "metadata",
    "normalize",
    "release_tags",
]
