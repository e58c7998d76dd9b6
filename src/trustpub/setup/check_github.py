"""``trustpub check`` for GitHub Actions workflows (``.github/workflows/*.yml``).

PyPI's GitHub rules as read in Warehouse 6b62157 (``warehouse/oidc/models/github.py``): the
publisher is looked up by repository, owner id and the workflow *file name* taken from
``job_workflow_ref`` (the called file inside a reusable workflow); a constrained
environment must equal the ``environment`` claim (case-insensitive); ``event_name ==
pull_request_target`` is refused. The job gets a token only with ``id-token: write``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trustpub.oidc.publishers import Provider, Publisher
from trustpub.setup.commands import (
    OUR_ACTION,
    Publish,
    environment_gap,
    expected_publisher,
    is_build,
    is_build_action,
    publish_in_action,
    publish_in_script,
)
from trustpub.setup.findings import CheckFinding
from trustpub.setup.yamldoc import Document

_SHA = re.compile(r"^[0-9a-f]{40}$")
_FIRST_PARTY_OWNERS = ("actions", "github")
"""Owners whose actions are GitHub's own (zizmor's default policy allows tags for actions/*)."""

PERMISSION_FIX = "permissions:\n  contents: read\n  id-token: write"


@dataclass(frozen=True)
class Workflow:
    """One parsed workflow file."""

    path: str
    """Relative path, e.g. ``.github/workflows/release.yml``."""
    doc: Document
    local_publish_actions: frozenset[str] = frozenset()
    """``uses: ./...`` paths that are trustpub's own action (its repository checking itself)."""

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def jobs(self) -> dict[str, Any]:
        data = self.doc.data if isinstance(self.doc.data, dict) else {}
        jobs = data.get("jobs")
        return (
            {k: v for k, v in jobs.items() if isinstance(v, dict)} if isinstance(jobs, dict) else {}
        )

    @property
    def triggers(self) -> dict[str, int]:
        """Event name -> line of its mention under ``on:``."""
        data = self.doc.data if isinstance(self.doc.data, dict) else {}
        on = data.get("on", data.get("true"))
        key = "on" if "on" in data else "true"
        if isinstance(on, str):
            return {on: self.doc.line(key)}
        if isinstance(on, list):
            return {str(e): self.doc.line(key, i) for i, e in enumerate(on) if isinstance(e, str)}
        if isinstance(on, dict):
            return {str(e): self.doc.line(key, e) for e in on}
        return {}

    def finding(self, kind: str, path: Sequence[str | int], message: str, fix: str) -> CheckFinding:
        return CheckFinding(kind, self.path, self.doc.line(*path), message, fix)


@dataclass
class _Job:
    workflow: Workflow
    name: str
    spec: dict[str, Any]
    publishes: list[tuple[int, Publish]] = field(default_factory=list)

    @property
    def steps(self) -> list[Any]:
        steps = self.spec.get("steps")
        return steps if isinstance(steps, list) else []

    def path(self, *rest: str | int) -> tuple[str | int, ...]:
        return ("jobs", self.name, *rest)


def grants_id_token(permissions: Any) -> bool:
    """Whether a ``permissions:`` value grants ``id-token: write``."""
    if isinstance(permissions, str):
        return permissions.strip() == "write-all"
    return isinstance(permissions, dict) and str(permissions.get("id-token", "")).strip() == "write"


def _holds_identity(job: _Job) -> bool:
    if "permissions" in job.spec:
        return grants_id_token(job.spec["permissions"])
    data = job.workflow.doc.data
    return isinstance(data, dict) and grants_id_token(data.get("permissions"))


def _step_publish(step: Mapping[str, Any], local: frozenset[str]) -> Publish | None:
    if isinstance(step.get("uses"), str):
        inputs = step.get("with")
        uses = OUR_ACTION if step["uses"] in local else step["uses"]
        return publish_in_action(uses, inputs if isinstance(inputs, dict) else {})
    if isinstance(step.get("run"), str):
        env = step.get("env")
        return publish_in_script(step["run"], env if isinstance(env, dict) else {})
    return None


def _collect_jobs(workflow: Workflow) -> list[_Job]:
    jobs = []
    for name, spec in workflow.jobs.items():
        job = _Job(workflow, name, spec)
        for index, step in enumerate(job.steps):
            local = workflow.local_publish_actions
            found = _step_publish(step, local) if isinstance(step, dict) else None
            if found is not None and not found.with_token:
                job.publishes.append((index, found))
        jobs.append(job)
    return jobs


def _permission_findings(job: _Job) -> Iterator[CheckFinding]:
    if _holds_identity(job):
        others = [n for n, spec in job.workflow.jobs.items() if n != job.name]
        inheriting = [n for n in others if "permissions" not in job.workflow.jobs[n]]
        if "permissions" not in job.spec and inheriting:
            yield job.workflow.finding(
                "workflow-wide-id-token",
                ("permissions",),
                f"id-token: write is granted at the top of the workflow; job "
                f"'{inheriting[0]}' holds it too",
                "permissions: {}   # at the top; then on the publishing job only:\n"
                + PERMISSION_FIX,
            )
        return
    where = job.path("permissions") if "permissions" in job.spec else job.path()
    yield job.workflow.finding(
        "id-token-permission",
        where,
        f"job '{job.name}' publishes but is not granted id-token: write",
        f"on job '{job.name}':\n{PERMISSION_FIX}",
    )


_EVENT_IS = re.compile(r"github\.event_name\s*==\s*'(\w+)'")
_TAG_ONLY = re.compile(r"startsWith\(\s*github\.ref\s*,\s*'refs/tags/")
_PULL_REQUEST_EVENTS = {"pull_request", "pull_request_target"}


def excludes_pull_requests(condition: object) -> bool:
    """Whether a job's ``if:`` keeps it from running on pull_request(_target) events.

    Recognised: ``github.event_name == 'release'`` (only non-pull-request events named, no
    ``||``) and ``startsWith(github.ref, 'refs/tags/')`` (a pull request's ref is a branch).
    """
    if not isinstance(condition, str):
        return False
    events = set(_EVENT_IS.findall(condition))
    if events and not (events & _PULL_REQUEST_EVENTS) and "||" not in condition:
        return True
    return bool(_TAG_ONLY.search(condition)) and "||" not in condition


def _trigger_findings(workflow: Workflow, job: str) -> Iterator[CheckFinding]:
    if excludes_pull_requests(workflow.jobs.get(job, {}).get("if")):
        return
    triggers = workflow.triggers
    if "pull_request_target" in triggers:
        yield CheckFinding(
            "pull-request-target",
            workflow.path,
            triggers["pull_request_target"],
            f"job '{job}' publishes in a workflow started by pull_request_target",
            "on:\n  release:\n    types: [published]",
        )
    if "pull_request" in triggers:
        yield CheckFinding(
            "pull-request",
            workflow.path,
            triggers["pull_request"],
            f"job '{job}' publishes in a workflow started by pull_request",
            f"move job '{job}' to a workflow started by a release or a tag push",
        )


def _name_findings(job: _Job, step: int, expected: Publisher | None) -> Iterator[CheckFinding]:
    wanted = expected.workflow if expected is not None else None
    if wanted is None or wanted == job.workflow.filename:
        return
    yield job.workflow.finding(
        "workflow-name",
        job.path("steps", step),
        f"this job publishes from {job.workflow.filename}, but the publisher names {wanted}",
        f"rename .github/workflows/{job.workflow.filename} to {wanted}, or register "
        f"workflow {job.workflow.filename} on PyPI (and workflow = "
        f'"{job.workflow.filename}" in [tool.trustpub.publisher])',
    )


def _environment_findings(job: _Job, expected: Publisher | None) -> Iterator[CheckFinding]:
    gap = environment_gap(job.spec, expected, template="${{", case_sensitive=False)
    if gap is None:
        return
    if gap.wanted is None:
        yield job.workflow.finding(
            "no-environment",
            job.path(),
            f"job '{job.name}' publishes outside any deployment environment",
            f"on job '{job.name}':\nenvironment: pypi   # and name it in the publisher",
        )
        return
    where = job.path("environment") if "environment" in job.spec else job.path()
    fix = f"environment: {gap.wanted}"
    yield job.workflow.finding("environment", where, gap.message(job.name), fix)


def _step_findings(job: _Job) -> Iterator[CheckFinding]:
    for index, step in enumerate(job.steps):
        if not isinstance(step, dict):
            continue
        uses = step.get("uses")
        if isinstance(uses, str) and _unpinned(uses):
            yield job.workflow.finding(
                "unpinned-action",
                job.path("steps", index, "uses"),
                f"job '{job.name}' holds the publishing identity and runs {uses}",
                f"uses: {uses.split('@', 1)[0]}@<full commit sha>  # {uses.partition('@')[2]}",
            )
        run = step.get("run")
        if (isinstance(run, str) and is_build(run)) or (
            isinstance(uses, str) and is_build_action(uses)
        ):
            yield job.workflow.finding(
                "build-in-publish-job",
                job.path("steps", index),
                f"job '{job.name}' builds and publishes",
                "build in a job without id-token: write, upload the files with "
                "actions/upload-artifact, and download them in the publishing job",
            )


def _unpinned(uses: str) -> bool:
    if uses.startswith(("./", "docker://")):
        return False
    target, _, ref = uses.partition("@")
    if target.split("/", 1)[0] in _FIRST_PARTY_OWNERS:
        return False
    return _SHA.match(ref) is None


def _reusable_findings(job: _Job, publish: Publish, step: int) -> Iterator[CheckFinding]:
    if "workflow_call" not in job.workflow.triggers:
        return
    yield job.workflow.finding(
        "reusable-workflow",
        job.path("steps", step),
        f"{job.workflow.filename} is a reusable workflow: PyPI matches its own file name, "
        "and only when it is called from the same repository at the same ref",
        f"register workflow {job.workflow.filename} (this file, not the caller) on PyPI",
    )
    if publish.attestations:
        yield job.workflow.finding(
            "attestations-reusable-workflow",
            job.path("steps", step),
            "attestations made in a reusable workflow name the caller's workflow",
            "attestations: false   # or publish from a workflow that is not called",
        )


def _job_findings(job: _Job, base: Publisher | None) -> Iterator[CheckFinding]:
    yield from _permission_findings(job)
    expected = expected_publisher(base, Provider.GITHUB, job.publishes[0][1])
    if "workflow_call" not in job.workflow.triggers:
        yield from _trigger_findings(job.workflow, job.name)
    for step, publish in job.publishes:
        yield from _name_findings(job, step, expected_publisher(base, Provider.GITHUB, publish))
        yield from _reusable_findings(job, publish, step)
    yield from _environment_findings(job, expected)
    if _holds_identity(job):
        yield from _step_findings(job)


def _caller_findings(callers: list[_Job], called: dict[str, str]) -> Iterator[CheckFinding]:
    """Jobs that call a reusable workflow (``uses:`` on the job)."""
    for job in callers:
        uses = str(job.spec["uses"])
        local = uses.startswith("./")
        target = uses[2:].split("@", 1)[0] if local else None
        if local and target in called:
            yield from _permission_findings(job)
            yield from _trigger_findings(job.workflow, job.name)
        elif not local and _holds_identity(job):
            yield job.workflow.finding(
                "reusable-workflow",
                job.path("uses"),
                f"job '{job.name}' lends its identity to {uses}, a workflow of another "
                "repository: PyPI matches the called file's job_workflow_ref, which no "
                "publisher of this repository can match",
                "publish from a workflow file of this repository",
            )


def check_workflows(workflows: Sequence[Workflow], base: Publisher | None) -> list[CheckFinding]:
    """Every finding for the publishing jobs of ``workflows``."""
    findings: list[CheckFinding] = []
    callers: list[_Job] = []
    called: dict[str, str] = {}
    for workflow in workflows:
        for job in _collect_jobs(workflow):
            if isinstance(job.spec.get("uses"), str):
                callers.append(job)
            elif job.publishes:
                findings.extend(_job_findings(job, base))
                called[workflow.path] = job.name
    findings.extend(_caller_findings(callers, called))
    return findings


def publishing_jobs(workflows: Sequence[Workflow]) -> list[tuple[str, str, int]]:
    """(file, job, line) of every job that publishes with trusted publishing."""
    return [
        (job.workflow.path, job.name, job.workflow.doc.line(*job.path()))
        for workflow in workflows
        for job in _collect_jobs(workflow)
        if job.publishes
    ]


__all__ = ["PERMISSION_FIX", "Workflow", "check_workflows", "grants_id_token", "publishing_jobs"]
