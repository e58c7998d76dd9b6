"""The orchestration's own decisions, without a server: credentials, declared publisher, URLs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fixtures_dists import make_release
from trustpub._secret import Secret, forget_all
from trustpub.errors import IdentityError, UsageError
from trustpub.oidc.publishers import Provider
from trustpub.publish import (
    Publication,
    PublishRequest,
    declared_publisher,
    project_urls,
)
from trustpub.repository import resolve_repository
from trustpub.upload.validate import validate

TOKEN = "pypi-CoreTestTokenThatIsLongEnough0123456789"


class Warnings:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def debug(self, message: str) -> None:
        pass

    def info(self, message: str) -> None:
        pass

    def warning(self, message: str) -> None:
        self.lines.append(message)

    def file_started(self, filename: str, size: int) -> None:
        pass

    def file_progress(self, filename: str, sent: int) -> None:
        pass

    def file_finished(self, filename: str, status: str) -> None:
        pass


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    forget_all()
    with httpx.Client() as made:
        yield made
    forget_all()


@pytest.fixture
def dist(tmp_path: Path) -> str:
    make_release(tmp_path / "dist", "core-pkg", "1.0.0")
    return str(tmp_path / "dist" / "*")


def test_keyring_token_is_used_and_masked(dist: str, client: httpx.Client) -> None:
    masked: list[Secret] = []
    asked: list[tuple[str, str]] = []

    def keyring(service: str, username: str) -> str | None:
        asked.append((service, username))
        return TOKEN

    run = Publication(
        PublishRequest(paths=(dist,), repository="testpypi", mode="never"),
        env={},
        client=client,
        on_secret=masked.append,
        keyring=keyring,
    )
    run.prepare()
    credential = run.api_credential()
    assert asked == [("https://test.pypi.org/legacy/", "__token__")]
    assert credential.source == "keyring"
    assert credential.username == "__token__"
    assert credential.password.reveal() == TOKEN
    assert [secret.reveal() for secret in masked] == [TOKEN]


def test_token_wins_over_keyring(dist: str, client: httpx.Client) -> None:
    def keyring(service: str, username: str) -> str | None:
        raise AssertionError("the keyring must not be asked when --token is given")

    run = Publication(
        PublishRequest(paths=(dist,), mode="never", token=Secret(TOKEN)),
        env={},
        client=client,
        keyring=keyring,
    )
    run.prepare()
    assert run.api_credential().source == "token"


def test_broken_keyring_warns_and_explains(dist: str, client: httpx.Client) -> None:
    def keyring(service: str, username: str) -> str | None:
        raise RuntimeError("dbus is not running")

    reporter = Warnings()
    run = Publication(
        PublishRequest(paths=(dist,), mode="never"),
        env={},
        client=client,
        reporter=reporter,
        keyring=keyring,
    )
    run.prepare()
    with pytest.raises(IdentityError, match="no API token for --trusted-publishing never"):
        run.api_credential()
    assert reporter.lines == [
        "the keyring could not be read (RuntimeError); pass --no-keyring to skip it"
    ]


def test_auto_with_a_token_skips_detection(dist: str, client: httpx.Client) -> None:
    def detect(*args: object, **kwargs: object) -> None:
        raise AssertionError("no detection when a token was given in auto mode")

    run = Publication(
        PublishRequest(paths=(dist,), token=Secret(TOKEN)),
        env={"GITHUB_ACTIONS": "true"},
        client=client,
        detect=detect,
    )
    assert run.detect() is None


def test_always_with_token_is_refused(client: httpx.Client) -> None:
    with pytest.raises(UsageError, match="--token cannot be combined"):
        Publication(PublishRequest(mode="always", token=Secret(TOKEN)), env={}, client=client)


def test_declared_publisher_with_expect_overrides(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        "[tool.trustpub.publisher]\n"
        'provider = "github"\n'
        'repository = "octo/pkg"\n'
        'workflow = "release.yml"\n'
        'environment = "pypi"\n',
        encoding="utf-8",
    )
    declared = declared_publisher(PublishRequest(pyproject=pyproject), "github")
    assert declared is not None
    assert declared.environment == "pypi"
    merged = declared_publisher(
        PublishRequest(pyproject=pyproject, expect=("environment=release",)), "github"
    )
    assert merged is not None
    assert merged.provider is Provider.GITHUB
    assert (merged.repository, merged.workflow, merged.environment) == (
        "octo/pkg",
        "release.yml",
        "release",
    )
    assert declared_publisher(PublishRequest(pyproject=tmp_path / "missing.toml"), None) is None


def test_project_urls(tmp_path: Path) -> None:
    target = resolve_repository("testpypi")
    one = validate(make_release(tmp_path / "a", "My_Pkg", "2.0"))
    assert project_urls(target, one) == (
        "https://test.pypi.org/project/my-pkg/",
        "https://test.pypi.org/project/my-pkg/2.0/",
    )
