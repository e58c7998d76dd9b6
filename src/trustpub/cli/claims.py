"""``trustpub claims``: inspect the OIDC token and show the publisher to configure.

The token comes exactly as ``trustpub publish`` gets it (provider detection,
the index's audience), or from ``--token-file``. It is decoded WITHOUT
verifying its signature: the output explains, it proves nothing. The raw
token is never printed, in any mode.

Exit status: 0 when nothing blocks publishing, 1 when something does (a
preflight blocker, a mismatch with the declared publisher, no token), 2 for a
bad command line or configuration, 4 for a malformed token.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from trustpub._secret import Secret, whitespace_problem
from trustpub.cli import _ci
from trustpub.cli._common import (
    ScrubbingStream,
    env_option,
    expect_option,
    guarded,
    oidc_token_env_option,
    one_line,
    pyproject_option,
    raw_stdout,
    setup_logging,
    verbosity_options,
)
from trustpub.errors import ExitCode, IdentityError
from trustpub.index_config import resolve_target
from trustpub.inspection import (
    UNVERIFIED_NOTE,
    ClaimsReport,
    TokenView,
    declared_publisher,
    inspect_token,
    obtain,
)
from trustpub.oidc.claims import decode_unverified
from trustpub.oidc.diagnostics import (
    DEBUG_LABEL,
    MISSING,
    PENDING_NOTE,
    FormField,
    resolve_provider,
)
from trustpub.oidc.publishers import Provider, Publisher
from trustpub.oidc.rules import Comparison
from trustpub.providers import Finding, preflight
from trustpub.setup.detect import project_name

FORM_HELP = {
    Provider.GITHUB: "PyPI form: Owner, Repository name, Workflow name, Environment name",
    Provider.GITLAB: "PyPI form: Namespace, Project name, Top-level pipeline file path, "
    "Environment name",
    Provider.GOOGLE: "PyPI form: Email, Subject (optional)",
    Provider.ACTIVESTATE: "PyPI form: Organization, Project, Actor username",
}


def _mask(secret: Secret, *, json_output: bool) -> None:
    """On GitHub Actions, ask the runner to mask the token before anything is printed."""
    problem = whitespace_problem(secret.reveal())
    if problem is not None:
        raise IdentityError(
            f"refusing to use a token: {problem}",
            hint="an OIDC token is one line without blanks; check how it was stored or passed",
            anchor="token-with-whitespace",
        )
    if os.environ.get("GITHUB_ACTIONS", "").lower() != "true" or not secret:
        return
    err = sys.stderr.raw if isinstance(sys.stderr, ScrubbingStream) else sys.stderr
    stream = err if json_output else raw_stdout()
    stream.write(_ci.mask_line(secret, stream) + "\n")
    stream.flush()


def _read_token_file(path: str) -> Secret:
    if path == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise IdentityError(
                f"cannot read the token file {path}: {error.strerror or type(error).__name__}",
                hint="pass a readable file with --token-file, or - for stdin",
                anchor="malformed-oidc-token",
            ) from None
        except UnicodeDecodeError:
            raise IdentityError(
                f"the token file {path} is not text",
                hint="the file must contain the OIDC token (a JWT) as text",
                anchor="malformed-oidc-token",
            ) from None
    return Secret(text.strip())


# -- rendering ------------------------------------------------------------------------------


def _declared_document(report: ClaimsReport) -> dict[str, Any] | None:
    if report.declared is None:
        return None
    publisher = report.declared.to_mapping()
    comparison = report.comparison
    if comparison is None:
        return {"publisher": publisher, "ok": None, "checks": []}
    return {
        "publisher": publisher,
        "ok": comparison.ok,
        "field": comparison.field,
        "reason": comparison.reason,
        "checks": [
            {
                "field": c.field,
                "expected": c.expected,
                "actual": c.actual,
                "rule": c.rule,
                "ok": c.ok,
                "fix": c.fix,
            }
            for c in comparison.checks
        ],
    }


def _form_document(view: TokenView | None) -> list[dict[str, Any]] | None:
    if view is None or view.form is None:
        return None
    return [
        {"field": f.key, "label": f.label, "value": f.value, "optional": f.optional}
        for f in view.form
    ]


def report_document(report: ClaimsReport) -> dict[str, Any]:
    """The report as the ``--json`` document (never the token)."""
    view = report.token
    document: dict[str, Any] = {
        "verified": False,
        "note": UNVERIFIED_NOTE,
        "source": report.source,
        "repository": report.repository,
        "expected_audience": report.expected_audience,
        "provider": report.provider.value if report.provider else None,
        "issuer": view.issuer if view else None,
        "audience": view.audience if view else None,
        "validity": dataclasses.asdict(view.validity) if view else None,
        "claims": dict(view.claims) if view and view.claims is not None else None,
        "missing_claims": list(view.missing_claims) if view else [],
        "claims_label": DEBUG_LABEL,
        "publisher_to_configure": _form_document(view),
        "links": dict(view.links) if view else {},
        "declared": _declared_document(report),
        "findings": [
            {"id": f.id, "severity": f.severity, "message": f.message, "fix": f.fix}
            for f in report.findings
        ],
        "ok": report.ok,
    }
    if view is not None and view.all_claims is not None:
        document["all_claims"] = dict(view.all_claims)
    return document


def _when(view: TokenView) -> str:
    validity = view.validity
    if validity.expires_in is None:
        return "no expiry (exp missing)"
    seconds = validity.expires_in
    return f"EXPIRED {-seconds} s ago" if validity.expired else f"expires in {seconds} s"


def _text(value: object) -> str:
    if value is None:
        return MISSING
    if isinstance(value, str):
        return one_line(value)
    import json

    return json.dumps(value)


def _field_value(field: FormField) -> str:
    if field.value:
        return str(field.value)
    return "(leave empty)" if field.optional else MISSING


def _label(field: FormField) -> str:
    return field.label + (" (optional)" if field.optional else "")


def _plain_token(report: ClaimsReport, view: TokenView) -> list[str]:
    expected = report.expected_audience
    lines = [
        f"  issuer: {_text(view.issuer)}",
        f"  audience: {_text(view.audience)}"
        + (f" (index {report.repository} expects {expected})" if expected else ""),
        f"  validity: {_when(view)}",
    ]
    if view.claims is not None:
        lines += ["", f"Claims PyPI checks ({DEBUG_LABEL}):"]
        lines += [f"  {name}: {_text(value)}" for name, value in view.claims.items()]
    if view.all_claims:
        lines += ["", f"All claims ({DEBUG_LABEL}):"]
        lines += [f"  {name}: {_text(value)}" for name, value in view.all_claims.items()]
    if view.form and report.provider is not None:
        lines += ["", f"Publisher to configure ({FORM_HELP[report.provider]}):"]
        lines += [f"  {_label(field)}: {_field_value(field)}" for field in view.form]
        lines += [f"  {name}: {url}" for name, url in view.links.items()]
        if view.links:
            lines.append(f"  ({PENDING_NOTE})")
    return lines


def _plain_declared(declared: Publisher, comparison: Comparison | None) -> list[str]:
    verdict = "not compared (no token)"
    if comparison is not None:
        verdict = "MATCHES" if comparison.ok else "DOES NOT MATCH"
    reason = comparison.reason if comparison is not None else None
    lines = [
        "",
        f"Declared publisher {declared.describe()}: {verdict}" + (f" ({reason})" if reason else ""),
    ]
    for check in comparison.checks if comparison is not None else ():
        mark = "ok" if check.ok else "MISMATCH"
        expected = "-" if check.expected is None else check.expected
        lines.append(
            f"  [{mark}] {check.field}: expected {expected}, token has "
            f"{_text(check.actual)} ({check.rule})"
        )
        if not check.ok and check.fix:
            lines.append(f"      fix: {check.fix}")
    return lines


def _token_line(report: ClaimsReport) -> str:
    """What was decoded, from where; or that no token was obtained (nothing was decoded)."""
    where = f" ({report.source})" if report.source else ""
    if report.token is None:
        return f"OIDC token{where}: none obtained (see Preflight below)"
    return f"OIDC token{where}: {UNVERIFIED_NOTE}"


def render_plain(report: ClaimsReport) -> list[str]:
    """The report as plain text lines (CI logs, pipes)."""
    lines = [_token_line(report)]
    if report.token is not None or report.provider:
        lines.append(f"  provider: {report.provider.value if report.provider else 'unknown'}")
    if report.token is not None:
        lines += _plain_token(report, report.token)
    if report.declared is not None:
        lines += _plain_declared(report.declared, report.comparison)
    lines.append("")
    if report.findings:
        lines.append("Preflight:")
        for finding in report.findings:
            lines.append(f"  {finding.severity.upper()} [{finding.id}] {finding.message}")
            lines.extend(f"      {part}" for part in ("fix: " + finding.fix).splitlines())
    else:
        lines.append("Preflight: no findings")
    lines.append(
        "Result: nothing blocks publishing" if report.ok else "Result: publishing would fail"
    )
    return lines


def _e(value: object) -> str:
    from rich.markup import escape

    return escape(_text(value))


def _rich_token(console: Any, view: TokenView) -> None:
    from rich.table import Table

    if view.claims is not None:
        table = Table(title=f"Claims PyPI checks ({_e(DEBUG_LABEL)})")
        table.add_column("claim")
        table.add_column("value", overflow="fold")
        for name, value in view.claims.items():
            table.add_row(_e(name), _e(value) if value is not None else f"[red]{MISSING}[/]")
        console.print(table)
    if view.form:
        table = Table(title="Publisher to configure on PyPI")
        table.add_column("form field")
        table.add_column("value", overflow="fold")
        for field in view.form:
            table.add_row(_e(_label(field)), _e(_field_value(field)))
        console.print(table)
        for name, url in view.links.items():
            console.print(f"{name}: {url}", soft_wrap=True, markup=False, highlight=False)
        if view.links:
            console.print(f"({PENDING_NOTE})", soft_wrap=True, markup=False, highlight=False)


def _rich_declared(console: Any, declared: Publisher, comparison: Comparison) -> None:
    from rich.table import Table

    table = Table(title=f"Declared publisher: {_e(declared.describe())}")
    table.add_column("field")
    table.add_column("expected", overflow="fold")
    table.add_column("actual", overflow="fold")
    table.add_column("verdict")
    table.add_column("rule", style="dim", overflow="fold")
    for check in comparison.checks:
        table.add_row(
            _e(check.field),
            "-" if check.expected is None else _e(check.expected),
            _e(check.actual),
            "[green]ok[/]" if check.ok else "[red]MISMATCH[/]",
            _e(check.rule),
        )
    console.print(table)
    for check in comparison.checks:
        if not check.ok and check.fix:
            console.print(f"[red]fix[/] {_e(check.field)}: {_e(check.fix)}")
    if comparison.reason:
        console.print(f"PyPI would answer: {_e(comparison.reason)}")


def _rich_findings(console: Any, findings: tuple[Finding, ...]) -> None:
    from rich.table import Table

    table = Table(title="Preflight")
    for column in ("severity", "finding", "fix"):
        table.add_column(column, overflow="fold")
    colours = {"blocker": "red", "warning": "yellow", "info": "cyan"}
    for finding in findings:
        colour = colours[finding.severity]
        table.add_row(f"[{colour}]{finding.severity}[/]", _e(finding.message), _e(finding.fix))
    console.print(table)


def render_rich(report: ClaimsReport) -> None:
    """The report with rich tables (interactive terminals); every value is escaped."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(file=sys.stdout)
    console.print(escape(_token_line(report)), highlight=False)
    summary = Table(show_header=False, box=None)
    if report.token is not None or report.provider:
        summary.add_row("provider", _e(report.provider.value if report.provider else "unknown"))
    view = report.token
    if view is not None:
        summary.add_row("issuer", _e(view.issuer))
        summary.add_row("audience", _e(view.audience))
        summary.add_row("expected audience", _e(report.expected_audience))
        summary.add_row("validity", _e(_when(view)))
    console.print(summary)
    if view is not None:
        _rich_token(console, view)
    comparison = report.comparison
    if report.declared is not None and comparison is not None and comparison.checks:
        _rich_declared(console, report.declared, comparison)
    if report.findings:
        _rich_findings(console, report.findings)
    console.print(
        "[green]Nothing blocks publishing[/]" if report.ok else "[red]Publishing would fail[/]"
    )


# -- the command ------------------------------------------------------------------------------


def _render(report: ClaimsReport, *, json_output: bool, quiet: bool) -> None:
    if json_output:
        import json

        click.echo(json.dumps(report_document(report), indent=2, sort_keys=True))
    elif sys.stdout.isatty() and not quiet:
        render_rich(report)
    elif quiet:
        click.echo("nothing blocks publishing" if report.ok else "publishing would fail")
    else:
        click.echo("\n".join(one_line(line) for line in render_plain(report)))


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@env_option(
    "-r",
    "--repository",
    default="pypi",
    show_default=True,
    help="pypi, testpypi, a section of ~/.pypirc, or an upload URL: the index whose audience "
    "the token is for.",
)
@click.option(
    "--token-file",
    metavar="PATH",
    help="Read the OIDC token from this file (- for stdin) instead of the CI environment.",
)
@oidc_token_env_option
@expect_option("workflow=release.yml")
@pyproject_option(
    Path("pyproject.toml"), "Where to read [tool.trustpub.publisher] and the project name from."
)
@click.option(
    "--json", "json_output", is_flag=True, help="Print one JSON document (never the token)."
)
@verbosity_options
def claims(
    repository: str,
    token_file: str | None,
    oidc_token_env: str | None,
    expect: tuple[str, ...],
    pyproject: Path,
    json_output: bool,
    verbose: int,
    quiet: bool,
) -> None:
    """Decode this job's OIDC token (unverified) and explain what PyPI will match.

    Shows the provider, issuer, audience and validity, the claims PyPI checks,
    the publisher to configure (with pre-filled PyPI/TestPyPI links), the
    comparison with the declared publisher, and preflight findings.

    \b
    Exit status: 0 when nothing blocks publishing, 1 when something does
    (no token, a preflight blocker, a mismatch with the declared publisher),
    2 for a bad command line or configuration, 4 for a malformed token.
    """
    with guarded(verbose >= 1):
        setup_logging(verbose)
        target = resolve_target(repository)
        from trustpub._http import make_client

        secret = _read_token_file(token_file) if token_file is not None else None
        with make_client() as client:
            got = obtain(
                target,
                token=secret,
                oidc_token_env=oidc_token_env,
                env=os.environ,
                client=client,
                on_secret=lambda token: _mask(token, json_output=json_output),
            )
        token = decode_unverified(got.secret.reveal()) if got.secret is not None else None
        now = time.time()
        report = inspect_token(
            token,
            source=got.source,
            detected_provider=got.provider,
            repository=target.display,
            audience=got.audience,
            declared=declared_publisher(pyproject, expect, resolve_provider(got.provider, token)),
            project=project_name(pyproject),
            findings=[
                *got.problems,
                *preflight(got.provider, token, os.environ, audience=got.audience, now=now),
            ],
            now=now,
            all_claims=verbose >= 1,
        )
        _render(report, json_output=json_output, quiet=quiet)
        if not report.ok:
            raise SystemExit(int(ExitCode.FAILURE))


__all__ = ["claims", "render_plain", "render_rich", "report_document"]
