"""Property tests: parsers of untrusted input never crash and never echo a token.

* ``oidc.claims.decode_unverified``: any text either decodes or raises
  :class:`IdentityError`, whose text holds no recognisable piece of the input.
* The exchange's parsing of audience and mint answers, through a real
  :class:`TrustedPublisher` over an ``httpx.MockTransport``: any status, headers,
  reason phrase and body (which may embed the OIDC token) gives a credential or
  a :class:`TrustpubError`, and the error's text never holds the token.
* The upload's error-message extraction (``server_message``): any answer gives
  a string without the upload token.

"Holds no piece" means no 12-character window of the secret (see helpers_canary).
"""

from __future__ import annotations

import base64
import contextlib
import json
import string
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers_canary import canary_api_token, canary_jwt, leaks
from trustpub._secret import Secret
from trustpub.errors import IdentityError, TrustpubError
from trustpub.exchange import TrustedPublisher, parse_audience, parse_mint_errors, parse_minted
from trustpub.oidc.claims import decode_unverified
from trustpub.providers import Detection
from trustpub.repository import resolve_repository
from trustpub.upload.uploader import server_message

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

B64URL = string.ascii_letters + string.digits + "-_"


def error_text(error: TrustpubError) -> str:
    return "\n".join([str(error), error.diagnostics(), *error.details])


def assert_no_piece(text: str, secret: str) -> None:
    found = leaks(text, secret)
    assert not found, f"a piece of the secret is in: {text[:500]!r}"


# ---------------------------------------------------------------------- claims


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)

segments = st.one_of(
    st.text(alphabet=B64URL, min_size=0, max_size=60),
    st.text(max_size=40),
    json_values.map(lambda value: _b64(json.dumps(value).encode())),
    st.binary(max_size=40).map(_b64),
)


@SETTINGS
@given(st.text(max_size=300))
def test_decode_arbitrary_text_raises_only_identity_errors(text: str) -> None:
    with contextlib.suppress(IdentityError):
        decode_unverified(text)


@SETTINGS
@given(st.lists(segments, min_size=1, max_size=5), st.sampled_from([".", "..", ". ", ""]))
def test_decode_token_shaped_input_never_echoes_it(parts: list[str], glue: str) -> None:
    token = glue.join(parts)
    try:
        decoded = decode_unverified(token)
    except IdentityError as error:
        text = error_text(error)
        for part in parts:
            # Only pieces that look like secret material (base64url runs) must not come back.
            if len(part) >= 12 and all(c in B64URL for c in part):
                assert_no_piece(text, part)
    else:
        assert isinstance(decoded.claims, dict)


@SETTINGS
@given(json_values)
def test_decode_any_json_payload(payload: Any) -> None:
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    token = f"{header}.{_b64(json.dumps(payload).encode())}.{_b64(b'x' * 40)}"
    try:
        decoded = decode_unverified(token)
    except IdentityError as error:
        assert_no_piece(error_text(error), token.split(".")[2])
        return
    # A decoded token's helpers tolerate any claim types.
    with contextlib.suppress(TrustpubError):
        for helper in ("issuer", "audience", "expires_at", "not_before", "issued_at", "jti"):
            getattr(decoded, helper)


# ---------------------------------------------------------------------- index answers


STATUSES = [200, 201, 204, 301, 302, 307, 400, 401, 403, 404, 405, 409, 413, 422, 429, 500, 503]
CONTENT_TYPES = ["application/json", "text/html", "text/plain", "", "application/octet-stream"]


@st.composite
def answers(draw: st.DrawFn, secret: str) -> tuple[int, dict[str, str], bytes, bytes]:
    """(status, headers, reason phrase, body) possibly embedding ``secret`` anywhere."""
    status = draw(st.sampled_from(STATUSES))
    embed = draw(st.booleans())
    shape = draw(st.sampled_from(["json", "errors", "html", "text", "binary"]))
    token_value: Any = secret if embed else draw(json_values)
    if shape == "json":
        document: Any = draw(
            st.dictionaries(
                st.sampled_from(["audience", "token", "success", "expires", "message", "detail"]),
                st.one_of(json_values, st.just(token_value)),
                max_size=5,
            )
        )
        body = json.dumps(document).encode()
    elif shape == "errors":
        codes = st.sampled_from(
            [
                "invalid-payload",
                "invalid-token",
                "invalid-publisher",
                "invalid-pending-publisher",
                "invalid-reuse-token",
                "not-enabled",
                "bogus",
                "",
            ]
        )
        description = st.one_of(
            st.text(max_size=40), st.just(f"bad token {secret}" if embed else "x")
        )
        entries = draw(
            st.lists(
                st.one_of(
                    st.fixed_dictionaries({"code": codes, "description": description}),
                    json_values,
                ),
                max_size=3,
            )
        )
        body = json.dumps({"errors": entries, "message": token_value if embed else "m"}).encode()
    elif shape == "html":
        inner = draw(st.text(max_size=80)) + (f" {secret} " if embed else "")
        body = f"<html><body><pre>{inner}</pre></body></html>".encode()
    elif shape == "text":
        body = (draw(st.text(max_size=120)) + (secret if embed else "")).encode()
    else:
        body = draw(st.binary(max_size=200))
    headers = {}
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    if content_type:
        headers["content-type"] = content_type
    if 300 <= status < 400 and draw(st.booleans()):
        headers["location"] = draw(st.sampled_from(["https://elsewhere.example/", "/x", ""]))
    reason_text = draw(st.text(alphabet=string.ascii_letters + " -", max_size=30))
    if embed and draw(st.booleans()):
        reason_text += " " + secret
    return status, headers, reason_text.encode("ascii"), body


def _response(status: int, headers: dict[str, str], reason: bytes, body: bytes) -> httpx.Response:
    return httpx.Response(
        status, headers=headers, content=body, extensions={"reason_phrase": reason}
    )


TARGET = resolve_repository("https://index.example/legacy/")


def _publisher(
    token: str, audience_answer: httpx.Response | None, mint_answer: httpx.Response | None
) -> TrustedPublisher:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/_/oidc/audience":
            return audience_answer or httpx.Response(200, json={"audience": "fake-audience"})
        if request.url.path == "/_/oidc/mint-token":
            assert mint_answer is not None
            return mint_answer
        return httpx.Response(404)

    secret = Secret(token)
    detection = Detection(
        provider="env",
        description="canary",
        fetcher=lambda audience, client: secret,
        static_token=True,
    )
    client = httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=False)
    return TrustedPublisher(TARGET, detection, client=client, retries=0, sleep=lambda _s: None)


@st.composite
def token_and_answer(draw: st.DrawFn) -> tuple[str, tuple[int, dict[str, str], bytes, bytes]]:
    token = canary_jwt()
    return token, draw(answers(token))


@SETTINGS
@given(token_and_answer())
def test_mint_answers_never_crash_or_echo_the_oidc_token(
    case: tuple[str, tuple[int, dict[str, str], bytes, bytes]],
) -> None:
    token, (status, headers, reason, body) = case
    response = _response(status, headers, reason, body)
    # The pure parsers first: they return a value or None, never raise.
    parse_minted(response, now=0.0)
    parse_mint_errors(response)
    publisher = _publisher(token, None, _response(status, headers, reason, body))
    try:
        credential = publisher.credential()
    except TrustpubError as error:
        assert_no_piece(error_text(error), token)
    else:
        assert credential.password.reveal()
    finally:
        publisher._client.close()


@SETTINGS
@given(token_and_answer())
def test_audience_answers_never_crash_or_echo_a_token(
    case: tuple[str, tuple[int, dict[str, str], bytes, bytes]],
) -> None:
    token, (status, headers, reason, body) = case
    Secret(token)  # a token this process knows (as after an earlier fetch)
    parse_audience(_response(status, headers, reason, body))
    publisher = _publisher(token, _response(status, headers, reason, body), None)
    try:
        audience = publisher.audience()
    except TrustpubError as error:
        assert_no_piece(error_text(error), token)
    else:
        assert isinstance(audience, str)
        assert audience.strip()
    finally:
        publisher._client.close()


@st.composite
def upload_answers(draw: st.DrawFn) -> tuple[str, tuple[int, dict[str, str], bytes, bytes]]:
    token = canary_api_token()
    return token, draw(answers(token))


@SETTINGS
@given(upload_answers())
def test_upload_error_messages_never_crash_or_echo_the_upload_token(
    case: tuple[str, tuple[int, dict[str, str], bytes, bytes]],
) -> None:
    token, (status, headers, reason, body) = case
    Secret(token)  # the upload credential, registered as the uploader's is
    message = server_message(_response(status, headers, reason, body))
    assert isinstance(message, str)
    assert_no_piece(message, token)


@pytest.mark.parametrize("status", [400, 403, 500])
def test_server_message_example_with_the_token_in_reason_and_body(status: int) -> None:
    """A fixed example of the property, so a regression names itself."""
    token = canary_api_token()
    Secret(token)
    response = _response(
        status, {"content-type": "text/plain"}, f"Bad {token}".encode(), f"bad {token}".encode()
    )
    message = server_message(response)
    assert message
    assert_no_piece(message, token)
