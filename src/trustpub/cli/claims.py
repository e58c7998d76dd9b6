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

import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from trustpub._secret import Secret, whitespace_problem
from trustpub.cli import _ci
from trustpub.cli._common import (
    ScrubbingStream,
    guarded,
    one_line,
    raw_stdout,
    setup_logging,
    verbosity_options,
)
from trustpub.errors import ExitCode, IdentityError, TrustpubError
from trustpub.index_config import resolve_target
from trustpub.oidc.claims import DecodedToken, decode_unverified
from trustpub.oidc.diagnostics import (
    DEBUG_LABEL,
    MISSING,
    PENDING_NOTE,
    publisher_form,
    publisher_links,
    resolve_provider,
)
from trustpub.oidc.publishers import Provider, Publisher, load_declared_publisher, parse_expect
from trustpub.oidc.rules import MATCHED_CLAIMS, Comparison, compare
from trustpub.providers import Finding, preflight
from trustpub.repository import RESERVED_AUDIENCES, IndexTarget
from trustpub.setup.detect import project_name

if TYPE_CHECKING:
    import httpx

    from trustpub.providers import Detection

UNVERIFIED_NOTE = "decoded WITHOUT verifying the signature: for inspection only"

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


def _fetch_audience(target: IndexTarget, detection: Detection, client: httpx.Client) -> str:
    """The index's audience exactly as ``publish`` gets it (GET /_/oidc/audience, guarded)."""
    from trustpub.exchange import TrustedPublisher

    return TrustedPublisher(target, detection, client=client).audience()


def _placeholder_detection() -> Detection:
    from trustpub.providers import Detection

    def no_fetch(
        audience: str, client: httpx.Client | None
    ) -> Secret:  # pragma: no cover - never called
        raise IdentityError("no token source", hint="pass --token-file")

    return Detection(provider="env", description="--token-file", fetcher=no_fetch)


def _declared(
    pyproject: Path, expect: tuple[str, ...], provider: Provider | None
) -> Publisher | None:
    declared = load_declared_publisher(pyproject)
    if expect:
        declared = parse_expect(list(expect), base=declared, provider=provider)
    return declared


def _validity(token: DecodedToken, now: float) -> dict[str, Any]:
    exp = token.expires_at
    return {
        "issued_at": token.issued_at,
        "not_before": token.not_before,
        "expires_at": exp,
        "expires_in": None if exp is None else int(exp - now),
        "expired": None if exp is None else exp <= now,
    }


def _comparison_document(publisher: Publisher, comparison: Comparison) -> dict[str, Any]:
    return {
        "publisher": publisher.to_mapping(),
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


def build_report(
    *,
    token: DecodedToken | None,
    source: str | None,
    detection_provider: str | None,
    target: IndexTarget,
    audience: str | None,
    declared: Publisher | None,
    project: str | None,
    env: Mapping[str, str],
    now: float,
    problems: list[Finding],
    all_claims: bool = False,
) -> dict[str, Any]:
    """Everything ``trustpub claims`` shows, as one JSON-ready document (never the token)."""
    kind = resolve_provider(detection_provider, token)
    findings: list[Finding] = []
    seen: set[str] = set()
    for finding in [
        *problems,
        *preflight(detection_provider, token, env, audience=audience, now=now),
    ]:
        if finding.id not in seen:  # a detection error and its preflight twin say the same
            seen.add(finding.id)
            findings.append(finding)
    report: dict[str, Any] = {
        "verified": False,
        "note": UNVERIFIED_NOTE,
        "source": source,
        "repository": target.display,
        "expected_audience": audience,
        "provider": kind.value if kind else None,
        "issuer": None,
        "audience": None,
        "validity": None,
        "claims": None,
        "missing_claims": [],
        "claims_label": DEBUG_LABEL,
        "publisher_to_configure": None,
        "links": {},
        "declared": None,
    }
    comparison: Comparison | None = None
    if token is not None:
        report["issuer"] = token.issuer
        report["audience"] = token.audience
        report["validity"] = _validity(token, now)
        if all_claims:
            report["all_claims"] = dict(sorted(token.claims.items()))
        if kind is not None:
            names = MATCHED_CLAIMS[kind]
            report["claims"] = {name: token.claims.get(name) for name in names}
            report["missing_claims"] = [n for n in names if token.claims.get(n) is None]
            form = publisher_form(token, kind)
            report["publisher_to_configure"] = [
                {"field": f.key, "label": f.label, "value": f.value, "optional": f.optional}
                for f in form.fields
            ]
            report["links"] = publisher_links(form, project)
        if declared is not None:
            comparison = compare(declared, token.claims)
            report["declared"] = _comparison_document(declared, comparison)
    elif declared is not None:
        report["declared"] = {"publisher": declared.to_mapping(), "ok": None, "checks": []}
    report["findings"] = [
        {"id": f.id, "severity": f.severity, "message": f.message, "fix": f.fix} for f in findings
    ]
    blocked = any(f.blocks for f in findings) or token is None
    if comparison is not None and not comparison.ok:
        blocked = True
    report["ok"] = not blocked
    return report


# -- rendering ------------------------------------------------------------------------------


def _when(report: dict[str, Any]) -> str:
    validity = report["validity"]
    if not validity or validity["expires_in"] is None:
        return "no expiry (exp missing)"
    seconds = validity["expires_in"]
    return f"EXPIRED {-seconds} s ago" if validity["expired"] else f"expires in {seconds} s"


def _text(value: object) -> str:
    if value is None:
        return MISSING
    if isinstance(value, str):
        return one_line(value)
    import json

    return json.dumps(value)


def _field_value(row: dict[str, Any]) -> str:
    if row["value"]:
        return str(row["value"])
    return "(leave empty)" if row["optional"] else MISSING


def _token_line(report: dict[str, Any]) -> str:
    """What was decoded, from where; or that no token was obtained (nothing was decoded)."""
    where = f" ({report['source']})" if report["source"] else ""
    if report["validity"] is None:
        return f"OIDC token{where}: none obtained (see Preflight below)"
    return f"OIDC token{where}: {report['note']}"


def render_plain(report: dict[str, Any]) -> list[str]:
    """The report as plain text lines (CI logs, pipes)."""
    lines = [_token_line(report)]
    if report["validity"] is not None or report["provider"]:
        lines.append(f"  provider: {report['provider'] or 'unknown'}")
    if report["validity"] is not None:
        lines.append(f"  issuer: {_text(report['issuer'])}")
        aud = _text(report["audience"])
        expected = report["expected_audience"]
        lines.append(
            f"  audience: {aud}"
            + (f" (index {report['repository']} expects {expected})" if expected else "")
        )
        lines.append(f"  validity: {_when(report)}")
    if report["claims"] is not None:
        lines.append("")
        lines.append(f"Claims PyPI checks ({report['claims_label']}):")
        lines.extend(f"  {name}: {_text(value)}" for name, value in report["claims"].items())
    if report.get("all_claims"):
        lines.append("")
        lines.append(f"All claims ({report['claims_label']}):")
        lines.extend(f"  {name}: {_text(value)}" for name, value in report["all_claims"].items())
    if report["publisher_to_configure"]:
        lines.append("")
        lines.append(f"Publisher to configure ({FORM_HELP[Provider(report['provider'])]}):")
        for row in report["publisher_to_configure"]:
            label = row["label"] + (" (optional)" if row["optional"] else "")
            lines.append(f"  {label}: {_field_value(row)}")
        for name, url in report["links"].items():
            lines.append(f"  {name}: {url}")
        if report["links"]:
            lines.append(f"  ({PENDING_NOTE})")
    declared = report["declared"]
    if declared is not None:
        lines.append("")
        publisher = Publisher.from_mapping(declared["publisher"], where="report")
        verdict = {True: "MATCHES", False: "DOES NOT MATCH", None: "not compared (no token)"}
        lines.append(
            f"Declared publisher {publisher.describe()}: {verdict[declared['ok']]}"
            + (f" ({declared['reason']})" if declared.get("reason") else "")
        )
        for check in declared["checks"]:
            mark = "ok" if check["ok"] else "MISMATCH"
            expected = "-" if check["expected"] is None else check["expected"]
            lines.append(
                f"  [{mark}] {check['field']}: expected {expected}, token has "
                f"{_text(check['actual'])} ({check['rule']})"
            )
            if not check["ok"] and check["fix"]:
                lines.append(f"      fix: {check['fix']}")
    lines.append("")
    if report["findings"]:
        lines.append("Preflight:")
        for finding in report["findings"]:
            lines.append(f"  {finding['severity'].upper()} [{finding['id']}] {finding['message']}")
            lines.extend(f"      {part}" for part in ("fix: " + finding["fix"]).splitlines())
    else:
        lines.append("Preflight: no findings")
    lines.append(
        "Result: nothing blocks publishing" if report["ok"] else "Result: publishing would fail"
    )
    return lines


def render_rich(report: dict[str, Any]) -> None:
    """The report with rich tables (interactive terminals); every value is escaped."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    def e(value: object) -> str:
        return escape(_text(value))

    console = Console(file=sys.stdout)
    console.print(escape(_token_line(report)), highlight=False)
    summary = Table(show_header=False, box=None)
    if report["validity"] is not None or report["provider"]:
        summary.add_row("provider", e(report["provider"] or "unknown"))
    if report["validity"] is not None:
        summary.add_row("issuer", e(report["issuer"]))
        summary.add_row("audience", e(report["audience"]))
        summary.add_row("expected audience", e(report["expected_audience"]))
        summary.add_row("validity", e(_when(report)))
    console.print(summary)
    if report["claims"] is not None:
        table = Table(title=f"Claims PyPI checks ({e(report['claims_label'])})")
        table.add_column("claim")
        table.add_column("value", overflow="fold")
        for name, value in report["claims"].items():
            table.add_row(e(name), e(value) if value is not None else f"[red]{MISSING}[/]")
        console.print(table)
    if report["publisher_to_configure"]:
        table = Table(title="Publisher to configure on PyPI")
        table.add_column("form field")
        table.add_column("value", overflow="fold")
        for row in report["publisher_to_configure"]:
            label = row["label"] + (" (optional)" if row["optional"] else "")
            table.add_row(e(label), e(_field_value(row)))
        console.print(table)
        for name, url in report["links"].items():
            console.print(f"{name}: {url}", soft_wrap=True, markup=False, highlight=False)
        if report["links"]:
            console.print(f"({PENDING_NOTE})", soft_wrap=True, markup=False, highlight=False)
    declared = report["declared"]
    if declared is not None and declared["checks"]:
        publisher = Publisher.from_mapping(declared["publisher"], where="report")
        table = Table(title=f"Declared publisher: {e(publisher.describe())}")
        table.add_column("field")
        table.add_column("expected", overflow="fold")
        table.add_column("actual", overflow="fold")
        table.add_column("verdict")
        table.add_column("rule", style="dim", overflow="fold")
        for check in declared["checks"]:
            table.add_row(
                e(check["field"]),
                "-" if check["expected"] is None else e(check["expected"]),
                e(check["actual"]),
                "[green]ok[/]" if check["ok"] else "[red]MISMATCH[/]",
                e(check["rule"]),
            )
        console.print(table)
        for check in declared["checks"]:
            if not check["ok"] and check["fix"]:
                console.print(f"[red]fix[/] {e(check['field'])}: {e(check['fix'])}")
        if declared.get("reason"):
            console.print(f"PyPI would answer: {e(declared['reason'])}")
    if report["findings"]:
        table = Table(title="Preflight")
        for column in ("severity", "finding", "fix"):
            table.add_column(column, overflow="fold")
        colours = {"blocker": "red", "warning": "yellow", "info": "cyan"}
        for finding in report["findings"]:
            colour = colours[finding["severity"]]
            table.add_row(
                f"[{colour}]{finding['severity']}[/]", e(finding["message"]), e(finding["fix"])
            )
        console.print(table)
    console.print(
        "[green]Nothing blocks publishing[/]" if report["ok"] else "[red]Publishing would fail[/]"
    )


# -- the command ------------------------------------------------------------------------------


def _problem(error: TrustpubError) -> Finding:
    return Finding(
        error.anchor or "no-token", "blocker", error.message, error.hint or "see the message"
    )


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-r",
    "--repository",
    default="pypi",
    show_default=True,
    envvar="TRUSTPUB_REPOSITORY",
    show_envvar=True,
    help="pypi, testpypi, a section of ~/.pypirc, or an upload URL: the index whose audience "
    "the token is for.",
)
@click.option(
    "--token-file",
    metavar="PATH",
    help="Read the OIDC token from this file (- for stdin) instead of the CI environment.",
)
@click.option(
    "--oidc-token-env",
    metavar="NAME",
    envvar="TRUSTPUB_OIDC_TOKEN_ENV",
    show_envvar=True,
    help="Read the OIDC token from this environment variable (any CI).",
)
@click.option(
    "--expect",
    multiple=True,
    metavar="KEY=VALUE",
    help="The publisher configured on the index (repeatable; e.g. workflow=release.yml). "
    "Adds to [tool.trustpub.publisher].",
)
@click.option(
    "--pyproject",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("pyproject.toml"),
    show_default=True,
    help="Where to read [tool.trustpub.publisher] and the project name from.",
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
        env = os.environ
        target = resolve_target(repository)
        problems: list[Finding] = []
        secret: Secret | None = None
        detection_provider: str | None = None
        audience: str | None = None
        source: str | None = "--token-file" if token_file is not None else None
        from trustpub._http import make_client

        with make_client() as client:
            if token_file is not None:
                secret = _read_token_file(token_file)
                _mask(secret, json_output=json_output)
                if target.name in RESERVED_AUDIENCES:
                    audience = target.name
                else:
                    try:
                        audience = _fetch_audience(target, _placeholder_detection(), client)
                    except TrustpubError as error:
                        problems.append(_problem(error))
            else:
                from trustpub.providers import detect

                try:
                    detection = detect(env, oidc_token_env=oidc_token_env or None)
                except IdentityError as error:
                    detection = None
                    problems.append(_problem(error))
                if detection is not None:
                    detection_provider = detection.provider
                    source = detection.description
                    try:
                        audience = _fetch_audience(target, detection, client)
                        secret = detection.fetch_token(audience, client=client)
                    except TrustpubError as error:
                        problems.append(_problem(error))
                    if secret is not None:
                        _mask(secret, json_output=json_output)
                elif not problems:
                    problems.append(
                        Finding(
                            "no-trusted-publishing-identity",
                            "blocker",
                            "no CI or cloud OIDC identity was detected here",
                            "run in a supported CI job (GitHub Actions, GitLab CI/CD, Google "
                            "Cloud, ActiveState), or pass --token-file / --oidc-token-env",
                        )
                    )
        token = decode_unverified(secret.reveal()) if secret is not None else None
        kind = resolve_provider(detection_provider, token)
        declared = _declared(pyproject, expect, kind)
        report = build_report(
            token=token,
            source=source,
            detection_provider=detection_provider,
            target=target,
            audience=audience,
            declared=declared,
            project=project_name(pyproject),
            env=env,
            now=time.time(),
            problems=problems,
            all_claims=verbose >= 1,
        )
        if json_output:
            import json

            click.echo(json.dumps(report, indent=2, sort_keys=True))
        elif sys.stdout.isatty() and not quiet:
            render_rich(report)
        elif quiet:
            click.echo("nothing blocks publishing" if report["ok"] else "publishing would fail")
        else:
            click.echo("\n".join(one_line(line) for line in render_plain(report)))
        if not report["ok"]:
            raise SystemExit(int(ExitCode.FAILURE))


__all__ = ["build_report", "claims", "render_plain"]
