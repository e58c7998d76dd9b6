"""The sandbox index as one ASGI application.

:func:`build_app` puts together the exchange endpoints (``mint.py``), the
upload endpoint (``legacy.py``), the read side (``pages.py``), the identity
providers' routes (``identity.py``) and the sandbox-only admin routes:

* ``POST /_sandbox/publishers`` (JSON publisher mapping) registers a publisher;
* ``DELETE /_sandbox/publishers`` removes them all;
* ``GET /_sandbox/log`` returns ``{"requests": [...]}``, the record of every
  request: method, path, status and the credentials that reached it, by kind
  (``oidc``, ``api-token``, ``github-request-token``) and fingerprint.

:class:`SandboxMiddleware` wraps it all: it writes the request log, injects
faults and moves the ``x-sandbox-reason`` header into the reason phrase.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trustpub.errors import TrustpubError
from trustpub.oidc.publishers import Publisher
from trustpub.sandbox.config import SandboxSettings
from trustpub.sandbox.context import SandboxContext
from trustpub.sandbox.faults import FaultPlan, SimulatedCut, UploadHold
from trustpub.sandbox.legacy import UploadEndpoint
from trustpub.sandbox.mint import Identity, OidcEndpoints
from trustpub.sandbox.pages import IndexEndpoints
from trustpub.sandbox.responses import (
    CREDENTIALS_KEY,
    REASON_HEADER,
    credential_kind,
    note_credential,
    reason_phrase,
)
from trustpub.sandbox.routing import Endpoints, route
from trustpub.sandbox.state import IndexState, PublisherEntry

_REASON = REASON_HEADER.encode()


def _note_authorization(scope: Scope) -> None:
    header = ""
    for key, raw in scope.get("headers", []):
        if key == b"authorization":
            header = raw.decode("latin-1").strip()
    if not header:
        return
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "basic":
        try:
            value = base64.b64decode(value, validate=True).decode("utf-8").partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return
    if value:
        note_credential(scope, credential_kind(value.strip(), scope["path"]), value)


async def _drop_connection(send: Send) -> bool:
    """Abort the TCP connection under this request (uvicorn's h11 cycle owns the transport)."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    abort = getattr(transport, "abort", None)
    if not callable(abort):
        return False
    abort()
    for _ in range(1000):  # let the server notice the lost connection before we return
        if getattr(send.__self__, "disconnected", True):  # type: ignore[attr-defined]
            break
        await asyncio.sleep(0.001)
    return True


class SandboxMiddleware:
    """Request log, fault injection and reason phrases around the index."""

    def __init__(self, app: ASGIApp, state: IndexState, faults: FaultPlan) -> None:
        self.app = app
        self.state = state
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        _note_authorization(scope)
        outcome: dict[str, Any] = {"status": None}

        async def send_with_reason(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                custom = [value for key, value in headers if key.lower() == _REASON]
                reason_phrase.set(custom[0].decode("latin-1") if custom else None)
                outcome["status"] = message["status"]
                message = {
                    **message,
                    "headers": [(k, v) for k, v in headers if k.lower() != _REASON],
                }
            await send(message)

        def record() -> None:
            if outcome.get("recorded") or (
                scope["method"] == "GET" and scope["path"] == "/_sandbox/log"
            ):
                return
            outcome["recorded"] = True
            entry = {
                "time": time.time(),
                "method": scope["method"],
                "path": scope["path"],
                "status": outcome["status"],
                "credentials": list(scope.get(CREDENTIALS_KEY, [])),
            }
            if "fault" in outcome:
                entry["fault"] = outcome["fault"]
            self.state.record(entry)

        fault = self.faults.decide(scope["path"])
        try:
            if fault == "fail":
                outcome["fault"] = fault
                response = Response(
                    "Service Unavailable (sandbox fault injection)\n",
                    status_code=503,
                    media_type="text/plain",
                    headers={"retry-after": "0"},
                )
                await response(scope, receive, send_with_reason)
            elif fault == "cut":
                outcome["fault"] = fault
                await receive()  # take (part of) the request, then drop the connection
                record()  # before the client can notice the drop and ask for the log
                if not await _drop_connection(send):
                    # No transport in reach: start a response and abort it half-way.
                    await send_with_reason(
                        {
                            "type": "http.response.start",
                            "status": 200,
                            "headers": [(b"content-length", b"1024")],
                        }
                    )
                    await send({"type": "http.response.body", "body": b"{", "more_body": True})
                    raise SimulatedCut("sandbox fault injection: connection cut")
            else:
                await self.app(scope, receive, send_with_reason)
        finally:
            record()


def _entry_json(entry: PublisherEntry) -> dict[str, Any]:
    return {"id": entry.id, "projects": list(entry.projects), "pending": entry.pending}


class AdminEndpoints(Endpoints):
    """``/_sandbox/publishers`` and ``/_sandbox/log``."""

    def __init__(self, state: IndexState, hold: UploadHold | None = None) -> None:
        self.state = state
        self.hold = hold or UploadHold()

    @route("POST", "/_sandbox/publishers")
    async def add_publisher(self, request: Request) -> Response:
        try:
            data = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"error": "the body is not JSON"}, status_code=400)
        if not isinstance(data, dict):
            return JSONResponse({"error": "expected a JSON object"}, status_code=400)
        try:
            publisher = Publisher.from_mapping(data, where="POST /_sandbox/publishers")
        except TrustpubError as error:
            return JSONResponse({"error": error.message, "hint": error.hint}, status_code=400)
        entry = self.state.add_publisher(publisher)
        return JSONResponse(_entry_json(entry), status_code=201)

    @route("DELETE", "/_sandbox/publishers")
    async def clear_publishers(self, request: Request) -> Response:
        count = len(self.state.publishers)
        self.state.clear_publishers()
        return JSONResponse({"removed": count})

    @route("GET", "/_sandbox/publishers")
    async def list_publishers(self, request: Request) -> Response:
        with self.state.lock:
            entries = [_entry_json(e) for e in self.state.publishers]
        return JSONResponse({"publishers": entries})

    @route("POST", "/_sandbox/hold")
    async def start_hold(self, request: Request) -> Response:
        """Hold uploads from now on (``{"after": n}``: after ``n`` more went through)."""
        try:
            data = json.loads(await request.body() or b"{}")
            after = int(data.get("after", 0)) if isinstance(data, dict) else 0
        except (ValueError, TypeError):
            return JSONResponse({"error": 'expected {"after": <int>}'}, status_code=400)
        self.hold.start(after)
        return JSONResponse({"holding": True, "after": after})

    @route("POST", "/_sandbox/release")
    async def release_hold(self, request: Request) -> Response:
        return JSONResponse({"released": await self.hold.release()})

    @route("GET", "/_sandbox/held")
    async def held(self, request: Request) -> Response:
        """Answer once ``count`` uploads are held (408 after ``timeout`` seconds, at most 120)."""
        try:
            count = int(request.query_params.get("count", "1"))
            timeout = min(120.0, float(request.query_params.get("timeout", "60")))
        except ValueError:
            return JSONResponse({"error": "count and timeout are numbers"}, status_code=400)
        reached = await self.hold.wait_for(count, timeout)
        return JSONResponse({"held": self.hold.held}, status_code=200 if reached else 408)

    @route("GET", "/_sandbox/log")
    async def log(self, request: Request) -> Response:
        return JSONResponse({"requests": self.state.log_entries()})


def build_app(
    ctx: SandboxContext,
    settings: SandboxSettings,
    state: IndexState,
    identity: Identity | None,
) -> ASGIApp:
    """The complete sandbox index application."""
    routes: list[BaseRoute] = []
    routes += OidcEndpoints(ctx, settings, state, identity).routes()
    hold = UploadHold()
    routes += UploadEndpoint(ctx, settings, state, hold).routes()
    routes += IndexEndpoints(state).routes()
    routes += AdminEndpoints(state, hold).routes()
    if identity is not None:
        routes += identity.routes()
        from trustpub.sandbox.sigstore.service import SigstoreServices

        routes += SigstoreServices(ctx, identity).routes()
    inner = Starlette(routes=routes)
    faults = FaultPlan(fail_rate=settings.fail_rate, cut_rate=settings.cut_rate, seed=settings.seed)
    return SandboxMiddleware(inner, state, faults)


__all__ = ["AdminEndpoints", "SandboxMiddleware", "build_app"]
