"""Unverified JWT decoding: values, helpers, and errors that never echo the token."""

from __future__ import annotations

import base64
import json

import pytest

from trustpub.errors import IdentityError
from trustpub.oidc.claims import DecodedToken, claim_text, decode_unverified

CANARY = "CANARYsecretVALUE0123456789"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(claims: object, header: object | None = None) -> str:
    head = {"alg": "RS256", "kid": "k1", "typ": "JWT"} if header is None else header
    return ".".join(
        (_b64(json.dumps(head).encode()), _b64(json.dumps(claims).encode()), _b64(b"sig" * 20))
    )


def test_decodes_header_and_claims() -> None:
    token = decode_unverified(
        make_jwt(
            {
                "iss": "https://issuer.example",
                "aud": "pypi",
                "exp": 2000,
                "nbf": 900,
                "iat": 1000.5,
                "jti": "abc",
                "ünïcode": "välue",
            }
        )
    )
    assert token.header["kid"] == "k1"
    assert token.issuer == "https://issuer.example"
    assert token.audience == "pypi"
    assert token.expires_at == 2000.0
    assert token.not_before == 900.0
    assert token.issued_at == 1000.5
    assert token.jti == "abc"
    assert token.claims["ünïcode"] == "välue"


def test_helpers_tolerate_odd_types() -> None:
    token = DecodedToken(
        header={}, claims={"iss": 5, "aud": ["a", "b"], "exp": True, "iat": "1", "jti": 3}
    )
    assert token.issuer is None
    assert token.audience == ["a", "b"]
    assert token.expires_at is None
    assert token.issued_at is None
    assert token.jti is None
    assert DecodedToken({}, {"aud": ["a", 1]}).audience is None


def test_claim_text() -> None:
    assert claim_text(None) is None
    assert claim_text("x") == "x"
    assert claim_text(True) == "true"
    assert claim_text(["b", "a"]) == '["b", "a"]'
    assert DecodedToken({}, {"email_verified": False}).claim_text("email_verified") == "false"
    assert DecodedToken({}, {}).claim_text("absent") is None


def test_surrounding_whitespace_is_ignored() -> None:
    assert decode_unverified("\n " + make_jwt({"iss": "x"}) + "\n").issuer == "x"


def _payload(text: str) -> str:
    return _b64(text.encode())


@pytest.mark.parametrize(
    ("token", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (CANARY, "1 dot-separated part"),
        (f"{CANARY}.{CANARY}", "2 dot-separated part"),
        (f"{CANARY}.{CANARY}.{CANARY}.{CANARY}", "4 dot-separated part"),
        (f"{CANARY} .{CANARY}.x", "whitespace"),
        (f".{_payload('{}')}.sig", "header is empty"),
        (f"{_payload('{}')}..sig", "payload is empty"),
        (f"{CANARY}!!.{_payload('{}')}.sig", "header is not valid base64url"),
        (f"{_payload('{}')}.{_payload(CANARY)}.sig", "payload is not JSON"),
        (f"{_payload('{}')}.{_payload('[1, 2]')}.sig", "payload is not a JSON object"),
        (f"{_payload('null')}.{_payload('{}')}.sig", "header is not a JSON object"),
        (
            f"{_payload('{}')}.{_b64(bytes([0xFF, 0xFE]) + CANARY.encode())}.sig",
            "payload is not JSON",
        ),
    ],
)
def test_malformed_tokens_raise_without_echoing(token: str, fragment: str) -> None:
    with pytest.raises(IdentityError) as caught:
        decode_unverified(token)
    error = caught.value
    assert fragment in error.message
    assert error.anchor == "malformed-oidc-token"
    text = error.diagnostics() + repr(error) + str(error)
    assert CANARY not in text
    for piece in token.split("."):
        if len(piece) >= 8:
            assert piece not in text
