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
