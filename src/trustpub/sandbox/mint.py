"""The trusted-publishing exchange: ``/_/oidc/audience``, ``mint-token``, ``burn-token``.

Follows PyPI's order of checks (parse, unverified issuer, provider, admin flags,
verification, pending publishers, publishers, JTI) and its error shapes: every
refusal is HTTP 422 ``{"message": "Token request failed", "errors": [one]}``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

import jwt
from packaging.utils import canonicalize_name
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from trustpub.oidc import validity
from trustpub.oidc.publishers import Publisher
from trustpub.oidc.rules import Lookup, find_publisher
from trustpub.sandbox.config import SandboxSettings
from trustpub.sandbox.context import SandboxContext
from trustpub.sandbox.identity import InvalidToken
from trustpub.sandbox.refusal import Refusal
from trustpub.sandbox.responses import credential_kind, error_response, note_credential
from trustpub.sandbox.routing import Endpoints, route
from trustpub.sandbox.state import IndexState, PublisherEntry, TokenRecord
from trustpub.upload.rules import PROJECT_NAME

_JTI_KEPT = validity.LEEWAY + validity.JTI_MARGIN
"""A used ``jti`` is remembered this long past ``exp`` (Warehouse's ``store_jwt_identifier``)."""

INVALID_AUTH = (
    "Invalid or non-existent authentication information. "
    "See https://pypi.org/help/#invalid-auth for more information."
)


class Identity(Protocol):
    """What the index needs from the identity providers (``identity.IdentityProviders``)."""

    def issuer_url(self, provider: str) -> str: ...

    def provider_for_issuer(self, iss: str) -> str | None: ...

    def verify(
        self, token: str, *, provider: str, audience: str, issuer: str | None = None
    ) -> dict[str, Any]: ...

    def routes(self) -> list[BaseRoute]: ...

    def metadata_app(self) -> ASGIApp: ...


class MintRefusal(Refusal):
    """One of PyPI's six exchange error codes; PyPI answers every one with HTTP 422."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(422, description)
        self.code = code


def _refusal(error: MintRefusal) -> JSONResponse:
    body = {
        "message": "Token request failed",
        "errors": [{"code": error.code, "description": error.message}],
    }
    return JSONResponse(body, status_code=error.status)


def _payload_token(body: bytes) -> str:
    """The ``token`` of ``{"token": "..."}``, or a pydantic-like refusal text."""

    def invalid(kind: str, what: str) -> MintRefusal:
        return MintRefusal(
            "invalid-payload",
            f"1 validation error for TokenPayload\ntoken\n  {what} [type={kind}]",
        )

    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _raise(
            MintRefusal(
                "invalid-payload",
                "1 validation error for TokenPayload\n"
                "  Invalid JSON: the request body is not a JSON object [type=json_invalid]",
            )
        )
    if not isinstance(data, dict):
        return _raise(
            MintRefusal(
                "invalid-payload",
                "1 validation error for TokenPayload\n"
                "  Input should be an object [type=model_type]",
            )
        )
    if "token" not in data:
        return _raise(invalid("missing", "Field required"))
    token = data["token"]
    if not isinstance(token, str):
        return _raise(invalid("string_type", "Input should be a valid string"))
    return token


def _raise(error: MintRefusal) -> str:
    raise error


class OidcEndpoints(Endpoints):
    """The exchange endpoints of one sandbox index."""

    def __init__(
        self,
        ctx: SandboxContext,
        settings: SandboxSettings,
        state: IndexState,
        identity: Identity | None,
    ) -> None:
        self.ctx = ctx
        self.settings = settings
        self.state = state
        self.identity = identity

    @route("GET", "/_/oidc/audience")
    async def audience(self, request: Request) -> Response:
        if self.settings.oidc_disallowed():
            return JSONResponse(
                {"message": "Trusted publishing functionality not enabled"}, status_code=403
            )
        return JSONResponse({"audience": self.ctx.audience})

    @route("POST", "/_/oidc/mint-token")
    @route("POST", "/_/oidc/github/mint-token")
    async def mint_token(self, request: Request) -> Response:
        body = await request.body()
        try:
            return self._exchange(request, body)
        except MintRefusal as refusal:
            return _refusal(refusal)

    def _lookup(
        self,
        entries: Sequence[PublisherEntry],
        claims: dict[str, Any],
        provider: str,
        iss: str,
        now: float,
    ) -> tuple[PublisherEntry | None, Lookup]:
        assert self.identity is not None
        canonical = self.identity.issuer_url(provider)
        publishers: list[Publisher] = [entry.publisher for entry in entries]
        lookup = find_publisher(
            publishers,
            claims,
            provider=provider,
            issuer=iss,
            canonical_issuer=canonical,
            jti_seen=lambda jti: self.state.jti_used(f"{iss}/{jti}", now),
        )
        for entry in entries:
            if lookup.publisher is not None and entry.publisher is lookup.publisher:
                return entry, lookup
        return None, lookup

    def _exchange(self, request: Request, body: bytes) -> Response:
        token = _payload_token(body)
        note_credential(request.scope, credential_kind(token, request.url.path), token)
        claims, provider, iss = self._verified(token)
        now = self.ctx.clock()
        with self.state.lock:
            self._reify_pending(claims, provider, iss, now)
            entry, found = self._lookup(
                self.state.publisher_entries(pending=False), claims, provider, iss, now
            )
            if found.reused:
                raise MintRefusal("invalid-reuse-token", "invalid token: already used")
            if entry is None:
                raise MintRefusal(
                    "invalid-publisher",
                    f"valid token, but no corresponding publisher ({found.reason})",
                )
            self._claim_jti(claims, iss, now)
            expires_at = int(now) + self.ctx.token_lifetime
            value = self.state.mint(
                TokenRecord(
                    kind="oidc",
                    projects=frozenset(canonicalize_name(p) for p in entry.projects),
                    expires=float(expires_at),
                    publisher_id=entry.id,
                )
            )
        return JSONResponse({"success": True, "token": value, "expires": expires_at})

    def _verified(self, token: str) -> tuple[dict[str, Any], str, str]:
        """The token's verified claims, its provider and its issuer (Warehouse's order)."""
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise MintRefusal("invalid-payload", "malformed JWT") from None
        iss = unverified.get("iss")
        if not isinstance(iss, str) or not iss:
            raise MintRefusal("invalid-payload", "malformed JWT")
        identity = self.identity
        provider = identity.provider_for_issuer(iss) if identity is not None else None
        if identity is None or provider is None:
            raise MintRefusal("invalid-payload", "unknown trusted publishing issuer")
        if self.settings.oidc_disallowed(provider):
            raise MintRefusal(
                "not-enabled", f"{provider} trusted publishing functionality not enabled"
            )
        try:
            claims = identity.verify(
                token, provider=provider, audience=self.ctx.audience, issuer=iss
            )
        except InvalidToken:  # the reason is never disclosed
            raise MintRefusal("invalid-token", "malformed or invalid token") from None
        return claims, provider, iss

    def _reify_pending(self, claims: dict[str, Any], provider: str, iss: str, now: float) -> None:
        """A matching pending publisher creates its project and becomes a normal publisher."""
        pending, _ = self._lookup(
            self.state.publisher_entries(pending=True), claims, provider, iss, now
        )
        if pending is None:
            return
        name = pending.projects[0]
        if not PROJECT_NAME.match(name):
            raise MintRefusal(
                "invalid-payload",
                f"The name '{name}' is invalid. See https://pypi.org/help/#project-name "
                "for more information.",
            )
        if self.state.project(name) is not None:
            self.state.remove_publisher(pending.id)
            raise MintRefusal(
                "invalid-pending-publisher", "valid token, but project already exists"
            )
        self.state.create_project(name)
        self.state.reify(pending)

    def _claim_jti(self, claims: dict[str, Any], iss: str, now: float) -> None:
        """Record the token's jti, per issuer, so that it mints once (PyPI's reuse check)."""
        jti = claims.get("jti")
        if not (isinstance(jti, str) and jti):
            return
        key = f"{iss}/{jti}"
        exp = claims.get("exp")
        expires = (float(exp) if isinstance(exp, (int, float)) else now) + _JTI_KEPT
        if not self.state.claim_jti(key, expires, now):
            raise MintRefusal("invalid-reuse-token", "invalid token: already used")

    @route("POST", "/_/oidc/burn-token")
    async def burn_token(self, request: Request) -> Response:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() not in ("token", "bearer") or not value:
            # Warehouse also takes the token from the JSON body {"token": ...}; uv sends only that.
            value = _body_token(await request.body())
        if not value:
            return error_response(request, 403, INVALID_AUTH)
        if not self.state.burn(value):
            return error_response(request, 403, INVALID_AUTH)
        return JSONResponse({"success": True})


def _body_token(body: bytes) -> str:
    """The ``token`` of a JSON object body, or ``""``."""
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    token = data.get("token") if isinstance(data, dict) else None
    return token.strip() if isinstance(token, str) else ""


__all__ = ["INVALID_AUTH", "Identity", "MintRefusal", "OidcEndpoints"]
