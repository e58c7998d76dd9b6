"""Checks on the OIDC token's claims that PyPI does not make (or makes with a bad message).

:func:`preflight` looks at one decoded token (never verified: only to advise)
and returns :class:`Finding` s: ``error`` for what PyPI will certainly refuse,
``warning`` for what works but is risky, ``note`` for advice. The publishing
flow shows them before minting (and in ``--dry-run``). Sources: PyPI's
security model and troubleshooting pages; warehouse ``oidc/models``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from trustpub.oidc.claims import DecodedToken
from trustpub.oidc.publishers import provider_for_issuer
from trustpub.providers._base import Detection


@dataclass(frozen=True)
class Finding:
    """One piece of preflight advice."""

    level: str
    """``error`` (PyPI will refuse), ``warning`` (works, but risky) or ``note``."""
    code: str
    """Stable identifier, e.g. ``github-pull-request-target``."""
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.level}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


def _text(claims: Mapping[str, object], name: str) -> str:
    value = claims.get(name)
    return value if isinstance(value, str) else ""


def _github(claims: Mapping[str, object]) -> list[Finding]:
    findings: list[Finding] = []
    event = _text(claims, "event_name")
    if event == "pull_request_target":
        findings.append(
            Finding(
                "error",
                "github-pull-request-target",
                "the workflow was triggered by pull_request_target, which PyPI refuses",
                "publish from a tag push, a release or workflow_dispatch",
            )
        )
    elif event == "workflow_run":
        findings.append(
            Finding(
                "warning",
                "github-workflow-run",
                "the workflow was triggered by workflow_run: it runs with the base repository's "
                "rights on behalf of another workflow's run",
                "publish from a tag push, a release or workflow_dispatch",
            )
        )
    workflow_ref = _text(claims, "workflow_ref")
    job_workflow_ref = _text(claims, "job_workflow_ref")
    if workflow_ref and job_workflow_ref and workflow_ref != job_workflow_ref:
        called = job_workflow_ref.split("@", 1)[0].rsplit("/", 1)[-1]
        findings.append(
            Finding(
                "warning",
                "github-reusable-workflow",
                f"this job runs in a reusable workflow ({job_workflow_ref}); PyPI matches the "
                f"called file {called}, not the calling workflow",
                "configure the publisher with the reusable workflow's file name, or publish "
                "from the top-level workflow (PyPI does not officially support reusable workflows)",
            )
        )
    if not _text(claims, "environment"):
        findings.append(
            Finding(
                "note",
                "github-no-environment",
                "the job uses no GitHub environment",
                "add `environment: pypi` to the job and protect it (required reviewers, tag rules)",
            )
        )
    if _text(claims, "runner_environment") == "self-hosted":
        findings.append(
            Finding(
                "warning",
                "self-hosted-runner",
                "the job runs on a self-hosted runner, which other jobs may share",
                "publish from a GitHub-hosted runner",
            )
        )
    return findings


def _gitlab(claims: Mapping[str, object]) -> list[Finding]:
    findings: list[Finding] = []
    if "ci_config_ref_uri" in claims and not _text(claims, "ci_config_ref_uri"):
        findings.append(
            Finding(
                "error",
                "gitlab-external-config",
                "ci_config_ref_uri is empty: the pipeline configuration lives in another project, "
                "which PyPI cannot match",
                "publish from a pipeline defined in this project's repository",
            )
        )
    if not _text(claims, "environment"):
        findings.append(
            Finding(
                "note",
                "gitlab-no-environment",
                "the job uses no GitLab environment",
                "add `environment: pypi` to the job and protect it",
            )
        )
    if _text(claims, "runner_environment") == "self-hosted":
        findings.append(
            Finding(
                "warning",
                "self-hosted-runner",
                "the job runs on a self-hosted runner, which other jobs may share",
                "publish from a GitLab-hosted runner",
            )
        )
    return findings


def _google(claims: Mapping[str, object]) -> list[Finding]:
    findings: list[Finding] = []
    email = _text(claims, "email")
    if not email:
        findings.append(
            Finding(
                "error",
                "google-no-email",
                "the Google token has no email claim, which PyPI requires",
                "request the token with format=full (metadata server) or includeEmail (IAM)",
            )
        )
    elif claims.get("email_verified") is not True:
        findings.append(
            Finding(
                "error",
                "google-email-unverified",
                "the Google token's email_verified is not true; PyPI refuses it",
            )
        )
    if email.endswith(("-compute@developer.gserviceaccount.com", "@appspot.gserviceaccount.com")):
        findings.append(
            Finding(
                "warning",
                "google-default-service-account",
                f"{email} is a default service account, shared by every service in the project",
                "create a dedicated service account for publishing",
            )
        )
    return findings


def _activestate(claims: Mapping[str, object]) -> list[Finding]:
    builder = _text(claims, "builder")
    if builder and builder != "pypi-publisher":
        return [
            Finding(
                "error",
                "activestate-builder",
                f"the ActiveState token's builder is {builder!r}; PyPI requires 'pypi-publisher'",
            )
        ]
    return []


_RULES = {"github": _github, "gitlab": _gitlab, "google": _google, "activestate": _activestate}


def preflight(
    detection: Detection, token: DecodedToken, env: Mapping[str, str] | None = None
) -> list[Finding]:
    """Advice about this token before it is exchanged (errors first)."""
    provider = detection.provider
    if provider not in _RULES:  # "env": judge by the issuer
        guessed = provider_for_issuer(token.issuer)
        provider = guessed.value if guessed is not None else ""
    rules = _RULES.get(provider)
    findings = rules(token.claims) if rules is not None else []
    order = {"error": 0, "warning": 1, "note": 2}
    return sorted(findings, key=lambda finding: order.get(finding.level, 3))


__all__ = ["Finding", "preflight"]
