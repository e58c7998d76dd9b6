"""``trustpub init``: write the release pipeline, declare the publisher, say what to register
(render only; the decisions are in :mod:`trustpub.setup.initialize`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from trustpub.cli._common import guarded, one_line, setup_logging, verbosity_options

if TYPE_CHECKING:
    from trustpub.setup.initialize import InitPlan, Registration

INDEX_TITLES = {"pypi": "PyPI", "testpypi": "TestPyPI"}


def _summary(plan: InitPlan) -> list[str]:
    p = plan.plan
    lines = [
        f"project: {one_line(p.project)}",
        f"{p.provider.display_name} repository: {one_line(p.repository)} "
        f"(default branch {one_line(plan.branch)})",
        f"trigger: {'a published release' if p.trigger == 'release' else 'a pushed tag v*'}",
    ]
    lines.extend(f"note: {note}" for note in plan.notes)
    return lines


def _file_lines(plan: InitPlan) -> list[str]:
    lines = []
    for planned in plan.files:
        if planned.path == "pyproject.toml":
            state = "add [tool.trustpub.publisher]"
        else:
            state = "replace" if planned.exists else "new file"
        lines.append(f"  {planned.path} ({state})")
    return lines


def registration_lines(registration: Registration, project: str) -> list[str]:
    """The publisher to register on one index: form fields, then the two links."""
    project = one_line(project)
    title = INDEX_TITLES.get(registration.index, registration.index)
    lines = [
        f"Register this trusted publisher on {title} ({registration.form.provider.display_name}):"
    ]
    for field in registration.form.fields:
        label = f"{field.label} (optional)" if field.optional else field.label
        lines.append(f"  {label}: {one_line(field.value) if field.value else '(leave empty)'}")
    lines.append(f"  If {project} exists on {title}, open its publishing page, pre-filled:")
    lines.append(f"    {registration.project_link}")
    lines.append("  If it does not exist yet, add a pending publisher (the page is not pre-filled;")
    lines.append(f"  type the values above and {title} Project Name: {project}):")
    lines.append(f"    {registration.pending_link}")
    lines.append(
        "  A pending publisher does not reserve the name: the first upload creates the project."
    )
    return lines


def _dry_run(plan: InitPlan) -> None:
    for planned in plan.files:
        click.echo(f"--- {planned.path} ---")
        click.echo(planned.text, nl=not planned.text.endswith("\n"))


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument(
    "directory", type=click.Path(file_okay=False, exists=True, path_type=Path), default=Path(".")
)
@click.option(
    "--provider", type=click.Choice(["github", "gitlab"]), help="Default: the git remote's."
)
@click.option("--repository", metavar="OWNER/NAME", help="Default: from the git remote.")
@click.option("--workflow", metavar="FILE", help="GitHub: release.yml; GitLab: .gitlab-ci.yml.")
@click.option("--environment", metavar="NAME", help="Deployment environment (default: pypi).")
@click.option(
    "--index",
    type=click.Choice(["pypi", "testpypi", "both"]),
    default="pypi",
    show_default=True,
    help="both: TestPyPI first, then PyPI.",
)
@click.option(
    "--trigger",
    type=click.Choice(["release", "tag"]),
    default="release",
    show_default=True,
    help="GitHub: publish on a published release or on a pushed v* tag (GitLab: tags).",
)
@click.option("--project", metavar="NAME", help="Default: [project] name in pyproject.toml.")
@click.option(
    "--action-commit",
    metavar="SHA",
    help="Use the trustpub action at this commit instead of pip install trustpub==VERSION.",
)
@click.option("--dry-run", is_flag=True, help="Print the files instead of writing them.")
@click.option("-y", "--yes", is_flag=True, help="Write without asking.")
@click.option("--force", is_flag=True, help="Replace a workflow file that exists.")
@verbosity_options
def init(
    directory: Path,
    provider: str | None,
    repository: str | None,
    workflow: str | None,
    environment: str | None,
    index: str,
    trigger: str,
    project: str | None,
    action_commit: str | None,
    dry_run: bool,
    yes: bool,
    force: bool,
    verbose: int,
    quiet: bool,
) -> None:
    """Write the release pipeline and declare the publisher; print what to register on PyPI.

    Reads the project name from pyproject.toml and the provider and repository from the git
    remote; every value has an option. Writes a GitHub workflow (or .gitlab-ci.yml) that
    builds in one job and publishes from another, and [tool.trustpub.publisher] in
    pyproject.toml; never replaces a workflow without --force.
    """
    with guarded(verbose >= 1):
        setup_logging(verbose)
        from trustpub.oidc.publishers import Provider
        from trustpub.setup.initialize import InitOptions, make_plan

        options = InitOptions(
            root=directory,
            provider=Provider(provider) if provider else None,
            repository=repository,
            workflow=workflow,
            environment=environment,
            index=index,
            trigger="tag" if trigger == "tag" else "release",
            project=project,
            action_commit=_commit(action_commit),
        )
        plan = make_plan(options)
        if not quiet:
            click.echo("\n".join(_summary(plan)))
        if dry_run:
            _dry_run(plan)
        else:
            _confirm_and_write(plan, directory, yes=yes, force=force)
        click.echo("")
        for registration in plan.registrations:
            click.echo("\n".join(registration_lines(registration, plan.plan.project)))
        if not dry_run:
            click.echo("Then check the set-up any time with: trustpub check")


def _commit(value: str | None) -> str | None:
    from trustpub.errors import UsageError

    if value is None:
        return None
    text = value.strip().lower()
    if len(text) != 40 or any(c not in "0123456789abcdef" for c in text):
        raise UsageError(
            "--action-commit must be a full 40-character commit SHA",
            hint="copy the commit of the trustpub release tag you want",
            anchor="init-errors",
        )
    return text


def _confirm_and_write(plan: InitPlan, root: Path, *, yes: bool, force: bool) -> None:
    from trustpub.errors import UsageError
    from trustpub.setup.initialize import conflicts, write_files

    click.echo("trustpub init will write:")
    click.echo("\n".join(_file_lines(plan)))
    if conflicts(plan) and not force:
        write_files(root, plan, force=False)  # raises: names the file, writes nothing
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError(
                "not a terminal: cannot ask before writing",
                hint="pass --yes to write, or --dry-run to print the files",
                anchor="init-errors",
            )
        if not click.confirm("Write these files?", default=True):
            raise SystemExit(1)
    for path in write_files(root, plan, force=force):
        click.echo(f"wrote {path}")


__all__ = ["init", "registration_lines"]
