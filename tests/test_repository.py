"""Resolving --repository into an IndexTarget."""

from __future__ import annotations

import pytest

from trustpub.errors import ExitCode, UsageError
from trustpub.repository import PYPI, TESTPYPI, is_loopback_host, resolve_repository


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("pypi", PYPI),
        ("PyPI", PYPI),
        ("testpypi", TESTPYPI),
        ("https://upload.pypi.org/legacy/", PYPI),
        ("https://test.pypi.org/legacy/", TESTPYPI),
    ],
)
def test_known_indexes(value: str, expected: object) -> None:
    assert resolve_repository(value) == expected


def test_url_is_used_as_given() -> None:
    target = resolve_repository("https://Upload.Example.org:8443/simple-index/upload/")
    assert target.upload_url == "https://upload.example.org:8443/simple-index/upload/"
    assert target.index_url == "https://upload.example.org:8443"
    assert target.oidc_url("audience") == "https://upload.example.org:8443/_/oidc/audience"
    assert target.name is None
    assert target.display == target.upload_url


def test_legacy_gets_its_trailing_slash_and_root_stays_root() -> None:
    assert (
        resolve_repository("https://example.org/legacy").upload_url == "https://example.org/legacy/"
    )
    assert resolve_repository("http://127.0.0.1:8080").upload_url == "http://127.0.0.1:8080/"


def test_project_pages_use_the_normalized_name() -> None:
    assert PYPI.project_simple_url("Example_Pkg.Two") == "https://pypi.org/simple/example-pkg-two/"


def test_unknown_name() -> None:
    with pytest.raises(UsageError) as caught:
        resolve_repository("pypy")
    assert caught.value.message == "unknown repository 'pypy'"
    assert "testpypi" in caught.value.hint
    assert caught.value.exit_code == ExitCode.USAGE


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ftp://example.org/legacy/", "invalid repository URL 'ftp://example.org/legacy/'"),
        ("https:///legacy/", "invalid repository URL 'https:///legacy/'"),
        ("http://example.org/legacy/", "refusing plain http for example.org"),
        (
            "https://user:pw@example.org/legacy/",
            "the repository URL must not contain a user name or password",
        ),
    ],
)
def test_bad_urls(value: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        resolve_repository(value)
    assert caught.value.message == message
    assert "pw" not in caught.value.diagnostics().replace("password", "")
    assert caught.value.anchor == "invalid-repository-url"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("10.0.0.1", False),
        ("example.org", False),
    ],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback
