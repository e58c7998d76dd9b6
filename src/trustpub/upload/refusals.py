"""Why an index refused an upload: the one table of causes, hints and troubleshooting anchors.

Each row recognises one of the index's messages (the text Warehouse puts in
the reason phrase or body of a 4xx answer to ``/legacy/``) and says what it
means and how to fix it; its anchor is a heading of docs/troubleshooting.md.
Rows are tried in order; rows without a marker match by status alone, and
:data:`REFUSED` is the answer when nothing else does.
"""

from __future__ import annotations

from dataclasses import dataclass

from trustpub._secret import redact_token_shapes
from trustpub.oidc.diagnostics import Explanation


@dataclass(frozen=True)
class RefusalCause:
    """One cause of a refused upload."""

    marker: str
    """Text in the index's message that names this cause (compared case-insensitively);
    empty when the status alone decides."""
    anchor: str
    cause: str
    """One line on what happened ("" when the index's message says it all)."""
    hint: str
    statuses: tuple[int, ...] = ()
    """The statuses this row applies to; empty for any."""

    def matches(self, status: int, message: str) -> bool:
        if self.statuses and status not in self.statuses:
            return False
        return self.marker.lower() in message.lower()


BY_MESSAGE: tuple[RefusalCause, ...] = (
    RefusalCause(
        "Non-user identities cannot create new projects",
        "non-user-identities",
        "the upload's project name differs from the project the pending publisher created "
        "(or no project exists for it)",
        "make the distribution's name equal the pending publisher's project name; if a wrong "
        "project was created, delete it and register a new pending publisher with the right name",
    ),
    RefusalCause(
        "not valid for project",
        "token-not-valid-for-project",
        "the minted token only covers projects linked to the matched publisher",
        "add this trusted publisher to the project's Publishing settings, or upload only "
        "that publisher's projects",
    ),
    RefusalCause(
        "token is expired",
        "token-expired",
        "the upload token (valid 15 minutes) expired during the upload",
        "rerun: trustpub re-mints before expiry; fetch a fresh OIDC token for each mint",
    ),
    RefusalCause(
        "File already exists",
        "file-already-exists",
        "a different file with this name (or the same content under another name) is "
        "already on the index",
        "bump the version and rebuild; filenames can never be reused (use --skip-existing to "
        "skip files that are already uploaded identically)",
    ),
    RefusalCause(
        "previously used by a file that has since been deleted",
        "file-name-reuse",
        "a deleted file used this name; names of deleted files can never be reused",
        "bump the version (or add a build tag to the wheel) and rebuild",
    ),
    RefusalCause(
        "older than 14 days",
        "release-older-than-14-days",
        "new files can only be added to a release during its first 14 days",
        "publish a new version instead of adding files to the old one",
    ),
    RefusalCause(
        "Only one sdist may be uploaded per release",
        "one-sdist-per-release",
        "the release already has a source distribution",
        "upload a single sdist per version (remove extra .tar.gz/.zip files from dist/)",
    ),
    RefusalCause(
        "File too large",
        "file-too-large",
        "the file exceeds the project's upload size limit (100 MiB by default)",
        "shrink the distribution, or request a larger limit from the index's administrators",
    ),
    RefusalCause(
        "Project size too large",
        "file-too-large",
        "the project's total size limit (10 GiB by default) is reached",
        "delete old releases or request a larger project limit",
    ),
    RefusalCause(
        "isn't allowed to upload",
        "not-allowed-to-upload",
        "the credential belongs to someone without upload rights on this project",
        "use a token (or trusted publisher) of the project, or check the project name",
    ),
    RefusalCause(
        "Invalid or non-existent authentication information",
        "invalid-auth",
        "the index did not accept the credential (malformed, deleted or for another index)",
        "check the token and that it belongs to this index",
    ),
    RefusalCause(
        "Username/Password authentication is no longer supported",
        "invalid-auth",
        "the index accepts only API tokens (user name __token__) or trusted publishing",
        "use an API token or trusted publishing",
    ),
    RefusalCause(
        "Too many new projects created",
        "too-many-new-projects",
        "the index's rate limit for creating projects was hit",
        "wait an hour and retry",
    ),
    RefusalCause(
        "The description failed to render",
        "description-failed-to-render",
        "the long description is not valid for its content type",
        "fix the README markup (or set the right long_description_content_type) and rebuild",
    ),
)

# PyPI's attestation refusals (Warehouse attestations/services.py), as main's uploader read them:
# the specific messages first, then any other "Invalid attestations supplied during upload".
ATTESTATIONS: tuple[RefusalCause, ...] = (
    RefusalCause(
        "only supported when using trusted publishing",
        "attestations-need-trusted-publishing",
        "",
        "PyPI accepts attestations only from trusted publishing; upload from CI with "
        "trusted publishing, or pass --attestations off",
    ),
    RefusalCause(
        "not currently supported with",
        "attestations-not-possible",
        "",
        "this kind of publisher cannot attach attestations; pass --attestations off",
    ),
    RefusalCause(
        "could not verify the uploaded artifact",
        "attestation-not-verified",
        "",
        "the attestation does not match this file or was not signed by the publisher's "
        "identity; delete the stale <dist>.publish.attestation files and sign again from "
        "the publishing workflow",
    ),
    RefusalCause(
        "invalid attestations supplied during upload",
        "attestation-malformed",
        "",
        "remove or regenerate the <dist>.*.attestation files (at most one per kind), or pass "
        "--attestations off",
    ),
)

BY_STATUS: tuple[RefusalCause, ...] = (
    RefusalCause(
        "",
        "file-too-large",
        "",
        "the file is larger than the index allows; ask the index for a larger limit",
        (413,),
    ),
    RefusalCause(
        "",
        "upload-forbidden",
        "",
        "the index refused the credential; check it and its scope",
        (401, 403),
    ),
)

REFUSALS = BY_MESSAGE + BY_STATUS + ATTESTATIONS
"""Every row, in the order they are tried (:class:`PrivateIndex` rows go between the two)."""

REFUSED = RefusalCause(
    "", "upload-refused", "", "fix the problem the index names, rebuild, and upload again"
)
"""Any other refusal: the index's message names the problem."""


@dataclass(frozen=True)
class PrivateIndex:
    """An index other than PyPI and TestPyPI (devpi, pypiserver, ...).

    What such an index means by 401/403/404 depends on who uploaded (``login``,
    the user name sent) and where (``upload_url``), so its rows are made here.
    """

    upload_url: str
    login: str | None

    def refusal(self, status: int, message: str) -> RefusalCause | None:
        as_token = self.login in (None, "__token__")
        if status == 401:
            return RefusalCause("", "upload-unauthorized", "", self._unauthorized(as_token))
        if status == 403 and "no permission" in message.lower():  # devpi: not in acl_upload
            hint = (
                f"user {self.login} may not upload to {self.upload_url}; devpi lets the index's "
                "owner and the users in its acl_upload upload "
                "(`devpi index <user>/<index> acl_upload=...`)"
            )
            return RefusalCause("", "upload-forbidden", "", hint)
        if status == 403:  # pypiserver: a wrong user name or password
            return RefusalCause("", "upload-forbidden", "", self._forbidden(as_token))
        if status in (404, 405) and not self.upload_url.endswith("/legacy/"):
            hint = (
                f"nothing takes uploads at {self.upload_url}; a PyPI-like index takes them at "
                "https://<host>/legacy/, devpi at https://<host>/<user>/<index>/, pypiserver at "
                "its root: check the repository URL"
            )
            return RefusalCause("", "upload-url-not-found", "", hint)
        return None

    def _unauthorized(self, as_token: bool) -> str:
        if as_token:
            return (
                "the index did not accept the user name and password; user __token__ is PyPI's "
                "convention, this index wants its own user: give --username and --password (or "
                "username/password in .pypirc)"
            )
        return (
            f"the index did not accept the user name and password of user {self.login}; check "
            f"them (devpi: `devpi login {self.login}` must work)"
        )

    def _forbidden(self, as_token: bool) -> str:
        if as_token:
            return (
                "the index refused the user name and password; user __token__ is PyPI's "
                "convention, most private indexes (pypiserver, devpi) want their own user: give "
                "--username and --password"
            )
        return (
            f"the index refused the user name and password of user {self.login}; check them "
            "against the index's users (htpasswd)"
        )


def classify(status: int, message: str, private: PrivateIndex | None = None) -> RefusalCause:
    """The first row that matches the index's answer, else :data:`REFUSED`.

    The index's own words decide first; then, on an index other than PyPI, what
    that index means by the status; then the status alone.
    """
    for row in BY_MESSAGE:
        if row.matches(status, message):
            return row
    own = private.refusal(status, message) if private is not None else None
    if own is not None:
        return own
    return next(
        (row for row in (*BY_STATUS, *ATTESTATIONS) if row.matches(status, message)), REFUSED
    )


def explain_upload_refusal(
    status: int,
    message: str,
    *,
    trusted: bool,
    project: str,
    private: PrivateIndex | None = None,
) -> Explanation:
    """The cause, hint and anchor of a refused upload of ``project``, for an error."""
    message = redact_token_shapes(message)
    refusal = classify(status, message, private)
    details = [f"index said: HTTP {status} {message}"]
    if refusal.cause:
        details.append(f"Likely cause: {refusal.cause}")
    if trusted and refusal.anchor == "non-user-identities":
        details.append(
            "a token minted by trusted publishing cannot create projects; only a "
            "pending publisher can, and only for its own project name"
        )
    if not trusted and refusal.anchor == "token-not-valid-for-project":
        details.append("this token came from trusted publishing of another project")
    return Explanation(
        f"the index refused the upload of {project}: {message.split('. ')[0]}",
        tuple(details),
        refusal.hint,
        refusal.anchor,
    )


__all__ = [
    "ATTESTATIONS",
    "BY_MESSAGE",
    "BY_STATUS",
    "REFUSALS",
    "REFUSED",
    "PrivateIndex",
    "RefusalCause",
    "classify",
    "explain_upload_refusal",
]
