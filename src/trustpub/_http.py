"""The one place trustpub makes HTTP clients.

* TLS verification is always on. The CA bundle comes from ``SSL_CERT_FILE`` /
  ``SSL_CERT_DIR`` (honoured by httpx with ``trust_env``) or certifi.
* Redirects are never followed: a credential must not travel to a URL the
  user did not name. Callers treat a 3xx as an error.
* HTTP/1.1 only: PyPI puts upload error messages in the reason phrase, which
  HTTP/2 drops.
* Tests inject an ``httpx`` transport (pytest-httpx patches it globally).
"""

from __future__ import annotations

import ssl

import httpx

from trustpub import __version__
from trustpub.errors import NetworkError

USER_AGENT = f"trustpub/{__version__} httpx/{httpx.__version__}"

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


def make_client(
    *,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
    max_connections: int = 16,
) -> httpx.Client:
    """A client with trustpub's defaults (see module docstring)."""
    return httpx.Client(
        timeout=timeout,
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        transport=transport,
        trust_env=True,
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
    )


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
            anchor="tls-certificate-verify-failed",
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


__all__ = ["DEFAULT_TIMEOUT", "USER_AGENT", "make_client", "network_error"]
