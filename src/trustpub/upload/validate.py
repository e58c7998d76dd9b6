"""Validate distributions before anything is uploaded.

Every file is inspected (file name, archive, metadata, README, attestation
sidecars) and every problem is collected; only then is one
:class:`InvalidDistributionsError` raised, listing them all.

Hashing: twine's :meth:`PackageFile.from_filename` reads and checks the
metadata and then builds the object with the constructor, which would hash
the file itself (one thread, 8 KiB reads). :class:`_Package` is a
``PackageFile`` whose constructor sets the same attributes but takes the
digests from :func:`trustpub.upload.digests.file_digests` (both digests in
one pass, 1 MiB reads, two threads). So each file is read once for hashing
and once per upload attempt, in fixed-size chunks (memory stays flat); the
upload form is still built by twine's ``metadata_dictionary()``.
"""

from __future__ import annotations

import json
import os
import re
import tarfile
import zipfile
import zlib
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from packaging.metadata import RawMetadata, parse_email
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from twine.package import PackageFile

from trustpub._threads import worker_pool
from trustpub.errors import DistributionError
from trustpub.upload.digests import file_digests
from trustpub.upload.discover import ATTESTATION_SUFFIX
from trustpub.upload.rules import (
    MemberTooLarge,
    Opened,
    Refusal,
    check_form_metadata,
    check_metadata,
    description_refusal,
    distribution_refusal,
    filename_refusal,
    form_name_refusal,
    open_distribution,
    read_any_wheel_metadata,
    read_core_metadata,
    sanitize_form,
)

WHEEL = "bdist_wheel"
SDIST = "sdist"

_REBUILD = "rebuild with a current build backend (python -m build, or uv build)"


@dataclass(frozen=True)
class Distribution:
    """A validated distribution file, ready to upload."""

    path: Path
    filename: str
    filetype: str
    """``sdist`` or ``bdist_wheel``."""
    name: str
    """The project name as written in the metadata."""
    version: str
    size: int
    sha256: str
    blake2_256: str
    attestations: tuple[Path, ...] = ()
    """``<filename>.<kind>.attestation`` files next to the distribution (PEP 740)."""
    pyversion: str = ""
    """``source`` for sdists, the python tag for wheels (the form's ``pyversion``)."""
    package: PackageFile | None = field(default=None, compare=False, repr=False)
    """twine's view of the file; the upload form is built from its metadata."""

    @property
    def normalized_name(self) -> str:
        return canonicalize_name(self.name)

    @property
    def is_wheel(self) -> bool:
        return self.filetype == WHEEL


@dataclass(frozen=True)
class Problem:
    """One validation failure of one file."""

    path: Path
    message: str
    """One line naming the file and the problem."""
    hint: str
    anchor: str

    def line(self) -> str:
        return f"{self.message} (hint: {self.hint})"


class InvalidDistributionsError(DistributionError):
    """One or more files failed validation; nothing was uploaded.

    ``problems`` lists every failure; ``details`` has one line per problem
    (with its hint). With a single problem, ``message``/``hint``/``anchor``
    are that problem's.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        if len(self.problems) == 1:
            only = self.problems[0]
            super().__init__(only.message, hint=only.hint, anchor=only.anchor)
            return
        files = len({problem.path for problem in self.problems})
        super().__init__(
            f"{len(self.problems)} problems in {files} distribution file"
            f"{'s' if files != 1 else ''}; nothing was uploaded",
            hint="fix every problem listed, then run again",
            details=[problem.line() for problem in self.problems],
            anchor=self.problems[0].anchor,
        )


class _Failed(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _problem(path: Path, text: str, hint: str, anchor: str) -> Problem:
    return Problem(path=path, message=f"{path.name}: {text}", hint=hint, anchor=anchor)


def _filetype(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".whl"):
        return WHEEL
    if name.endswith((".tar.gz", ".zip")):
        return SDIST  # a .zip sdist is refused by PyPI's file name rule (PEP 625)
    if name.endswith(".egg"):
        reason = "egg files are no longer accepted by PyPI"
    elif name.endswith((".exe", ".msi")):
        reason = "Windows installers (bdist_wininst, bdist_msi) are no longer accepted by PyPI"
    else:
        reason = "unsupported file type; PyPI accepts only wheels (.whl) and .tar.gz sdists"
    raise _Failed(
        _problem(
            path,
            reason,
            "build a wheel and an sdist (python -m build) and upload those",
            "unsupported-file-type",
        )
    )


def _check_readable(path: Path) -> int:
    try:
        if path.is_dir():
            raise IsADirectoryError(21, "Is a directory")
        if path.exists() and not path.is_file():  # a FIFO or device: opening it could block forever
            raise _Failed(
                _problem(
                    path,
                    "not a regular file (a pipe, socket or device)",
                    "pass the built distribution file itself",
                    "unreadable-file",
                )
            )
        with path.open("rb") as handle:
            handle.read(1)
        size = path.stat().st_size
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise _Failed(
            _problem(
                path,
                f"cannot read the file: {reason}",
                "check that the file exists and that this user may read it",
                "unreadable-file",
            )
        ) from None
    if size == 0:
        raise _Failed(_problem(path, "the file is empty", _REBUILD, "invalid-distribution"))
    return size


_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9.]+")


class _Package(PackageFile):
    """twine's ``PackageFile``, hashed by :func:`file_digests` instead of by twine.

    ``PackageFile.from_filename`` parses and checks the metadata, then calls
    this constructor. It sets every attribute twine's own constructor sets
    (a test compares the two on the same file), so ``metadata_dictionary()``
    and the rest of twine's API behave the same.
    """

    def __init__(
        self,
        filename: str,
        comment: str | None,
        metadata: RawMetadata,
        python_version: str,
        filetype: str,
    ) -> None:
        # twine's constructor is deliberately not called: it would hash the file again.
        self.filename = filename
        self.basefilename = os.path.basename(filename)
        self.comment = comment
        self.metadata = metadata
        self.python_version = python_version
        self.filetype = filetype
        # The distribution name with every run of characters other than letters, digits
        # and dots replaced by one "-" (what twine sends as the form's name).
        self.safe_name = _UNSAFE_RUN.sub("-", metadata["name"])
        self.version = metadata["version"]
        self.signed_filename = filename + ".asc"
        self.signed_basefilename = self.basefilename + ".asc"
        self.gpg_signature = None
        self.attestations = None
        digests = file_digests(filename)
        self.sha2_digest = digests.sha256
        self.blake2_256_digest = digests.blake2_256


_HINTS: dict[str, tuple[str, str]] = {
    "metadata": (
        "fix that field in pyproject.toml (or setup.cfg / setup.py), then rebuild",
        "invalid-metadata",
    ),
    "description": (
        "fix the reStructuredText markup (check it locally with `twine check`), or declare "
        "the README as Markdown (a README.md file / text/markdown content type)",
        "readme-does-not-render",
    ),
    "filename": (_REBUILD, "invalid-distribution"),
    "size": (
        "make the file smaller, or ask PyPI for a larger limit for this project",
        "file-too-large",
    ),
    "archive": (
        f"the file is corrupt or was not made by a build backend; {_REBUILD}",
        "invalid-distribution",
    ),
    "sdist-filename": (
        "rebuild the sdist with a current build backend (setuptools >= 69.3, hatchling, "
        "flit-core >= 3.11, ...); renaming the file is not enough",
        "pep-625-sdist-name",
    ),
    "license-file": (
        "list only license files that the build puts into the distribution, then rebuild",
        "invalid-metadata",
    ),
    "platform-tag": (
        "repair the wheel into a manylinux/musllinux wheel (auditwheel repair), or build "
        "with cibuildwheel",
        "unsupported-platform-tag",
    ),
    "wheel-filename": (_REBUILD, "wheel-filename-not-normalized"),
    "name-mismatch": (
        "the file was renamed or built from another tree; rebuild it from a clean checkout "
        "(rm -rf dist && python -m build)",
        "metadata-mismatch",
    ),
    "wheel-version": (
        "the file was renamed or built from another tree; rebuild it from a clean checkout "
        "(rm -rf dist && python -m build)",
        "metadata-mismatch",
    ),
    "record": (_REBUILD, "invalid-distribution"),
    "entry-points": (
        "entry point names may contain only letters, digits, '.', '_' and '-'; fix "
        "[project.scripts] / [project.gui-scripts], then rebuild",
        "invalid-distribution",
    ),
    "wheel-metadata": (_REBUILD, "invalid-distribution"),
}


def _refused(path: Path, refusal: Refusal) -> Problem:
    """A refusal PyPI would give, as a problem of ``path`` (PyPI's words, our hint)."""
    hint, anchor = _HINTS.get(refusal.rule, (_REBUILD, "invalid-distribution"))
    return _problem(path, refusal.message, hint, anchor)


def _python_tag(filename: str, filetype: str) -> str:
    """The form's ``pyversion``: ``source``, or the wheel's python tag (as twine sends it)."""
    if filetype == SDIST:
        return "source"
    from twine.wheel import wheel_file_re

    match = wheel_file_re.match(filename)
    return "any" if match is None else str(match.group("pyver"))


def _parse_metadata(path: Path, content: bytes) -> RawMetadata:
    """The core metadata as twine reads and sends it."""
    raw, unparsed = parse_email(content)
    # twine leaves out License-File under Metadata-Version < 2.4 (setuptools wrote it
    # early); PyPI never sees those fields.
    try:
        before_24 = Version(raw.get("metadata_version", "0")) < Version("2.4")
    except InvalidVersion:
        before_24 = False
    if before_24:
        raw.pop("license_files", None)
        unparsed.pop("license-file", None)
    if unparsed:
        fields = "; ".join(f"unrecognized or malformed field {key!r}" for key in unparsed)
        raise _Failed(_problem(path, f"invalid metadata: {fields}", _REBUILD, "invalid-metadata"))
    return raw


def _open(path: Path, stack: ExitStack) -> tuple[Opened, RawMetadata]:
    """Open the archive as PyPI does and read its core metadata (problems raise _Failed)."""
    opened = open_distribution(path, path.name, stack)
    try:
        content = read_core_metadata(opened)
        if content is None and opened.problem is None:
            content = read_any_wheel_metadata(opened)
    except MemberTooLarge as error:
        content = None
        opened.problem = opened.problem or f"The core metadata file has {error}"
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile, tarfile.TarError):
        content = None
        opened.problem = opened.problem or "None"
    if content is None:
        if opened.problem is not None:
            raise _Failed(
                _refused(path, Refusal(f"Invalid distribution file. {opened.problem}", "archive"))
            )
        if path.name.endswith(".whl"):
            name, version = path.name.split("-", 2)[:2]
            target = f"{name}-{version}.dist-info/METADATA"
            text = f"Wheel '{path.name}' does not contain the required METADATA file: {target}"
            raise _Failed(_refused(path, Refusal(text, "wheel-metadata")))
        raise _Failed(
            _problem(path, "no PKG-INFO file in the sdist", _REBUILD, "invalid-distribution")
        )
    return opened, _parse_metadata(path, content)


def _check_file(path: Path, opened: Opened, dist: Distribution, *, check: bool) -> list[Problem]:
    """PyPI's rules on the form we would send, then on the file itself, in PyPI's order."""
    from trustpub.upload.multipart import form_fields

    fields = sanitize_form(form_fields(dist, attestations=False))
    if (named := form_name_refusal(dict(fields).get("name", ""))) is not None:
        return [_refused(path, named)]
    meta, refusals = check_form_metadata(fields)
    if meta is None:
        return [_refused(path, refusal) for refusal in refusals]
    found = list(refusals)
    if check and (description := description_refusal(meta)) is not None:
        found.append(description)
    if (named := filename_refusal(path.name, dist.filetype)) is not None:
        found.append(named)
    if (file_refusal := distribution_refusal(opened, meta, meta.name)) is not None:
        found.append(file_refusal)
    return [_refused(path, refusal) for refusal in found]


def attestations_for(path: Path) -> tuple[Path, ...]:
    """The ``<filename>.<kind>.attestation`` files next to ``path``."""
    prefix = path.name + "."
    try:
        siblings = list(path.parent.iterdir())
    except OSError:
        return ()
    return tuple(
        sorted(
            sibling
            for sibling in siblings
            if sibling.name.startswith(prefix)
            and sibling.name.endswith(ATTESTATION_SUFFIX)
            and "." not in sibling.name[len(prefix) : -len(ATTESTATION_SUFFIX)]
            and len(sibling.name) > len(prefix) + len(ATTESTATION_SUFFIX)
        )
    )


def _check_attestations(path: Path, sidecars: Sequence[Path]) -> list[Problem]:
    problems = []
    for sidecar in sidecars:
        try:
            loaded = json.loads(sidecar.read_bytes())
        except (OSError, ValueError) as error:
            detail = error.strerror if isinstance(error, OSError) else "not valid JSON"
            problems.append(
                Problem(
                    path=path,
                    message=f"{sidecar.name}: unreadable attestation ({detail})",
                    hint="regenerate the attestation, or pass --no-attestations",
                    anchor="invalid-attestation",
                )
            )
            continue
        if not isinstance(loaded, dict):
            problems.append(
                Problem(
                    path=path,
                    message=f"{sidecar.name}: an attestation must be a JSON object",
                    hint="regenerate the attestation, or pass --no-attestations",
                    anchor="invalid-attestation",
                )
            )
    return problems


def inspect(
    path: Path, *, check: bool = True, readme_cache: dict[tuple[str, str], str | None] | None = None
) -> tuple[Distribution | None, list[Problem]]:
    """Validate one file; the distribution (if readable) and its problems.

    The problems are what PyPI would refuse, in PyPI's order, with PyPI's message
    (:mod:`trustpub.upload.rules`); the first is the one PyPI would answer with.
    ``readme_cache`` is accepted for compatibility; rendering is cached by the rules.
    """
    del readme_cache
    try:
        filetype = _filetype(path)
        size = _check_readable(path)
        with ExitStack() as stack:
            opened, raw = _open(path, stack)
            if not raw.get("name") or not raw.get("version"):
                _meta, refusals = check_metadata(raw)
                return None, [_refused(path, refusal) for refusal in refusals]
            package = _Package(str(path), None, raw, _python_tag(path.name, filetype), filetype)
            sidecars = attestations_for(path)
            dist = Distribution(
                path=path,
                filename=path.name,
                filetype=filetype,
                name=raw["name"],
                version=raw["version"],
                size=size,
                sha256=package.sha2_digest or "",
                blake2_256=package.blake2_256_digest or "",
                attestations=sidecars,
                pyversion=package.python_version,
                package=package,
            )
            problems = _check_file(path, opened, dist, check=check)
    except _Failed as failed:
        return None, [failed.problem]
    problems.extend(_check_attestations(path, sidecars))
    return dist, problems


def _release_problems(dists: Sequence[Distribution]) -> list[Problem]:
    problems: list[Problem] = []
    releases: dict[tuple[str, str], list[Distribution]] = {}
    for dist in dists:
        try:
            version = str(Version(dist.version))
        except InvalidVersion:
            version = dist.version
        releases.setdefault((dist.normalized_name, version), []).append(dist)
    if len(releases) > 1:
        described = "; ".join(
            f"{name} {version} ({', '.join(d.filename for d in members)})"
            for (name, version), members in releases.items()
        )
        problems.append(
            Problem(
                path=dists[0].path,
                message=f"the files belong to {len(releases)} different releases: {described}",
                hint="upload one release per run: remove stale files from dist/ "
                "(rm -rf dist && python -m build)",
                anchor="mixed-releases",
            )
        )
    by_name: dict[str, list[Distribution]] = {}
    for dist in dists:
        by_name.setdefault(dist.filename, []).append(dist)
    for filename, members in by_name.items():
        if len(members) > 1:
            places = ", ".join(str(member.path) for member in members)
            problems.append(
                Problem(
                    path=members[1].path,
                    message=f"{filename}: the same file name is given more than once ({places})",
                    hint="pass each distribution once",
                    anchor="duplicate-file",
                )
            )
    for (name, version), members in releases.items():
        sdists = [member.filename for member in members if member.filetype == SDIST]
        if len(set(sdists)) > 1:
            problems.append(
                Problem(
                    path=members[0].path,
                    message=f"{name} {version} has more than one sdist ({', '.join(sdists)}); "
                    "PyPI accepts only one per release",
                    hint="keep the .tar.gz sdist whose name is PEP 625 compliant and remove the others",
                    anchor="multiple-sdists",
                )
            )
    return problems


PARALLEL_BYTES = 32 * 1024 * 1024
"""Below this many bytes in all, files are validated one after the other."""


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # reported by inspect()
        return 0


def _workers(paths: Sequence[Path]) -> int:
    """Threads for :func:`validate`: several only when there is much to hash.

    Hashing releases the GIL, so large files are validated in parallel; for small
    files the work is parsing metadata in Python, where threads only contend for
    the GIL (41 small files: about 0.07 s one by one, 0.11 s or more on 4 threads).
    """
    total = sum(_size(path) for path in paths)
    if total < PARALLEL_BYTES:
        return 1
    return max(1, min(4, len(paths), os.cpu_count() or 1))


def validate(files: Sequence[Path], *, check: bool = True) -> list[Distribution]:
    """Validate every file, then return them wheels first (input order kept otherwise).

    Raises :class:`InvalidDistributionsError` (a ``DistributionError``) listing
    every problem of every file; no file is returned unless all are valid.
    ``check=False`` skips the README rendering check.
    """
    paths = [Path(file) for file in files]
    if not paths:
        raise DistributionError(
            "no distributions found to upload",
            hint="build them first (python -m build, or uv build), which writes "
            "dist/*.whl and dist/*.tar.gz",
            anchor="no-distributions",
        )
    cache: dict[tuple[str, str], str | None] = {}
    workers = _workers(paths)
    if workers == 1:
        outcomes = [inspect(path, check=check, readme_cache=cache) for path in paths]
    else:
        with worker_pool(workers, "trustpub-validate") as pool:
            outcomes = list(pool.map(lambda p: inspect(p, check=check, readme_cache=cache), paths))
    problems: list[Problem] = []
    dists: list[Distribution] = []
    for dist, found in outcomes:
        problems.extend(found)
        if dist is not None:
            dists.append(dist)
    consistent = [dist for dist, found in outcomes if dist is not None and not found]
    if consistent:
        # Files with problems of their own (e.g. a name mismatch) are left out here.
        problems.extend(_release_problems(consistent))
    if problems:
        raise InvalidDistributionsError(problems)
    return sorted(dists, key=lambda dist: 0 if dist.is_wheel else 1)


__all__ = [
    "SDIST",
    "WHEEL",
    "Distribution",
    "InvalidDistributionsError",
    "Problem",
    "attestations_for",
    "inspect",
    "validate",
]
