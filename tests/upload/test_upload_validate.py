"""Discovery and validation: every broken distribution kind gets an exact message and hint."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from fixtures_dists import BAD_RST, make_release, make_sdist, make_wheel, metadata_text
from trustpub.errors import DistributionError, ExitCode
from trustpub.upload.discover import collect
from trustpub.upload.validate import Distribution, InvalidDistributionsError, validate

# -- collect ---------------------------------------------------------------------------------


def test_collect_defaults_to_dist_and_skips_non_distributions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = tmp_path / "dist"
    wheel, sdist = make_release(dist)
    (dist / "notes.txt").write_text("hello")
    (dist / f"{wheel.name}.asc").write_text("signature")
    (dist / f"{wheel.name}.publish.attestation").write_text("{}")
    monkeypatch.chdir(tmp_path)

    collected = collect([])

    assert sorted(p.name for p in collected.files) == sorted([wheel.name, sdist.name])
    skipped = {path.name: why for path, why in collected.skipped}
    assert skipped == {
        "notes.txt": "not a distribution (.txt)",
        f"{wheel.name}.asc": "PGP signature; PyPI ignores signatures",
    }


def test_collect_reports_orphan_attestations(tmp_path: Path) -> None:
    make_wheel(tmp_path)
    (tmp_path / "gone-1.0.tar.gz.publish.attestation").write_text("{}")
    collected = collect([str(tmp_path)])
    assert [p.name for p in collected.files] == ["example_pkg-1.0.0-py3-none-any.whl"]
    assert collected.skipped == [
        (
            tmp_path / "gone-1.0.tar.gz.publish.attestation",
            "attestation for gone-1.0.tar.gz, which is not among the files to upload",
        )
    ]


def test_collect_files_globs_and_directories_once(tmp_path: Path) -> None:
    wheel, sdist = make_release(tmp_path / "out")
    collected = collect([str(wheel), str(tmp_path / "out" / "*.whl"), str(tmp_path / "out")])
    assert collected.files == [wheel, sdist]


def test_collect_missing_dist_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DistributionError) as caught:
        collect([])
    assert caught.value.message == "no distributions found in dist/"
    assert "python -m build" in caught.value.hint
    assert caught.value.anchor == "no-distributions"
    assert caught.value.exit_code == ExitCode.INVALID_DIST


def test_collect_empty_dist_lists_what_was_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "README.txt").write_text("x")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DistributionError) as caught:
        collect(["dist/*"])
    assert caught.value.message == "no distributions found in dist/"
    assert caught.value.details == ("skipped dist/README.txt: not a distribution (.txt)",)


def test_collect_missing_named_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope-1.0-py3-none-any.whl"
    with pytest.raises(DistributionError) as caught:
        collect([str(missing)])
    assert caught.value.message == f"no such file or directory: {missing}"


# -- validate: the good path -----------------------------------------------------------------


def test_validate_returns_wheels_first_with_both_digests(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path)
    wheel = make_wheel(tmp_path)
    attestation = tmp_path / f"{wheel.name}.publish.attestation"
    attestation.write_text(json.dumps({"version": 1}))

    dists = validate([sdist, wheel])

    assert [d.filename for d in dists] == [wheel.name, sdist.name]
    first = dists[0]
    data = wheel.read_bytes()
    assert first == Distribution(
        path=wheel,
        filename=wheel.name,
        filetype="bdist_wheel",
        name="example-pkg",
        version="1.0.0",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        blake2_256=hashlib.blake2b(data, digest_size=32).hexdigest(),
        attestations=(attestation,),
        pyversion="py3",
    )
    assert dists[1].filetype == "sdist"
    assert dists[1].pyversion == "source"
    assert dists[1].attestations == ()


def test_validate_check_false_skips_the_readme(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, description=BAD_RST, description_content_type="text/x-rst")
    assert [d.filename for d in validate([wheel], check=False)] == [wheel.name]


# -- validate: the catalogue of broken distributions ------------------------------------------

Builder = Callable[[Path], Path]

CATALOGUE: list[tuple[str, Builder, str | None, str, str]] = [
    (
        "wheel-without-metadata",
        lambda d: make_wheel(d, metadata=False),
        "example_pkg-1.0.0-py3-none-any.whl: Wheel 'example_pkg-1.0.0-py3-none-any.whl' does not contain the required METADATA file: example_pkg-1.0.0.dist-info/METADATA",
        "rebuild with a current build backend (python -m build, or uv build)",
        "invalid-distribution",
    ),
    (
        "sdist-without-pkg-info",
        lambda d: make_sdist(d, pkg_info=False),
        "example_pkg-1.0.0.tar.gz: Invalid distribution file. PKG-INFO not found at example_pkg-1.0.0/PKG-INFO",
        "the file is corrupt or was not made by a build backend; rebuild with a current build backend (python -m build, or uv build)",
        "invalid-distribution",
    ),
    (
        "wheel-name-mismatch",
        lambda d: make_wheel(d, meta_name="other-pkg"),
        "example_pkg-1.0.0-py3-none-any.whl: Start filename for 'other-pkg' with 'other_pkg'.",
        "the file was renamed or built from another tree; rebuild it from a clean checkout (rm -rf dist && python -m build)",
        "metadata-mismatch",
    ),
    (
        "sdist-version-mismatch",
        lambda d: make_sdist(d, meta_version="1.0.1"),
        "example_pkg-1.0.0.tar.gz: Filename 'example_pkg-1.0.0.tar.gz' is invalid, should be 'example_pkg-1.0.1.tar.gz'.",
        "rebuild the sdist with a current build backend (setuptools >= 69.3, hatchling, flit-core >= 3.11, ...); renaming the file is not enough",
        "pep-625-sdist-name",
    ),
    (
        "sdist-not-pep-625",
        lambda d: make_sdist(d, name="Example.Pkg", filename="Example.Pkg-1.0.0.tar.gz"),
        "Example.Pkg-1.0.0.tar.gz: Filename 'Example.Pkg-1.0.0.tar.gz' is invalid, should be 'example_pkg-1.0.0.tar.gz'.",
        "rebuild the sdist with a current build backend (setuptools >= 69.3, hatchling, flit-core >= 3.11, ...); renaming the file is not enough",
        "pep-625-sdist-name",
    ),
    (
        "sdist-version-not-normalized",
        lambda d: make_sdist(
            d, version="1.0", filename="example_pkg-1.0.tar.gz", meta_version="1.0"
        ),
        None,
        "",
        "",
    ),
    (
        "readme-does-not-render",
        lambda d: make_wheel(d, description=BAD_RST, description_content_type="text/x-rst"),
        "example_pkg-1.0.0-py3-none-any.whl: The description failed to render for 'text/x-rst'. See https://pypi.org/help/#description-content-type for more information.",
        "fix the reStructuredText markup (check it locally with `twine check`), or declare the README as Markdown (a README.md file / text/markdown content type)",
        "readme-does-not-render",
    ),
    (
        "readme-rst-by-default",
        lambda d: make_sdist(d, description=BAD_RST, description_content_type=None),
        "example_pkg-1.0.0.tar.gz: The description failed to render in the default format of reStructuredText. See https://pypi.org/help/#description-content-type for more information.",
        "fix the reStructuredText markup (check it locally with `twine check`), or declare the README as Markdown (a README.md file / text/markdown content type)",
        "readme-does-not-render",
    ),
    (
        "corrupt-wheel",
        lambda d: make_wheel(d, corrupt=True),
        "example_pkg-1.0.0-py3-none-any.whl: Invalid distribution file. File is not a zipfile",
        "the file is corrupt or was not made by a build backend; rebuild with a current build backend (python -m build, or uv build)",
        "invalid-distribution",
    ),
    (
        "corrupt-sdist",
        lambda d: make_sdist(d, corrupt=True),
        "example_pkg-1.0.0.tar.gz: Invalid distribution file. File is not a tarfile",
        "the file is corrupt or was not made by a build backend; rebuild with a current build backend (python -m build, or uv build)",
        "invalid-distribution",
    ),
    (
        "zip-sdist",
        lambda d: make_sdist(d, zip_format=True),
        "example_pkg-1.0.0.zip: Filename 'example_pkg-1.0.0.zip' is invalid, should be 'example_pkg-1.0.0.tar.gz'.",
        "rebuild the sdist with a current build backend (setuptools >= 69.3, hatchling, flit-core >= 3.11, ...); renaming the file is not enough",
        "pep-625-sdist-name",
    ),
    (
        "egg",
        lambda d: _write(d / "example_pkg-1.0.0-py3.11.egg"),
        "example_pkg-1.0.0-py3.11.egg: egg files are no longer accepted by PyPI",
        "build a wheel and an sdist (python -m build) and upload those",
        "unsupported-file-type",
    ),
    (
        "windows-installer",
        lambda d: _write(d / "example_pkg-1.0.0.win-amd64.exe"),
        "example_pkg-1.0.0.win-amd64.exe: Windows installers (bdist_wininst, bdist_msi) are no longer accepted by PyPI",
        "build a wheel and an sdist (python -m build) and upload those",
        "unsupported-file-type",
    ),
    (
        "bzip2-sdist",
        lambda d: _write(d / "example_pkg-1.0.0.tar.bz2"),
        "example_pkg-1.0.0.tar.bz2: unsupported file type; PyPI accepts only wheels (.whl) and .tar.gz sdists",
        "build a wheel and an sdist (python -m build) and upload those",
        "unsupported-file-type",
    ),
    (
        "directory-instead-of-file",
        lambda d: _mkdir(d / "example_pkg-1.0.0-py3-none-any.whl"),
        "example_pkg-1.0.0-py3-none-any.whl: cannot read the file: Is a directory",
        "check that the file exists and that this user may read it",
        "unreadable-file",
    ),
    (
        "empty-file",
        lambda d: _write(d / "example_pkg-1.0.0-py3-none-any.whl", b""),
        "example_pkg-1.0.0-py3-none-any.whl: the file is empty",
        "rebuild with a current build backend (python -m build, or uv build)",
        "invalid-distribution",
    ),
    (
        "invalid-metadata",
        lambda d: make_wheel(
            d, metadata="Metadata-Version: 2.1\nName: example-pkg\nVersion: not a version\n"
        ),
        "example_pkg-1.0.0-py3-none-any.whl: 'not a version' is invalid for 'version'. See https://packaging.python.org/specifications/core-metadata for more information.",
        "fix that field in pyproject.toml (or setup.cfg / setup.py), then rebuild",
        "invalid-metadata",
    ),
    (
        "invalid-wheel-filename",
        lambda d: make_wheel(d, filename="example_pkg-1.0.0.whl"),
        "example_pkg-1.0.0.whl: Invalid distribution file. Unable to parse name and version from wheel filename",
        "the file is corrupt or was not made by a build backend; rebuild with a current build backend (python -m build, or uv build)",
        "invalid-distribution",
    ),
    (
        "wheel-name-not-normalized",
        lambda d: make_wheel(d, filename="Example_Pkg-1.0.0-py3-none-any.whl"),
        "Example_Pkg-1.0.0-py3-none-any.whl: Invalid distribution file. WHEEL not found at Example_Pkg-1.0.0.dist-info/WHEEL",
        "the file is corrupt or was not made by a build backend; rebuild with a current build backend (python -m build, or uv build)",
        "invalid-distribution",
    ),
    (
        "plain-linux-wheel",
        lambda d: make_wheel(d, tag="cp311-cp311-linux_x86_64"),
        "example_pkg-1.0.0-cp311-cp311-linux_x86_64.whl: Binary wheel 'example_pkg-1.0.0-cp311-cp311-linux_x86_64.whl' has an unsupported platform tag 'linux_x86_64'.",
        "repair the wheel into a manylinux/musllinux wheel (auditwheel repair), or build with cibuildwheel",
        "unsupported-platform-tag",
    ),
    (
        "invalid-attestation",
        lambda d: _with_attestation(make_wheel(d), b"{not json"),
        "example_pkg-1.0.0-py3-none-any.whl.publish.attestation: unreadable attestation (not valid JSON)",
        "regenerate the attestation, or pass --no-attestations",
        "invalid-attestation",
    ),
]


def _write(path: Path, data: bytes = b"\x00binary") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def _with_attestation(dist: Path, data: bytes) -> Path:
    (dist.parent / f"{dist.name}.publish.attestation").write_bytes(data)
    return dist


@pytest.mark.parametrize(
    ("builder", "message", "hint", "anchor"),
    [pytest.param(*case[1:], id=case[0]) for case in CATALOGUE],
)
def test_validation_catalogue(
    tmp_path: Path, builder: Builder, message: str | None, hint: str, anchor: str
) -> None:
    path = builder(tmp_path)
    if message is None:
        assert [d.path for d in validate([path])] == [path]
        return
    with pytest.raises(InvalidDistributionsError) as caught:
        validate([path])
    error = caught.value
    assert error.message == message
    assert error.hint == hint
    assert error.anchor == anchor
    assert error.exit_code == ExitCode.INVALID_DIST
    assert [problem.message for problem in error.problems] == [message]


def test_every_problem_of_every_file_is_listed(tmp_path: Path) -> None:
    good = make_wheel(tmp_path)
    bad_sdist = make_sdist(tmp_path, meta_name="other-pkg")
    bad_wheel = make_wheel(tmp_path, tag="py2-none-any", metadata=False)

    with pytest.raises(InvalidDistributionsError) as caught:
        validate([good, bad_sdist, bad_wheel])

    error = caught.value
    assert error.message == "2 problems in 2 distribution files; nothing was uploaded"
    assert error.hint == "fix every problem listed, then run again"
    assert error.details == (
        "example_pkg-1.0.0.tar.gz: Start filename for 'other-pkg' with 'other_pkg'. (hint: the "
        "file was renamed or built from another tree; rebuild it from a clean checkout "
        "(rm -rf dist && python -m build))",
        "example_pkg-1.0.0-py2-none-any.whl: Wheel 'example_pkg-1.0.0-py2-none-any.whl' does not "
        "contain the required METADATA file: example_pkg-1.0.0.dist-info/METADATA (hint: "
        "rebuild with a current build backend (python -m build, or uv build))",
    )
    assert "hint: fix every problem listed" in error.diagnostics()


def test_one_release_per_run(tmp_path: Path) -> None:
    old = make_wheel(tmp_path, version="0.9")
    new_wheel, new_sdist = make_release(tmp_path, version="1.0")
    with pytest.raises(InvalidDistributionsError) as caught:
        validate([old, new_wheel, new_sdist])
    assert caught.value.message == (
        "the files belong to 2 different releases: example-pkg 0.9 "
        "(example_pkg-0.9-py3-none-any.whl); example-pkg 1.0 "
        "(example_pkg-1.0-py3-none-any.whl, example_pkg-1.0.tar.gz)"
    )
    assert caught.value.hint == (
        "upload one release per run: remove stale files from dist/ (rm -rf dist && python -m build)"
    )
    assert caught.value.anchor == "mixed-releases"


def test_same_file_twice_from_two_directories(tmp_path: Path) -> None:
    first = make_wheel(tmp_path / "a")
    second = make_wheel(tmp_path / "b")
    with pytest.raises(InvalidDistributionsError) as caught:
        validate([first, second])
    assert caught.value.message == (
        f"example_pkg-1.0.0-py3-none-any.whl: the same file name is given more than once "
        f"({first}, {second})"
    )
    assert caught.value.anchor == "duplicate-file"


def test_validate_nothing(tmp_path: Path) -> None:
    with pytest.raises(DistributionError) as caught:
        validate([])
    assert caught.value.anchor == "no-distributions"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    wheel.chmod(0)
    try:
        with pytest.raises(InvalidDistributionsError) as caught:
            validate([wheel])
    finally:
        wheel.chmod(0o644)
    assert caught.value.message == f"{wheel.name}: cannot read the file: Permission denied"


def test_metadata_is_kept_for_the_form(tmp_path: Path) -> None:
    text = metadata_text(classifiers=["Programming Language :: Python :: 3"])
    wheel = make_wheel(tmp_path, metadata=text)
    (dist,) = validate([wheel])
    assert dist.package is not None
    assert dist.package.metadata["classifiers"] == ["Programming Language :: Python :: 3"]
