"""Find distribution files from command-line paths: files, directories, globs."""

from __future__ import annotations

import glob
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from trustpub.errors import DistributionError

DEFAULT_PATHS = ("dist/*",)

DIST_SUFFIXES = (".whl", ".tar.gz")
"""What PyPI accepts today."""

REJECTED_SUFFIXES = (
    ".zip",
    ".egg",
    ".exe",
    ".msi",
    ".tar.bz2",
    ".tar.xz",
    ".tar.zst",
    ".tgz",
    ".tar",
    ".rpm",
    ".dmg",
    ".deb",
)
"""Distribution-like files that are collected so that validation can reject them with a reason."""

ATTESTATION_SUFFIX = ".attestation"

_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class Collected:
    """The outcome of :func:`collect`."""

    files: list[Path] = field(default_factory=list)
    """Distribution files (and distribution-like files that validation will reject)."""
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    """Files that are not distributions, with the reason they are left out."""


def is_distribution_like(name: str) -> bool:
    """Whether a file name looks like a distribution (accepted or not)."""
    lower = name.lower()
    return lower.endswith(DIST_SUFFIXES) or lower.endswith(REJECTED_SUFFIXES)


def attestation_target(name: str) -> str | None:
    """``x.whl.publish.attestation`` -> ``x.whl``; None if not an attestation sidecar."""
    if not name.endswith(ATTESTATION_SUFFIX):
        return None
    stem = name[: -len(ATTESTATION_SUFFIX)]
    dist, dot, kind = stem.rpartition(".")
    if not dot or not kind or not is_distribution_like(dist):
        return None
    return dist


def _describe(paths: Sequence[str]) -> str:
    shown = []
    for text in paths:
        if text.endswith(("/*", "\\*")):
            shown.append(text[:-1])
        else:
            shown.append(text)
    return ", ".join(shown)


def _listed(path: Path) -> bool:
    """A file, or a directory named like a distribution (reported, never silently dropped)."""
    return path.is_file() or (path.is_dir() and is_distribution_like(path.name))


def _expand(text: str, missing: list[str]) -> list[Path]:
    if _GLOB_CHARS & set(text):
        matches = sorted(glob.glob(text))
        return [Path(match) for match in matches if _listed(Path(match))]
    path = Path(text)
    if path.is_dir():
        return sorted(child for child in path.iterdir() if _listed(child))
    if path.exists():
        return [path]
    missing.append(text)
    return []


def collect(paths: Sequence[str] = ()) -> Collected:
    """Expand files, directories and globs (default ``dist/*``) into distributions.

    Non-distribution files are returned in ``skipped`` with a reason.
    Attestation sidecars (``<dist>.<kind>.attestation``) are neither: they
    belong to their distribution (:func:`trustpub.upload.validate` attaches
    them); only an orphan sidecar is reported as skipped.

    Raises :class:`DistributionError` when a named file does not exist or
    when nothing to upload is found.
    """
    given = list(paths) or list(DEFAULT_PATHS)
    missing: list[str] = []
    seen: set[Path] = set()
    found: list[Path] = []
    for text in given:
        for path in _expand(text, missing):
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                found.append(path)
    if missing:
        raise DistributionError(
            f"no such file or directory: {', '.join(missing)}",
            hint="check the path; build first (python -m build) if dist/ does not exist yet",
            anchor="no-distributions",
        )
    dist_names = {path.name for path in found if is_distribution_like(path.name)}
    result = Collected()
    for path in found:
        name = path.name
        target = attestation_target(name)
        if target is not None:
            if target not in dist_names:
                result.skipped.append(
                    (path, f"attestation for {target}, which is not among the files to upload")
                )
            continue
        if is_distribution_like(name) and path.is_dir():
            result.skipped.append((path, "a directory named like a distribution"))
        elif is_distribution_like(name):
            result.files.append(path)
        elif name.lower().endswith(".asc"):
            result.skipped.append((path, "PGP signature; PyPI ignores signatures"))
        else:
            suffix = "".join(path.suffixes[-2:]) or name
            result.skipped.append((path, f"not a distribution ({suffix})"))
    if not result.files:
        where = _describe(given)
        details = [f"skipped {path}: {why}" for path, why in result.skipped]
        raise DistributionError(
            f"no distributions found in {where}",
            hint="build them first (python -m build, or uv build), which writes "
            "dist/*.whl and dist/*.tar.gz",
            details=details,
            anchor="no-distributions",
        )
    return result


__all__ = ["DEFAULT_PATHS", "Collected", "attestation_target", "collect", "is_distribution_like"]
