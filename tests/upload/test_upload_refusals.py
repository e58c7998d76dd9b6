"""The one table of upload refusals: cause, hint and troubleshooting anchor per index message.

The messages are the ones Warehouse's upload endpoint answers with, as
../shared/reference/warehouse-server.md lists them; the sandbox's /legacy/
endpoint (sandbox/legacy.py) answers most of them the same way, and
tests/upload/test_upload_sandbox.py checks the anchors end to end.
"""

from __future__ import annotations

import pytest

from trustpub.oidc.diagnostics import Explanation
from trustpub.upload.refusals import classify, explain_upload_refusal


def render(explanation: Explanation | None) -> str:
    assert explanation is not None
    return "\n".join(
        [
            explanation.message,
            *explanation.details,
            f"hint: {explanation.hint}",
            f"anchor: {explanation.anchor}",
        ]
    )


NON_USER = (
    "Non-user identities cannot create new projects. This was probably caused by successfully "
    "using a pending publisher but specifying the project name incorrectly (either in the "
    "publisher or in your project's metadata). Please ensure that both match. See: "
    "https://docs.pypi.org/trusted-publishers/troubleshooting/"
)


def test_upload_refusal_non_user_identities() -> None:
    assert render(explain_upload_refusal(400, NON_USER, trusted=True, project="pkg")) == (
        "the index refused the upload of pkg: Non-user identities cannot create new projects\n"
        f"index said: HTTP 400 {NON_USER}\n"
        "Likely cause: the upload's project name differs from the project the pending publisher "
        "created (or no project exists for it)\n"
        "a token minted by trusted publishing cannot create projects; only a pending publisher "
        "can, and only for its own project name\n"
        "hint: make the distribution's name equal the pending publisher's project name; if a "
        "wrong project was created, delete it and register a new pending publisher with the "
        "right name\n"
        "anchor: non-user-identities"
    )


@pytest.mark.parametrize(
    ("message", "anchor", "first_line"),
    [
        (
            "File already exists ('pkg-1.0.tar.gz', with blake2_256 hash 'ab'). See https://pypi.org/help/#file-name-reuse for more information.",
            "file-already-exists",
            "the index refused the upload of pkg: File already exists ('pkg-1.0.tar.gz', with blake2_256 hash 'ab')",
        ),
        (
            "Invalid API Token: OIDC scoped token is not valid for project 'pkg'",
            "token-not-valid-for-project",
            "the index refused the upload of pkg: Invalid API Token: OIDC scoped token is not valid for project 'pkg'",
        ),
        (
            "Invalid API Token: token is expired",
            "token-expired",
            "the index refused the upload of pkg: Invalid API Token: token is expired",
        ),
        (
            "Uploading new files to releases older than 14 days is not allowed.",
            "release-older-than-14-days",
            "the index refused the upload of pkg: Uploading new files to releases older than 14 days is not allowed.",
        ),
        (
            "Only one sdist may be uploaded per release.",
            "one-sdist-per-release",
            "the index refused the upload of pkg: Only one sdist may be uploaded per release.",
        ),
        (
            "File too large. Limit for project 'pkg' is 100 MB. See https://docs.pypi.org/project-management/storage-limits#requesting-a-file-size-limit-increase for more information.",
            "file-too-large",
            "the index refused the upload of pkg: File too large",
        ),
        (
            "This filename was previously used by a file that has since been deleted. Use a different version.",
            "file-name-reuse",
            "the index refused the upload of pkg: This filename was previously used by a file that has since been deleted",
        ),
    ],
)
def test_upload_refusals(message: str, anchor: str, first_line: str) -> None:
    explanation = explain_upload_refusal(400, message, trusted=True, project="pkg")
    assert explanation is not None
    assert explanation.anchor == anchor
    assert explanation.message == first_line
    assert explanation.hint
    assert explanation.details[0] == f"index said: HTTP 400 {message}"


def test_unrecognised_upload_refusal() -> None:
    assert render(explain_upload_refusal(400, "Something else", trusted=True, project="pkg")) == (
        "the index refused the upload of pkg: Something else\n"
        "index said: HTTP 400 Something else\n"
        "hint: fix the problem the index names, rebuild, and upload again\n"
        "anchor: upload-refused"
    )


@pytest.mark.parametrize(
    ("status", "message", "anchor"),
    [
        (403, "Invalid API Token: token is expired", "token-expired"),
        (403, "invalid or non-existent authentication information", "invalid-auth"),
        (403, "The given token isn't allowed to upload to project 'pkg'", "not-allowed-to-upload"),
        (403, "Forbidden", "upload-forbidden"),
        (401, "need auth", "upload-forbidden"),
        (413, "Request Entity Too Large", "file-too-large"),
        (400, "Invalid value for blake2_256_digest", "upload-refused"),
    ],
)
def test_one_table_gives_one_anchor_per_cause(status: int, message: str, anchor: str) -> None:
    """The uploader's errors and the explanations read the same table (issue 11)."""
    assert classify(status, message).anchor == anchor
    assert explain_upload_refusal(status, message, trusted=False, project="p").anchor == anchor


def test_index_text_is_redacted() -> None:
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    upload = explain_upload_refusal(400, f"File already exists {jwt}", trusted=True, project="p")
    assert jwt not in render(upload)
    assert upload.anchor == "file-already-exists"
