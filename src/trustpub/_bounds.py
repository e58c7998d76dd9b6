"""Bounds on every HTTP request: an overall deadline and a cap on the answer's size.

httpx's timeouts are per operation: an index (or a token endpoint) that sends
one byte every few seconds never trips them, and a response body is read whole
into memory. :func:`bounded` wraps every transport :func:`trustpub._http.make_client`
uses so that each request has

* an overall **deadline** by kind: token exchange (``/_/oidc/`` endpoints),
  index metadata (everything else), and uploads (a base plus time for the body
  at a minimum rate); every socket wait is cut to the time left, and the body is
  checked at each chunk;
* a **size cap** on the answer, read as it arrives: nothing larger is ever held.

Both end the request with a :class:`~trustpub.errors.NetworkError` naming the
limit (not retried: a second attempt would wait or read as long again).
Deadlines are configurable with ``TRUSTPUB_EXCHANGE_DEADLINE``,
``TRUSTPUB_INDEX_DEADLINE`` and ``TRUSTPUB_UPLOAD_DEADLINE`` (seconds).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from trustpub.errors import NetworkError

ONE_MIB = 1024 * 1024


@dataclass(frozen=True)
class Bound:
    """The limits of one kind of request."""

    kind: str
    deadline: float
    """Seconds from the start of the request to the end of its answer."""
    max_bytes: int
    """The largest answer body read."""


EXCHANGE = Bound("token exchange", 60.0, ONE_MIB)
INDEX = Bound("index metadata", 120.0, 64 * ONE_MIB)
UPLOAD = Bound("upload", 120.0, ONE_MIB)
UPLOAD_MIN_RATE = 256 * 1024
"""Bytes per second an upload is given on top of :data:`UPLOAD`'s base deadline."""

_ENV = {
    EXCHANGE.kind: "TRUSTPUB_EXCHANGE_DEADLINE",
    INDEX.kind: "TRUSTPUB_INDEX_DEADLINE",
    UPLOAD.kind: "TRUSTPUB_UPLOAD_DEADLINE",
}


def _seconds(bound: Bound) -> float:
    text = os.environ.get(_ENV[bound.kind], "")
    try:
        value = float(text)
    except ValueError:
        return bound.deadline
    return value if 0 < value < 10**7 else bound.deadline


def bound_for(request: httpx.Request) -> tuple[Bound, float]:
    """The kind of ``request`` and its deadline in seconds."""
    if request.method == "POST" and "multipart/form-data" in request.headers.get(
        "content-type", ""
    ):
        try:
            size = max(0, int(request.headers.get("content-length") or 0))
        except ValueError:
            size = 0
        return UPLOAD, _seconds(UPLOAD) + size / UPLOAD_MIN_RATE
    bound = EXCHANGE if "/_/oidc/" in request.url.path else INDEX
    return bound, _seconds(bound)


class _Timeouts(dict):  # type: ignore[type-arg]
    """httpcore's per-operation timeouts, each cut to the time left before the deadline."""

    def __init__(self, base: dict[str, Any], deadline: float) -> None:
        super().__init__(base)
        self.deadline = deadline

    def get(self, key: str, default: Any = None) -> Any:
        value = super().get(key, default)
        left = max(0.01, self.deadline - time.monotonic())
        return left if value is None else min(float(value), left)


def _over_deadline(request: httpx.Request, bound: Bound, seconds: float) -> NetworkError:
    return NetworkError(
        f"no complete answer within {seconds:.0f} s from {request.url.host} "
        f"({bound.kind} deadline)",
        hint=f"the index is too slow or stalls; retry later, or raise {_ENV[bound.kind]} "
        "(seconds) if it is known to be this slow",
        anchor="request-deadline",
    )


def _too_large(request: httpx.Request, bound: Bound) -> NetworkError:
    return NetworkError(
        f"the answer from {request.url.host} is larger than {bound.max_bytes // ONE_MIB} MiB, "
        f"the limit for a {bound.kind} answer; nothing more was read",
        hint="check the repository URL: no index answers this much here",
        anchor="response-too-large",
    )


@dataclass
class _BoundedStream(httpx.SyncByteStream):
    """An answer's body, read under its request's deadline and size cap."""

    inner: httpx.SyncByteStream
    request: httpx.Request
    bound: Bound
    seconds: float
    deadline: float
    """The request's own deadline (``time.monotonic()``): the body does not get a new one."""
    refusal: bool
    """An error answer (4xx/5xx): only an excerpt of it is ever shown, so it is cut, not refused."""

    def __iter__(self) -> Iterator[bytes]:
        read = 0
        try:
            for chunk in self.inner:
                read += len(chunk)
                if read > self.bound.max_bytes:
                    if self.refusal:
                        yield chunk[: len(chunk) - (read - self.bound.max_bytes)]
                        return
                    raise _too_large(self.request, self.bound)
                if time.monotonic() > self.deadline:
                    raise _over_deadline(self.request, self.bound, self.seconds)
                yield chunk
        except httpx.TimeoutException:
            if time.monotonic() >= self.deadline - 0.05:
                raise _over_deadline(self.request, self.bound, self.seconds) from None
            raise

    def close(self) -> None:
        self.inner.close()


class BoundedTransport(httpx.BaseTransport):
    """A transport that gives every request a deadline and a size cap (see module docstring)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        bound, seconds = bound_for(request)
        start = time.monotonic()
        request.extensions = {
            **request.extensions,
            "timeout": _Timeouts(dict(request.extensions.get("timeout", {})), start + seconds),
        }
        try:
            response = self.inner.handle_request(request)
        except httpx.TimeoutException:
            if time.monotonic() - start >= seconds - 0.05:
                raise _over_deadline(request, bound, seconds) from None
            raise
        stream = response.stream
        if isinstance(stream, httpx.SyncByteStream):
            refusal = response.status_code >= 400
            response.stream = _BoundedStream(
                stream, request, bound, seconds, start + seconds, refusal
            )
        return response

    def close(self) -> None:
        self.inner.close()


def bounded(client: httpx.Client) -> httpx.Client:
    """Wrap every transport of ``client`` (direct and proxied) in :class:`BoundedTransport`."""
    client._transport = BoundedTransport(client._transport)
    client._mounts = {
        pattern: None if transport is None else BoundedTransport(transport)
        for pattern, transport in client._mounts.items()
    }
    return client


__all__ = [
    "EXCHANGE",
    "INDEX",
    "UPLOAD",
    "UPLOAD_MIN_RATE",
    "Bound",
    "BoundedTransport",
    "bound_for",
    "bounded",
]
