"""Preflight: what will make PyPI refuse (or should worry you) before any exchange.

:func:`preflight` looks at the CI environment and the decoded token, offline,
and returns :class:`Finding` records. A ``blocker`` means publishing will
fail as things are; a ``warning`` means it may work but is risky or fragile;
``info`` is advice. Every finding carries its fix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from trustpub._gitlab import token_env_name
from trustpub.oidc.claims import DecodedToken, claim_text
from trustpub.oidc.publishers import (
    CANONICAL_ISSUERS,
    Provider,
    is_sandbox_issuer,
    provider_for_issuer,
)
from trustpub.oidc.rules import ACTIVESTATE_BUILDER

Severity = Literal["blocker", "warning", "info"]

CLOCK_LEEWAY = 30.0
"""Seconds of clock difference PyPI tolerates for ``iat``/``nbf``/``exp``."""

EXPIRY_MARGIN = 60.0
"""A token with less than this left may expire before the index checks it."""

GOOGLE_DEFAULT_ACCOUNTS = ("-compute@developer.gserviceaccount.com", "@appspot.gserviceaccount.com")


@dataclass(frozen=True)
class Finding:
    """One preflight result."""

    id: str
    severity: Severity
    message: str
    fix: str

    @property
    def blocks(self) -> bool:
        """Whether this finding stops publishing."""
        return self.severity == "blocker"


gitlab_token_variable = token_env_name
"""``<AUD>_ID_TOKEN``: the variable name clients read for ``audience`` on GitLab."""


def gitlab_id_tokens_yaml(audience: str) -> str:
    """The exact ``id_tokens:`` block a GitLab publishing job needs."""
    return f"id_tokens:\n  {gitlab_token_variable(audience)}:\n    aud: {audience}"


def _true(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() == "true"


def _github_event(env: Mapping[str, str]) -> Mapping[str, Any] | None:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _is_fork_pull_request(event: Mapping[str, Any] | None) -> bool:
    if event is None:
        return False
    pull_request = event.get("pull_request")
    head = pull_request.get("head") if isinstance(pull_request, dict) else None
    repo = head.get("repo") if isinstance(head, dict) else None
    return isinstance(repo, dict) and repo.get("fork") is True


def _split_ref(ref: str) -> tuple[str, str]:
    path, _, at = ref.partition("@")
    return path, at


def _github_findings(token: DecodedToken | None, env: Mapping[str, str]) -> list[Finding]:
    findings: list[Finding] = []
    in_actions = _true(env, "GITHUB_ACTIONS")
    event_name = env.get("GITHUB_EVENT_NAME", "")
    if token is not None and isinstance(token.claims.get("event_name"), str):
        event_name = str(token.claims["event_name"])
    if in_actions and event_name == "pull_request" and _is_fork_pull_request(_github_event(env)):
        findings.append(
            Finding(
                "github-fork-pull-request",
                "blocker",
                "this run is a pull request from a fork: GitHub gives it no OIDC token "
                "(id-token is capped at read)",
                "publish from a push of a tag, a published release or workflow_dispatch, "
                "not from pull requests",
            )
        )
    elif in_actions and not env.get("ACTIONS_ID_TOKEN_REQUEST_URL"):
        findings.append(
            Finding(
                "github-missing-id-token-permission",
                "blocker",
                "GitHub Actions gives this job no OIDC token: ACTIONS_ID_TOKEN_REQUEST_URL is "
                "not set",
                "grant the permission on the publishing job:\npermissions:\n  id-token: write",
            )
        )
    if event_name == "pull_request_target":
        findings.append(
            Finding(
                "github-pull-request-target",
                "blocker",
                "the workflow was triggered by pull_request_target, which PyPI refuses",
                "publish from a push of a tag, a published release or workflow_dispatch",
            )
        )
    elif event_name == "workflow_run":
        findings.append(
            Finding(
                "github-workflow-run",
                "warning",
                "the workflow was triggered by workflow_run: it runs with the base repository's "
                "rights on behalf of another workflow (possibly a fork's)",
                "publish from the release workflow itself (tag push, release, workflow_dispatch)",
            )
        )
    if token is None:
        return findings
    claims = token.claims
    job_ref = claims.get("job_workflow_ref")
    workflow_ref = claims.get("workflow_ref")
    repository = claims.get("repository")
    if isinstance(job_ref, str) and isinstance(workflow_ref, str) and job_ref != workflow_ref:
        called_path, called_at = _split_ref(job_ref)
        same_repo = isinstance(repository, str) and called_path.lower().startswith(
            repository.lower() + "/.github/workflows/"
        )
        refs = {claims.get("ref"), claims.get("sha")}
        same_ref = called_at in refs
        called_file = called_path.rsplit("/", 1)[-1]
        if same_repo and same_ref:
            findings.append(
                Finding(
                    "github-reusable-workflow",
                    "warning",
                    f"the token was requested inside a reusable workflow ({called_file}); PyPI "
                    "matches the CALLED workflow file, not the caller "
                    f"({_split_ref(workflow_ref)[0].rsplit('/', 1)[-1]})",
                    f"configure the publisher with workflow '{called_file}' (reusable workflows "
                    "are not officially supported by PyPI), or publish from the caller itself",
                )
            )
        else:
            where = "another repository" if not same_repo else "another ref"
            findings.append(
                Finding(
                    "github-reusable-workflow",
                    "blocker",
                    f"the token was requested inside a reusable workflow from {where} "
                    f"({claim_text(job_ref)}); PyPI cannot match it",
                    "move the publishing job into a workflow file of this repository "
                    "(reusable workflows from other repositories or refs never match)",
                )
            )
    if not claims.get("environment"):
        findings.append(
            Finding(
                "no-environment",
                "info",
                "the publishing job runs in no deployment environment",
                "use a protected environment (e.g. `environment: pypi` with required reviewers "
                "or tag rules) and name it in the publisher",
            )
        )
    if claims.get("runner_environment") == "self-hosted":
        findings.append(
            Finding(
                "self-hosted-runner",
                "warning",
                "the job runs on a self-hosted runner, which other jobs may share or persist",
                "publish from a GitHub-hosted (ephemeral) runner",
            )
        )
    return findings


def _gitlab_findings(
    token: DecodedToken | None, env: Mapping[str, str], audience: str | None
) -> list[Finding]:
    findings: list[Finding] = []
    aud = audience or "pypi"
    if token is None and _true(env, "GITLAB_CI") and not env.get(gitlab_token_variable(aud)):
        findings.append(
            Finding(
                "gitlab-missing-id-token",
                "blocker",
                f"GitLab CI/CD gives this job no OIDC token for '{aud}': "
                f"{gitlab_token_variable(aud)} is not set",
                "add to the publishing job in .gitlab-ci.yml:\n" + gitlab_id_tokens_yaml(aud),
            )
        )
    issuer = token.issuer if token is not None else env.get("CI_SERVER_URL")
    canonical = CANONICAL_ISSUERS[Provider.GITLAB]
    if issuer and issuer.rstrip("/") != canonical and not is_sandbox_issuer(issuer):
        findings.append(
            Finding(
                "gitlab-self-managed",
                "warning",
                f"the GitLab instance is {issuer}, not gitlab.com: PyPI accepts it only after "
                "registering it for a PyPI organization (beta)",
                "publish from gitlab.com, or have the instance onboarded for your PyPI "
                "organization (otherwise: 'unknown trusted publishing issuer')",
            )
        )
    if token is None:
        return findings
    claims = token.claims
    if not claims.get("environment"):
        findings.append(
            Finding(
                "no-environment",
                "info",
                "the publishing job runs in no environment",
                "use a protected environment (`environment: pypi`) and name it in the publisher",
            )
        )
    if claims.get("runner_environment") == "self-hosted":
        findings.append(
            Finding(
                "self-hosted-runner",
                "warning",
                "the job runs on a self-hosted runner",
                "publish from a GitLab-hosted runner",
            )
        )
    if claims.get("ci_config_ref_uri") in (None, ""):
        findings.append(
            Finding(
                "gitlab-external-config",
                "blocker",
                "the token has no ci_config_ref_uri: the pipeline configuration lives in "
                "another project",
                "keep the top-level pipeline file in this project; PyPI matches it by path",
            )
        )
    return findings


def _google_findings(token: DecodedToken | None) -> list[Finding]:
    if token is None:
        return []
    findings: list[Finding] = []
    email = token.claims.get("email")
    if not isinstance(email, str) or not email:
        findings.append(
            Finding(
                "google-no-email",
                "blocker",
                "the Google token carries no email claim",
                "request the identity token with format=full (metadata server) or "
                "includeEmail=true (generateIdToken)",
            )
        )
    elif email.endswith(GOOGLE_DEFAULT_ACCOUNTS):
        findings.append(
            Finding(
                "google-default-service-account",
                "warning",
                f"{email} is a default service account, shared by every service in the project",
                "create a dedicated service account for publishing and use it here",
            )
        )
    verified = token.claims.get("email_verified")
    if isinstance(email, str) and email and verified is not True:
        findings.append(
            Finding(
                "google-email-unverified",
                "blocker",
                f"email_verified is {claim_text(verified) or 'missing'}; PyPI requires JSON true",
                "request the identity token with its email (format=full / includeEmail=true)",
            )
        )
    return findings


def _activestate_findings(token: DecodedToken | None) -> list[Finding]:
    if token is None:
        return []
    builder = token.claims.get("builder")
    if builder == ACTIVESTATE_BUILDER:
        return []
    return [
        Finding(
            "activestate-builder",
            "blocker",
            f"the token's builder is {claim_text(builder) or 'missing'}, PyPI requires "
            f"{ACTIVESTATE_BUILDER}",
            "publish through ActiveState's pypi_publisher build step",
        )
    ]


def _timing_findings(token: DecodedToken, now: float) -> list[Finding]:
    findings: list[Finding] = []
    exp = token.expires_at
    if exp is None:
        findings.append(
            Finding(
                "oidc-token-incomplete",
                "blocker",
                "the token has no exp claim; PyPI requires iss, iat, exp and aud",
                "use the CI provider's OIDC token, not a hand-made one",
            )
        )
    elif exp <= now:
        findings.append(
            Finding(
                "oidc-token-expired",
                "blocker",
                f"the token expired {int(now - exp)} s ago",
                "fetch a fresh token right before publishing (or this machine's clock is ahead)",
            )
        )
    elif exp - now < EXPIRY_MARGIN:
        findings.append(
            Finding(
                "oidc-token-expiring",
                "warning",
                f"the token expires in {int(exp - now)} s",
                "fetch the token right before the exchange",
            )
        )
    for name, value in (("iat", token.issued_at), ("nbf", token.not_before)):
        if value is not None and value > now + CLOCK_LEEWAY:
            findings.append(
                Finding(
                    "clock-skew",
                    "blocker",
                    f"the token's {name} is {int(value - now)} s in the future: this machine's "
                    "clock or the issuer's is wrong",
                    "synchronise the clock (NTP); PyPI allows 30 s of skew",
                )
            )
            break
    if token.issued_at is None:
        findings.append(
            Finding(
                "oidc-token-incomplete",
                "blocker",
                "the token has no iat claim; PyPI requires iss, iat, exp and aud",
                "use the CI provider's OIDC token, not a hand-made one",
            )
        )
    return findings


def _audience_findings(token: DecodedToken, audience: str | None) -> list[Finding]:
    aud = token.claims.get("aud")
    if isinstance(aud, list):
        return [
            Finding(
                "oidc-token-audience",
                "blocker",
                f"the token has several audiences ({claim_text(aud)}); PyPI accepts exactly one",
                f"request the token for the single audience '{audience or 'pypi'}'",
            )
        ]
    if not isinstance(aud, str):
        return [
            Finding(
                "oidc-token-audience",
                "blocker",
                "the token has no aud claim",
                f"request the token for audience '{audience or 'pypi'}'",
            )
        ]
    if audience is not None and aud != audience:
        return [
            Finding(
                "oidc-token-audience",
                "blocker",
                f"the token's audience is '{aud}' but the index expects '{audience}'",
                f"request the token for audience '{audience}' (pypi for PyPI, testpypi for "
                "TestPyPI)",
            )
        ]
    return []


def _issuer_findings(
    token: DecodedToken, provider: Provider | None, audience: str | None
) -> list[Finding]:
    issuer = token.issuer
    if issuer is None:
        return [
            Finding(
                "unknown-issuer",
                "blocker",
                "the token has no iss claim",
                "use the CI provider's OIDC token",
            )
        ]
    if provider_for_issuer(issuer) is not None or provider is Provider.GITLAB:
        return []
    strict = audience in (None, "pypi", "testpypi")
    return [
        Finding(
            "unknown-issuer",
            "blocker" if strict else "warning",
            f"PyPI does not accept tokens from the issuer {issuer}",
            "publish from GitHub Actions, gitlab.com, Google Cloud or ActiveState, or use an "
            "API token (--token)",
        )
    ]


def preflight(
    provider: str | None,
    token: DecodedToken | None,
    env: Mapping[str, str],
    *,
    audience: str | None,
    now: float,
) -> list[Finding]:
    """Offline checks of the CI environment and the token, blockers first.

    ``provider`` is the detection name (``github``, ``gitlab``, ``google``,
    ``activestate``, ``env``) or None; the token's issuer decides when it is
    ``env`` or None. ``audience`` is what the index expects (None: unknown).
    """
    kind: Provider | None = None
    if provider in {p.value for p in Provider}:
        kind = Provider(str(provider))
    elif token is not None:
        kind = provider_for_issuer(token.issuer)
        if (
            kind is None
            and token.claims.get("project_path")
            and token.claims.get("ci_config_ref_uri")
        ):
            kind = Provider.GITLAB
    findings: list[Finding] = []
    if kind is Provider.GITHUB or (kind is None and _true(env, "GITHUB_ACTIONS")):
        findings.extend(_github_findings(token, env))
    if kind is Provider.GITLAB or (kind is None and token is None and _true(env, "GITLAB_CI")):
        findings.extend(_gitlab_findings(token, env, audience))
    if kind is Provider.GOOGLE:
        findings.extend(_google_findings(token))
    if kind is Provider.ACTIVESTATE:
        findings.extend(_activestate_findings(token))
    if token is not None:
        findings.extend(_issuer_findings(token, kind, audience))
        findings.extend(_audience_findings(token, audience))
        findings.extend(_timing_findings(token, now))
    order = {"blocker": 0, "warning": 1, "info": 2}
    return sorted(findings, key=lambda f: order[f.severity])


def blocking(findings: list[Finding]) -> bool:
    """Whether any finding blocks publishing."""
    return any(f.blocks for f in findings)


__all__ = [
    "CLOCK_LEEWAY",
    "EXPIRY_MARGIN",
    "Finding",
    "Severity",
    "blocking",
    "gitlab_id_tokens_yaml",
    "gitlab_token_variable",
    "preflight",
]
