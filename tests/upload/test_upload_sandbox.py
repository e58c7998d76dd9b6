"""Uploads to the sandbox index over HTTPS; it follows PyPI's upload rules and messages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fixtures_dists import make_release, make_wheel
from helpers_sandbox import Sandbox, unique_name
from trustpub._http import make_client
from trustpub._secret import Secret
from trustpub.errors import UploadError
from trustpub.exchange import UploadCredential
from trustpub.repository import IndexTarget, resolve_repository
from trustpub.upload.uploader import Uploader
from trustpub.upload.validate import validate

pytestmark = pytest.mark.e2e


@pytest.fixture
def https(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    """trustpub's own client, trusting the sandbox CA the way users do (SSL_CERT_FILE)."""
    for key, value in sandbox.env().items():
        monkeypatch.setenv(key, value)
    with make_client(timeout=60.0) as client:
        yield client


@pytest.fixture
def target(sandbox: Sandbox) -> IndexTarget:
    return resolve_repository(sandbox.upload_url)


def trusted_token(box: Sandbox, project: str) -> str:
    """A token minted through a pending publisher that creates ``project``."""
    repository = f"octo/{unique_name('repo')}"
    box.add_publisher(
        provider="github",
        repository=repository,
        workflow="release.yml",
        projects=[project],
        pending=True,
    )
    return box.minted_token("github", repository=repository)


def credential(token: str, source: str) -> UploadCredential:
    return UploadCredential("__token__", Secret(token), source, None)


def uploads(box: Sandbox) -> int:
    return sum(1 for entry in box.log() if entry["path"] == "/legacy/")


def test_trusted_publishing_token_uploads_a_release(
    sandbox: Sandbox, https: httpx.Client, target: IndexTarget, tmp_path: Path
) -> None:
    project = unique_name()
    token = trusted_token(sandbox, project)
    dists = validate(make_release(tmp_path, name=project))
    uploader = Uploader(
        target, lambda: credential(token, "trusted-publishing"), client=https, jobs=2
    )

    report = uploader.upload(dists)

    assert report.ok, report.error and report.error.diagnostics()
    assert [r.status for r in report.results] == ["uploaded", "uploaded"]
    assert uploader.check_existing(dists) == {d.filename: "identical" for d in dists}


def test_identical_reupload_and_skip_existing(
    sandbox: Sandbox, https: httpx.Client, target: IndexTarget, tmp_path: Path
) -> None:
    project = unique_name()
    dists = validate(make_release(tmp_path, name=project))
    api = sandbox.api_token
    assert Uploader(target, lambda: credential(api, "token"), client=https).upload(dists).ok

    # PyPI answers 200 to an identical re-upload (Warehouse's duplicate rule: "200 OK with
    # nothing changed"), indistinguishable from a first upload; so trustpub looks first and
    # reports what happened without sending the files again (issue 16).
    before = uploads(sandbox)
    again = Uploader(
        target, lambda: credential(api, "token"), client=https, look_first=True
    ).upload(dists)
    assert again.ok
    assert [(r.status, r.message) for r in again.results] == [
        ("skipped", "already there, identical")
    ] * 2
    assert uploads(sandbox) == before  # nothing was posted

    skipping = Uploader(target, lambda: credential(api, "token"), client=https, skip_existing=True)
    report = skipping.upload(dists)
    assert report.ok
    assert [r.status for r in report.results] == ["skipped", "skipped"]
    assert uploads(sandbox) == before  # nothing was posted


def test_a_different_file_under_a_used_name_is_an_error_naming_it(
    sandbox: Sandbox, https: httpx.Client, target: IndexTarget, tmp_path: Path
) -> None:
    project = unique_name()
    api = sandbox.api_token
    first = validate([make_wheel(tmp_path / "a", name=project)])
    assert Uploader(target, lambda: credential(api, "token"), client=https).upload(first).ok
    rebuilt = validate([make_wheel(tmp_path / "b", name=project, description="# Changed\n")])

    report = Uploader(target, lambda: credential(api, "token"), client=https).upload(rebuilt)

    assert isinstance(report.error, UploadError)
    filename = rebuilt[0].filename
    assert report.error.message.startswith(
        f"{filename} already exists on {target.display} with different contents (sha256 "
        f"{first[0].sha256} there); the index said: 400 File already exists ('{filename}', "
    )
    assert report.error.anchor == "file-already-exists"


def test_token_of_another_project_is_explained(
    sandbox: Sandbox, https: httpx.Client, target: IndexTarget, tmp_path: Path
) -> None:
    other = unique_name()
    api = sandbox.api_token
    other_dists = validate(make_release(tmp_path / "other", name=other))
    assert Uploader(target, lambda: credential(api, "token"), client=https).upload(other_dists).ok
    token = trusted_token(sandbox, unique_name())

    report = Uploader(target, lambda: credential(token, "trusted-publishing"), client=https).upload(
        other_dists
    )

    assert [r.status for r in report.results] == ["failed", "not-attempted"]
    assert isinstance(report.error, UploadError)
    assert report.error.message.startswith(
        f"{target.display} refused {other_dists[0].filename}: 403 Invalid API Token: "
        "OIDC scoped token is not valid for project"
    )
    assert report.error.anchor == "token-not-valid-for-project"
    assert token not in report.error.diagnostics()
