"""HTTP endpoints of the sandbox's Sigstore, mounted on the sandbox's app.

* ``POST /api/v2/signingCert`` and ``GET /api/v2/trustBundle`` (Fulcio's REST
  paths; sigstore-python joins them to the CA URL's root);
* ``POST /_sandbox/rekor/api/v1/log/entries`` and ``GET /_sandbox/rekor/api/v1/log``.

The CA accepts only tokens of the sandbox's own issuers with audience
``sigstore``, verified exactly as the index verifies minting tokens.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from trustpub.oidc.publishers import Provider
from trustpub.oidc.validity import SIGSTORE_AUDIENCE
from trustpub.sandbox.routing import Endpoints, route
from trustpub.sandbox.sigstore.fulcio import FulcioRefusal, issue
from trustpub.sandbox.sigstore.keys import SigstoreKeys
from trustpub.sandbox.sigstore.rekor import RekorLog, RekorRefusal
from trustpub.sandbox.sigstore.trust import REKOR_PATH, write_trust_config

if TYPE_CHECKING:
    from trustpub.sandbox.context import SandboxContext
    from trustpub.sandbox.mint import Identity

_BAD_TOKEN = "There was an error processing the identity token"  # noqa: S105 - a message


def _fulcio_error(status: int, message: str) -> JSONResponse:
    # grpc-gateway's error shape, as Fulcio answers (16 = UNAUTHENTICATED, 3 = INVALID_ARGUMENT).
    code = 16 if status == 401 else 3
    return JSONResponse({"code": code, "message": message, "details": []}, status_code=status)


class SigstoreServices(Endpoints):
    """The CA and the log of one sandbox, and its trust configuration file."""

    def __init__(self, ctx: SandboxContext, identity: Identity) -> None:
        self._ctx = ctx
        self._identity = identity
        folder = ctx.state_dir / "sigstore"
        self.keys = SigstoreKeys.load(folder)
        host = urlsplit(ctx.base_url).netloc
        self.log = RekorLog(self.keys, folder, host)
        self.trust_config: Path = write_trust_config(self.keys, ctx.base_url, ctx.state_dir)

    def _verified_identity(self, request: Request) -> tuple[Provider, dict[str, Any]]:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise FulcioRefusal(401, _BAD_TOKEN)
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise FulcioRefusal(401, _BAD_TOKEN) from None
        name = self._identity.provider_for_issuer(str(unverified.get("iss", "")))
        if name is None:
            raise FulcioRefusal(401, _BAD_TOKEN)
        from trustpub.sandbox.identity import InvalidToken

        try:
            claims = self._identity.verify(token, provider=name, audience=SIGSTORE_AUDIENCE)
        except InvalidToken:
            raise FulcioRefusal(401, _BAD_TOKEN) from None
        return Provider(name), claims

    def _certificate_chain(self, body: bytes, request: Request) -> list[str]:
        provider, claims = self._verified_identity(request)
        try:
            data = json.loads(body)
            pem = base64.b64decode(data["certificateSigningRequest"], validate=True)
            csr = x509.load_pem_x509_csr(pem)
        except (ValueError, KeyError, TypeError):
            raise FulcioRefusal(
                400, "There was an error processing the certificate request"
            ) from None
        leaf = issue(self.keys, csr, provider, claims, self._ctx.clock())
        return [
            c.public_bytes(serialization.Encoding.PEM).decode("ascii")
            for c in (leaf, self.keys.root)
        ]

    @route("POST", "/api/v2/signingCert")
    async def _signing_cert(self, request: Request) -> Response:
        body = await request.body()
        try:
            chain = await run_in_threadpool(self._certificate_chain, body, request)
        except FulcioRefusal as refusal:
            return _fulcio_error(refusal.status, refusal.message)
        answer = {"signedCertificateEmbeddedSct": {"chain": {"certificates": chain}}}
        return JSONResponse(answer, status_code=201)

    @route("GET", "/api/v2/trustBundle")
    async def _trust_bundle(self, request: Request) -> Response:
        root = self.keys.root.public_bytes(serialization.Encoding.PEM).decode("ascii")
        return JSONResponse({"chains": [{"certificates": [root]}]})

    @route("POST", f"{REKOR_PATH}/api/v1/log/entries")
    async def _log_entry(self, request: Request) -> Response:
        try:
            proposed = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"code": 400, "message": "the body is not JSON"}, 400)
        try:
            entry = await run_in_threadpool(self.log.append, proposed, self._ctx.clock())
        except RekorRefusal as refusal:
            return JSONResponse(
                {"code": refusal.status, "message": refusal.message}, refusal.status
            )
        return JSONResponse(entry, status_code=201)

    @route("GET", f"{REKOR_PATH}/api/v1/log")
    async def _log_info(self, request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(self.log.info))


__all__ = ["SigstoreServices"]
