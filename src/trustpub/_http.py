"""The one place trustpub makes HTTP clients, retries requests and quotes answers.

* TLS verification is always on. The CA bundle comes from ``SSL_CERT_FILE`` /
  ``SSL_CERT_DIR`` (honoured by httpx with ``trust_env``) or certifi. It is
  loaded at the first ``https://`` request, not when the client is made: loading
  it costs about 50 ms of CPU, which a plain ``http://`` index on loopback (the
  sandbox) never needs (:class:`SchemeTransport`).
* Redirects are never followed: a credential must not travel to a URL the
  user did not name. Callers treat a 3xx as an error.
* HTTP/1.1 only: PyPI puts upload error messages in the reason phrase, which
  HTTP/2 drops.
* Tests inject an ``httpx`` transport (pytest-httpx patches it globally).
* One retry policy (:class:`RetryPolicy`) for every request that may be
  repeated: the audience, the mint, the burn, each upload and the index
  lookup. Network errors, 429 and 5xx are retried with exponential backoff
  and jitter, or after the ``Retry-After`` the index names (seconds or an HTTP
  date); every wait is capped at :data:`RETRY_CAP`. Other answers are final.
* Text from an index or a token endpoint reaches an error only through
  :func:`body_excerpt` (scrubbed of secrets and token shapes, one line,
  bounded); a 3xx becomes :func:`redirect_refused`.
"""

from __future__ import annotations

import email.utils
import os
import random
import re
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

import httpx

from trustpub import __version__
from trustpub._secret import scrub_outside
from trustpub.errors import NetworkError, TrustpubError

USER_AGENT = f"trustpub/{__version__} httpx/{httpx.__version__}"

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)

TLS_ANCHOR = "tls-certificate-verify-failed"
"""The anchor of a failed certificate check: the one network error no retry can fix."""


def ca_bundle_error(error: Exception) -> NetworkError:
    """The CA bundle (``SSL_CERT_FILE``, ``SSL_CERT_DIR`` or certifi's) could not be loaded."""
    where = os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR") or "certifi's bundle"
    reason = getattr(error, "strerror", None) or type(error).__name__
    return NetworkError(
        f"could not load the CA certificates from {where}: {reason}",
        hint="point SSL_CERT_FILE at a readable PEM bundle of the CA certificates to trust "
        "(for the sandbox: the ca_cert path it printed), or unset it",
        anchor=TLS_ANCHOR,
    )


class SchemeTransport(httpx.BaseTransport):
    """httpx's own transport, one connection pool per scheme, each made at its first request.

    ``https://`` gets a pool whose TLS context verifies against the CA bundle,
    made exactly as httpx makes it (``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` /
    certifi). Every other scheme gets a pool whose TLS context holds no CA at
    all: plain HTTP never negotiates TLS, and if anything ever tried, every
    certificate would be refused (verification stays on). A CA bundle that
    cannot be read is a :class:`~trustpub.errors.NetworkError` of that request.
    """

    def __init__(self, limits: httpx.Limits) -> None:
        self._limits = limits
        self._lock = threading.Lock()
        self._pools: dict[bool, httpx.HTTPTransport] = {}

    def _pool(self, tls: bool) -> httpx.HTTPTransport:
        with self._lock:
            pool = self._pools.get(tls)
            if pool is None:
                if tls:
                    try:
                        context = httpx.create_ssl_context(verify=True, trust_env=True)
                    except OSError as error:  # ssl.SSLError included
                        raise ca_bundle_error(error) from None
                else:
                    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # no CA: trusts nothing
                pool = httpx.HTTPTransport(verify=context, limits=self._limits)
                self._pools[tls] = pool
            return pool

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._pool(request.url.scheme == "https").handle_request(request)

    def close(self) -> None:
        with self._lock:
            pools = list(self._pools.values())
            self._pools.clear()
        for pool in pools:
            pool.close()


def make_client(
    *,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
    max_connections: int = 16,
) -> httpx.Client:
    """A client with trustpub's defaults (see module docstring).

    Every request gets an overall deadline and a cap on its answer's size
    (:mod:`trustpub._bounds`). Plain ``http://`` (allowed for loopback
    addresses only) never goes through a proxy from the environment: a proxy
    would see the credentials in clear.
    """
    from trustpub._bounds import bounded

    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    client = httpx.Client(
        timeout=timeout,
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        transport=SchemeTransport(limits) if transport is None else transport,
        trust_env=True,
        mounts={"http://": None},
        limits=limits,
    )
    return bounded(client)


def network_error(error: httpx.TransportError, url: str, *, what: str) -> NetworkError:
    """Turn a transport failure into a one-line error with a specific hint.

    ``what`` names the step (``"fetching the audience"``). The URL is shown
    without its query string (which may carry a job id).
    """
    shown = url.split("?", 1)[0]
    cause = error.__cause__ or error.__context__
    text = str(error) or type(error).__name__
    if isinstance(cause, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in text:
        return NetworkError(
            f"TLS certificate verification failed while {what} ({shown})",
            hint="the index's certificate is not trusted here; point SSL_CERT_FILE at its CA bundle "
            "(for the sandbox: the ca_cert path it printed)",
            anchor=TLS_ANCHOR,
        )
    if isinstance(error, httpx.TimeoutException):
        return NetworkError(
            f"timed out while {what} ({shown})",
            hint="the index is slow or unreachable; check the URL and retry",
            anchor="network-error",
        )
    return NetworkError(
        f"could not connect while {what} ({shown}): {text}",
        hint="check the repository URL and that the index is reachable from this machine",
        anchor="network-error",
    )


# ---------------------------------------------------------------------------------- retries

RETRY_CAP = 60.0
"""The longest wait between two attempts, in seconds: backoff and ``Retry-After`` alike."""

_T = TypeVar("_T")


def retryable_status(status: int) -> bool:
    """429 (rate limited) and 5xx may succeed on another attempt; other answers are final."""
    return status == 429 or status >= 500


def retry_after(response: httpx.Response, *, now: float | None = None) -> float | None:
    """Seconds the index asks us to wait (``Retry-After``: delta-seconds or an HTTP date)."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive one cannot be compared
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass(frozen=True)
class Retry:
    """One attempt failed in a way another attempt may fix.

    ``error`` is raised when no attempt is left; ``wait`` is the index's
    ``Retry-After``, if it named one; ``note`` says what went wrong, for a
    progress line.
    """

    error: TrustpubError
    wait: float | None = None
    note: str = ""

    @classmethod
    def answered(cls, response: httpx.Response, error: TrustpubError, *, note: str = "") -> Retry:
        """A retryable answer (429, 5xx): wait as long as its ``Retry-After`` asks, if it does."""
        return cls(error, retry_after(response), note)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait: ``retries`` more attempts after the first."""

    retries: int = 4
    base: float = 1.0
    """The first backoff, in seconds; it doubles with each retry (before jitter)."""
    cap: float = RETRY_CAP

    def delay(self, retry: int, wait: float | None = None) -> float:
        """Seconds before retry number ``retry`` (1 = the second attempt)."""
        if wait is not None:
            return min(max(wait, 0.0), self.cap)
        backoff = min(self.cap, self.base * 2.0 ** (retry - 1))
        return backoff * random.uniform(0.5, 1.0)

    def run(
        self,
        attempt: Callable[[int], _T | Retry],
        *,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[Retry, float, int], None] | None = None,
    ) -> _T:
        """Call ``attempt(n)`` (n = 0, 1, ...) until it returns something other than a Retry.

        Before each new attempt ``on_retry(retry, delay, n)`` is told and
        ``sleep(delay)`` called. When the attempts are used up, the last
        :class:`Retry`'s error is raised.
        """
        retries = max(0, self.retries)
        number = 0
        while True:
            outcome = attempt(number)
            if not isinstance(outcome, Retry):
                return outcome
            if number >= retries:
                raise outcome.error
            delay = self.delay(number + 1, outcome.wait)
            if on_retry is not None:
                on_retry(outcome, delay, number)
            sleep(delay)
            number += 1


DEFAULT_RETRY = RetryPolicy()
"""Four retries after the first attempt: about 15 s of backoff in all."""


def send_once(send: Callable[[], httpx.Response], *, url: str, what: str) -> httpx.Response | Retry:
    """One request: a transport failure becomes a :class:`Retry` (never a failed TLS check)."""
    try:
        return send()
    except httpx.TransportError as error:
        failure = network_error(error, url, what=what)
        if failure.anchor == TLS_ANCHOR:  # another attempt cannot help
            raise failure from None
        return Retry(failure)


def request_with_retries(
    policy: RetryPolicy,
    send: Callable[[], httpx.Response],
    *,
    url: str,
    what: str,
    server_error: Callable[[httpx.Response], TrustpubError],
    sleep: Callable[[float], None] = time.sleep,
) -> httpx.Response:
    """``send`` under ``policy``: network errors, 429 and 5xx retried; any other answer returned.

    ``server_error`` turns the last retryable answer into the error raised.
    """

    def attempt(_number: int) -> httpx.Response | Retry:
        response = send_once(send, url=url, what=what)
        if isinstance(response, httpx.Response) and retryable_status(response.status_code):
            return Retry.answered(response, server_error(response))
        return response

    return policy.run(attempt, sleep=sleep)


# ---------------------------------------------------------------------------------- answers


def body_text(response: httpx.Response, limit: int = 4000) -> str:
    """The body as text, scrubbed of secrets and token shapes ("" when it cannot be read)."""
    try:
        response.read()
        text = response.text
    except (httpx.HTTPError, UnicodeDecodeError, LookupError):
        return ""
    return scrub_outside(text[:limit])


def body_excerpt(response: httpx.Response, limit: int = 200, *, empty: str = "(empty body)") -> str:
    """A short single line of the body for an error message, scrubbed like :func:`body_text`.

    HTML is reduced to its text (the ``<pre>`` block when there is one, never
    the ``<head>``); ``empty`` stands in for a body without text.
    """
    try:
        response.read()
        text = response.text
    except (httpx.HTTPError, UnicodeDecodeError, LookupError):
        return empty
    content_type = response.headers.get("content-type", "").lower()
    if "html" in content_type or text.lstrip().startswith("<"):
        import html  # only an error page needs it

        pre = re.search(r"<pre[^>]*>(.*?)</pre>", text, flags=re.S | re.I)
        if pre:
            text = pre.group(1)
        else:
            text = re.sub(r"(?is)<(head|script|style|title)[^>]*>.*?</\1>", " ", text)
        text = html.unescape(re.sub(r"<[^>]*>", " ", text))
    text = scrub_outside(" ".join(text.split()))
    if not text:
        return empty
    return text[:limit] + "..." if len(text) > limit else text


def redirect_refused(
    response: httpx.Response,
    *,
    what: str,
    error: type[TrustpubError],
    hint: str,
    anchor: str,
) -> TrustpubError:
    """A 3xx where a credential was sent or is about to be: refused, never followed.

    ``what`` names who answered; the error shows only the Location's host.
    """
    location = response.headers.get("location", "")
    host = urlsplit(location).hostname or location.split("?", 1)[0] or "(no Location header)"
    return error(
        f"{what} answered HTTP {response.status_code} redirecting to {host}; "
        "trustpub never follows redirects with credentials",
        hint=hint,
        anchor=anchor,
    )


__all__ = [
    "DEFAULT_RETRY",
    "DEFAULT_TIMEOUT",
    "RETRY_CAP",
    "TLS_ANCHOR",
    "USER_AGENT",
    "Retry",
    "RetryPolicy",
    "SchemeTransport",
    "body_excerpt",
    "body_text",
    "ca_bundle_error",
    "make_client",
    "network_error",
    "redirect_refused",
    "request_with_retries",
    "retry_after",
    "retryable_status",
    "send_once",
]
