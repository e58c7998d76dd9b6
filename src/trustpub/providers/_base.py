"""What every identity provider shares: the detection record, the finding, HTTP helpers.

Contract (kept by every module in this package):

* ``detect(env)`` returns ``None`` when the provider is not present here, a
  :class:`Detection` when it is, and raises :class:`~trustpub.errors.IdentityError`
  when it is present but broken (with a hint naming the fix). Only the Google
  provider touches the network while detecting, and only when nothing else
  matched.
* ``Detection.fetch_token(audience)`` returns the OIDC token as a
  :class:`~trustpub._secret.Secret` or raises ``IdentityError``;
  :class:`TransientIdentityError` marks failures worth retrying (network, 5xx, 429).
* Debug logs go to the ``trustpub.providers`` logger, prefixed with the provider
  name, and never contain a value read from a credential variable or a response.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

import httpx

from trustpub._http import make_client
from trustpub._secret import Secret, scrub
from trustpub.errors import IdentityError
from trustpub.repository import is_loopback_host

logger = logging.getLogger("trustpub.providers")

TokenFetcher = Callable[[str, "httpx.Client | None"], Secret]
"""``fetcher(audience, client)``: the provider-specific way to get a token."""


class TransientIdentityError(IdentityError):
    """Getting the OIDC token failed in a way that may pass on retry (network, 5xx, 429)."""


@dataclass(frozen=True)
class Detection:
    """A CI or cloud identity found in this environment (no secrets inside)."""

    provider: str
    """``github``, ``gitlab``, ``google``, ``activestate``, ``env`` or ``ambient``."""
    description: str
    """Human text, e.g. ``GitHub Actions (octo/pkg, workflow release.yml)``."""
    fetcher: TokenFetcher = field(repr=False, compare=False)
    static_token: bool = False
    """True when the environment holds one fixed token (GitLab, ActiveState, ``env``):
    asking again returns the same JWT, so a second mint with it is refused as reuse."""
    expired_hint: str = "check this machine's clock (NTP) and retry"
    """The fix when this source's token is expired (each provider words it for its configuration)."""
    audience_fix: Callable[[str], str] | None = field(default=None, repr=False, compare=False)
    """``audience -> fix`` when this source's token is for another audience (None: a bug to report)."""

    def audience_hint(self, audience: str) -> str:
        """The fix when the token this source gave is not for ``audience``."""
        if self.audience_fix is not None:
            return self.audience_fix(audience)
        return f"the {self.provider} token source ignored the audience {audience!r}; report this"

    def fetch_token(self, audience: str, *, client: httpx.Client | None = None) -> Secret:
        """An OIDC token for ``audience``; raises ``IdentityError`` with a specific hint.

        ``client`` (optional) is used for HTTPS requests (GitHub, Google's IAM API)
        so that they share the caller's TLS settings; without it a short-lived
        client is made. The Google metadata server is always reached directly,
        never through a proxy.
        """
        return self.fetcher(audience, client)


STATIC_EXPIRED_HINT = "obtain the token just before running trustpub; check this machine's clock"
"""The expiry fix for a token handed over once (``--oidc-token-env``, ActiveState)."""


def handed_over(
    provider: str,
    description: str,
    value: str,
    *,
    audience_fix: Callable[[str], str] | None = None,
) -> Detection:
    """A source that holds one token, handed over once (``--oidc-token-env``, ActiveState).

    Asking again returns the same token, whatever the audience (``static_token``);
    the caller checks that its audience fits.
    """
    token = Secret(value)

    def fetch(audience: str, client: httpx.Client | None) -> Secret:
        return token

    return Detection(
        provider=provider,
        description=description,
        fetcher=fetch,
        static_token=True,
        expired_hint=STATIC_EXPIRED_HINT,
        audience_fix=audience_fix,
    )


Severity = Literal["blocker", "warning", "info"]


@dataclass(frozen=True)
class Finding:
    """One preflight result: a ``blocker`` stops publishing, a ``warning`` is risky, ``info`` advice."""

    id: str
    """The troubleshooting anchor (``docs/troubleshooting.md``)."""
    severity: Severity
    message: str
    fix: str

    @property
    def blocks(self) -> bool:
        """Whether this finding stops publishing."""
        return self.severity == "blocker"

    def __str__(self) -> str:
        text = f"{self.severity}: {self.message}"
        return f"{text} (fix: {self.fix})" if self.fix else text


def env_true(env: Mapping[str, str], name: str) -> bool:
    """Whether a CI marker variable is set to ``true`` (case-insensitive)."""
    return env.get(name, "").strip().lower() == "true"


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def valid_env_name(name: str) -> bool:
    """Whether ``name`` is a usable environment variable name."""
    return bool(_ENV_NAME.match(name))


def check_credential_url(url: str, *, what: str, hint: str) -> None:
    """Refuse to send a credential to anything but https (or http on loopback)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and host and is_loopback_host(host):
        return
    shown = f"{parts.scheme}://{host}" if host else "(no host)"
    raise IdentityError(
        f"refusing to send a credential to {what} at {shown}: only https (or http on loopback) is allowed",
        hint=hint,
        anchor="insecure-token-endpoint",
    )


TOKEN_REDIRECT_ANCHOR = "token-endpoint-redirect"  # noqa: S105 - an anchor, not a secret
"""A token endpoint answered with a redirect (see :func:`trustpub._http.redirect_refused`)."""


def transport_error(error: httpx.TransportError, url: str, *, what: str) -> TransientIdentityError:
    """A network failure while getting an OIDC token (retryable)."""
    shown = url.split("?", 1)[0]
    kind = "timed out" if isinstance(error, httpx.TimeoutException) else "could not connect"
    detail = scrub(str(error)) or type(error).__name__
    return TransientIdentityError(
        f"{kind} while {what} ({shown}): {detail}",
        hint="check that the endpoint is reachable from this job; the request is retried",
        anchor="token-endpoint-unreachable",
    )


def with_client(
    client: httpx.Client | None,
    run: Callable[[httpx.Client], Secret],
    *,
    timeout: float = 30.0,
) -> Secret:
    """Run ``run`` with the caller's client, or a short-lived one that is closed after."""
    if client is not None:
        return run(client)
    with make_client(timeout=timeout) as own:
        return run(own)


def token_in_answer(
    response: httpx.Response, key: str, *, missing: str, hint: str, anchor: str
) -> Secret:
    """The credential a token service sent as the string ``key`` of its JSON answer.

    An answer without one (not JSON, no such key, not a string, blank) raises
    :class:`~trustpub.errors.IdentityError` with the ``missing`` message.
    """
    try:
        value = response.json()[key]
    except (ValueError, KeyError, TypeError, RecursionError):
        value = None
    if not isinstance(value, str) or not value.strip():
        raise IdentityError(missing, hint=hint, anchor=anchor)
    return Secret(value.strip())


__all__ = [
    "STATIC_EXPIRED_HINT",
    "TOKEN_REDIRECT_ANCHOR",
    "Detection",
    "Finding",
    "Severity",
    "TokenFetcher",
    "TransientIdentityError",
    "check_credential_url",
    "env_true",
    "handed_over",
    "logger",
    "token_in_answer",
    "transport_error",
    "valid_env_name",
    "with_client",
]
