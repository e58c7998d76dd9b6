"""Trusted publishing against one index: audience -> OIDC token -> mint -> refresh -> burn.

The flow (PyPI's protocol, as Warehouse serves it):

1. ``GET {index}/_/oidc/audience`` -> ``{"audience": "pypi"}``. The audience
   guard refuses ``pypi``/``testpypi`` from any host but PyPI's/TestPyPI's own
   (whoever controls an index URL could otherwise harvest a PyPI-mintable
   token), and the index must be https (plain http only on loopback).
2. The OIDC token is fetched just before minting (a fresh one per attempt) and
   checked locally before it leaves the machine: a single audience equal to
   the index's, the claims PyPI requires, not expired / not yet valid, an issuer,
   and on PyPI/TestPyPI the provider's canonical issuer (the rules, PyPI's
   clock leeway and the client's send margin: :mod:`trustpub.oidc.validity`).
3. ``POST {index}/_/oidc/mint-token`` with ``{"token": jwt}`` -> a ``pypi-``
   token and its ``expires``. Network errors, 5xx and 429 are retried under
   the one retry policy (:class:`trustpub._http.RetryPolicy`); other 4xx
   never. A 3xx is an error: the client never follows redirects, so the token
   goes to the mint endpoint and nowhere else.
4. The upload token is re-minted when under 5 minutes remain (at half-life
   when it lives less than 5 minutes), judged by the local clock.
5. After the last upload, ``POST {index}/_/oidc/burn-token`` with
   ``Authorization: token <upload token>`` (and the same token as JSON
   ``{"token": ...}``, the body Warehouse's endpoint reads). An index without
   the endpoint (404/405) is noted at debug level; any other failure is a
   warning. Burning never raises.

Responses are parsed once, strictly, into frozen dataclasses; bodies shown
in errors are scrubbed of every known secret and of anything shaped like a
token.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import httpx

from trustpub._credential import UploadCredential
from trustpub._http import (
    Retry,
    RetryPolicy,
    body_excerpt,
    body_text,
    redirect_refused,
    request_with_retries,
    retryable_status,
    send_once,
)
from trustpub._secret import Secret, scrub_outside
from trustpub.errors import ExchangeError, IdentityError, NetworkError, TrustpubError
from trustpub.oidc import validity
from trustpub.oidc.claims import DecodedToken, decode_unverified
from trustpub.oidc.diagnostics import explain_audience_failure, explain_mint_error
from trustpub.oidc.publishers import CANONICAL_ISSUERS, Provider, Publisher
from trustpub.oidc.validity import Rule
from trustpub.providers import Detection
from trustpub.providers._base import TransientIdentityError
from trustpub.reporter import NULL_REPORTER, Reporter
from trustpub.repository import RESERVED_AUDIENCES, IndexTarget

TOKEN_USERNAME = "__token__"  # noqa: S105 - the fixed user name of token uploads
REFRESH_MARGIN = 300
"""Re-mint when fewer than this many seconds of the upload token remain."""
DEFAULT_LIFETIME = 900
"""PyPI's upload-token lifetime, assumed when the mint response has no ``expires``."""

MAX_LIFETIME = 86400 * 366
"""An ``expires`` further away than this (or not a finite number) is not believed."""
REMINT_PAUSE = 60.0
"""After a failed re-mint (old token still valid), wait this long before trying again."""


@dataclass(frozen=True)
class MintedToken:
    """A successful ``mint-token`` answer."""

    token: Secret
    expires: int


@dataclass(frozen=True)
class MintError:
    """One entry of a refused ``mint-token`` answer's ``errors`` list."""

    code: str
    description: str


class MintRefused(ExchangeError):
    """The index refused to mint (HTTP 422 or another 4xx): carries the errors and the claims."""

    def __init__(
        self,
        message: str,
        *,
        errors: Sequence[MintError] = (),
        token_claims: DecodedToken | None = None,
        status: int = 422,
        hint: str = "",
        details: Sequence[str] = (),
        anchor: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint, details=details, anchor=anchor)
        self.errors: tuple[MintError, ...] = tuple(errors)
        self.token_claims = token_claims
        self.status = status


class AudienceError(ExchangeError):
    """The index's audience endpoint failed, or asked for an audience it may not have."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        hint: str = "",
        details: Sequence[str] = (),
        anchor: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint, details=details, anchor=anchor)
        self.status = status


def _iso(seconds: float) -> str:
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, ValueError, OSError):  # a time no calendar has
        return f"{seconds!r} (unix seconds)"


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is not one (HTML, empty, a list...)."""
    try:
        body = response.json()
    except (ValueError, RecursionError):  # deeply nested JSON from outside
        return None
    return body if isinstance(body, dict) else None


def _text_field(body: dict[str, Any] | None, key: str) -> str | None:
    """``body[key]`` when it is a string that is not blank, else None."""
    value = None if body is None else body.get(key)
    return value if isinstance(value, str) and value.strip() else None


def parse_audience(response: httpx.Response) -> str | None:
    """The ``audience`` of a 200 answer, or None when the body is not ``{"audience": str}``."""
    return _text_field(_json_object(response), "audience")


def parse_minted(response: httpx.Response, *, now: float) -> MintedToken | None:
    """The token of a 200 ``mint-token`` answer, or None when malformed.

    The token is wrapped in a :class:`Secret` (and so registered for scrubbing)
    before anything else looks at it. A missing ``expires`` means PyPI's 900 s.
    """
    body = _json_object(response)
    token = _text_field(body, "token")
    if body is None or token is None:
        return None
    secret = Secret(token.strip())
    if body.get("success", True) is not True:
        return None
    expires = body.get("expires")
    if expires is None:
        return MintedToken(token=secret, expires=int(now) + DEFAULT_LIFETIME)
    if isinstance(expires, bool) or not isinstance(expires, (int, float)):
        return None
    if not math.isfinite(expires) or not now < expires < now + MAX_LIFETIME:
        # NaN, Infinity, the past or the far future: the token is real (and is burned at
        # the end); PyPI's lifetime is assumed rather than a time that cannot be.
        return MintedToken(token=secret, expires=int(now) + DEFAULT_LIFETIME)
    return MintedToken(token=secret, expires=int(expires))


def parse_mint_errors(response: httpx.Response) -> tuple[MintError, ...] | None:
    """The ``errors`` of a refusal, or None when the body has no well-formed list."""
    body = _json_object(response)
    if body is None:
        return None
    errors = body.get("errors")
    if not isinstance(errors, list) or not errors:
        return None
    parsed: list[MintError] = []
    for entry in errors:
        if not isinstance(entry, dict):
            return None
        code, description = entry.get("code"), entry.get("description")
        if not isinstance(code, str) or not isinstance(description, str):
            return None
        parsed.append(MintError(code=code, description=description))
    return tuple(parsed)


class TrustedPublisher:
    """Trusted publishing for one index and one detected identity.

    Thread-safe: :meth:`credential` may be called from every upload thread.
    """

    def __init__(
        self,
        target: IndexTarget,
        detection: Detection,
        *,
        client: httpx.Client,
        reporter: Reporter = NULL_REPORTER,
        on_secret: Callable[[Secret], None] | None = None,
        clock: Callable[[], float] = time.time,
        retries: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        declared: Publisher | None = None,
        project: str | None = None,
    ) -> None:
        """``declared`` (the publisher the user expects) and ``project`` only enrich refusal
        explanations; ``sleep`` is injectable for tests.

        ``on_secret`` receives each OIDC token and each minted token as soon as it
        exists, before any message about it (the CLI masks it on GitHub there)."""
        parts = urlsplit(target.index_url)
        if parts.scheme != "https" and not (parts.scheme == "http" and target.is_loopback):
            raise ExchangeError(
                f"refusing trusted publishing over {parts.scheme or 'no scheme'} to {target.host}",
                hint="trusted publishing needs an https index (plain http only on loopback)",
                anchor="insecure-index",
            )
        self._target = target
        self._detection = detection
        self._client = client
        self._reporter = reporter
        self._on_secret = on_secret or _ignore
        self._clock = clock
        self._policy = RetryPolicy(retries=max(0, retries))
        self._sleep = sleep
        self._declared = declared
        self._project = project
        self._lock = threading.RLock()
        self._audience: str | None = None
        self._current: UploadCredential | None = None
        self._refresh_at = 0.0
        self._pause_until = 0.0
        self._minted: list[Secret] = []
        self._exchanged: set[str] = set()
        self._pending: tuple[Secret, DecodedToken] | None = None
        self.minted_count = 0

    # ------------------------------------------------------------------ audience

    def audience(self) -> str:
        """The audience the index asks for (``GET /_/oidc/audience``), guarded and cached."""
        with self._lock:
            if self._audience is None:
                self._audience = self._fetch_audience()
            return self._audience

    def _fetch_audience(self) -> str:
        url = self._target.oidc_url("audience")
        what = "fetching the OIDC audience"
        response = request_with_retries(
            self._policy,
            lambda: self._client.get(
                url, headers={"Accept": "application/json"}, follow_redirects=False
            ),
            url=url,
            what=what,
            server_error=lambda failed: _server_error(failed, url, what),
            sleep=self._sleep,
        )
        status = response.status_code
        if 300 <= status < 400:
            raise _redirect(response, url)
        audience = parse_audience(response) if status == 200 else None
        if audience is None:
            raise self._audience_failure(response)
        self._guard_audience(audience)
        self._reporter.debug(f"{self._target.display} asks for OIDC audience {audience!r}")
        return audience

    def _audience_failure(self, response: httpx.Response) -> AudienceError:
        explained = explain_audience_failure(
            response.status_code, body_text(response), self._target.display
        )
        return AudienceError(
            explained.message,
            status=response.status_code,
            hint=explained.hint,
            details=explained.details,
            anchor=explained.anchor,
        )

    def _guard_audience(self, audience: str) -> None:
        host = self._target.host
        owner = RESERVED_AUDIENCES.get(audience)
        if owner is not None and owner != host:
            raise AudienceError(
                f"refusing to request an OIDC token for audience {audience!r} for {host}: "
                f"that audience belongs to {owner}",
                hint=f"a token for {audience!r} could publish to {owner}; only {owner} may ask "
                "for it. Check --repository: this index is misconfigured or hostile",
                anchor="audience-guard",
            )
        for reserved, reserved_host in RESERVED_AUDIENCES.items():
            if host == reserved_host and audience != reserved:
                raise AudienceError(
                    f"{host} asked for OIDC audience {audience!r}, expected {reserved!r}",
                    hint="the index's audience endpoint answered unexpectedly; retry later",
                    anchor="audience-guard",
                )

    # ------------------------------------------------------------------ OIDC token

    def oidc_token(self) -> tuple[Secret, DecodedToken]:
        """A fresh OIDC token for the index's audience, checked locally before it is sent.

        The next mint exchanges this token (no second fetch); later mints fetch their own.
        A token endpoint's passing failure is retried under the retry policy.
        """

        def attempt(_number: int) -> tuple[Secret, DecodedToken] | Retry:
            try:
                return self._fresh_oidc_token()
            except TransientIdentityError as error:
                return Retry(error)

        with self._lock:
            self._pending = self._policy.run(attempt, sleep=self._sleep)
            return self._pending

    def _fresh_oidc_token(self) -> tuple[Secret, DecodedToken]:
        audience = self.audience()
        token = self._detection.fetch_token(audience, client=self._client)
        self._on_secret(token)
        decoded = decode_unverified(token.reveal())
        self._check_token(decoded, audience)
        return token, decoded

    def _is_pypi(self) -> bool:
        return self._target.host in RESERVED_AUDIENCES.values()

    def _check_token(self, decoded: DecodedToken, audience: str) -> None:
        """Refuse, before it is sent, a token that :mod:`trustpub.oidc.validity` says will fail."""
        broken = validity.client_violations(decoded, audience, self._clock())
        if broken:
            raise self._token_error(broken[0], decoded, audience)
        issuer = decoded.issuer
        if issuer and self._is_pypi():
            self._check_issuer(self._detection.provider, issuer)

    def _token_error(
        self, broken: validity.Violation, decoded: DecodedToken, audience: str
    ) -> IdentityError:
        aud = decoded.audience
        unmodified = "use the token your CI provider issues, unmodified"
        if broken.rule is Rule.AUDIENCE_SEVERAL:
            several = aud if isinstance(aud, list) else []
            return IdentityError(
                f"the OIDC token has {len(several)} audiences ({', '.join(several)}); "
                "PyPI accepts only a token with one audience",
                hint=f"request the token for the single audience {audience!r}",
                anchor="oidc-token-audience",
            )
        if broken.rule is Rule.AUDIENCE_WRONG:
            return IdentityError(
                f"the OIDC token is for audience {aud!r}, but {self._target.display} "
                f"expects {audience!r}",
                hint=self._detection.audience_hint(audience),
                anchor="oidc-token-audience",
            )
        if broken.rule is Rule.AUDIENCE_MISSING:
            return IdentityError(
                "the OIDC token has no audience (aud claim)",
                hint=f"request the token for audience {audience!r}",
                anchor="oidc-token-audience",
            )
        if broken.rule is Rule.EXPIRED:
            expires = decoded.expires_at or 0.0
            return IdentityError(
                f"the OIDC token expired at {_iso(expires)} ({broken.seconds} s ago)",
                hint=self._detection.expired_hint,
                anchor="oidc-token-expired",
            )
        if broken.rule is Rule.NOT_YET_VALID:
            moment = decoded.not_before if broken.claim == "nbf" else decoded.issued_at
            return IdentityError(
                f"the OIDC token is not valid before {_iso(moment or 0.0)} ({broken.claim} is "
                f"{broken.seconds} s in the future)",
                hint="this machine's clock is behind; sync it (NTP) and retry",
                anchor="oidc-token-expired",
            )
        if broken.claim == "iss":
            return IdentityError(
                "the OIDC token has no issuer (iss claim)",
                hint=unmodified,
                anchor="oidc-token-issuer",
            )
        what = "expiry (exp claim)" if broken.claim == "exp" else "issue time (iat claim)"
        return IdentityError(
            f"the OIDC token has no {what}, which PyPI requires",
            hint=unmodified,
            anchor="oidc-token-expired",
        )

    def _check_issuer(self, provider: str, issuer: str) -> None:
        """PyPI's issuer rule (:func:`trustpub.oidc.validity.issuer_standing`, public issuers only)."""
        kind = Provider(provider) if provider in {p.value for p in Provider} else None
        standing = validity.issuer_standing(issuer, kind, sandbox=False)
        display = self._target.display
        if standing is validity.Issuer.PROVIDERS:
            return
        if kind is None:  # a token handed over (env, id): any issuer PyPI knows
            self._reporter.warning(
                f"the OIDC token's issuer {issuer} is not one {display} accepts by default "
                "(GitHub, GitLab.com, Google, ActiveState); expect 'unknown trusted "
                "publishing issuer' unless your organization registered it"
            )
            return
        expected = CANONICAL_ISSUERS[kind]
        if standing is validity.Issuer.CUSTOM_GITLAB:
            self._reporter.warning(
                f"the GitLab token's issuer is {issuer}, not {expected}: {display} accepts "
                "self-managed GitLab only for organizations that registered the instance"
            )
            return
        raise IdentityError(
            f"the OIDC token's issuer is {issuer}, but {display} accepts {provider} tokens "
            f"only from {expected}",
            hint="enterprise/self-hosted issuers are not supported by PyPI for this provider",
            anchor="oidc-token-issuer",
        )

    # ------------------------------------------------------------------ mint

    def credential(self) -> UploadCredential:
        """The current upload credential; mints on first use and re-mints before expiry."""
        with self._lock:
            now = self._clock()
            current = self._current
            if current is not None and (now < self._refresh_at or now < self._pause_until):
                return current
            try:
                minted = self._mint()
            except TrustpubError as error:
                if current is None or current.expires_at is None or now >= current.expires_at:
                    raise
                left = int(current.expires_at - now)
                self._reporter.warning(
                    f"could not mint a fresh upload token ({error.message}); "
                    f"continuing with the current one, valid {left} s more"
                )
                self._pause_until = now + min(REMINT_PAUSE, max(left / 2, 1.0))
                return current
            minted_at = self._clock()
            self._schedule(minted, minted_at)
            credential = UploadCredential(
                username=TOKEN_USERNAME,
                password=minted.token,
                source="trusted-publishing",
                expires_at=float(minted.expires),
            )
            self._current = credential
            self._minted.append(minted.token)
            self.minted_count += 1
            return credential

    def _schedule(self, minted: MintedToken, minted_at: float) -> None:
        lifetime = minted.expires - minted_at
        if lifetime <= 0:
            self._reporter.warning(
                f"the upload token's expiry ({_iso(minted.expires)}) is already past by this "
                "machine's clock; check the clock (NTP)"
            )
            self._refresh_at = minted_at + DEFAULT_LIFETIME / 2
            return
        if lifetime < REFRESH_MARGIN:
            self._refresh_at = minted_at + lifetime / 2
        else:
            self._refresh_at = minted.expires - REFRESH_MARGIN
        verb = "minted" if self.minted_count == 0 else "re-minted"
        self._reporter.info(
            f"{verb} an upload token for {self._target.display}, valid {int(lifetime)} s"
        )

    def _mint(self) -> MintedToken:
        url = self._target.oidc_url("mint-token")
        attempts = self._policy.retries + 1

        def attempt(number: int) -> MintedToken | Retry:
            self._reporter.debug(
                f"minting an upload token at {url} (attempt {number + 1}/{attempts})"
            )
            return self._mint_once(url)

        def on_retry(retry: Retry, _delay: float, _number: int) -> None:
            self._reporter.debug(f"mint-token did not succeed ({retry.error.message}); will retry")

        return self._policy.run(attempt, sleep=self._sleep, on_retry=on_retry)

    def _mint_once(self, url: str) -> MintedToken | Retry:
        """One attempt: a fresh OIDC token, checked, exchanged at the mint endpoint."""
        pending, self._pending = self._pending, None
        try:
            token, decoded = pending or self._fresh_oidc_token()
        except TransientIdentityError as error:
            return Retry(error)
        if self._detection.static_token and token.fingerprint in self._exchanged:
            raise ExchangeError(
                f"the {self._detection.provider} OIDC token was already exchanged once in "
                "this run; it cannot be exchanged again",
                hint="this environment hands out one fixed token per job; publish fewer or "
                "smaller files per job so one upload token (15 min) suffices",
                anchor="oidc-token-reused",
            )
        response = send_once(
            lambda: self._client.post(
                url,
                json={"token": token.reveal()},
                headers={"Accept": "application/json"},
                follow_redirects=False,
            ),
            url=url,
            what="minting an upload token",
        )
        if isinstance(response, Retry):
            return response
        status = response.status_code
        if 300 <= status < 400:
            raise _redirect(response, url)
        if retryable_status(status):
            return Retry.answered(
                response,
                NetworkError(
                    f"the index answered mint-token with HTTP {status}: {body_excerpt(response)}",
                    hint="the index is failing or rate-limiting; retry later",
                    anchor="mint-server-error",
                ),
            )
        if status != 200:
            raise self._refusal(response, decoded)
        minted = parse_minted(response, now=self._clock())
        if minted is None:
            raise ExchangeError(
                "the index answered mint-token with HTTP 200 but no usable token: "
                f"{body_excerpt(response)}",
                hint="the index does not speak PyPI's trusted-publishing protocol",
                anchor="mint-malformed-response",
            )
        self._on_secret(minted.token)  # before the "minted ..." line can be printed
        if self._detection.static_token:
            self._exchanged.add(token.fingerprint)
        return minted

    def _refusal(self, response: httpx.Response, decoded: DecodedToken) -> MintRefused:
        status = response.status_code
        errors = parse_mint_errors(response)
        if not errors:
            return _malformed_refusal(status, decoded, response, self._target)
        explained = explain_mint_error(
            errors[0].code,
            errors[0].description,
            token=decoded,
            provider=self._detection.provider,
            declared=self._declared,
            target_display=self._target.display,
            audience=self._audience,
            now=self._clock(),
            project=self._project,
        )
        extra = [  # index-supplied text: may echo the token
            scrub_outside(f"{error.code}: {error.description}") for error in errors[1:]
        ]
        return MintRefused(
            explained.message,
            errors=errors,
            token_claims=decoded,
            status=status,
            hint=explained.hint,
            details=[*explained.details, *extra],
            anchor=explained.anchor,
        )

    # ------------------------------------------------------------------ burn

    def burn(self) -> None:
        """Revoke every minted upload token (``POST /_/oidc/burn-token``); never raises."""
        with self._lock:
            tokens, self._minted = self._minted, []
            self._current = None
            self._refresh_at = 0.0
        url = self._target.oidc_url("burn-token")
        interrupted = False
        for token in tokens:
            try:
                try:
                    response = self._post_burn(url, token)
                except KeyboardInterrupt:
                    # A signal during the burn: burn anyway (the CLI raises only once); the
                    # run then ends as it would have, and the CLI exits 130/143.
                    interrupted = True
                    response = self._post_burn(url, token)
            except TrustpubError as failure:  # the retries are spent
                self._reporter.warning(failure.message)
                continue
            except Exception as error:  # burning must never break a finished upload
                self._reporter.warning(
                    f"could not revoke the upload token ({type(error).__name__})"
                )
                continue
            status = response.status_code
            if 200 <= status < 300:
                self._reporter.debug("revoked the upload token")
            elif status in (404, 405):
                self._reporter.debug(
                    f"{self._target.display} has no burn-token endpoint (HTTP {status}); "
                    "the upload token expires on its own"
                )
            else:
                self._reporter.warning(_burn_refused(response).message)
        if interrupted:
            self._reporter.warning(
                "a signal arrived while revoking the upload token; the revocation was sent again"
            )

    def _post_burn(self, url: str, token: Secret) -> httpx.Response:
        """One burn, retried on transport errors, 5xx and 429 (a live token must not stay)."""

        def attempt(_number: int) -> httpx.Response | Retry:
            try:
                response = self._client.post(
                    url,
                    json={"token": token.reveal()},
                    headers={"Authorization": f"token {token.reveal()}"},
                    follow_redirects=False,
                )
            except httpx.TransportError as error:
                return Retry(
                    NetworkError(
                        f"could not revoke the upload token ({type(error).__name__}); "
                        "it expires on its own within 15 minutes"
                    )
                )
            if retryable_status(response.status_code):
                return Retry.answered(response, _burn_refused(response))
            return response

        return self._policy.run(attempt, sleep=self._sleep)


def _ignore(_secret: Secret) -> None:
    pass


def _burn_refused(response: httpx.Response) -> NetworkError:
    return NetworkError(
        f"the index answered burn-token with HTTP {response.status_code} "
        f"({body_excerpt(response, 120)}); the upload token expires on its own"
    )


def _server_error(response: httpx.Response, url: str, what: str) -> NetworkError:
    return NetworkError(
        f"the index answered HTTP {response.status_code} while {what} ({url}): "
        f"{body_excerpt(response)}",
        hint="the index is failing or rate-limiting; retry later",
        anchor="index-server-error",
    )


def _redirect(response: httpx.Response, url: str) -> TrustpubError:
    return redirect_refused(
        response,
        what=url.split("?", 1)[0],
        error=ExchangeError,
        hint="point --repository at the index's real upload URL",
        anchor="index-redirect",
    )


def _malformed_refusal(
    status: int, decoded: DecodedToken, response: httpx.Response, target: IndexTarget
) -> MintRefused:
    display = target.display
    if status == 422:
        message = f"{display} refused to mint an upload token (HTTP 422) without saying why"
    elif status in (404, 405):
        message = f"{display} has no mint-token endpoint (HTTP {status})"
    else:
        message = f"{display} answered mint-token with HTTP {status}"
    return MintRefused(
        message,
        errors=(),
        token_claims=decoded,
        status=status,
        hint="the index does not speak PyPI's trusted-publishing protocol as expected; "
        "check --repository",
        details=[f"response: {body_excerpt(response)}"],
        anchor="mint-malformed-response",
    )


__all__ = [
    "DEFAULT_LIFETIME",
    "REFRESH_MARGIN",
    "TOKEN_USERNAME",
    "AudienceError",
    "MintError",
    "MintRefused",
    "MintedToken",
    "TrustedPublisher",
    "UploadCredential",
    "parse_audience",
    "parse_mint_errors",
    "parse_minted",
]
