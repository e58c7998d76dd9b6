"""TrustedPublisher against a mocked index: exact requests, local checks, retries, refresh, burn."""

from __future__ import annotations

import base64
import itertools
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from trustpub._secret import Secret, forget_all, scrub
from trustpub.errors import ExchangeError, IdentityError, NetworkError
from trustpub.exchange import (
    AudienceError,
    MintError,
    MintRefused,
    TrustedPublisher,
    UploadCredential,
)
from trustpub.oidc import validity
from trustpub.oidc.diagnostics import explain_mint_error
from trustpub.providers import Detection, TransientIdentityError
from trustpub.repository import PYPI, TESTPYPI, IndexTarget, resolve_repository

NOW = 1_800_000_000.0
INDEX = resolve_repository("https://index.example/legacy/")
AUDIENCE_URL = "https://index.example/_/oidc/audience"
MINT_URL = "https://index.example/_/oidc/mint-token"
BURN_URL = "https://index.example/_/oidc/burn-token"
API_TOKEN = "pypi-AgEIcHlwaS5vcmcCJGNhbmFyeS11cGxvYWQtdG9rZW4tMDEyMzQ1Njc4OQ"
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def make_jwt(**claims: Any) -> str:
    return _b64({"alg": "RS256", "kid": "k"}) + "." + _b64(claims) + ".c2lnbmF0dXJlLWNhbmFyeQ"


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Recorder:
    """A Reporter that keeps every line."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def debug(self, message: str) -> None:
        self.lines.append(("debug", message))

    def info(self, message: str) -> None:
        self.lines.append(("info", message))

    def warning(self, message: str) -> None:
        self.lines.append(("warning", message))

    def file_started(self, filename: str, size: int) -> None:
        pass

    def file_progress(self, filename: str, sent: int) -> None:
        pass

    def file_finished(self, filename: str, status: str) -> None:
        pass

    def of(self, level: str) -> list[str]:
        return [text for kind, text in self.lines if kind == level]


class Source:
    """A fake identity: a fresh JWT (new jti) per fetch, with overridable claims."""

    def __init__(self, clock: Clock, *, provider: str = "github", static: bool = False) -> None:
        self.clock = clock
        self.provider = provider
        self.static = static
        self.counter = itertools.count(1)
        self.overrides: dict[str, Any] = {}
        self.issued: list[str] = []
        self.failures: list[Exception] = []
        self._static_token: str | None = None

    def token(self, audience: str) -> str:
        now = int(self.clock())
        claims = {
            "iss": GITHUB_ISSUER,
            "aud": audience,
            "iat": now,
            "nbf": now - 600,
            "exp": now + 300,
            "jti": f"jti-{next(self.counter)}",
            "repository": "octo/pkg",
        }
        claims.update(self.overrides)
        return make_jwt(**{k: v for k, v in claims.items() if v is not None})

    def fetch(self, audience: str, client: httpx.Client | None) -> Secret:
        if self.failures:
            raise self.failures.pop(0)
        if self.static:
            if self._static_token is None:
                self._static_token = self.token(audience)
            value = self._static_token
        else:
            value = self.token(audience)
        self.issued.append(value)
        return Secret(value)

    def detection(self) -> Detection:
        return Detection(
            provider=self.provider,
            description="test identity",
            fetcher=self.fetch,
            static_token=self.static,
        )


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    forget_all()
    yield
    forget_all()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def source(clock: Clock) -> Source:
    return Source(clock)


@pytest.fixture
def reporter() -> Recorder:
    return Recorder()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(follow_redirects=False) as http:
        yield http


@pytest.fixture
def sleeps() -> list[float]:
    return []


def publisher(
    source: Source,
    client: httpx.Client,
    clock: Clock,
    reporter: Recorder,
    sleeps: list[float],
    *,
    target: IndexTarget = INDEX,
    **kwargs: Any,
) -> TrustedPublisher:
    return TrustedPublisher(
        target,
        source.detection(),
        client=client,
        reporter=reporter,
        clock=clock,
        sleep=sleeps.append,
        **kwargs,
    )


@pytest.fixture
def tp(
    source: Source, client: httpx.Client, clock: Clock, reporter: Recorder, sleeps: list[float]
) -> TrustedPublisher:
    return publisher(source, client, clock, reporter, sleeps)


def audience_ok(
    httpx_mock: HTTPXMock, audience: str = "index-aud", url: str = AUDIENCE_URL
) -> None:
    httpx_mock.add_response(method="GET", url=url, json={"audience": audience})


def mint_ok(
    httpx_mock: HTTPXMock,
    *,
    expires: float = NOW + 900,
    token: str = API_TOKEN,
    url: str = MINT_URL,
) -> None:
    httpx_mock.add_response(
        method="POST", url=url, json={"success": True, "token": token, "expires": int(expires)}
    )


# ---------------------------------------------------------------------- audience


def test_audience_is_fetched_once_with_the_exact_request(
    tp: TrustedPublisher, httpx_mock: HTTPXMock
) -> None:
    audience_ok(httpx_mock)
    assert tp.audience() == "index-aud"
    assert tp.audience() == "index-aud"
    (request,) = httpx_mock.get_requests()
    assert request.method == "GET"
    assert str(request.url) == AUDIENCE_URL
    assert request.headers["Accept"] == "application/json"
    assert "Authorization" not in request.headers


@pytest.mark.parametrize("audience", ["pypi", "testpypi"])
def test_the_audience_guard_refuses_reserved_audiences_elsewhere(
    tp: TrustedPublisher, httpx_mock: HTTPXMock, audience: str
) -> None:
    audience_ok(httpx_mock, audience)
    with pytest.raises(AudienceError) as caught:
        tp.audience()
    owner = "pypi.org" if audience == "pypi" else "test.pypi.org"
    assert caught.value.message == (
        f"refusing to request an OIDC token for audience {audience!r} for index.example: "
        f"that audience belongs to {owner}"
    )
    assert caught.value.anchor == "audience-guard"


def test_the_audience_guard_refuses_testpypi_on_pypi(
    source: Source,
    client: httpx.Client,
    clock: Clock,
    reporter: Recorder,
    sleeps: list[float],
    httpx_mock: HTTPXMock,
) -> None:
    audience_ok(httpx_mock, "testpypi", url="https://pypi.org/_/oidc/audience")
    tp = publisher(source, client, clock, reporter, sleeps, target=PYPI)
    with pytest.raises(AudienceError) as caught:
        tp.audience()
    assert "that audience belongs to test.pypi.org" in caught.value.message


@pytest.mark.parametrize(("target", "audience"), [(PYPI, "pypi"), (TESTPYPI, "testpypi")])
def test_pypi_and_testpypi_get_their_own_audience(
    source: Source,
    client: httpx.Client,
    clock: Clock,
    reporter: Recorder,
    sleeps: list[float],
    httpx_mock: HTTPXMock,
    target: IndexTarget,
    audience: str,
) -> None:
    audience_ok(httpx_mock, audience, url=target.oidc_url("audience"))
    tp = publisher(source, client, clock, reporter, sleeps, target=target)
    assert tp.audience() == audience


def test_plain_http_is_refused_except_on_loopback(
    source: Source, client: httpx.Client, clock: Clock, reporter: Recorder, sleeps: list[float]
) -> None:
    insecure = IndexTarget(
        upload_url="http://index.example/legacy/", index_url="http://index.example"
    )
    with pytest.raises(ExchangeError) as caught:
        publisher(source, client, clock, reporter, sleeps, target=insecure)
    assert caught.value.message == "refusing trusted publishing over http to index.example"
    local = resolve_repository("http://127.0.0.1:8080/legacy/")
    publisher(source, client, clock, reporter, sleeps, target=local)


@pytest.mark.parametrize(
    ("status", "body", "message", "anchor"),
    [
        (
            403,
            b'{"message":"Trusted publishing functionality not enabled"}',
            "https://index.example/legacy/ has trusted publishing disabled "
            "(HTTP 403 from /_/oidc/audience)",
            "not-enabled",
        ),
        (
            404,
            b"<html><h1>Not Found</h1></html>",
            "https://index.example/legacy/ does not support trusted publishing "
            "(HTTP 404 from /_/oidc/audience)",
            "no-trusted-publishing",
        ),
        (
            200,
            b"<html>simple index</html>",
            "https://index.example/legacy/ answered /_/oidc/audience with HTTP 200 and an HTML page",
            "unexpected-audience-response",
        ),
        (
            200,
            b'{"message": "hello"}',
            "https://index.example/legacy/ answered /_/oidc/audience with HTTP 200 and JSON "
            "without an audience",
            "unexpected-audience-response",
        ),
        (
            401,
            b"",
            "https://index.example/legacy/ answered /_/oidc/audience with HTTP 401 and a "
            "non-JSON body",
            "unexpected-audience-response",
        ),
    ],
)
def test_audience_failures_are_explained(
    tp: TrustedPublisher,
    httpx_mock: HTTPXMock,
    status: int,
    body: bytes,
    message: str,
    anchor: str,
) -> None:
    httpx_mock.add_response(url=AUDIENCE_URL, status_code=status, content=body)
    with pytest.raises(AudienceError) as caught:
        tp.audience()
    assert caught.value.message == message
    assert caught.value.anchor == anchor
    assert caught.value.status == status
    assert len(httpx_mock.get_requests()) == 1


def test_audience_retries_server_errors_then_gives_up(
    tp: TrustedPublisher, httpx_mock: HTTPXMock, sleeps: list[float]
) -> None:
    for _ in range(5):
        httpx_mock.add_response(url=AUDIENCE_URL, status_code=502, text="Bad Gateway")
    with pytest.raises(NetworkError) as caught:
        tp.audience()
    assert caught.value.message == (
        f"the index answered HTTP 502 while fetching the OIDC audience ({AUDIENCE_URL}): "
        "Bad Gateway"
    )
    assert len(httpx_mock.get_requests()) == 5
    assert len(sleeps) == 4


def test_audience_retries_network_errors(
    tp: TrustedPublisher, httpx_mock: HTTPXMock, sleeps: list[float]
) -> None:
    httpx_mock.add_exception(httpx.ConnectError("refused"), url=AUDIENCE_URL)
    audience_ok(httpx_mock)
    assert tp.audience() == "index-aud"
    assert len(sleeps) == 1


def test_audience_redirect_is_not_followed(tp: TrustedPublisher, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=AUDIENCE_URL, status_code=301, headers={"Location": "https://elsewhere.example/x"}
    )
    with pytest.raises(ExchangeError) as caught:
        tp.audience()
    assert caught.value.message == (
        f"{AUDIENCE_URL} answered HTTP 301 redirecting to elsewhere.example; "
        "trustpub never follows redirects with credentials"
    )


# ---------------------------------------------------------------------- mint


def test_mint_sends_the_exact_request(
    tp: TrustedPublisher, source: Source, httpx_mock: HTTPXMock, reporter: Recorder
) -> None:
    audience_ok(httpx_mock)
    mint_ok(httpx_mock)
    credential = tp.credential()
    assert credential == UploadCredential(
        username="__token__",
        password=Secret(API_TOKEN),
        source="trusted-publishing",
        expires_at=NOW + 900,
    )
    assert tp.minted_count == 1
    _, mint = httpx_mock.get_requests()
    assert mint.method == "POST"
    assert str(mint.url) == MINT_URL
    assert json.loads(mint.content) == {"token": source.issued[0]}
    assert mint.headers["Content-Type"] == "application/json"
    assert "Authorization" not in mint.headers
    assert reporter.of("info") == [
        "minted an upload token for https://index.example/legacy/, valid 900 s"
    ]
    # The minted token is a registered secret from the moment it was parsed.
    assert scrub(API_TOKEN) == "***"


def test_the_credential_is_reused_until_refresh(
    tp: TrustedPublisher, httpx_mock: HTTPXMock, clock: Clock
) -> None:
    audience_ok(httpx_mock)
    mint_ok(httpx_mock)
    first = tp.credential()
    clock.now = NOW + 599
    assert tp.credential() is first
    assert tp.minted_count == 1


def test_remint_when_under_five_minutes_remain(
    tp: TrustedPublisher, source: Source, httpx_mock: HTTPXMock, clock: Clock, reporter: Recorder
) -> None:
    audience_ok(httpx_mock)
    mint_ok(httpx_mock)
    mint_ok(httpx_mock, expires=NOW + 601 + 900, token=API_TOKEN + "second")
    tp.credential()
    clock.now = NOW + 601
    second = tp.credential()
    assert second.password.reveal() == API_TOKEN + "second"
    assert tp.minted_count == 2
    assert len(source.issued) == 2
    assert source.issued[0] != source.issued[1]
    assert reporter.of("info")[-1] == (
        "re-minted an upload token for https://index.example/legacy/, valid 900 s"
    )


def test_short_lived_tokens_are_reminted_at_half_life(
    tp: TrustedPublisher, httpx_mock: HTTPXMock, clock: Clock
) -> None:
    audience_ok(httpx_mock)
    mint_ok(httpx_mock, expires=NOW + 200)
    mint_ok(httpx_mock, expires=NOW + 300)
    tp.credential()
    clock.now = NOW + 99
    tp.credential()
    assert tp.minted_count == 1
    clock.now = NOW + 100
    tp.credential()
    assert tp.minted_count == 2


def test_missing_expires_means_pypi_default_lifetime(
    tp: TrustedPublisher, httpx_mock: HTTPXMock
) -> None:
    audience_ok(httpx_mock)
    httpx_mock.add_response(url=MINT_URL, json={"success": True, "token": API_TOKEN})
    assert tp.credential().expires_at == NOW + 900


def test_concurrent_threads_share_one_mint(tp: TrustedPublisher, httpx_mock: HTTPXMock) -> None:
    audience_ok(httpx_mock)
    mint_ok(httpx_mock)
    results: list[UploadCredential] = []
    threads = [threading.Thread(target=lambda: results.append(tp.credential())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert all(result is results[0] for result in results)
    assert tp.minted_count == 1


def test_the_checked_oidc_token_is_the_one_minted_with_and_secrets_are_handed_over_first(
    httpx_mock: HTTPXMock, source: Source, client: httpx.Client, reporter: Recorder
) -> None:
    """publish.py checks the token from oidc_token() before minting; the mint must send that
    very token (one fetch), and each secret reaches on_secret before any line mentions it."""
    audience_ok(httpx_mock)
    mint_ok(httpx_mock)
    events: list[str] = []
    secrets: list[Secret] = []

    def on_secret(secret: Secret) -> None:
        secrets.append(secret)
        events.append(f"secret {len(secrets)}")

    class Ordered(Recorder):
        def info(self, message: str) -> None:
            events.append(f"info {message.split(' ')[0]}")
            super().info(message)

    tp = TrustedPublisher(
        INDEX,
        source.detection(),
        client=client,
        reporter=Ordered(),
        on_secret=on_secret,
        clock=source.clock,
    )
    token, decoded = tp.oidc_token()
    assert decoded.claims["repository"] == "octo/pkg"
    assert secrets == [token]
    credential = tp.credential()
    (mint,) = [r for r in httpx_mock.get_requests() if str(r.url) == MINT_URL]
    assert json.loads(mint.content) == {"token": token.reveal()}
    assert len(source.issued) == 1
    assert secrets == [token, credential.password]
    assert events == ["secret 1", "secret 2", "info minted"]


def test_oidc_token_retries_a_passing_token_endpoint_failure(
    tp: TrustedPublisher, source: Source, httpx_mock: HTTPXMock, sleeps: list[float]
) -> None:
    audience_ok(httpx_mock)
    source.failures.append(TransientIdentityError("token endpoint answered 503"))
    _token, decoded = tp.oidc_token()
    assert decoded.claims["repository"] == "octo/pkg"
    assert len(sleeps) == 1
    assert len(source.issued) == 1


def test_mint_retries_with_a_fresh_oidc_token_each_attempt(
    tp: TrustedPublisher, source: Source, httpx_mock: HTTPXMock, sleeps: list[float]
) -> None:
    audience_ok(httpx_mock)
    httpx_mock.add_response(url=MINT_URL, status_code=500, text="Internal Server Error")
    httpx_mock.add_exception(httpx.ReadTimeout("slow"), url=MINT_URL)
    httpx_mock.add_response(url=MINT_URL, status_code=429, headers={"Retry-After": "7"})
    mint_ok(httpx_mock)
    tp.credential()
    mints = [r for r in httpx_mock.get_requests() if r.method == "POST"]
    sent = [json.loads(r.content)["token"] for r in mints]
    assert len(sent) == 4
    assert len(set(sent)) == 4
    assert sent == source.issued
    assert len(sleeps) == 3
    assert sleeps[2] >= 7


def test_mint_gives_up_after_the_retries(
    source: Source,
    client: httpx.Client,
    clock: Clock,
    reporter: Recorder,
    sleeps: list[float],
    httpx_mock: HTTPXMock,
) -> None:
    tp = publisher(source, client, clock, reporter, sleeps, retries=2)
    audience_ok(httpx_mock)
    for _ in range(3):
        httpx_mock.add_response(url=MINT_URL, status_code=503, text="<h1>Service Unavailable</h1>")
    with pytest.raises(NetworkError) as caught:
        tp.credential()
    assert caught.value.message == (
        "the index answered mint-token with HTTP 503: Service Unavailable"
    )
    assert len(sleeps) == 2


def test_transient_identity_failures_are_retried(
    tp: TrustedPublisher, source: Source, httpx_mock: HTTPXMock, sleeps: list[float]
) -> None:
    source.failures.append(TransientIdentityError("token service hiccup"))
    audience_ok(httpx_mock)
    mint_ok(httpx_mock)
    tp.credential()
    assert len(sleeps) == 1


def test_permanent_identity_failures_are_not_retried(
    tp: TrustedPublisher, source: Source, httpx_mock: HTTPXMock, sleeps: list[float]
) -> None:
    source.failures.append(IdentityError("no id token"))
    audience_ok(httpx_mock)
    with pytest.raises(IdentityError, match="no id token"):
        tp.credential()
    assert sleeps == []


REFUSAL = {
    "message": "Token request failed",
    "errors": [
        {
            "code": "invalid-publisher",
            "description": "valid token, but no corresponding publisher (Publisher with matching "
            "claims was not found)",
        }
    ],
}


@pytest.mark.parametrize("status", [422, 400, 401, 403, 404])
def test_client_errors_are_never_retried(
    tp: TrustedPublisher, httpx_mock: HTTPXMock, sleeps: list[float], status: int
) -> None:
    audience_ok(httpx_mock)
    httpx_mock.add_response(url=MINT_URL, status_code=status, json=REFUSAL)
    with pytest.raises(MintRefused) as caught:
        tp.credential()
    assert sleeps == []
    assert len([r for r in httpx_mock.get_requests() if r.method == "POST"]) == 1
    assert caught.value.status == status


def test_a_refusal_carries_the_errors_and_the_claims(
    tp: TrustedPublisher, httpx_mock: HTTPXMock, source: Source
) -> None:
    audience_ok(httpx_mock)
    httpx_mock.add_response(url=MINT_URL, status_code=422, json=REFUSAL)
    with pytest.raises(MintRefused) as caught:
        tp.credential()
    error = caught.value
    assert error.errors == (
        MintError(
            code="invalid-publisher",
            description="valid token, but no corresponding publisher (Publisher with matching "
            "claims was not found)",
        ),
    )
    assert error.token_claims is not None
    assert error.token_claims.claims["repository"] == "octo/pkg"
    assert error.token_claims.jti == "jti-1"
    assert isinstance(error, ExchangeError)
    assert error.message == (
        "https://index.example/legacy/ has no trusted publisher matching this GitHub token "
        "(Publisher with matching claims was not found)"
    )
    expected = explain_mint_error(
        "invalid-publisher",
        REFUSAL["errors"][0]["description"],  # type: ignore[index]
        token=error.token_claims,
        provider="github",
        declared=None,
        target_display=INDEX.display,
        audience="index-aud",
        now=NOW,
    )
    assert (error.message, error.hint, error.details, error.anchor) == (
        expected.message,
        expected.hint,
        expected.details,
        expected.anchor,
    )
    assert "invalid-publisher" in error.diagnostics()
    assert source.issued[0] not in error.diagnostics()


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (
            b'{"message": "Token request failed"}',
            "application/json",
            "https://index.example/legacy/ refused to mint an upload token (HTTP 422) without "
            "saying why",
        ),
        (
            b'{"errors": [{"code": 5}]}',
            "application/json",
            "https://index.example/legacy/ refused to mint an upload token (HTTP 422) without "
            "saying why",
        ),
        (
            b"<html><body>Unprocessable</body></html>",
            "text/html",
            "https://index.example/legacy/ refused to mint an upload token (HTTP 422) without "
            "saying why",
        ),
        (
            b"",
            "text/plain",
            "https://index.example/legacy/ refused to mint an upload token (HTTP 422) without "
            "saying why",
        ),
    ],
)
def test_malformed_refusals_are_clear_errors(
    tp: TrustedPublisher, httpx_mock: HTTPXMock, body: bytes, content_type: str, message: str
) -> None:
    audience_ok(httpx_mock)
    httpx_mock.add_response(
        url=MINT_URL, status_code=422, content=body, headers={"Content-Type": content_type}
    )
    with pytest.raises(MintRefused) as caught:
        tp.credential()
    assert caught.value.message == message
    assert caught.value.errors == ()
    assert caught.value.details[0].startswith("response: ")


def test_a_body_echoing_the_oidc_token_is_scrubbed(
    tp: TrustedPublisher, httpx_mock: HTTPXMock, source: Source
) -> None:
    audience_ok(httpx_mock)

    def echo(request: httpx.Request) -> httpx.Response:
        sent = json.loads(request.content)["token"]
        return httpx.Response(422, text=f"<html>bad token: {sent}</html>")

    httpx_mock.add_callback(echo, url=MINT_URL)
    with pytest.raises(MintRefused) as caught:
        tp.credential()
    text = caught.value.diagnostics()
    token = source.issued[0]
    assert token not in text
    for part in token.split("."):
        assert part not in text
    assert "bad token: ***" in text


@pytest.mark.parametrize(
    "payload",
    [
        {"success": True},
        {"success": True, "token": ""},
        {"success": True, "token": API_TOKEN, "expires": "soon"},
        {"success": False, "token": API_TOKEN},
        ["not", "an", "object"],
    ],
)
def test_malformed_success_is_an_error_that_hides_the_token(
    tp: TrustedPublisher, httpx_mock: HTTPXMock, payload: Any
) -> None:
    audience_ok(httpx_mock)
    httpx_mock.add_response(url=MINT_URL, json=payload)
    with pytest.raises(ExchangeError) as caught:
        tp.credential()
    assert caught.value.message.startswith(
        "the index answered mint-token with HTTP 200 but no usable token: "
    )
    assert API_TOKEN not in caught.value.diagnostics()


def test_mint_redirect_names_the_location_host(
    source: Source, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    audience_ok(httpx_mock)
    httpx_mock.add_response(
        url=MINT_URL, status_code=307, headers={"Location": "https://harvest.example/mint"}
    )
    # Even a client configured to follow redirects does not follow this one.
    with httpx.Client(follow_redirects=True) as following, pytest.raises(ExchangeError) as caught:
        TrustedPublisher(INDEX, source.detection(), client=following, clock=clock).credential()
    assert caught.value.message == (
        f"{MINT_URL} answered HTTP 307 redirecting to harvest.example; "
        "trustpub never follows redirects with credentials"
    )
    assert len(httpx_mock.get_requests()) == 2


# ---------------------------------------------------------------------- local token checks


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"aud": "pypi"},
            "the OIDC token is for audience 'pypi', but https://index.example/legacy/ expects "
            "'index-aud'",
        ),
        (
            {"aud": ["index-aud", "other"]},
            "the OIDC token has 2 audiences (index-aud, other); PyPI accepts only a token "
            "with one audience",
        ),
        ({"aud": None}, "the OIDC token has no audience (aud claim)"),
        (
            {"exp": int(NOW) - 31},
            "the OIDC token expired at 2027-01-15 07:59:29 UTC (31 s ago)",
        ),
        (
            {"nbf": int(NOW) + 31},
            "the OIDC token is not valid before 2027-01-15 08:00:31 UTC (nbf is 31 s in the "
            "future)",
        ),
        ({"exp": None}, "the OIDC token has no expiry (exp claim), which PyPI requires"),
        ({"iss": None}, "the OIDC token has no issuer (iss claim)"),
        ({"iat": None}, "the OIDC token has no issue time (iat claim), which PyPI requires"),
    ],
)
def test_bad_tokens_are_refused_before_they_are_sent(
    tp: TrustedPublisher,
    httpx_mock: HTTPXMock,
    source: Source,
    overrides: dict[str, Any],
    message: str,
) -> None:
    source.overrides = overrides
    audience_ok(httpx_mock)
    with pytest.raises(IdentityError) as caught:
        tp.credential()
    assert caught.value.message == message
    assert [r.method for r in httpx_mock.get_requests()] == ["GET"]


def test_leeway_of_thirty_seconds(
    tp: TrustedPublisher, httpx_mock: HTTPXMock, source: Source
) -> None:
    # PyPI (PyJWT, leeway 30) accepts iat/nbf up to now + 30 and exp while exp > now - 30;
    # the client keeps SEND_MARGIN (5 s) of that window for the mint request's transit.
    late = int(NOW) - validity.LEEWAY + validity.SEND_MARGIN + 1
    source.overrides = {"exp": late, "nbf": int(NOW) + 30, "iat": int(NOW) + 30}
    audience_ok(httpx_mock)
    mint_ok(httpx_mock)
    tp.credential()


def test_a_token_pypi_accepts_for_less_than_the_send_margin_is_not_sent(
    tp: TrustedPublisher, httpx_mock: HTTPXMock, source: Source
) -> None:
    # exp = now - 25: PyPI would still accept it for 5 s, no more than the 5 s the client keeps.
    source.overrides = {"exp": int(NOW) - validity.LEEWAY + validity.SEND_MARGIN}
    audience_ok(httpx_mock)
    with pytest.raises(IdentityError) as caught:
        tp.credential()
    assert caught.value.message == "the OIDC token expired at 2027-01-15 07:59:35 UTC (25 s ago)"
    assert [r.method for r in httpx_mock.get_requests()] == ["GET"]


def test_pypi_requires_the_providers_canonical_issuer(
    source: Source,
    client: httpx.Client,
    clock: Clock,
    reporter: Recorder,
    sleeps: list[float],
    httpx_mock: HTTPXMock,
) -> None:
    # PyPI (Warehouse 6b62157, oidc/services.py find_publisher): 422 "valid token, but no
    # corresponding publisher (JWT issuer '...' does not match expected issuer '...')", even
    # for an issuer an organization registered: only GitLab publishers support custom issuers.
    source.overrides = {"iss": "https://ghes.example/_services/token"}
    audience_ok(httpx_mock, "pypi", url="https://pypi.org/_/oidc/audience")
    tp = publisher(source, client, clock, reporter, sleeps, target=PYPI)
    with pytest.raises(IdentityError) as caught:
        tp.credential()
    assert caught.value.message == (
        "the OIDC token's issuer is https://ghes.example/_services/token, but pypi accepts "
        "github tokens only from https://token.actions.githubusercontent.com"
    )


def test_self_managed_gitlab_on_pypi_is_only_a_warning(
    clock: Clock,
    client: httpx.Client,
    reporter: Recorder,
    sleeps: list[float],
    httpx_mock: HTTPXMock,
) -> None:
    source = Source(clock, provider="gitlab")
    source.overrides = {"iss": "https://gitlab.example.org"}
    audience_ok(httpx_mock, "pypi", url="https://pypi.org/_/oidc/audience")
    mint_ok(httpx_mock, url="https://pypi.org/_/oidc/mint-token")
    tp = publisher(source, client, clock, reporter, sleeps, target=PYPI)
    tp.credential()
    (warning,) = reporter.of("warning")
    assert warning.startswith("the GitLab token's issuer is https://gitlab.example.org")


def test_other_indexes_accept_any_issuer(
    tp: TrustedPublisher, httpx_mock: HTTPXMock, source: Source
) -> None:
    source.overrides = {"iss": "https://127.0.0.1:8443/_sandbox/github"}
    audience_ok(httpx_mock)
    mint_ok(httpx_mock)
    tp.credential()


# ---------------------------------------------------------------------- static tokens


def test_a_static_token_is_never_exchanged_twice(
    clock: Clock,
    client: httpx.Client,
    reporter: Recorder,
    sleeps: list[float],
    httpx_mock: HTTPXMock,
) -> None:
    source = Source(clock, provider="gitlab", static=True)
    source.overrides = {"exp": int(NOW) + 3600}
    tp = publisher(source, client, clock, reporter, sleeps)
    audience_ok(httpx_mock)
    mint_ok(httpx_mock)
    first = tp.credential()
    clock.now = NOW + 700  # re-mint is due, but the job's only token was used already
    assert tp.credential() is first
    (warning,) = reporter.of("warning")
    assert warning.startswith(
        "could not mint a fresh upload token (the gitlab OIDC token was already exchanged once "
        "in this run; it cannot be exchanged again); continuing with the current one, valid 200 s"
    )
    clock.now = NOW + 901
    with pytest.raises(ExchangeError, match="already exchanged once"):
        tp.credential()
    assert len([r for r in httpx_mock.get_requests() if r.method == "POST"]) == 1


def test_a_failed_remint_keeps_the_valid_token(
    tp: TrustedPublisher, httpx_mock: HTTPXMock, clock: Clock, reporter: Recorder
) -> None:
    audience_ok(httpx_mock)
    mint_ok(httpx_mock)
    httpx_mock.add_response(url=MINT_URL, status_code=422, json=REFUSAL)
    first = tp.credential()
    clock.now = NOW + 650
    assert tp.credential() is first
    assert reporter.of("warning")[0].startswith("could not mint a fresh upload token")
    assert tp.minted_count == 1


# ---------------------------------------------------------------------- burn


def test_burn_revokes_every_minted_token(
    tp: TrustedPublisher, httpx_mock: HTTPXMock, clock: Clock, reporter: Recorder
) -> None:
    audience_ok(httpx_mock)
    mint_ok(httpx_mock)
    mint_ok(httpx_mock, expires=NOW + 1800, token=API_TOKEN + "two")
    tp.credential()
    clock.now = NOW + 650
    tp.credential()
    httpx_mock.add_response(method="POST", url=BURN_URL, json={"success": True})
    httpx_mock.add_response(method="POST", url=BURN_URL, status_code=202)
    tp.burn()
    burns = [r for r in httpx_mock.get_requests() if str(r.url) == BURN_URL]
    assert [r.headers["Authorization"] for r in burns] == [
        f"token {API_TOKEN}",
        f"token {API_TOKEN}two",
    ]
    assert [json.loads(r.content) for r in burns] == [
        {"token": API_TOKEN},
        {"token": API_TOKEN + "two"},
    ]
    assert reporter.of("warning") == []
    assert reporter.of("debug")[-1] == "revoked the upload token"
    tp.burn()  # nothing left to burn: no request
    assert len([r for r in httpx_mock.get_requests() if str(r.url) == BURN_URL]) == 2


def test_burn_without_a_mint_sends_nothing(tp: TrustedPublisher, httpx_mock: HTTPXMock) -> None:
    tp.burn()
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize("status", [404, 405])
def test_an_index_without_burn_is_a_debug_note(
    tp: TrustedPublisher, httpx_mock: HTTPXMock, reporter: Recorder, status: int
) -> None:
    audience_ok(httpx_mock)
    mint_ok(httpx_mock)
    tp.credential()
    httpx_mock.add_response(url=BURN_URL, status_code=status)
    tp.burn()
    assert reporter.of("warning") == []
    assert reporter.of("debug")[-1] == (
        f"https://index.example/legacy/ has no burn-token endpoint (HTTP {status}); "
        "the upload token expires on its own"
    )


def test_burn_failures_are_warnings_never_errors(
    tp: TrustedPublisher, httpx_mock: HTTPXMock, reporter: Recorder
) -> None:
    audience_ok(httpx_mock)
    mint_ok(httpx_mock)
    tp.credential()
    httpx_mock.add_response(
        url=BURN_URL, status_code=500, text=f"oops {API_TOKEN}", is_reusable=True
    )
    tp.burn()
    assert len([r for r in httpx_mock.get_requests() if str(r.url) == BURN_URL]) == 5  # retried
    (warning,) = reporter.of("warning")
    assert warning == (
        "the index answered burn-token with HTTP 500 (oops ***); the upload token expires on "
        "its own"
    )


def test_burn_network_failure_is_a_warning(
    tp: TrustedPublisher, httpx_mock: HTTPXMock, reporter: Recorder
) -> None:
    audience_ok(httpx_mock)
    mint_ok(httpx_mock)
    tp.credential()
    httpx_mock.add_exception(httpx.ConnectError("down"), url=BURN_URL, is_reusable=True)
    tp.burn()
    assert reporter.of("warning") == [
        "could not revoke the upload token (ConnectError); it expires on its own within 15 minutes"
    ]
