"""Fake CI jobs: what a user describes, the claims its tokens carry, the env it sees.

A *job* is the sandbox's stand-in for one CI run (a GitHub Actions job, a
GitLab CI job, a Google Cloud VM, an ActiveState build). The user describes it
with a few fields (``repository``, ``workflow``, ``ref`` ...); everything else
gets a realistic default. From the job the sandbox builds

* the claims of every OIDC token issued for it (:func:`build_claims`), with
  the same claim names, value types and lifetimes as the real provider, and
* the environment variables the real CI would set (:func:`job_env`).

This module is pure standard library (no starlette, no crypto) so that the
``trustpub sandbox env`` client can share :func:`parse_claim_option` with the
server. Signing and serving live in :mod:`trustpub.sandbox.identity`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from trustpub._gitlab import token_env_name
from trustpub.sandbox import SIMULATED_JOB_ENV, ids

PROVIDERS = ("github", "gitlab", "google", "activestate")

SELF_MANAGED = "self-managed"
"""GitLab job field ``instance``: the job runs on the sandbox's self-managed GitLab."""
_GITLAB_INSTANCES = ("gitlab.com", SELF_MANAGED)
"""The identity providers the sandbox imitates, in the contract's vocabulary."""

# Lifetimes, in seconds, as the real providers set them (docs/sandbox-identity.md).
GITHUB_LIFETIME = 300
"""GitHub: ``exp = iat + 300``."""
GITHUB_NOT_BEFORE = 600
"""GitHub: ``nbf = iat - 600``."""
GITLAB_DEFAULT_TIMEOUT = 3600
"""GitLab: ``exp = iat + job timeout``; a project's default job timeout is 60 min."""
GITLAB_NOT_BEFORE = 5
"""GitLab: ``nbf = iat - 5``."""
GOOGLE_LIFETIME = 3600
"""Google: ID tokens live one hour (no ``nbf``, no ``jti``)."""
ACTIVESTATE_LIFETIME = 300
"""ActiveState does not document a lifetime; the sandbox uses five minutes."""

DEFAULTS: dict[str, dict[str, Any]] = {
    "github": {
        "repository": "octo-org/example-pkg",
        "workflow": "release.yml",
        "ref": "refs/tags/v1.0.0",
        "event": "release",
        "actor": "octocat",
        "runner": "github-hosted",
    },
    "gitlab": {
        "repository": "example-group/example-pkg",
        "workflow": ".gitlab-ci.yml",
        "ref": "refs/tags/v1.0.0",
        "event": "push",
        "actor": "gitlab-user",
        "runner": "gitlab-hosted",
    },
    "google": {
        "email": "publisher@example-project.iam.gserviceaccount.com",
    },
    "activestate": {
        "organization": "example-org",
        "project": "example-pkg",
        "actor": "example-user",
        "builder": "pypi-publisher",
    },
}
"""Defaults for the job fields each provider uses."""

_FIELDS_BY_PROVIDER: dict[str, frozenset[str]] = {
    "github": frozenset(
        {"repository", "workflow", "ref", "sha", "environment", "event", "actor", "runner", "fork"}
        | {"id_token"}
    ),
    "gitlab": frozenset(
        {"repository", "workflow", "ref", "sha", "environment", "event", "actor", "runner"}
        | {"audience", "timeout", "instance"}
    ),
    "google": frozenset({"email", "impersonate"}),
    "activestate": frozenset({"organization", "project", "actor", "builder", "audience"}),
}
_COMMON_FIELDS = frozenset({"provider", "claims", "remove_claims"})
_ALL_FIELDS = frozenset().union(*_FIELDS_BY_PROVIDER.values(), _COMMON_FIELDS)

_PR_EVENTS = frozenset({"pull_request", "pull_request_target"})
_WORKFLOW_FILE = re.compile(r"^[^/\\]+\.ya?ml$")
_SHA = re.compile(r"^[0-9a-f]{40}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+$")
_JOB_ID = re.compile(r"^[0-9a-f]{16}$")


class JobError(ValueError):
    """A job description is invalid; the message names the field and the fix."""


@dataclass(frozen=True)
class JobSpec:
    """A validated job description, defaults filled in."""

    provider: str
    repository: str | None = None
    workflow: str | None = None
    ref: str | None = None
    sha: str | None = None
    environment: str | None = None
    event: str | None = None
    actor: str | None = None
    runner: str | None = None
    fork: bool = False
    id_token: bool = True
    """GitHub: whether the job may request OIDC tokens (``permissions: id-token: write``)."""
    audience: str | None = None
    """GitLab/ActiveState: mint the job's token for this audience instead of the sandbox's."""
    timeout: int = GITLAB_DEFAULT_TIMEOUT
    instance: str | None = None
    """GitLab: ``gitlab.com`` (the default) or ``self-managed`` (the second GitLab issuer)."""
    email: str | None = None
    impersonate: str | None = None
    organization: str | None = None
    project: str | None = None
    builder: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)
    remove_claims: tuple[str, ...] = ()

    @property
    def owner(self) -> str:
        """GitHub/GitLab: the part of ``repository`` before the last ``/`` (the namespace)."""
        return (self.repository or "").rsplit("/", 1)[0]

    @property
    def name(self) -> str:
        """GitHub/GitLab: the part of ``repository`` after the last ``/``."""
        return (self.repository or "").rsplit("/", 1)[-1]


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise JobError(f"job field {key!r} must be a string, not {type(value).__name__}")
    if not value:
        raise JobError(f"job field {key!r} must not be empty (omit it for the default)")
    return value


def _flag(data: Mapping[str, Any], key: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise JobError(f"job field {key!r} must be true or false")
    return value


def parse_job(data: Mapping[str, Any]) -> JobSpec:
    """Validate a job description (the JSON body of ``POST /_sandbox/jobs``).

    Raises :class:`JobError` naming the first bad field. Fields that do not
    apply to the provider are refused rather than ignored, so a typo or a
    GitHub-only option on a GitLab job does not pass silently.
    """
    provider = data.get("provider")
    if provider not in PROVIDERS:
        raise JobError(f"job field 'provider' must be one of {', '.join(PROVIDERS)}")
    unknown = sorted(set(data) - _ALL_FIELDS)
    if unknown:
        raise JobError(f"unknown job field {unknown[0]!r}")
    allowed = _FIELDS_BY_PROVIDER[provider] | _COMMON_FIELDS
    foreign = sorted(key for key in data if key not in allowed and data[key] is not None)
    if foreign:
        raise JobError(f"job field {foreign[0]!r} does not apply to provider {provider}")

    defaults = DEFAULTS[provider]
    values: dict[str, Any] = {"provider": provider}
    for key in ("repository", "workflow", "ref", "sha", "environment", "event", "actor"):
        values[key] = _text(data, key) or defaults.get(key)
    for key in ("runner", "email", "organization", "project", "builder", "audience"):
        values[key] = _text(data, key) or defaults.get(key)
    values["impersonate"] = _text(data, "impersonate")
    values["fork"] = _flag(data, "fork", False)

    _PROVIDER_CHECKS[provider](data, values)
    values["claims"], values["remove_claims"] = _claim_edits(data)
    return JobSpec(**values)


def _check_repository_job(provider: str, data: Mapping[str, Any], values: dict[str, Any]) -> None:
    """Rules shared by the two repository-hosted CIs (GitHub, GitLab)."""
    _check_repository(provider, values["repository"])
    _check_workflow(provider, values["workflow"])
    if values["event"] in _PR_EVENTS and data.get("ref") is None:
        values["ref"] = "refs/pull/1/merge"
    if not str(values["ref"]).startswith("refs/"):
        raise JobError(
            "job field 'ref' must be a full ref, like refs/tags/v1.0.0 or refs/heads/main"
        )
    sha = values["sha"]
    if sha is not None and not _SHA.match(sha):
        raise JobError("job field 'sha' must be 40 lower-case hex digits")
    hosted = "github-hosted" if provider == "github" else "gitlab-hosted"
    if values["runner"] not in (hosted, "self-hosted"):
        raise JobError(f"job field 'runner' must be {hosted} or self-hosted")


def _check_github(data: Mapping[str, Any], values: dict[str, Any]) -> None:
    _check_repository_job("github", data, values)
    if values["fork"] and values["event"] not in _PR_EVENTS:
        raise JobError("job field 'fork' applies only to pull_request events")
    # Fork PRs get a read-only token: no OIDC unless the user says otherwise.
    values["id_token"] = _flag(
        data, "id_token", not (values["fork"] and values["event"] == "pull_request")
    )


def _check_gitlab(data: Mapping[str, Any], values: dict[str, Any]) -> None:
    _check_repository_job("gitlab", data, values)
    timeout = data.get("timeout", GITLAB_DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0:
        raise JobError("job field 'timeout' must be a positive number of seconds")
    values["timeout"] = timeout
    instance = data.get("instance") or "gitlab.com"
    if instance not in _GITLAB_INSTANCES:
        raise JobError(f"job field 'instance' must be {' or '.join(_GITLAB_INSTANCES)}")
    values["instance"] = None if instance == "gitlab.com" else instance


def _check_google(data: Mapping[str, Any], values: dict[str, Any]) -> None:
    for key in ("email", "impersonate"):
        if values[key] is not None and not EMAIL_PATTERN.match(values[key]):
            raise JobError(f"job field {key!r} must be a service-account email")


def _check_nothing(data: Mapping[str, Any], values: dict[str, Any]) -> None:
    """ActiveState jobs have no provider-specific fields to check."""


_PROVIDER_CHECKS: dict[str, Callable[[Mapping[str, Any], dict[str, Any]], None]] = {
    "github": _check_github,
    "gitlab": _check_gitlab,
    "google": _check_google,
    "activestate": _check_nothing,
}


def _claim_edits(data: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The job's ``claims`` (set) and ``remove_claims`` (drop) fields, checked."""
    claims = data.get("claims") or {}
    if not isinstance(claims, Mapping) or not all(isinstance(k, str) and k for k in claims):
        raise JobError("job field 'claims' must be an object of claim name -> JSON value")
    remove = data.get("remove_claims") or []
    if not isinstance(remove, list) or not all(isinstance(k, str) and k for k in remove):
        raise JobError("job field 'remove_claims' must be a list of claim names")
    return dict(claims), tuple(remove)


def _check_repository(provider: str, repository: str) -> None:
    parts = repository.split("/")
    if len(parts) < 2 or not all(parts) or (provider == "github" and len(parts) != 2):
        shape = "owner/name" if provider == "github" else "namespace/project"
        raise JobError(f"job field 'repository' must look like {shape}")


def _check_workflow(provider: str, workflow: str) -> None:
    if provider == "github" and not _WORKFLOW_FILE.match(workflow):
        raise JobError(
            "job field 'workflow' must be a workflow file name like release.yml (no directory)"
        )
    if provider == "gitlab" and (
        workflow.startswith("/")
        or workflow.endswith("/")
        or not workflow.endswith((".yml", ".yaml"))
    ):
        raise JobError(
            "job field 'workflow' must be a repository-relative path like .gitlab-ci.yml"
        )


def parse_claim_option(text: str) -> tuple[str, Any, bool]:
    """Parse ``--claim KEY=VALUE``: returns ``(key, value, remove)``.

    The value is JSON-parsed when it parses (``false``, ``123``, ``["a","b"]``,
    ``null``), else taken as a string. ``KEY=`` (empty value) removes the claim.
    To set a string that looks like JSON, quote it: ``KEY='"123"'``.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise JobError(f"--claim expects KEY=VALUE, got {text!r}")
    if raw == "":
        return key, None, True
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return key, value, False


# --------------------------------------------------------------------------- stored jobs


@dataclass(frozen=True)
class Job:
    """A created job: the spec plus the run's generated identifiers."""

    id: str
    spec: JobSpec
    created: float
    run_id: str
    run_number: str
    check_run_id: str
    pipeline_id: str
    ci_job_id: str
    runner_id: int
    request_token: str | None
    """GitHub: the ``ACTIONS_ID_TOKEN_REQUEST_TOKEN`` (None without id-token permission)."""
    access_token: str | None
    """Google: the metadata server's OAuth access token for the VM's service account."""

    @property
    def sha(self) -> str:
        """The commit: the job's ``sha`` or a stable fake one for repository + ref."""
        if self.spec.sha:
            return self.spec.sha
        return hashlib.sha1(  # noqa: S324 - a fake commit id, not security
            f"{self.spec.repository}@{self.spec.ref}".encode()
        ).hexdigest()

    def to_json(self) -> dict[str, Any]:
        record = asdict(self)
        record["spec"]["remove_claims"] = list(self.spec.remove_claims)
        return record

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> Job:
        spec_data = dict(record["spec"])
        spec_data["remove_claims"] = tuple(spec_data.get("remove_claims", ()))
        known = {f.name for f in fields(JobSpec)}
        spec = JobSpec(**{k: v for k, v in spec_data.items() if k in known})
        values = {f.name: record[f.name] for f in fields(cls) if f.name != "spec"}
        return cls(spec=spec, **values)


def _digits(count: int) -> str:
    return str(secrets.randbelow(9 * 10 ** (count - 1)) + 10 ** (count - 1))


class JobStore:
    """Jobs persisted as ``<state_dir>/jobs/<id>/job.json`` (plus the job's files)."""

    def __init__(self, state_dir: Path) -> None:
        self.root = state_dir / "jobs"
        self._lock = threading.Lock()
        self._cache: dict[str, Job] = {}

    def folder(self, job_id: str) -> Path:
        """The job's own folder (GitHub's event file, ``GITHUB_OUTPUT`` ...)."""
        return self.root / job_id

    def create(self, spec: JobSpec, *, now: float) -> Job:
        """Create, persist and return a new job."""
        job = Job(
            id=secrets.token_hex(8),
            spec=spec,
            created=now,
            run_id=_digits(10),
            run_number=str(secrets.randbelow(500) + 1),
            check_run_id=_digits(11),
            pipeline_id=_digits(10),
            ci_job_id=_digits(10),
            runner_id=int(_digits(8)),
            request_token=(
                secrets.token_urlsafe(32) if spec.provider == "github" and spec.id_token else None
            ),
            access_token=(
                "ya29.sandbox-" + secrets.token_urlsafe(32) if spec.provider == "google" else None
            ),
        )
        folder = self.folder(job.id)
        folder.mkdir(parents=True, exist_ok=True)
        _write_private(folder / "job.json", json.dumps(job.to_json(), indent=2).encode())
        with self._lock:
            self._cache[job.id] = job
            _write_private(self.root / f"latest-{spec.provider}", job.id.encode())
        return job

    def get(self, job_id: str) -> Job | None:
        """The job with this id, or None (also for ids that are not job ids)."""
        if not _JOB_ID.match(job_id):
            return None
        with self._lock:
            cached = self._cache.get(job_id)
        if cached is not None:
            return cached
        try:
            record = json.loads((self.folder(job_id) / "job.json").read_text(encoding="utf-8"))
            job = Job.from_json(record)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        with self._lock:
            self._cache[job_id] = job
        return job

    def latest(self, provider: str) -> Job | None:
        """The most recently created job of a provider."""
        try:
            job_id = (self.root / f"latest-{provider}").read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return self.get(job_id)

    def by_access_token(self, token: str) -> Job | None:
        """The Google job whose metadata access token this is."""
        folders = sorted(self.root.iterdir()) if self.root.is_dir() else []
        candidates = itertools.chain(
            [self.latest("google")], (self.get(folder.name) for folder in folders)
        )
        for job in candidates:
            if (
                job is not None
                and job.access_token is not None
                and secrets.compare_digest(job.access_token, token)
            ):
                return job
        return None


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- claims


def _sub_escape(value: str) -> str:
    return value.replace(":", "%3A")


def _ref_parts(ref: str) -> tuple[str, str]:
    """``(ref_type, bare name)`` of a full ref."""
    for prefix, kind in (("refs/tags/", "tag"), ("refs/heads/", "branch")):
        if ref.startswith(prefix):
            return kind, ref[len(prefix) :]
    return "branch", ref.removeprefix("refs/")


def _stable(kind: str, text: str, digits: int) -> str:
    number = int(hashlib.sha256(f"{kind}:{text.lower()}".encode()).hexdigest()[:15], 16)
    return str(number % 10**digits).rjust(digits, "1")


def github_workflow_path(spec: JobSpec) -> str:
    """``.github/workflows/<file>``."""
    return f".github/workflows/{spec.workflow}"


def github_claims(job: Job, *, issuer: str, audience: str, now: int) -> dict[str, Any]:
    """The claims of a GitHub Actions OIDC token for this job."""
    spec = job.spec
    repo = spec.repository or ""
    ref = spec.ref or ""
    ref_type, _ = _ref_parts(ref)
    workflow_ref = f"{repo}/{github_workflow_path(spec)}@{ref}"
    if spec.environment:
        sub = f"repo:{repo}:environment:{_sub_escape(spec.environment)}"
    elif spec.event in _PR_EVENTS:
        sub = f"repo:{repo}:pull_request"
    else:
        sub = f"repo:{repo}:ref:{_sub_escape(ref)}"
    head_ref, base_ref = ("feature", "main") if spec.event in _PR_EVENTS else ("", "")
    claims: dict[str, Any] = {
        "jti": str(uuid.uuid4()),
        "sub": sub,
        "aud": audience,
        "ref": ref,
        "sha": job.sha,
        "repository": repo,
        "repository_owner": spec.owner,
        "repository_owner_id": ids.github_owner_id(spec.owner),
        "run_id": job.run_id,
        "run_number": job.run_number,
        "run_attempt": "1",
        "repository_visibility": "public",
        "repository_id": ids.github_repository_id(repo),
        "actor_id": _stable("github-actor", spec.actor or "", 8),
        "actor": spec.actor,
        "workflow": github_workflow_path(spec),
        "head_ref": head_ref,
        "base_ref": base_ref,
        "event_name": spec.event,
        "ref_protected": "false",
        "ref_type": ref_type,
        "workflow_ref": workflow_ref,
        "workflow_sha": job.sha,
        "job_workflow_ref": workflow_ref,
        "job_workflow_sha": job.sha,
        "check_run_id": job.check_run_id,
        "runner_environment": spec.runner,
        "iss": issuer,
        "nbf": now - GITHUB_NOT_BEFORE,
        "exp": now + GITHUB_LIFETIME,
        "iat": now,
    }
    if spec.environment:
        claims["environment"] = spec.environment
        claims["environment_node_id"] = "EN_kwDO" + _stable(
            "github-env", f"{repo}:{spec.environment}", 10
        )
    return claims


def gitlab_config_ref_uri(issuer: str, spec: JobSpec) -> str:
    """``ci_config_ref_uri``: ``{issuer without scheme}/{ns}/{proj}//{workflow}@{ref_path}``."""
    host_and_path = issuer.split("://", 1)[-1].rstrip("/")
    return f"{host_and_path}/{spec.repository}//{spec.workflow}@{spec.ref}"


def _deployment_tier(environment: str) -> str:
    name = environment.lower()
    for tier, pattern in (
        ("production", r"prod|live"),
        ("staging", r"stag|model|pre"),
        ("testing", r"test|tst|int|qa|qc|control|quality"),
        ("development", r"dev|review|trunk"),
    ):
        if re.search(pattern, name):
            return tier
    return "other"


def gitlab_claims(job: Job, *, issuer: str, audience: str, now: int) -> dict[str, Any]:
    """The claims of a GitLab CI ``id_tokens:`` token for this job."""
    spec = job.spec
    ref_path = spec.ref or ""
    ref_type, ref = _ref_parts(ref_path)
    namespace = spec.owner
    actor = spec.actor or ""
    claims: dict[str, Any] = {
        "namespace_id": ids.gitlab_namespace_id(namespace),
        "namespace_path": namespace,
        "project_id": ids.gitlab_project_id(spec.repository or ""),
        "project_path": spec.repository,
        "project_visibility": "public",
        "user_id": _stable("gitlab-user", actor, 7),
        "user_login": actor,
        "user_email": f"{actor}@example.com",
        "user_access_level": "maintainer",
        "groups_direct": [namespace],
        "pipeline_id": job.pipeline_id,
        "pipeline_source": spec.event,
        "job_id": job.ci_job_id,
        "ref": ref,
        "ref_type": ref_type,
        "ref_path": ref_path,
        "ref_protected": "true" if ref_type == "tag" else "false",
        "runner_id": job.runner_id,
        "runner_environment": spec.runner,
        "sha": job.sha,
        "ci_config_ref_uri": gitlab_config_ref_uri(issuer, spec),
        "ci_config_sha": job.sha,
        "jti": str(uuid.uuid4()),
        "iss": issuer,
        "iat": now,
        "nbf": now - GITLAB_NOT_BEFORE,
        "exp": now + spec.timeout,
        "sub": f"project_path:{spec.repository}:ref_type:{ref_type}:ref:{ref}",
        "aud": audience,
    }
    if spec.environment:
        claims["environment"] = spec.environment
        claims["environment_protected"] = "false"
        claims["deployment_tier"] = _deployment_tier(spec.environment)
        claims["environment_action"] = "start"
    return claims


def google_project(email: str) -> str:
    """The project id in ``name@PROJECT.iam.gserviceaccount.com`` (else ``example-project``)."""
    domain = email.split("@", 1)[-1]
    suffix = ".iam.gserviceaccount.com"
    return domain[: -len(suffix)] if domain.endswith(suffix) else "example-project"


def google_claims(
    email: str, *, issuer: str, audience: str, now: int, full: bool, compute_engine: bool
) -> dict[str, Any]:
    """A Google ID token for a service account.

    ``full`` adds ``email``/``email_verified`` (metadata ``format=full``, IAM
    ``includeEmail``); ``compute_engine`` adds the ``google.compute_engine``
    block the metadata server puts in ``format=full`` tokens.
    """
    subject = ids.google_subject(email)
    claims: dict[str, Any] = {"aud": audience, "azp": subject}
    if full:
        claims["email"] = email
        claims["email_verified"] = True
    claims.update({"exp": now + GOOGLE_LIFETIME, "iat": now, "iss": issuer, "sub": subject})
    if full and compute_engine:
        project = google_project(email)
        claims["google"] = {
            "compute_engine": {
                "instance_creation_timestamp": now - 3600,
                "instance_id": _stable("gce-instance", email, 19),
                "instance_name": "sandbox-runner",
                "project_id": project,
                "project_number": int(_stable("gce-project", project, 12)),
                "zone": "us-central1-a",
            }
        }
    return claims


def activestate_claims(job: Job, *, issuer: str, audience: str, now: int) -> dict[str, Any]:
    """The claims of the token an ActiveState ``pypi-publisher`` build receives."""
    spec = job.spec
    org = spec.organization or ""
    project = spec.project or ""
    actor = spec.actor or ""
    return {
        "iss": issuer,
        "sub": f"org:{org}:project:{project}",
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + ACTIVESTATE_LIFETIME,
        "jti": str(uuid.uuid4()),
        "organization": org,
        "organization_id": ids.activestate_id("organization", org),
        "project": project,
        "project_id": ids.activestate_id("project", f"{org}/{project}"),
        "project_path": f"{org}/{project}",
        "project_visibility": "private",
        "actor": actor,
        "actor_id": ids.activestate_actor_id(actor),
        "ingredient": project,
        "artifact_id": str(uuid.uuid4()),
        "builder": spec.builder,
    }


def apply_overrides(claims: dict[str, Any], spec: JobSpec) -> dict[str, Any]:
    """The job's ``claims`` overrides and ``remove_claims``, applied last."""
    claims.update(spec.claims)
    for key in spec.remove_claims:
        claims.pop(key, None)
    return claims


def build_claims(job: Job, *, issuer: str, audience: str, now: float) -> dict[str, Any]:
    """The claims of a token for this job (GitHub, GitLab, ActiveState; Google default SA)."""
    at = int(now)
    provider = job.spec.provider
    if provider == "github":
        claims = github_claims(job, issuer=issuer, audience=audience, now=at)
    elif provider == "gitlab":
        claims = gitlab_claims(job, issuer=issuer, audience=audience, now=at)
    elif provider == "activestate":
        claims = activestate_claims(job, issuer=issuer, audience=audience, now=at)
    else:
        claims = google_claims(
            job.spec.email or "",
            issuer=issuer,
            audience=audience,
            now=at,
            full=True,
            compute_engine=True,
        )
    return apply_overrides(claims, job.spec)


# --------------------------------------------------------------------------- env


gitlab_token_env_name = token_env_name
"""``<AUD>_ID_TOKEN``, the same function the client reads the token with."""


def github_event_payload(job: Job) -> dict[str, Any]:
    """The webhook payload GitHub writes to ``GITHUB_EVENT_PATH`` (the parts clients read)."""
    spec = job.spec
    owner_id = int(ids.github_owner_id(spec.owner))
    repository = {
        "id": int(ids.github_repository_id(spec.repository or "")),
        "name": spec.name,
        "full_name": spec.repository,
        "private": False,
        "fork": False,
        "owner": {"login": spec.owner, "id": owner_id},
        "html_url": f"https://github.com/{spec.repository}",
    }
    sender = {"login": spec.actor, "id": int(_stable("github-actor", spec.actor or "", 8))}
    payload: dict[str, Any] = {"repository": repository, "sender": sender}
    _, name = _ref_parts(spec.ref or "")
    if spec.event in _PR_EVENTS:
        head_owner = "fork-owner" if spec.fork else spec.owner
        head_repo = dict(repository, fork=spec.fork, full_name=f"{head_owner}/{spec.name}")
        payload.update(
            action="synchronize",
            number=1,
            pull_request={
                "number": 1,
                "head": {"ref": "feature", "sha": job.sha, "repo": head_repo},
                "base": {"ref": "main", "repo": repository},
            },
        )
    elif spec.event == "release":
        payload.update(action="published", release={"tag_name": name, "draft": False})
    elif spec.event == "push":
        payload.update(ref=spec.ref, after=job.sha)
    elif spec.event == "workflow_dispatch":
        payload.update(ref=spec.ref, inputs={})
    return payload


def job_env(
    job: Job,
    *,
    folder: Path,
    base_url: str,
    issuer: str,
    token: str | None,
    token_audience: str | None,
    metadata_host: str | None,
    ca_cert: Path | None,
    activestate_env: str,
) -> dict[str, str]:
    """The environment variables of the job (writes GitHub's files into ``folder``)."""
    spec = job.spec
    env: dict[str, str] = {"CI": "true", SIMULATED_JOB_ENV: job.id}
    if spec.provider == "github":
        env.update(_github_env(job, folder=folder, base_url=base_url))
    elif spec.provider == "gitlab":
        env.update(_gitlab_env(job, issuer=issuer))
        if token is not None and token_audience is not None:
            env[gitlab_token_env_name(token_audience)] = token
    elif spec.provider == "google":
        del env["CI"]  # a VM is not a CI job
        if metadata_host:
            env["GCE_METADATA_HOST"] = metadata_host
            env["GCE_METADATA_IP"] = metadata_host
        env["TRUSTPUB_GOOGLE_IAM_URL"] = f"{base_url}/_sandbox/google/iam"
        if spec.impersonate:
            env["GOOGLE_SERVICE_ACCOUNT_NAME"] = spec.impersonate
    elif token is not None:
        env[activestate_env] = token
    if ca_cert is not None:
        env["SSL_CERT_FILE"] = str(ca_cert)
        env["REQUESTS_CA_BUNDLE"] = str(ca_cert)
    return env


def _github_env(job: Job, *, folder: Path, base_url: str) -> dict[str, str]:
    spec = job.spec
    ref = spec.ref or ""
    ref_type, ref_name = _ref_parts(ref)
    if ref.startswith("refs/pull/"):
        ref_name = ref.removeprefix("refs/pull/")
    event_path = folder / "event.json"
    event_path.write_text(json.dumps(github_event_payload(job), indent=2), encoding="utf-8")
    files = {}
    for name, filename in (
        ("GITHUB_OUTPUT", "output"),
        ("GITHUB_STEP_SUMMARY", "step_summary.md"),
        ("GITHUB_ENV", "env"),
        ("GITHUB_PATH", "path"),
        ("GITHUB_STATE", "state"),
    ):
        path = folder / filename
        path.touch()
        files[name] = str(path)
    is_pr = spec.event in _PR_EVENTS
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": spec.repository or "",
        "GITHUB_REPOSITORY_ID": ids.github_repository_id(spec.repository or ""),
        "GITHUB_REPOSITORY_OWNER": spec.owner,
        "GITHUB_REPOSITORY_OWNER_ID": ids.github_owner_id(spec.owner),
        "GITHUB_REF": ref,
        "GITHUB_REF_NAME": ref_name,
        "GITHUB_REF_TYPE": ref_type,
        "GITHUB_REF_PROTECTED": "false",
        "GITHUB_HEAD_REF": "feature" if is_pr else "",
        "GITHUB_BASE_REF": "main" if is_pr else "",
        "GITHUB_SHA": job.sha,
        "GITHUB_EVENT_NAME": spec.event or "",
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_WORKFLOW": github_workflow_path(spec),
        "GITHUB_WORKFLOW_REF": f"{spec.repository}/{github_workflow_path(spec)}@{ref}",
        "GITHUB_WORKFLOW_SHA": job.sha,
        "GITHUB_ACTOR": spec.actor or "",
        "GITHUB_ACTOR_ID": _stable("github-actor", spec.actor or "", 8),
        "GITHUB_TRIGGERING_ACTOR": spec.actor or "",
        "GITHUB_RUN_ID": job.run_id,
        "GITHUB_RUN_NUMBER": job.run_number,
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_JOB": "publish",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_API_URL": "https://api.github.com",
        "GITHUB_GRAPHQL_URL": "https://api.github.com/graphql",
        "RUNNER_ENVIRONMENT": spec.runner or "",
        "RUNNER_OS": "Linux",
        "RUNNER_ARCH": "X64",
        **files,
    }
    if job.request_token is not None:
        env["ACTIONS_ID_TOKEN_REQUEST_URL"] = f"{base_url}/_sandbox/github/token?job={job.id}"
        env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = job.request_token
    return env


def _gitlab_env(job: Job, *, issuer: str) -> dict[str, str]:
    spec = job.spec
    ref_type, ref_name = _ref_parts(spec.ref or "")
    server_host = issuer.split("://", 1)[-1].split("/", 1)[0]
    project_url = f"{issuer}/{spec.repository}"
    env = {
        "GITLAB_CI": "true",
        "CI_SERVER": "yes",
        "CI_SERVER_URL": issuer,
        "CI_SERVER_HOST": server_host.rsplit(":", 1)[0],
        "CI_PROJECT_PATH": spec.repository or "",
        "CI_PROJECT_NAMESPACE": spec.owner,
        "CI_PROJECT_NAME": spec.name,
        "CI_PROJECT_ID": ids.gitlab_project_id(spec.repository or ""),
        "CI_PROJECT_URL": project_url,
        "CI_PROJECT_VISIBILITY": "public",
        "CI_COMMIT_REF_NAME": ref_name,
        "CI_COMMIT_REF_PROTECTED": "true" if ref_type == "tag" else "false",
        "CI_COMMIT_SHA": job.sha,
        "CI_COMMIT_SHORT_SHA": job.sha[:8],
        "CI_CONFIG_PATH": spec.workflow or "",
        "CI_JOB_ID": job.ci_job_id,
        "CI_JOB_NAME": "publish",
        "CI_JOB_STAGE": "deploy",
        "CI_JOB_URL": f"{project_url}/-/jobs/{job.ci_job_id}",
        "CI_JOB_TIMEOUT": str(spec.timeout),
        "CI_PIPELINE_ID": job.pipeline_id,
        "CI_PIPELINE_SOURCE": spec.event or "",
        "CI_PIPELINE_URL": f"{project_url}/-/pipelines/{job.pipeline_id}",
        "CI_RUNNER_ID": str(job.runner_id),
        "GITLAB_USER_LOGIN": spec.actor or "",
        "GITLAB_USER_EMAIL": f"{spec.actor}@example.com",
    }
    env["CI_COMMIT_TAG" if ref_type == "tag" else "CI_COMMIT_BRANCH"] = ref_name
    if spec.environment:
        env["CI_ENVIRONMENT_NAME"] = spec.environment
        env["CI_ENVIRONMENT_TIER"] = _deployment_tier(spec.environment)
    return env


__all__ = [
    "DEFAULTS",
    "PROVIDERS",
    "SELF_MANAGED",
    "SIMULATED_JOB_ENV",
    "Job",
    "JobError",
    "JobSpec",
    "JobStore",
    "build_claims",
    "github_claims",
    "gitlab_claims",
    "gitlab_config_ref_uri",
    "gitlab_token_env_name",
    "google_claims",
    "job_env",
    "parse_claim_option",
    "parse_job",
]
