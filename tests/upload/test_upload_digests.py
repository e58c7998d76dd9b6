"""One-pass, two-thread hashing, and the PackageFile built on it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from twine.package import PackageFile

from fixtures_dists import make_release
from trustpub.upload import digests as digests_module
from trustpub.upload.digests import CHUNK_SIZE, file_digests
from trustpub.upload.validate import _Package


def _expected(data: bytes) -> tuple[str, str]:
    return hashlib.sha256(data).hexdigest(), hashlib.blake2b(data, digest_size=32).hexdigest()


@pytest.mark.parametrize(
    "size",
    [0, 1, 4095, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 12345],
)
def test_file_digests_match_hashlib_at_every_chunk_boundary(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = tmp_path / "blob.whl"
    path.write_bytes(data)

    result = file_digests(path)

    assert (result.sha256, result.blake2_256) == _expected(data)
    assert result.size == size


def test_file_digests_with_small_chunks_uses_many_rounds(tmp_path: Path) -> None:
    data = os.urandom(100_003)
    path = tmp_path / "blob.tar.gz"
    path.write_bytes(data)

    result = file_digests(str(path), chunk_size=4096)

    assert (result.sha256, result.blake2_256) == _expected(data)
    assert result.size == len(data)


def test_file_digests_without_blake2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A FIPS build without BLAKE2b still gets SHA-256 (and no BLAKE2 digest)."""
    monkeypatch.setattr(digests_module, "_blake2_256", lambda: None)
    data = os.urandom(2 * CHUNK_SIZE + 7)
    path = tmp_path / "blob.whl"
    path.write_bytes(data)

    result = file_digests(path)

    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.blake2_256 is None


def test_file_digests_missing_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        file_digests(tmp_path / "absent.whl")


def test_package_matches_twine_packagefile_attribute_for_attribute(tmp_path: Path) -> None:
    """_Package sets what twine's constructor sets, so twine's methods see the same object."""
    for path in make_release(tmp_path, name="Some_Odd.name--pkg", version="2.0.1"):
        ours = _Package.from_filename(str(path), comment=None)
        twines = PackageFile.from_filename(str(path), comment=None)

        assert isinstance(ours, PackageFile)
        assert vars(ours) == vars(twines)
        assert ours.metadata_dictionary() == twines.metadata_dictionary()
        assert ours.sha2_digest == hashlib.sha256(path.read_bytes()).hexdigest()


def test_validation_threads_only_for_much_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trustpub.upload import validate as validate_module

    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    small = make_release(tmp_path / "small")
    assert validate_module._workers(small) == 1
    assert validate_module._workers([*small, tmp_path / "absent.whl"]) == 1

    big = []
    for index in range(3):
        path = tmp_path / f"big{index}.whl"
        with path.open("wb") as handle:  # sparse: the size without writing the data
            handle.truncate(validate_module.PARALLEL_BYTES // 2)
        big.append(path)
    assert validate_module._workers(big[:1]) == 1
    assert validate_module._workers(big) == 3
    assert validate_module._workers([*big, *small]) == 4
