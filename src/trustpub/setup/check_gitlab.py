"""``trustpub check`` for GitLab CI/CD (``.gitlab-ci.yml`` and its local includes).

PyPI's GitLab rules as read in Warehouse 6b62157 (``warehouse/oidc/models/gitlab.py``): the
publisher names the *top-level* pipeline file (``ci_config_ref_uri``), so a job defined in
an included file still matches ``.gitlab-ci.yml``; a constrained environment must equal the
``environment`` claim exactly (case-sensitive). The job has an ID token only for the
audiences it lists under ``id_tokens:``, in the variables it names there; publishing
clients read ``<AUD>_ID_TOKEN`` (:func:`trustpub._gitlab.token_env_name`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from trustpub._gitlab import id_tokens_yaml, token_env_name
from trustpub.oidc.publishers import CANONICAL_ISSUERS, Provider, Publisher
from trustpub.oidc.validity import SIGSTORE_AUDIENCE
from trustpub.setup.commands import (
    Publish,
    environment_gap,
    expected_publisher,
    is_build,
    publish_in_script,
)
from trustpub.setup.findings import CheckFinding
from trustpub.setup.yamldoc import Document

TOP_LEVEL = ".gitlab-ci.yml"
_RESERVED = {
    "stages",
    "variables",
    "include",
    "default",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "pages",
}
_SCRIPT_KEYS = ("before_script", "script", "after_script")


@dataclass(frozen=True)
class PipelineFile:
    """One parsed GitLab CI file (the top-level one or a local include)."""

    path: str
    doc: Document

    def jobs(self) -> dict[str, dict[str, Any]]:
        data = self.doc.data if isinstance(self.doc.data, dict) else {}
        return {
            name: spec
            for name, spec in data.items()
            if isinstance(spec, dict) and name not in _RESERVED
        }

    def local_includes(self) -> list[tuple[str, int]]:
        """(path, line) of each ``include:`` of a file in this repository."""
        data = self.doc.data if isinstance(self.doc.data, dict) else {}
        raw = data.get("include")
        items = raw if isinstance(raw, list) else [raw]
        found = []
        for index, item in enumerate(items):
            path = item.get("local") if isinstance(item, dict) else item
            if isinstance(path, str) and "://" not in path and "$" not in path:
                where = ("include", index) if isinstance(raw, list) else ("include",)
                found.append((path.lstrip("/"), self.doc.line(*where)))
        return found


@dataclass(frozen=True)
class _Job:
    source: PipelineFile
    name: str
    own: dict[str, Any]
    merged: dict[str, Any]
    resolved: bool
    """Every ``extends:`` was found locally (else merged keys may be missing)."""

    def finding(self, kind: str, key: str | None, message: str, fix: str) -> CheckFinding:
        path = (self.name, key) if key is not None and key in self.own else (self.name,)
        return CheckFinding(kind, self.source.path, self.source.doc.line(*path), message, fix)


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _resolve(
    name: str, table: Mapping[str, tuple[PipelineFile, dict[str, Any]]], depth: int = 0
) -> tuple[dict[str, Any], bool]:
    _, spec = table[name]
    parents = spec.get("extends")
    names = parents if isinstance(parents, list) else [parents] if parents else []
    merged: dict[str, Any] = {}
    resolved = True
    for parent in names:
        if not isinstance(parent, str) or parent not in table or depth > 10:
            resolved = False
            continue
        base, ok = _resolve(parent, table, depth + 1)
        merged = _merge(merged, base)
        resolved = resolved and ok
    return _merge(merged, spec), resolved


def _script_text(spec: Mapping[str, Any]) -> str:
    lines: list[str] = []
    for key in _SCRIPT_KEYS:
        value = spec.get(key)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                lines.append(item)
            elif isinstance(item, list):
                lines.extend(str(sub) for sub in item if isinstance(sub, str))
    return "\n".join(lines)


def _variables(spec: Mapping[str, Any]) -> dict[str, str]:
    raw = spec.get("variables")
    if not isinstance(raw, dict):
        return {}
    out = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            value = value.get("value")
        out[str(key)] = "" if value is None else str(value)
    return out


def _id_tokens(spec: Mapping[str, Any]) -> dict[str, set[str]]:
    """Variable name -> audiences, from ``id_tokens:``."""
    raw = spec.get("id_tokens")
    out: dict[str, set[str]] = {}
    if not isinstance(raw, dict):
        return out
    for name, body in raw.items():
        aud = body.get("aud") if isinstance(body, dict) else None
        values = aud if isinstance(aud, list) else [aud]
        out[str(name)] = {str(v) for v in values if isinstance(v, str)}
    return out


def _token_findings(job: _Job, publish: Publish, script: str) -> Iterator[CheckFinding]:
    audience = publish.index
    if audience is None or not job.resolved:
        return
    tokens = _id_tokens(job.merged)
    wanted = token_env_name(audience)
    holders = [name for name, auds in tokens.items() if audience in auds]
    if not holders:
        declared = ", ".join(f"{n} (aud {'/'.join(sorted(a)) or '?'})" for n, a in tokens.items())
        message = f"job '{job.name}' publishes to {audience} but declares no ID token for "
        message += f"audience '{audience}'" + (f"; it declares {declared}" if declared else "")
        yield job.finding("gitlab-id-tokens", "id_tokens", message, id_tokens_yaml(audience))
        return
    if wanted not in holders and wanted not in script:
        yield job.finding(
            "gitlab-id-token-name",
            "id_tokens",
            f"job '{job.name}' holds the '{audience}' ID token in {holders[0]}; "
            f"publishing clients read {wanted}",
            id_tokens_yaml(audience),
        )


def _environment_findings(job: _Job, expected: Publisher | None) -> Iterator[CheckFinding]:
    gap = environment_gap(job.merged, expected, template="$", case_sensitive=True)
    if gap is None:
        return
    if gap.wanted is None:
        message = f"job '{job.name}' publishes outside any environment"
        yield job.finding(
            "no-environment", None, message, "environment: pypi   # and name it in the publisher"
        )
        return
    message = gap.message(job.name)
    if gap.actual is not None and gap.actual.lower() == gap.wanted.lower():
        message += " (GitLab environments are case-sensitive)"
    yield job.finding("environment", "environment", message, f"environment: {gap.wanted}")


def _attestation_findings(
    job: _Job, publish: Publish, expected: Publisher | None
) -> Iterator[CheckFinding]:
    if not publish.attestations or publish.tool != "trustpub":
        return
    issuer = expected.issuer if expected is not None else None
    if issuer and issuer.rstrip("/") != CANONICAL_ISSUERS[Provider.GITLAB]:
        yield job.finding(
            "attestations-self-managed-gitlab",
            "script",
            f"job '{job.name}' makes attestations on {issuer}",
            "trustpub publish --no-attestations ...",
        )
    elif job.resolved and not any(
        SIGSTORE_AUDIENCE in auds for auds in _id_tokens(job.merged).values()
    ):
        yield job.finding(
            "attestations-no-sigstore-token",
            "id_tokens",
            f"job '{job.name}' has no ID token for audience '{SIGSTORE_AUDIENCE}' to sign with",
            id_tokens_yaml(SIGSTORE_AUDIENCE),
        )


def _job_findings(job: _Job, publish: Publish, base: Publisher | None) -> Iterator[CheckFinding]:
    script = _script_text(job.merged)
    expected = expected_publisher(base, Provider.GITLAB, publish)
    yield from _token_findings(job, publish, script)
    wanted = expected.workflow if expected is not None else None
    if wanted is not None and wanted != TOP_LEVEL:
        yield job.finding(
            "workflow-name",
            None,
            f"the pipeline's top-level file is {TOP_LEVEL}, but the publisher names {wanted}",
            f'register {TOP_LEVEL} as the top-level pipeline file on PyPI (and workflow = "'
            f'{TOP_LEVEL}" in [tool.trustpub.publisher])',
        )
    yield from _environment_findings(job, expected)
    yield from _attestation_findings(job, publish, expected)
    if is_build(script):
        yield job.finding(
            "build-in-publish-job",
            "script",
            f"job '{job.name}' builds and publishes",
            "build in an earlier job that has no id_tokens, pass dist/ as artifacts, and "
            "publish with needs: [build]",
        )


def _jobs(files: list[PipelineFile]) -> list[_Job]:
    table: dict[str, tuple[PipelineFile, dict[str, Any]]] = {}
    for source in files:
        for name, spec in source.jobs().items():
            table[name] = (source, spec)
    jobs = []
    for name, (source, spec) in table.items():
        if name.startswith("."):
            continue
        merged, resolved = _resolve(name, table)
        jobs.append(_Job(source, name, spec, merged, resolved))
    return jobs


def _publish_of(job: _Job) -> Publish | None:
    found = publish_in_script(_script_text(job.merged), _variables(job.merged))
    return found if found is not None and not found.with_token else None


def check_pipeline(files: list[PipelineFile], base: Publisher | None) -> list[CheckFinding]:
    """Every finding for the publishing jobs of a pipeline (top-level file first)."""
    findings: list[CheckFinding] = []
    for job in _jobs(files):
        publish = _publish_of(job)
        if publish is not None:
            findings.extend(_job_findings(job, publish, base))
    return findings


def publishing_jobs(files: list[PipelineFile]) -> list[tuple[str, str, int]]:
    """(file, job, line) of every job that publishes with trusted publishing."""
    return [
        (job.source.path, job.name, job.source.doc.line(job.name))
        for job in _jobs(files)
        if _publish_of(job) is not None
    ]


__all__ = ["TOP_LEVEL", "PipelineFile", "check_pipeline", "publishing_jobs"]
