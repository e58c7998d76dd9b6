"""``trustpub init``: decide what to write and what to register, then write it.

:func:`make_plan` reads the checkout (:mod:`trustpub.setup.detect`), fills in what the
options leave open and returns an :class:`InitPlan`: the files with their full text, the
publisher to declare, and for each index the PyPI form to fill in with its links.
:func:`write_files` writes them, all or nothing.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from trustpub.errors import UsageError
from trustpub.oidc.diagnostics import PublisherForm, form_for_publisher, publisher_links
from trustpub.oidc.publishers import Provider, Publisher
from trustpub.setup import detect
from trustpub.setup.check_gitlab import TOP_LEVEL
from trustpub.setup.pyproject import with_publisher
from trustpub.setup.templates import Plan, Trigger, github_workflow, gitlab_pipeline

INDEX_CHOICES = {"pypi": ("pypi",), "testpypi": ("testpypi",), "both": ("testpypi", "pypi")}
_ENVIRONMENT = re.compile(r"^[A-Za-z0-9_.-][A-Za-z0-9 _.-]{0,254}$")


@dataclass(frozen=True)
class InitOptions:
    """``trustpub init``'s options; None means "detect it"."""

    root: Path
    provider: Provider | None = None
    repository: str | None = None
    workflow: str | None = None
    environment: str | None = None
    index: str = "pypi"
    trigger: Trigger = "release"
    project: str | None = None
    action_commit: str | None = None


@dataclass(frozen=True)
class PlannedFile:
    path: str
    """Relative to the root, with ``/``."""
    text: str
    exists: bool


@dataclass(frozen=True)
class Registration:
    """What to register on one index."""

    index: str
    publisher: Publisher
    form: PublisherForm
    project_link: str
    """The project's publishing page, pre-filled (for a project that exists)."""
    pending_link: str
    """The pending-publisher page (for a new project): not pre-filled."""


@dataclass(frozen=True)
class InitPlan:
    plan: Plan
    publisher: Publisher
    files: tuple[PlannedFile, ...]
    registrations: tuple[Registration, ...]
    branch: str
    notes: tuple[str, ...] = field(default=())


def _usage(message: str, hint: str) -> UsageError:
    return UsageError(message, hint=hint, anchor="init-errors")


def _where(options: InitOptions) -> tuple[Provider, str, str | None]:
    remote = detect.git_remote(options.root)
    provider = options.provider or (remote.provider if remote else None)
    if provider is None:
        raise _usage(
            "cannot tell the CI provider: no GitHub or GitLab git remote",
            "pass --provider github|gitlab and --repository OWNER/NAME",
        )
    if provider not in (Provider.GITHUB, Provider.GITLAB):
        raise _usage(f"init writes GitHub and GitLab pipelines, not {provider.value}", "")
    repository = options.repository
    if repository is None and remote is not None and remote.provider is provider:
        repository = remote.repository
    if not repository:
        raise _usage(
            f"cannot tell the {provider.display_name} repository from the git remote",
            "pass --repository OWNER/NAME (GitLab: NAMESPACE/PROJECT)",
        )
    issuer = remote.issuer if remote is not None and remote.provider is provider else None
    return provider, repository.strip("/"), issuer


def _environments(options: InitOptions, indexes: tuple[str, ...]) -> dict[str, str]:
    environments = {index: index for index in indexes}
    if options.environment is not None:
        if not _ENVIRONMENT.match(options.environment):
            raise _usage(
                f"environment name {options.environment!r} is not usable",
                "use letters, digits, '-', '_' or '.', e.g. --environment pypi",
            )
        environments[indexes[-1]] = options.environment
    return environments


def _publisher(plan: Plan, index: str, issuer: str | None) -> Publisher:
    values = {
        "provider": plan.provider.value,
        "repository": plan.repository,
        "workflow": plan.workflow,
        "environment": plan.environments[index],
    }
    if issuer:
        values["issuer"] = issuer
    return Publisher.from_mapping(values, where="trustpub init")


def _registration(plan: Plan, index: str, issuer: str | None) -> Registration:
    publisher = _publisher(plan, index, issuer)
    form = form_for_publisher(publisher)
    links = publisher_links(form, plan.project)
    return Registration(
        index, publisher, form, links[f"{index}-project"], links[f"{index}-pending"]
    )


def make_plan(options: InitOptions) -> InitPlan:
    """What ``init`` would write and ask to register (reads the checkout; writes nothing)."""
    if options.index not in INDEX_CHOICES:
        raise _usage(f"unknown index {options.index!r}", "use --index pypi, testpypi or both")
    pyproject = options.root / "pyproject.toml"
    project = options.project or detect.project_name(pyproject)
    if not project:
        raise _usage(
            "cannot tell the project name: no [project] name in pyproject.toml",
            "run trustpub init in the project's directory, or pass --project NAME",
        )
    provider, repository, issuer = _where(options)
    default_workflow = "release.yml" if provider is Provider.GITHUB else TOP_LEVEL
    indexes = INDEX_CHOICES[options.index]
    plan = Plan(
        provider=provider,
        project=project,
        repository=repository,
        workflow=options.workflow or default_workflow,
        indexes=indexes,
        environments=_environments(options, indexes),
        trigger=options.trigger,
        action_commit=options.action_commit,
        attestations=issuer is None,
    )
    registrations = tuple(_registration(plan, index, issuer) for index in indexes)
    publisher = registrations[-1].publisher
    files, notes = _files(options.root, plan, publisher)
    return InitPlan(
        plan, publisher, files, registrations, detect.default_branch(options.root), notes
    )


def _files(
    root: Path, plan: Plan, publisher: Publisher
) -> tuple[tuple[PlannedFile, ...], tuple[str, ...]]:
    if plan.provider is Provider.GITHUB:
        path, text = f".github/workflows/{plan.workflow}", github_workflow(plan)
    else:
        path, text = plan.workflow, gitlab_pipeline(plan)
    files = [PlannedFile(path, text, (root / path).exists())]
    notes: list[str] = []
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        declared = {k: str(v) for k, v in publisher.to_mapping().items()}
        updated = with_publisher(pyproject.read_text(encoding="utf-8"), declared, where=pyproject)
        files.append(PlannedFile("pyproject.toml", updated, True))
    else:
        notes.append("no pyproject.toml: [tool.trustpub.publisher] not written")
    return tuple(files), tuple(notes)


def conflicts(plan: InitPlan) -> list[str]:
    """Files that exist and would be replaced (pyproject.toml is edited, not replaced)."""
    return [f.path for f in plan.files if f.exists and f.path != "pyproject.toml"]


def write_files(root: Path, plan: InitPlan, *, force: bool) -> list[str]:
    """Write every planned file (each atomically); refuse before writing any if one exists."""
    existing = conflicts(plan)
    if existing and not force:
        raise _usage(
            f"{existing[0]} exists; nothing was written",
            "pass --force to replace it, or --dry-run to see the text and merge it yourself",
        )
    written = []
    for planned in plan.files:
        target = root / planned.path
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".trustpub-init-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                stream.write(planned.text)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        written.append(planned.path)
    return written


__all__ = [
    "INDEX_CHOICES",
    "InitOptions",
    "InitPlan",
    "PlannedFile",
    "Registration",
    "conflicts",
    "make_plan",
    "write_files",
]
