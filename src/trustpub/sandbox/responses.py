"""Warehouse-style responses and per-request bookkeeping shared by the endpoints.

PyPI puts an upload error's message in the status line's reason phrase (and
403 bodies do not repeat it). ASGI has no field for a reason phrase, so an
endpoint sets the private header ``x-sandbox-reason``; the middleware in
``app.py`` removes it and the server's HTTP protocol (``server.py``) writes it
into the status line.
"""

from __future__ import annotations

import contextvars
import html
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.types import Scope

from trustpub._secret import is_jwt_shaped
from trustpub.errors import IdentityError
from trustpub.oidc.claims import decode_unverified
from trustpub.oidc.validity import SIGSTORE_AUDIENCE
from trustpub.sandbox.state import fingerprint

REASON_HEADER = "x-sandbox-reason"
CREDENTIALS_KEY = "trustpub.sandbox.credentials"

reason_phrase: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "sandbox_reason_phrase", default=None
)
"""The reason phrase the current response should carry (set by the middleware)."""

_TITLES = {
    400: "Bad Request",
    403: "Forbidden",
    409: "Conflict",
    410: "Gone",
    429: "Too Many Requests",
}


def status_line_safe(text: str) -> str:
    """A reason phrase: one line, latin-1 only (other characters become ``?``)."""
    one_line = " ".join(text.split())
    return one_line.encode("latin-1", "replace").decode("latin-1")


def error_response(request: Request, status: int, message: str) -> Response:
    """An error with the message in the reason phrase and, for 4xx other than 403/410, the body."""
    headers = {REASON_HEADER: status_line_safe(message)}
    title = _TITLES.get(status, "Error")
    if status in (403, 410):
        body = f"<html><head><title>{status} {title}</title></head><body><h1>{title}</h1></body></html>"
        return HTMLResponse(body, status_code=status, headers=headers)
    accept = request.headers.get("accept", "")
    if "application/json" in accept:
        payload = {"message": message, "code": f"{status} {message}", "title": title}
        return JSONResponse(payload, status_code=status, headers=headers)
    if "text/html" in accept or "*/*" in accept or not accept:
        escaped = html.escape(message)
        body = (
            f"<html><head><title>{status} {title}</title></head><body><h1>{status} {title}</h1>"
            f"The server could not comply with the request since it is either malformed or "
            f"otherwise incorrect.<br/><br/>\n{escaped}\n</body></html>"
        )
        return HTMLResponse(body, status_code=status, headers=headers)
    return PlainTextResponse(
        f"{status} {title}\n\n{message}\n", status_code=status, headers=headers
    )


def credential_kind(value: str, path: str) -> str:
    """What a credential looks like: ``api-token``, ``oidc``, ``sigstore-oidc`` or ``github-request-token``.

    An OIDC token for the ``sigstore`` audience (what a client signs attestations with) is
    told apart from one for the index, so the log shows which of the two reached where.
    """
    if value.startswith("pypi-"):
        return "api-token"
    if is_jwt_shaped(value):
        return "sigstore-oidc" if _audience(value) == SIGSTORE_AUDIENCE else "oidc"
    if path.startswith("/_sandbox/github/"):
        return "github-request-token"
    return "other"


def _audience(token: str) -> object:
    try:
        return decode_unverified(token).claims.get("aud")
    except IdentityError:
        return None


def note_credential(scope: Scope, kind: str, value: str) -> None:
    """Record (by fingerprint only) that a credential of ``kind`` reached this request."""
    notes: list[dict[str, Any]] = scope.setdefault(CREDENTIALS_KEY, [])
    item = {"kind": kind, "fingerprint": fingerprint(value.strip())}
    if item not in notes:
        notes.append(item)


__all__ = [
    "CREDENTIALS_KEY",
    "REASON_HEADER",
    "credential_kind",
    "error_response",
    "note_credential",
    "reason_phrase",
    "status_line_safe",
]
