"""Real uploads to pypiserver on 127.0.0.1 with an API token (``__token__``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from helpers_upload import CountingCredential, pypiserver_target, running_pypiserver

from fixtures_dists import make_release, make_sdist, make_wheel
from trustpub._http import make_client
from trustpub.errors import UploadError
from trustpub.repository import IndexTarget
from trustpub.upload.discover import collect
from trustpub.upload.uploader import Uploader
from trustpub.upload.validate import InvalidDistributionsError, validate

if TYPE_CHECKING:
    from helpers_pypiserver import PypiServer  # imports passlib, which warns on import

pytestmark = pytest.mark.e2e


@pytest.fixture
def pypi_server(tmp_path: Path) -> Iterator[PypiServer]:
    with running_pypiserver(tmp_path / "pypiserver") as server:
        yield server


@pytest.fixture
def pypi_target(pypi_server: PypiServer) -> IndexTarget:
    return pypiserver_target(pypi_server)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_client(timeout=60.0) as made:
        yield made


@pytest.fixture
def credential() -> CountingCredential:
    return CountingCredential()


def stored(server: PypiServer) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in server.packages.iterdir() if path.is_file()}


def test_release_uploads_with_an_api_token(
    tmp_path: Path,
    pypi_server: PypiServer,
    pypi_target: IndexTarget,
    client: httpx.Client,
    credential: Any,
) -> None:
    wheel, sdist = make_release(tmp_path / "dist")
    dists = validate(collect([str(tmp_path / "dist" / "*")]).files)

    report = Uploader(pypi_target, credential, client=client).upload(dists)

    assert report.ok, report.error and report.error.diagnostics()
    assert [(r.filename, r.status) for r in report.results] == [
        (wheel.name, "uploaded"),
        (sdist.name, "uploaded"),
    ]
    assert stored(pypi_server) == {wheel.name: wheel.read_bytes(), sdist.name: sdist.read_bytes()}
    assert credential.calls == 2


def test_many_files_concurrently(
    tmp_path: Path,
    pypi_server: PypiServer,
    pypi_target: IndexTarget,
    client: httpx.Client,
    credential: Any,
) -> None:
    tags = [
        "py3-none-any",
        "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
        "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64",
        "cp311-cp311-win_amd64",
        "cp311-cp311-macosx_11_0_arm64",
    ]
    files = [make_wheel(tmp_path, tag=tag, payload_size=3 << 20) for tag in tags]
    files.append(make_sdist(tmp_path))
    dists = validate(files)

    report = Uploader(pypi_target, credential, client=client, jobs=3).upload(dists)

    assert report.ok, report.error and report.error.diagnostics()
    assert {r.status for r in report.results} == {"uploaded"}
    assert stored(pypi_server) == {path.name: path.read_bytes() for path in files}
    assert report.results[-1].filename == files[-1].name  # the sdist goes last


def test_wrong_token_is_refused_and_nothing_else_is_tried(
    tmp_path: Path,
    pypi_server: PypiServer,
    pypi_target: IndexTarget,
    client: httpx.Client,
) -> None:
    dists = validate(make_release(tmp_path))
    wrong = CountingCredential("pypi-not-the-right-token-at-all-000000")

    report = Uploader(pypi_target, wrong, client=client).upload(dists)

    assert not report.ok
    assert [r.status for r in report.results] == ["failed", "not-attempted"]
    assert isinstance(report.error, UploadError)
    # pypiserver puts no detail in its 403 (its body says "None"): the status phrase stands in.
    assert report.error.message == (
        f"{pypi_target.upload_url} refused {dists[0].filename}: 403 Forbidden"
    )
    assert report.error.anchor == "upload-forbidden"
    assert stored(pypi_server) == {}
    assert wrong.calls == 1


def test_reupload_of_identical_files_is_skipped(
    tmp_path: Path,
    pypi_server: PypiServer,
    pypi_target: IndexTarget,
    client: httpx.Client,
    credential: Any,
) -> None:
    dists = validate(make_release(tmp_path))
    assert Uploader(pypi_target, credential, client=client).upload(dists).ok

    # pypiserver answers 409 to a duplicate; its simple page proves the file is identical.
    again = Uploader(pypi_target, credential, client=client).upload(dists)

    assert again.ok
    assert [r.status for r in again.results] == ["skipped", "skipped"]
    assert again.results[0].url is not None
    assert again.results[0].url.startswith(f"{pypi_server.url}/packages/")


def test_skip_existing_against_the_simple_page(
    tmp_path: Path,
    pypi_server: PypiServer,
    pypi_target: IndexTarget,
    client: httpx.Client,
    credential: Any,
) -> None:
    wheel, sdist = make_release(tmp_path)
    first = validate([wheel])
    assert Uploader(pypi_target, credential, client=client).upload(first).ok
    dists = validate([wheel, sdist])
    uploader = Uploader(pypi_target, credential, client=client, skip_existing=True)

    assert uploader.check_existing(dists) == {wheel.name: "identical", sdist.name: "absent"}
    report = uploader.upload(dists)

    assert report.ok
    assert [r.status for r in report.results] == ["skipped", "uploaded"]
    assert sorted(stored(pypi_server)) == sorted([wheel.name, sdist.name])


def test_skip_existing_with_a_different_file_uploads_nothing(
    tmp_path: Path,
    pypi_server: PypiServer,
    pypi_target: IndexTarget,
    client: httpx.Client,
    credential: Any,
) -> None:
    published = make_wheel(tmp_path / "old")
    assert Uploader(pypi_target, credential, client=client).upload(validate([published])).ok
    rebuilt, sdist = make_release(tmp_path / "new", description="# Changed\n")
    dists = validate([rebuilt, sdist])

    report = Uploader(pypi_target, credential, client=client, skip_existing=True).upload(dists)

    assert not report.ok
    assert [r.status for r in report.results] == ["failed", "not-attempted"]
    assert isinstance(report.error, UploadError)
    assert rebuilt.name in report.error.message
    assert report.error.anchor == "file-already-exists"
    assert stored(pypi_server) == {published.name: published.read_bytes()}


def test_different_file_already_there_is_an_error_naming_it(
    tmp_path: Path,
    pypi_server: PypiServer,
    pypi_target: IndexTarget,
    client: httpx.Client,
    credential: Any,
) -> None:
    published = make_wheel(tmp_path / "old")
    assert Uploader(pypi_target, credential, client=client).upload(validate([published])).ok
    rebuilt = validate([make_wheel(tmp_path / "new", description="# Changed\n")])

    report = Uploader(pypi_target, credential, client=client).upload(rebuilt)

    assert isinstance(report.error, UploadError)
    assert report.error.message.startswith(
        f"{published.name} already exists on {pypi_target.upload_url} with different contents "
        f"(sha256 "
    )
    assert report.error.hint.startswith("a published file can never be replaced")


def test_nothing_is_uploaded_when_any_file_is_invalid(
    tmp_path: Path,
    pypi_server: PypiServer,
    pypi_target: IndexTarget,
    client: httpx.Client,
    credential: Any,
) -> None:
    make_wheel(tmp_path / "dist")
    make_sdist(tmp_path / "dist", pkg_info=False)

    def publish() -> None:
        dists = validate(collect([str(tmp_path / "dist")]).files)
        Uploader(pypi_target, credential, client=client).upload(dists)

    with pytest.raises(InvalidDistributionsError):
        publish()
    assert stored(pypi_server) == {}
    assert credential.calls == 0
