"""The Secret type and the output scrubber."""

from __future__ import annotations

import logging
import pickle

import pytest

from trustpub._secret import (
    REDACTED,
    RedactingFilter,
    Secret,
    forget_all,
    github_mask_command,
    scrub,
    scrub_outside,
)

CANARY_JWT = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImNhbmFyeSJ9."
    "eyJpc3MiOiJjYW5hcnkiLCJzdWIiOiJjYW5hcnktc3ViamVjdCJ9."
    "Q0FOQVJZLXNpZ25hdHVyZS1kby1ub3QtbGVhaw"
)
CANARY_API = "pypi-AgEIcHlwaS5vcmcCJDU3Y2FuYXJ5LXRva2VuLWRvLW5vdC1sZWFr"


@pytest.fixture(autouse=True)
def _clean() -> None:
    forget_all()


def test_secret_never_shows_its_value() -> None:
    secret = Secret(CANARY_API)
    for text in (str(secret), repr(secret), f"{secret}", f"{secret!r}", f"{secret}"):
        assert CANARY_API not in text
        assert REDACTED in text
    assert secret.reveal() == CANARY_API


def test_secret_refuses_pickling() -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(Secret(CANARY_API))


def test_scrub_removes_whole_tokens_and_pieces() -> None:
    Secret(CANARY_JWT)
    Secret(CANARY_API)
    _header, _payload, signature = CANARY_JWT.split(".")
    text = (
        f"whole={CANARY_JWT} sig={signature} api={CANARY_API} "
        f"body={CANARY_API[5:]} cut={CANARY_API[:30]} mid={signature[4:20]}"
    )
    cleaned = scrub(text)
    assert signature not in cleaned
    assert CANARY_API[5:25] not in cleaned
    assert signature[4:20] not in cleaned
    assert CANARY_API[:30] not in cleaned
    assert "whole=***" in cleaned


def test_scrub_leaves_ordinary_text_alone() -> None:
    Secret(CANARY_API)
    text = "Uploading example_pkg-1.0-py3-none-any.whl (1.2 kB)"
    assert scrub(text) == text


def test_unregistered_secret_is_not_scrubbed_but_still_redacts_itself() -> None:
    secret = Secret(CANARY_API, register=False)
    assert scrub(CANARY_API) == CANARY_API
    assert CANARY_API not in repr(secret)


def test_logging_filter_scrubs_arguments() -> None:
    Secret(CANARY_API)
    record = logging.LogRecord(
        "trustpub", logging.DEBUG, __file__, 1, "token %s", (CANARY_API,), None
    )
    assert RedactingFilter().filter(record)
    assert CANARY_API not in record.getMessage()


def test_github_mask_command_carries_the_value() -> None:
    assert github_mask_command(Secret(CANARY_API)) == f"::add-mask::{CANARY_API}"


def _encodings(value: str) -> dict[str, str]:
    import base64
    import html

    raw = value.encode()
    return {
        "base64": base64.b64encode(raw).decode(),
        "base64-offset-1": base64.b64encode(b'{"' + raw + b'"}').decode(),
        "base64-offset-2": base64.b64encode(b"t=" + raw).decode(),
        "base64-cut-start": base64.b64encode(b"abcd" + raw).decode()[4:],
        "urlsafe": base64.urlsafe_b64encode(b"x" + raw).decode().rstrip("="),
        "hex": raw.hex(),
        "HEX": raw.hex().upper(),
        "percent": "".join(f"%{byte:02X}" for byte in raw),
        "html-decimal": "".join(f"&#{byte};" for byte in raw),
        "html-hex": "".join(f"&#x{byte:x};" for byte in raw),
        "html-escape": html.escape(value),
        "basic": base64.b64encode(f"__token__:{value}".encode()).decode(),
    }


@pytest.mark.parametrize("name", sorted(_encodings(CANARY_API)))
@pytest.mark.parametrize("value", [CANARY_API, CANARY_JWT, "Sh0rt7"])
def test_scrub_catches_every_encoding(name: str, value: str) -> None:
    Secret(value)
    encoded = _encodings(value)[name]
    cleaned = scrub(f"index said: {encoded} (end)")
    assert encoded not in cleaned
    assert cleaned.startswith("index said: ")
    assert cleaned.endswith(" (end)")
    assert value not in cleaned


def test_scrub_catches_short_pieces_of_a_long_token() -> None:
    Secret(CANARY_API)
    pieces = " ".join(CANARY_API[i : i + 9] for i in range(0, len(CANARY_API), 9))
    cleaned = scrub(pieces)
    assert all(CANARY_API[i : i + 9] not in cleaned for i in range(9, len(CANARY_API) - 9, 9))


def test_a_short_token_is_scrubbed_only_as_a_word() -> None:
    Secret("Sh0rt7")
    assert scrub("token Sh0rt7 refused") == f"token {REDACTED} refused"
    assert scrub("xSh0rt7y stays") == "xSh0rt7y stays"


def test_whitespace_problem() -> None:
    from trustpub._secret import whitespace_problem

    assert whitespace_problem(CANARY_API) is None
    assert whitespace_problem("pypi-abc\ndef") == "it contains whitespace"
    assert whitespace_problem("pypi-abc def") == "it contains whitespace"
    assert whitespace_problem("pypi-abc\x00def") == "it contains a control character"


def test_outside_text_loses_an_unknown_token_that_shares_a_known_ones_header() -> None:
    """A known JWT's pieces (its common RS256 header) must not cut an unknown one short."""
    Secret(CANARY_JWT)
    unknown = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImNhbmFyeSJ9.eyJzdWIiOiJvdGhlciJ9.b3RoZXItc2lnbmF0dXJl"
    cleaned = scrub_outside(f"the index said: {unknown} was refused")
    assert cleaned == f"the index said: {REDACTED} was refused"
