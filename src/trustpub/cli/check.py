"""``trustpub check``: static checks of the CI files that publish (render only; the rules
are in :mod:`trustpub.setup.check`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from trustpub.cli._common import (
    expect_option,
    guarded,
    one_line,
    pyproject_option,
    setup_logging,
    verbosity_options,
)

if TYPE_CHECKING:
    from trustpub.setup.check import CheckReport
    from trustpub.setup.findings import CheckFinding


def _indent(text: str, prefix: str = "      ") -> list[str]:
    return [prefix + line for line in text.splitlines()]


def finding_lines(finding: CheckFinding) -> list[str]:
    """Plain-text lines for one finding (shared with ``publish``'s warnings)."""
    where = one_line(finding.file)
    lines = [
        f"{where}:{finding.line}: {finding.severity} [{finding.kind}] {one_line(finding.message)}",
        f"    PyPI: {finding.consequence}",
    ]
    if finding.fix:
        lines.append("    fix:")
        lines.extend(_indent("\n".join(one_line(line) for line in finding.fix.splitlines())))
    lines.append(f"    docs: {finding.docs_url}")
    return lines


def _summary(report: CheckReport) -> str:
    jobs = len(report.jobs)
    text = f"checked {len(report.files)} file(s), {jobs} publishing job(s): "
    text += f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)"
    if report.publisher is None:
        text += " (no declared publisher: PyPI's general rules only)"
    return text


def render_text(report: CheckReport) -> None:
    lines: list[str] = []
    if report.publisher is not None:
        lines.append(f"publisher: {report.publisher.describe()}")
    for finding in report.findings:
        lines.extend(finding_lines(finding))
    if not report.jobs and report.files:
        lines.append("no job publishes with trusted publishing in these files")
    lines.append(_summary(report))
    click.echo("\n".join(lines))


def render_rich(report: CheckReport) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(file=sys.stdout)
    if report.publisher is not None:
        console.print(f"[bold]publisher:[/] {escape(report.publisher.describe())}")
    for finding in report.findings:
        color = "red" if finding.severity == "error" else "yellow"
        console.print(
            f"[bold]{escape(one_line(finding.file))}:{finding.line}[/] [{color}]{finding.severity}[/] "
            f"[dim]\\[{finding.kind}][/] {escape(one_line(finding.message))}",
            soft_wrap=True,
        )
        console.print(f"    [dim]PyPI:[/] {escape(finding.consequence)}", soft_wrap=True)
        if finding.fix:
            console.print("    [dim]fix:[/]")
            console.print("\n".join(_indent(escape(finding.fix))), soft_wrap=True)
        console.print(f"    [dim]docs:[/] {escape(finding.docs_url)}", soft_wrap=True)
    console.print(escape(_summary(report)), soft_wrap=True)


def render_github(report: CheckReport) -> None:
    """Workflow commands, so GitHub shows each finding on its line."""
    from trustpub.cli._ci import workflow_command
    from trustpub.cli._common import command_line

    for finding in report.findings:
        level = "error" if finding.severity == "error" else "warning"
        text = f"{finding.message}. PyPI: {finding.consequence}. Fix: {finding.fix}"
        command_line(
            workflow_command(
                level,
                f"{text} ({finding.docs_url})",
                file=finding.file,
                line=str(finding.line),
                title=f"trustpub check: {finding.kind}",
            )
        )


def report_json(report: CheckReport) -> dict[str, Any]:
    return {
        "ok": not report.errors,
        "files": list(report.files),
        "jobs": [{"file": f, "job": j, "line": n} for f, j, n in report.jobs],
        "publisher": report.publisher.to_mapping() if report.publisher is not None else None,
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "findings": [f.as_json() for f in report.findings],
    }


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument(
    "directory",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path("."),
)
@expect_option("environment=pypi")
@pyproject_option(
    None, "Where to read [tool.trustpub.publisher] (default: DIRECTORY/pyproject.toml)."
)
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["auto", "text", "rich", "json", "github"]),
    default="auto",
    show_default=True,
    help="auto: rich on a terminal, GitHub annotations plus text in GitHub Actions, else text.",
)
@click.option("--json", "json_output", is_flag=True, help="Same as --format json.")
@verbosity_options
def check(
    directory: Path,
    expect: tuple[str, ...],
    pyproject: Path | None,
    strict: bool,
    output_format: str,
    json_output: bool,
    verbose: int,
    quiet: bool,
) -> None:
    """Find trusted-publishing mistakes in the CI files, offline, before a release.

    Reads DIRECTORY/.github/workflows/*.yml and DIRECTORY/.gitlab-ci.yml (with its
    local includes), finds the jobs that publish, and checks each against the declared
    publisher ([tool.trustpub.publisher] and --expect) and PyPI's rules. Exit 0 without
    errors, 1 with errors (or with warnings under --strict).
    """
    with guarded(verbose >= 1):
        setup_logging(verbose)
        from trustpub.oidc.publishers import load_declared_publisher, parse_expect
        from trustpub.setup.check import run_check

        declared = load_declared_publisher(pyproject or directory / "pyproject.toml")
        if expect:
            declared = parse_expect(list(expect), base=declared)
        report = run_check(directory, declared)
        _render(report, "json" if json_output else output_format, quiet=quiet)
        if report.failed(strict=strict):
            raise SystemExit(1)


def _render(report: CheckReport, output_format: str, *, quiet: bool) -> None:
    import json
    import os

    if output_format == "auto":
        if os.environ.get("GITHUB_ACTIONS") == "true":
            render_github(report)
            output_format = "text"
        else:
            output_format = "rich" if sys.stdout.isatty() else "text"
    if output_format == "json":
        click.echo(json.dumps(report_json(report), indent=2, sort_keys=True))
    elif output_format == "github":
        render_github(report)
    elif quiet:
        if report.findings:
            click.echo(_summary(report))
    elif output_format == "rich":
        render_rich(report)
    else:
        render_text(report)


__all__ = ["check", "finding_lines"]
