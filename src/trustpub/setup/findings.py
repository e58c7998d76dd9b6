"""The findings ``trustpub check`` reports, and the one table describing each kind.

Every kind has a severity, a sentence saying what PyPI (or the CI) will do, and a
troubleshooting anchor ``check-<kind>`` (docs/troubleshooting.md, "Workflow check
findings"). A finding adds where (file and 1-based line), what was found, and the fix as a
snippet to paste.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from trustpub.errors import troubleshooting_url

CheckSeverity = Literal["error", "warning"]


@dataclass(frozen=True)
class Kind:
    """One kind of finding."""

    severity: CheckSeverity
    title: str
    consequence: str
    """What PyPI (or GitHub/GitLab) will do about it at release time."""


KINDS: dict[str, Kind] = {
    "invalid-yaml": Kind(
        "error",
        "the file is not valid YAML",
        "the CI refuses to start the pipeline",
    ),
    "id-token-permission": Kind(
        "error",
        "the publishing job cannot request an OIDC token",
        "GitHub gives the job no ID token, so no upload token can be minted",
    ),
    "workflow-wide-id-token": Kind(
        "warning",
        "id-token: write is granted to every job of the workflow",
        "PyPI accepts it, but every job (the build too) can mint an upload token",
    ),
    "workflow-name": Kind(
        "error",
        "the publishing workflow is not the file the publisher names",
        "PyPI refuses the token: invalid-publisher (no publisher matches the workflow file)",
    ),
    "repository": Kind(
        "error",
        "the publisher names another repository than the git remote",
        "PyPI refuses the token: invalid-publisher (a publisher matches one repository; a "
        "renamed or transferred repository no longer matches)",
    ),
    "environment": Kind(
        "error",
        "the job's environment is not the publisher's",
        "PyPI refuses the token: invalid-publisher (the environment claim does not match)",
    ),
    "no-environment": Kind(
        "warning",
        "the publishing job runs in no deployment environment",
        "PyPI accepts it, but anyone who can start the workflow can publish",
    ),
    "pull-request-target": Kind(
        "error",
        "the workflow runs on pull_request_target",
        "PyPI refuses the token: Publishing from a workflow invoked via "
        "'pull_request_target' is not supported.",
    ),
    "pull-request": Kind(
        "warning",
        "the publishing job runs on pull_request",
        "pull requests from forks get no ID token; a publish from a pull request is "
        "rarely intended",
    ),
    "reusable-workflow": Kind(
        "warning",
        "the publishing runs in a reusable workflow",
        "PyPI matches the called workflow's file (job_workflow_ref), not the caller's",
    ),
    "attestations-reusable-workflow": Kind(
        "error",
        "attestations are made inside a reusable workflow",
        "PyPI refuses the upload: Invalid attestations supplied during upload (the "
        "signing certificate names the caller's workflow, the publisher the called file)",
    ),
    "attestations-self-managed-gitlab": Kind(
        "error",
        "attestations from a self-managed GitLab instance",
        "PyPI refuses the upload: Invalid attestations supplied during upload (PyPI "
        "verifies GitLab attestations against gitlab.com only)",
    ),
    "attestations-no-sigstore-token": Kind(
        "warning",
        "attestations are requested but the job has no Sigstore ID token",
        "no attestation can be signed (GitLab hands out only the ID tokens the job declares)",
    ),
    "gitlab-id-tokens": Kind(
        "error",
        "the GitLab publishing job declares no ID token for the index",
        "the job has no OIDC token, so no upload token can be minted",
    ),
    "gitlab-id-token-name": Kind(
        "error",
        "the ID token variable is not the name publishing clients read",
        "trustpub, twine, uv and id read <AUD>_ID_TOKEN and find no token",
    ),
    "build-in-publish-job": Kind(
        "warning",
        "the job that publishes also builds",
        "PyPI accepts it, but the build's code (and every build dependency) runs with "
        "the identity that can publish",
    ),
    "unpinned-action": Kind(
        "warning",
        "a third-party action is not pinned to a commit",
        "PyPI accepts it, but whoever moves the tag runs code with your publishing identity",
    ),
}


def anchor_of(kind: str) -> str:
    """The troubleshooting anchor of a finding kind."""
    return f"check-{kind}"


@dataclass(frozen=True)
class CheckFinding:
    """One problem found in a CI file."""

    kind: str
    file: str
    """Path relative to the checked directory, with ``/``."""
    line: int
    """1-based line in ``file``."""
    message: str
    fix: str
    """The change to make, as a snippet to paste where ``line`` points."""

    @property
    def severity(self) -> CheckSeverity:
        return KINDS[self.kind].severity

    @property
    def consequence(self) -> str:
        """What PyPI (or the CI) will do."""
        return KINDS[self.kind].consequence

    @property
    def anchor(self) -> str:
        return anchor_of(self.kind)

    @property
    def docs_url(self) -> str:
        return troubleshooting_url(self.anchor)

    def as_json(self) -> dict[str, Any]:
        """The finding as a JSON object (``trustpub check --json``)."""
        return {
            "kind": self.kind,
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "message": self.message,
            "pypi": self.consequence,
            "fix": self.fix,
            "anchor": self.anchor,
            "docs": self.docs_url,
        }


__all__ = ["KINDS", "CheckFinding", "CheckSeverity", "Kind", "anchor_of"]
