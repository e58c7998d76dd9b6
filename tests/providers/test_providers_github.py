"""GitHub Actions: the exact token request and every failure's text."""

from __future__ import annotations

import httpx
import pytest
from pytest_httpx import HTTPXMock

from trustpub._secret import forget_all
from trustpub.errors import IdentityError
from trustpub.providers import TransientIdentityError, github

REQUEST_TOKEN = "github-request-token-canary-0123456789"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJweXBpIn0.c2lnbmF0dXJlLWNhbmFyeQ"
BASE = "https://pipelines.actions.example/abc/idtoken?api-version=2.0"


def _env(url: str = BASE) -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true",
        "ACTIONS_ID_TOKEN_REQUEST_URL": url,
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": REQUEST_TOKEN,
    }


@pytest.fixture(autouse=True)
def _clean() -> None:
    forget_all()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://x.example/t?api-version=2.0",
            "https://x.example/t?api-version=2.0&audience=pypi",
        ),
        ("https://x.example/t", "https://x.example/t?audience=pypi"),
        ("https://x.example/t?audience=other&a=1", "https://x.example/t?a=1&audience=pypi"),
        ("https://x.example/t?flag=&b=2", "https://x.example/t?flag=&b=2&audience=pypi"),
    ],
)
def test_audience_is_merged_into_the_query(url: str, expected: str) -> None:
    assert github.with_audience(url, "pypi") == expected


def test_audience_is_encoded() -> None:
    assert github.with_audience("https://x.example/t?v=1", "a b&c") == (
        "https://x.example/t?v=1&audience=a+b%26c"
    )


def test_fetch_sends_the_exact_request(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        method="GET",
        url="https://pipelines.actions.example/abc/idtoken?api-version=2.0&audience=testpypi",
        json={"count": 1, "value": JWT},
    )
    found = github.detect(_env())
    assert found is not None
    with httpx.Client() as client:
        token = found.fetch_token("testpypi", client=client)
    assert token.reveal() == JWT
    (request,) = httpx_mock.get_requests()
    assert request.headers["Authorization"] == f"bearer {REQUEST_TOKEN}"
    assert request.headers["Accept"] == "application/json"
    assert request.content == b""


def test_fetch_without_a_client_makes_and_closes_its_own(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json={"value": JWT})
    found = github.detect(_env())
    assert found is not None
    assert found.fetch_token("pypi").reveal() == JWT
    assert str(httpx_mock.get_requests()[0].url).endswith("&audience=pypi")


@pytest.mark.parametrize(
    ("status", "body", "kind", "message"),
    [
        (
            401,
            b'{"message":"Unauthorized"}',
            IdentityError,
            'GitHub\'s token service answered HTTP 401: {"message":"Unauthorized"}',
        ),
        (
            503,
            b"<html><body><h1>Service Unavailable</h1></body></html>",
            TransientIdentityError,
            "GitHub's token service answered HTTP 503: Service Unavailable",
        ),
        (
            429,
            b"",
            TransientIdentityError,
            "GitHub's token service answered HTTP 429: (empty body)",
        ),
    ],
)
def test_fetch_failures_name_the_status(
    httpx_mock: HTTPXMock, status: int, body: bytes, kind: type[Exception], message: str
) -> None:
    httpx_mock.add_response(status_code=status, content=body)
    found = github.detect(_env())
    assert found is not None
    with pytest.raises(IdentityError) as caught:
        found.fetch_token("pypi")
    assert type(caught.value) is kind
    assert caught.value.message == message
    assert caught.value.anchor == "github-token-request-failed"


def test_a_body_echoing_the_request_token_is_scrubbed(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(status_code=400, text=f"bad token {REQUEST_TOKEN}")
    found = github.detect(_env())
    assert found is not None
    with pytest.raises(IdentityError) as caught:
        found.fetch_token("pypi")
    assert REQUEST_TOKEN not in caught.value.diagnostics()
    assert caught.value.message == "GitHub's token service answered HTTP 400: bad token ***"


@pytest.mark.parametrize(
    "payload",
    [b"not json", b"[]", b'{"value": 5}', b'{"value": ""}', b'{"count": 1}'],
)
def test_fetch_without_a_value_is_a_clear_error(httpx_mock: HTTPXMock, payload: bytes) -> None:
    httpx_mock.add_response(content=payload)
    found = github.detect(_env())
    assert found is not None
    with pytest.raises(IdentityError) as caught:
        found.fetch_token("pypi")
    assert caught.value.message == (
        "GitHub's token service answered without a token (no string 'value' in its JSON)"
    )


def test_a_redirect_is_not_followed(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(status_code=302, headers={"Location": "https://evil.example/steal?x=1"})
    found = github.detect(_env())
    assert found is not None
    # Even a client configured to follow redirects does not follow this one.
    with httpx.Client(follow_redirects=True) as client, pytest.raises(IdentityError) as caught:
        found.fetch_token("pypi", client=client)
    assert caught.value.message == (
        "GitHub's token service answered HTTP 302 redirecting to evil.example; "
        "trustpub never follows redirects with credentials"
    )
    assert len(httpx_mock.get_requests()) == 1


def test_network_failure_is_transient(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_exception(httpx.ConnectError("connection refused"))
    found = github.detect(_env())
    assert found is not None
    with pytest.raises(TransientIdentityError) as caught:
        found.fetch_token("pypi")
    assert caught.value.message == (
        "could not connect while requesting a GitHub OIDC token "
        "(https://pipelines.actions.example/abc/idtoken): connection refused"
    )


@pytest.mark.parametrize(
    "url", ["http://pipelines.example/idtoken?x=1", "ftp://pipelines.example/", "https:///nohost"]
)
def test_the_request_token_only_goes_to_https(url: str) -> None:
    found = github.detect(_env(url))
    assert found is not None
    with pytest.raises(IdentityError) as caught:
        found.fetch_token("pypi")
    assert caught.value.message.startswith(
        "refusing to send a credential to GitHub's token service"
    )


def test_http_is_allowed_on_loopback(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url="http://127.0.0.1:8123/t?job=1&audience=pypi", json={"value": JWT})
    found = github.detect(_env("http://127.0.0.1:8123/t?job=1"))
    assert found is not None
    assert found.fetch_token("pypi").reveal() == JWT
