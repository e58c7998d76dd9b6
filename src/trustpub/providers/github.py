"""GitHub Actions: the job asks GitHub's token service for an OIDC token.

How the token is obtained (GitHub docs, "OpenID Connect" reference):
``ACTIONS_ID_TOKEN_REQUEST_URL`` (which already carries a query string) and
``ACTIONS_ID_TOKEN_REQUEST_TOKEN`` exist only when the job has
``permissions: id-token: write``. trustpub sends ``GET <url>&audience=<aud>``
(the audience added as a proper query pair, replacing any existing one) with
``Authorization: bearer <request token>`` and reads the JWT from the JSON
``value``.

Why not ``id``'s GitHub detector: ``id`` reads ``os.environ`` only (trustpub's
``detect`` takes an explicit mapping: the CLI and tests pass sandbox
environments), exposes its per-provider detectors only under the private
``id._internal`` (the public ``detect_credential`` runs every provider in id's
own order and does not say which one matched), and talks urllib3 outside
trustpub's HTTP client (own timeouts, no pytest-httpx, error texts that embed
response bodies). Its TLS is not the obstacle: urllib3 loads OpenSSL's default
paths, which honour ``SSL_CERT_FILE``, so it could reach the sandbox. The fork
pull-request hint and the exact YAML fix are trustpub's own. ``id`` is used only
as the fallback for CIs trustpub has no module for (:mod:`trustpub.providers.ambient`).
A token for another audience (``sigstore``) is one more request with that audience.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from trustpub._http import body_excerpt, redirect_refused, retryable_status
from trustpub._secret import Secret
from trustpub.errors import IdentityError
from trustpub.oidc.claims import DecodedToken, claim_text
from trustpub.oidc.diagnostics import TRIGGER_FIX
from trustpub.providers._base import (
    TOKEN_REDIRECT_ANCHOR,
    Detection,
    Finding,
    TransientIdentityError,
    check_credential_url,
    env_true,
    logger,
    token_in_answer,
    transport_error,
    with_client,
)

NAME = "github"
REQUEST_URL_ENV = "ACTIONS_ID_TOKEN_REQUEST_URL"
REQUEST_TOKEN_ENV = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"  # noqa: S105 - a variable name

PERMISSION_YAML = """\
jobs:
  publish:
    permissions:
      id-token: write   # required for trusted publishing
      contents: read"""

_PERMISSION_HINT = (
    "grant the publishing job permission to request an OIDC token:\n"
    f"{PERMISSION_YAML}\n"
    "(set it on the job, not the whole workflow; a job-level `permissions:` block replaces the workflow's)"
)

_FORK_HINT = (
    "GitHub gives no OIDC token to workflows triggered by a pull request from a fork "
    "(every permission is capped at read, id-token included), so trusted publishing cannot "
    "work there. Publish from a push of a tag, a `release` or a `workflow_dispatch` event "
    "in the main repository instead, and skip the publish job for fork pull requests:\n"
    "    if: github.event_name != 'pull_request' || "
    "github.event.pull_request.head.repo.full_name == github.repository"
)


def with_audience(url: str, audience: str) -> str:
    """``url`` with ``audience=<audience>`` as a query pair (any existing ``audience`` replaced)."""
    parts = urlsplit(url)
    pairs = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key != "audience"
    ]
    pairs.append(("audience", audience))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(pairs), parts.fragment))


def is_fork_pull_request(env: Mapping[str, str], event_name: str | None = None) -> bool:
    """Whether this job runs for a ``pull_request`` event from a fork (GITHUB_EVENT_PATH JSON).

    ``event_name`` (the token's ``event_name`` claim, when there is a token) wins over
    ``GITHUB_EVENT_NAME``. The one fork check: detection and preflight both use it.
    """
    if (event_name or env.get("GITHUB_EVENT_NAME")) != "pull_request":
        return False
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return False
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        logger.debug("github: could not read the event payload")
        return False
    try:
        return event["pull_request"]["head"]["repo"]["fork"] is True
    except (KeyError, TypeError):
        return False


def no_token_error(env: Mapping[str, str], event_name: str | None = None) -> IdentityError | None:
    """Why this GitHub Actions job cannot request an OIDC token, or None when it can.

    The one text for the cause: :func:`detect` raises it, preflight reports it as a finding.
    """
    missing = [name for name in (REQUEST_URL_ENV, REQUEST_TOKEN_ENV) if not env.get(name)]
    if not missing:
        return None
    logger.debug("github: %s unset", " and ".join(missing))
    details = [f"missing: {', '.join(missing)}"]
    if is_fork_pull_request(env, event_name):
        return IdentityError(
            "this GitHub Actions job runs for a pull request from a fork, which gets no OIDC token",
            hint=_FORK_HINT,
            details=details,
            anchor="github-fork-pull-request",
        )
    return IdentityError(
        "this GitHub Actions job cannot request an OIDC token: missing id-token: write",
        hint=_PERMISSION_HINT,
        details=details,
        anchor="github-missing-id-token-permission",
    )


def describe(env: Mapping[str, str]) -> str:
    """``GitHub Actions (octo/pkg, workflow release.yml)`` from the job's variables."""
    repository = env.get("GITHUB_REPOSITORY", "")
    workflow_ref = env.get("GITHUB_WORKFLOW_REF", "")
    workflow = workflow_ref.split("@", 1)[0].rsplit("/", 1)[-1] if workflow_ref else ""
    bits = [bit for bit in (repository, f"workflow {workflow}" if workflow else "") if bit]
    return "GitHub Actions" + (f" ({', '.join(bits)})" if bits else "")


def detect(env: Mapping[str, str], *, probe: bool = True) -> Detection | None:
    """A GitHub Actions job with ``id-token: write``; IdentityError without it."""
    if not env_true(env, "GITHUB_ACTIONS"):
        logger.debug("github: GITHUB_ACTIONS is not 'true'; not GitHub Actions")
        return None
    error = no_token_error(env)
    if error is not None:
        raise error
    snapshot = {name: env[name] for name in (REQUEST_URL_ENV, REQUEST_TOKEN_ENV)}
    request_token = Secret(snapshot[REQUEST_TOKEN_ENV])
    request_url = snapshot[REQUEST_URL_ENV]
    logger.debug("github: found the token request variables")

    def fetch(audience: str, client: httpx.Client | None) -> Secret:
        return with_client(client, lambda c: _fetch(c, request_url, request_token, audience))

    return Detection(provider=NAME, description=describe(env), fetcher=fetch)


def findings(token: DecodedToken | None, env: Mapping[str, str]) -> list[Finding]:
    """Preflight for a GitHub Actions job: the token request, the trigger, the job's shape."""
    found: list[Finding] = []
    event_name = env.get("GITHUB_EVENT_NAME", "")
    if token is not None and isinstance(token.claims.get("event_name"), str):
        event_name = str(token.claims["event_name"])
    if token is None and env_true(env, "GITHUB_ACTIONS"):
        error = no_token_error(env, event_name)
        if error is not None:
            found.append(Finding(error.anchor or "", "blocker", error.message, error.hint))
    if event_name == "pull_request_target":
        found.append(
            Finding(
                "github-pull-request-target",
                "blocker",
                "the workflow was triggered by pull_request_target, which PyPI refuses",
                TRIGGER_FIX,
            )
        )
    elif event_name == "workflow_run":
        found.append(
            Finding(
                "github-workflow-run",
                "warning",
                "the workflow was triggered by workflow_run: it runs with the base repository's "
                "rights on behalf of another workflow (possibly a fork's)",
                "publish from the release workflow itself (tag push, release, workflow_dispatch)",
            )
        )
    if token is not None:
        found.extend(_token_findings(token))
    return found


def _split_ref(ref: str) -> tuple[str, str]:
    path, _, at = ref.partition("@")
    return path, at


def _reusable_workflow(token: DecodedToken) -> Finding | None:
    claims = token.claims
    job_ref = claims.get("job_workflow_ref")
    workflow_ref = claims.get("workflow_ref")
    if not isinstance(job_ref, str) or not isinstance(workflow_ref, str) or job_ref == workflow_ref:
        return None
    repository = claims.get("repository")
    called_path, called_at = _split_ref(job_ref)
    same_repo = isinstance(repository, str) and called_path.lower().startswith(
        repository.lower() + "/.github/workflows/"
    )
    same_ref = called_at in {claims.get("ref"), claims.get("sha")}
    called_file = called_path.rsplit("/", 1)[-1]
    if same_repo and same_ref:
        caller = _split_ref(workflow_ref)[0].rsplit("/", 1)[-1]
        return Finding(
            "github-reusable-workflow",
            "warning",
            f"the token was requested inside a reusable workflow ({called_file}); PyPI "
            f"matches the CALLED workflow file, not the caller ({caller})",
            f"configure the publisher with workflow '{called_file}' (reusable workflows "
            "are not officially supported by PyPI), or publish from the caller itself",
        )
    where = "another repository" if not same_repo else "another ref"
    return Finding(
        "github-reusable-workflow",
        "blocker",
        f"the token was requested inside a reusable workflow from {where} "
        f"({claim_text(job_ref)}); PyPI cannot match it",
        "move the publishing job into a workflow file of this repository "
        "(reusable workflows from other repositories or refs never match)",
    )


def _token_findings(token: DecodedToken) -> list[Finding]:
    found: list[Finding] = []
    reusable = _reusable_workflow(token)
    if reusable is not None:
        found.append(reusable)
    if not token.claims.get("environment"):
        found.append(
            Finding(
                "no-environment",
                "info",
                "the publishing job runs in no deployment environment",
                "use a protected environment (e.g. `environment: pypi` with required reviewers "
                "or tag rules) and name it in the publisher",
            )
        )
    if token.claims.get("runner_environment") == "self-hosted":
        found.append(
            Finding(
                "self-hosted-runner",
                "warning",
                "the job runs on a self-hosted runner, which other jobs may share or persist",
                "publish from a GitHub-hosted (ephemeral) runner",
            )
        )
    return found


_FAIL_HINT = (
    "GitHub's token service refused the request; re-run the job (the request token lasts the "
    "job's lifetime, about 6 hours) and check GitHub's status page"
)


def _fetch(client: httpx.Client, request_url: str, request_token: Secret, audience: str) -> Secret:
    check_credential_url(
        request_url,
        what="GitHub's token service",
        hint=f"{REQUEST_URL_ENV} must be an https URL; do not override it",
    )
    url = with_audience(request_url, audience)
    logger.debug("github: requesting an OIDC token for audience %r", audience)
    try:
        response = client.get(
            url,
            headers={
                "Authorization": f"bearer {request_token.reveal()}",
                "Accept": "application/json",
            },
            follow_redirects=False,
        )
    except httpx.TransportError as error:
        raise transport_error(error, url, what="requesting a GitHub OIDC token") from None
    status = response.status_code
    if 300 <= status < 400:
        raise redirect_refused(
            response,
            what="GitHub's token service",
            error=IdentityError,
            hint=_FAIL_HINT,
            anchor=TOKEN_REDIRECT_ANCHOR,
        )
    if retryable_status(status):
        raise TransientIdentityError(
            f"GitHub's token service answered HTTP {status}: {body_excerpt(response)}",
            hint=_FAIL_HINT,
            anchor="github-token-request-failed",
        )
    if status != 200:
        raise IdentityError(
            f"GitHub's token service answered HTTP {status}: {body_excerpt(response)}",
            hint=_FAIL_HINT,
            anchor="github-token-request-failed",
        )
    token = token_in_answer(
        response,
        "value",
        missing="GitHub's token service answered without a token (no string 'value' in its JSON)",
        hint=_FAIL_HINT,
        anchor="github-token-request-failed",
    )
    logger.debug("github: received an OIDC token")
    return token


__all__ = [
    "NAME",
    "PERMISSION_YAML",
    "REQUEST_TOKEN_ENV",
    "REQUEST_URL_ENV",
    "describe",
    "detect",
    "findings",
    "is_fork_pull_request",
    "no_token_error",
    "with_audience",
]
