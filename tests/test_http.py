"""The one retry policy, the one body excerpt and the one redirect refusal (trustpub._http)."""

from __future__ import annotations

import email.utils
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from trustpub._http import (
    RETRY_CAP,
    Retry,
    RetryPolicy,
    SchemeTransport,
    body_excerpt,
    make_client,
    redirect_refused,
    request_with_retries,
    retry_after,
)
from trustpub._secret import Secret
from trustpub.errors import ExchangeError, NetworkError, UploadError

NOW = 1_800_000_000.0


def _answer(status: int = 503, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        (email.utils.formatdate(NOW + 42, usegmt=True), 42.0),
        (email.utils.formatdate(NOW - 5, usegmt=True), 0.0),  # already past: no wait
        ("soon", None),
        ("-3", None),
        ("", None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(value: str, seconds: float | None) -> None:
    assert retry_after(_answer(503, **{"Retry-After": value}), now=NOW) == seconds


def test_one_cap_bounds_backoff_and_retry_after() -> None:
    policy = RetryPolicy(retries=20)
    assert policy.delay(1, wait=3600.0) == RETRY_CAP
    assert policy.delay(1, wait=2.0) == 2.0
    assert all(RETRY_CAP / 2 <= policy.delay(12) <= RETRY_CAP for _ in range(50))
    first = [policy.delay(1) for _ in range(50)]
    assert all(0.5 <= delay <= 1.0 for delay in first)
    assert len(set(first)) > 1  # jitter


def test_run_retries_then_raises_the_last_error() -> None:
    sleeps: list[float] = []
    seen: list[tuple[str, int]] = []
    errors = iter(NetworkError(f"try {n}") for n in range(10))

    def attempt(number: int) -> str | Retry:
        return Retry(next(errors), wait=float(number))

    with pytest.raises(NetworkError) as caught:
        RetryPolicy(retries=2).run(
            attempt,
            sleep=sleeps.append,
            on_retry=lambda retry, _delay, number: seen.append((retry.error.message, number)),
        )
    assert caught.value.message == "try 2"
    assert sleeps == [0.0, 1.0]
    assert seen == [("try 0", 0), ("try 1", 1)]


def test_request_with_retries_returns_the_first_final_answer() -> None:
    answers = iter([_answer(503), _answer(429, **{"Retry-After": "4"}), _answer(404)])
    sleeps: list[float] = []
    response = request_with_retries(
        RetryPolicy(retries=4, base=0),
        lambda: next(answers),
        url="https://index.example/x",
        what="testing",
        server_error=lambda failed: NetworkError(f"HTTP {failed.status_code}"),
        sleep=sleeps.append,
    )
    assert response.status_code == 404
    assert sleeps == [0.0, 4.0]


def test_a_failed_certificate_check_is_never_retried() -> None:
    calls = []

    def send() -> httpx.Response:
        calls.append(1)
        raise httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")

    with pytest.raises(NetworkError) as caught:
        request_with_retries(
            RetryPolicy(retries=3, base=0),
            send,
            url="https://index.example/x",
            what="testing",
            server_error=lambda failed: NetworkError("unused"),
            sleep=lambda _s: None,
        )
    assert caught.value.anchor == "tls-certificate-verify-failed"
    assert calls == [1]


def test_body_excerpt_is_one_scrubbed_bounded_line() -> None:
    known = Secret("pypi-" + "K" * 40)
    html = (
        "<html><head><title>502 Bad Gateway</title></head><body>\n<h1>Bad &amp; gone</h1>"
        f" echo {known.reveal()} and eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl</body></html>"
    )
    response = httpx.Response(502, text=html, headers={"content-type": "text/html"})
    assert body_excerpt(response) == "Bad & gone echo *** and ***"
    assert body_excerpt(httpx.Response(500, text="x" * 300), 10) == "xxxxxxxxxx..."
    assert body_excerpt(httpx.Response(500)) == "(empty body)"
    assert body_excerpt(httpx.Response(500), empty="") == ""


@pytest.mark.parametrize("error", [ExchangeError, UploadError])
def test_redirect_refused_names_only_the_host(error: type[ExchangeError]) -> None:
    response = _answer(307, location="https://harvest.example/steal?token=abc")
    refused = redirect_refused(
        response, what="https://index.example/mint", error=error, hint="h", anchor="a"
    )
    assert type(refused) is error
    assert refused.message == (
        "https://index.example/mint answered HTTP 307 redirecting to harvest.example; "
        "trustpub never follows redirects with credentials"
    )
    assert (refused.hint, refused.anchor) == ("h", "a")


# ---------------------------------------------------------------- the CA bundle, loaded lazily


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def plain_server() -> Iterator[str]:
    """A plain-HTTP server on 127.0.0.1 that answers every GET with 200 "ok"."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_plain_http_never_loads_the_ca_bundle(
    plain_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Loading the bundle costs ~50 ms of CPU; an http:// index (the sandbox) never needs it.

    With SSL_CERT_FILE naming a missing file, loading it would fail: a client made
    eagerly (httpx.Client()) raises at once.
    """
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    with make_client() as client:
        response = client.get(plain_server)
    assert (response.status_code, response.text) == (200, "ok")


def test_an_unreadable_ca_bundle_fails_the_https_request_with_a_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.pem"
    monkeypatch.setenv("SSL_CERT_FILE", str(missing))
    with make_client() as client, pytest.raises(NetworkError) as caught:
        client.get("https://127.0.0.1:9/")  # refused before any connection: nothing listens
    assert caught.value.message == (
        f"could not load the CA certificates from {missing}: No such file or directory"
    )
    assert caught.value.anchor == "tls-certificate-verify-failed"
    assert "SSL_CERT_FILE" in caught.value.hint


def test_both_pools_verify_certificates(monkeypatch: pytest.MonkeyPatch) -> None:
    """https:// verifies against the bundle; the plain pool's context trusts no CA at all."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    transport = SchemeTransport(httpx.Limits(max_connections=2))
    try:
        tls = transport._pool(True)._pool._ssl_context
        plain = transport._pool(False)._pool._ssl_context
    finally:
        transport.close()
    assert tls is not None
    assert plain is not None
    for context in (tls, plain):
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname
    assert tls.cert_store_stats()["x509_ca"] > 0
    assert plain.cert_store_stats()["x509_ca"] == 0
