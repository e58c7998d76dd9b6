"""How ``trustpub publish`` shows progress and results.

* In a terminal: a rich progress display on stderr and a summary table on stdout.
* In CI logs (not a TTY): plain lines, one per event; on GitHub Actions also
  ``::group::`` blocks, ``::error::``/``::warning::`` annotations, a step summary
  (markdown) and ``GITHUB_OUTPUT`` values; on GitLab collapsible sections.
* With ``--json``: exactly one JSON document on stdout, everything else on stderr
  (workflow commands too: the GitHub runner reads them from both streams).

Every secret goes to :meth:`Renderer.mask` first, which writes ``::add-mask::``
on GitHub; nothing else here ever formats a token.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
from collections.abc import Mapping
from typing import Any

import click

from trustpub._secret import Secret, scrub, whitespace_problem
from trustpub.cli import _ci
from trustpub.cli._common import (
    command_line,
    error_text,
    hold_output,
    one_line,
    raw_stderr,
    raw_stdout,
    release_output,
)
from trustpub.errors import IdentityError, TrustpubError
from trustpub.publish import PublishResult
from trustpub.upload.results import FileResult

_STATUS_MARK = {
    "uploaded": "uploaded",
    "skipped": "skipped",
    "failed": "FAILED",
    "not-attempted": "not attempted",
    "would-upload": "would upload",
    "would-skip": "would skip",
    "conflict": "CONFLICT",
}


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover - loop always returns


def error_code(error: TrustpubError) -> str | None:
    """A stable machine code: the index's mint error code when it gave one, else the anchor."""
    mint_errors = getattr(error, "errors", None)
    if isinstance(mint_errors, tuple) and mint_errors:
        code = getattr(mint_errors[0], "code", None)
        if isinstance(code, str) and code:
            return code
    return error.anchor or None


def error_document(error: TrustpubError) -> dict[str, Any]:
    """The ``error`` member of the JSON result."""
    return {
        "message": error.message,
        "hint": error.hint,
        "details": list(error.details),
        "code": error_code(error),
        "anchor": error.anchor or None,
        "docs_url": error.docs_url,
        "exit_code": int(error.exit_code),
    }


def result_document(result: PublishResult) -> dict[str, Any]:
    """The one JSON document ``--json`` prints."""
    return {
        "repository": result.repository,
        "upload_url": result.upload_url,
        "trusted_publishing": result.trusted_publishing,
        "provider": result.provider,
        "dry_run": result.dry_run,
        "files": [outcome.as_dict() for outcome in result.files],
        "project_url": result.project_url,
        "release_url": result.release_url,
        "simple_url": result.simple_url,
        "ok": result.ok,
        "interrupted": result.interrupted,
        "claims": dict(result.claims),
        "notes": list(result.notes),
        "attestation_identity": result.attestation_identity,
        "error": error_document(result.error) if result.error else None,
    }


def early_error_document(error: TrustpubError, *, repository: str | None) -> dict[str, Any]:
    """The JSON document for an error raised before any file was known."""
    return {
        "repository": repository,
        "upload_url": None,
        "trusted_publishing": False,
        "provider": None,
        "dry_run": False,
        "files": [],
        "project_url": None,
        "release_url": None,
        "simple_url": None,
        "ok": False,
        "interrupted": False,
        "claims": {},
        "notes": [],
        "attestation_identity": None,
        "error": error_document(error),
    }


def github_outputs(result: PublishResult | None) -> dict[str, str]:
    """The step outputs the GitHub Action exposes (names are a contract).

    The URLs are set only when files were published (not for failures or dry runs).
    """
    files = [outcome.as_dict() for outcome in result.files] if result else []
    ok = result is not None and result.ok and not result.dry_run
    return {
        "files": json.dumps(files, separators=(",", ":")),
        "project-url": (result.project_url or "") if result and ok else "",
        "release-url": (result.release_url or "") if result and ok else "",
        "trusted-publishing": "true" if result and result.trusted_publishing else "false",
    }


def step_summary(result: PublishResult | None, error: TrustpubError | None) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY`` (outside text made inert by ``_ci.markdown_*``)."""
    ok = result.ok if result else False
    title = "dry run" if result and result.dry_run else "publish"
    lines = [f"### trustpub {title}: {'succeeded' if ok else 'failed'}", ""]
    if result is not None:
        lines.extend(_summary_head(result))
        lines.extend(_summary_table(result))
    failure = error or (result.error if result else None)
    if failure is not None:
        lines.extend(_summary_error(failure))
    return scrub("\n".join(lines))


def _summary_head(result: PublishResult) -> list[str]:
    cell = _ci.markdown_text
    lines = [f"- Repository: {cell(_where(result))}", f"- Credential: {cell(_credential(result))}"]
    if result.release_url:
        lines.append(f"- Release: {cell(result.release_url)}")
    elif result.project_url:
        lines.append(f"- Project: {cell(result.project_url)}")
    elif result.simple_url:
        lines.append(f"- Simple index: {cell(result.simple_url)}")
    if result.attestation_identity:
        lines.append(f"- Attestations signed by: {cell(result.attestation_identity)}")
    lines.append("")
    return lines


def _summary_table(result: PublishResult) -> list[str]:
    if not result.files:
        return []
    lines = ["| File | Size | SHA-256 | Status | Attestation |", "|---|---:|---|---|---|"]
    for outcome in result.files:
        name = _ci.markdown_code(outcome.filename)
        if outcome.url:
            name = f"[{name}]({_ci.markdown_url(outcome.url)})"
        status = _STATUS_MARK.get(outcome.status, outcome.status)
        if outcome.message:
            status += f": {outcome.message}"
        size, digest = human_size(outcome.size), _ci.markdown_code(outcome.sha256[:16])
        attestation = _ci.markdown_text(outcome.attestation or "-")
        lines.append(
            f"| {name} | {size} | {digest} | {_ci.markdown_text(status)} | {attestation} |"
        )
    lines.append("")
    return lines


def _summary_error(failure: TrustpubError) -> list[str]:
    cell = _ci.markdown_text
    lines = [f"**Error:** {cell(failure.message)}", ""]
    if failure.details:
        lines.extend([*_ci.markdown_fence(failure.details), ""])
    if failure.hint:
        lines.extend([f"**Fix:** {cell(failure.hint)}", ""])
    if failure.docs_url:
        lines.extend([f"See {cell(failure.docs_url)}", ""])
    return lines


class Renderer:
    """A :class:`~trustpub.reporter.Reporter` for the terminal and CI logs."""

    def __init__(
        self,
        *,
        verbosity: int = 0,
        quiet: bool = False,
        json_output: bool = False,
        env: Mapping[str, str] | None = None,
        rich_output: bool | None = None,
    ) -> None:
        self.env = os.environ if env is None else env
        self.verbosity = verbosity
        self.quiet = quiet
        self.json_output = json_output
        self.github = _ci.is_github_actions(self.env)
        self.gitlab = _ci.is_gitlab_ci(self.env)
        if rich_output is None:
            rich_output = (
                sys.stderr.isatty()
                and not self.github
                and not self.gitlab
                and self.env.get("CI", "") not in ("true", "1")
                and self.env.get("TERM") != "dumb"
            )
        self.rich = rich_output
        self._lock = threading.RLock()
        self._masked: set[bytes] = set()
        """Digests of the values already masked: each gets one ``::add-mask::`` line."""
        self._console: Any = None
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}
        self._group_open = False

    # ---- low-level output -------------------------------------------------
    def _err(self, text: str) -> None:
        with self._lock:
            if self.rich:
                self.console.print(text, markup=False, highlight=False)
            else:
                click.echo(text, err=True)

    def _command(self, line: str) -> None:
        """A workflow command or section marker: stdout, or stderr with --json."""
        with self._lock:
            command_line(line, stderr=self.json_output)

    def hold(self) -> None:
        """On GitHub, hold all output until the first secret is masked (or the end)."""
        if self.github:
            hold_output()

    def release(self) -> None:
        """Print what waited for the masks."""
        release_output()

    @property
    def console(self) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(file=sys.stderr, stderr=True)
        return self._console

    def mask(self, secret: Secret, *, password: bool = False) -> None:
        """Tell GitHub to mask this value; must run before anything mentions it.

        A token with whitespace inside (a password with a line break) cannot be
        masked, a mask being one line: it is refused here, before anything is printed.
        """
        problem = whitespace_problem(secret.reveal(), blanks=password)
        if problem is not None:
            raise IdentityError(
                f"refusing to use a {'password' if password else 'token'}: {problem}",
                hint="no index issues tokens with whitespace or control characters inside; "
                "check how the token is stored and passed (a pasted line break, a quoted value)",
                anchor="token-with-whitespace",
            )
        if not self.github or not secret:
            return
        digest = hashlib.sha256(secret.reveal().encode("utf-8", "surrogatepass")).digest()
        stream = raw_stderr() if self.json_output else raw_stdout()
        with self._lock:
            if digest in self._masked:  # e.g. a --token the core hands back to on_secret
                return
            self._masked.add(digest)
            stream.write(_ci.mask_line(secret, stream) + "\n")
            stream.flush()
            self.release()

    def mask_given(self, token: Secret | None, *passwords: Secret | None) -> None:
        """Hold output (GitHub), then mask the credentials given on the command line."""
        self.hold()
        if token is not None:
            self.mask(token)
        for secret in passwords:
            if secret is not None:
                self.mask(secret, password=True)

    def mask_found(self, secret: Secret) -> None:
        """Mask a secret the core obtained (it may be a password: keyring, .pypirc)."""
        self.mask(secret, password=True)

    # ---- sections ---------------------------------------------------------
    def begin_section(self, name: str, title: str) -> None:
        if self.github:
            self._command(_ci.workflow_command("group", title))
            self._group_open = True
        elif self.gitlab:
            self._command(_ci.gitlab_section_start(name, title))
        elif not self.quiet:
            self._err(title)

    def end_section(self, name: str) -> None:
        self._stop_progress()
        self.release()
        if self.github and self._group_open:
            self._command("::endgroup::")
            self._group_open = False
        elif self.gitlab:
            self._command(_ci.gitlab_section_end(name))

    # ---- Reporter protocol --------------------------------------------------
    def debug(self, message: str) -> None:
        if self.verbosity >= 1:
            self._err(f"debug: {one_line(message)}")

    def info(self, message: str) -> None:
        if not self.quiet:
            self._err(one_line(message))

    def warning(self, message: str) -> None:
        message = one_line(message)
        if self.github:
            self._command(_ci.workflow_command("warning", message, title="trustpub"))
        self._err(f"warning: {message}")

    def file_started(self, filename: str, size: int) -> None:
        if self.quiet:
            return
        if self.rich:
            with self._lock:
                progress = self._ensure_progress()
                task = self._tasks.get(filename)
                if task is None:
                    self._tasks[filename] = progress.add_task(
                        one_line(filename), total=size or None
                    )
                else:  # a retry: the upload starts over
                    progress.reset(task, total=size or None)
        else:
            self._err(f"uploading {one_line(filename)} ({human_size(size)})")

    def file_progress(self, filename: str, sent: int) -> None:
        if self.rich and not self.quiet:
            with self._lock:
                task = self._tasks.get(filename)
                if task is not None and self._progress is not None:
                    self._progress.advance(task, sent)

    def file_finished(self, filename: str, status: str) -> None:
        if self.quiet:
            return
        if self.rich:
            with self._lock:
                task = self._tasks.pop(filename, None)
                if task is not None and self._progress is not None:
                    self._progress.remove_task(task)
        self._err(f"{one_line(filename)}: {_STATUS_MARK.get(status, status)}")

    def _ensure_progress(self) -> Any:
        if self._progress is None:
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TransferSpeedColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                console=self.console,
                transient=True,
            )
            self._progress.start()
        return self._progress

    def _stop_progress(self) -> None:
        with self._lock:
            if self._progress is not None:
                self._progress.stop()
                self._progress = None
                self._tasks.clear()

    # ---- results --------------------------------------------------------------
    def error(self, error: TrustpubError) -> None:
        """The diagnosis of a failure: first, whole, on stderr (+ ``::error::`` on GitHub)."""
        self._stop_progress()
        self.release()
        if self.github:
            # The annotation stays short (message + fix); the details are in the log
            # below and in the step summary.
            body = one_line(error.message) + (
                f"\nhint: {one_line(error.hint)}" if error.hint else ""
            )
            self._command(_ci.workflow_command("error", body, title="trustpub publish"))
        click.echo(error_text(error), err=True)

    def finish(self, result: PublishResult) -> None:
        """Summary table, JSON document, CI files, in that order."""
        self._stop_progress()
        self.release()
        if result.error is not None:
            self.error(result.error)
        if result.interrupted:
            click.echo("error: interrupted; the summary shows what was uploaded", err=True)
        if self.verbosity >= 1 or result.dry_run:
            already = set(result.error.details) if result.error is not None else set()
            for note in result.notes:
                if note not in already:
                    self._err(one_line(note))
        if self.json_output:
            click.echo(json.dumps(result_document(result), indent=2))
        elif result.error is not None and all(
            outcome.status == "not-attempted" for outcome in result.files
        ):
            pass  # nothing was tried: the diagnosis above is the whole story
        elif not self.quiet or not result.ok:
            self._summary(result)
        elif _published_url(result):
            click.echo(_published_url(result))
        self.write_ci_files(result, None)

    def finish_error(self, error: TrustpubError, *, repository: str | None) -> None:
        """An error raised before any file was known: diagnosis, JSON, CI files."""
        self.error(error)
        if self.json_output:
            click.echo(json.dumps(early_error_document(error, repository=repository), indent=2))
        self.write_ci_files(None, error)

    def write_ci_files(self, result: PublishResult | None, error: TrustpubError | None) -> None:
        if not self.github:
            return
        try:
            _ci.write_outputs(github_outputs(result), self.env)
            _ci.append_step_summary(step_summary(result, error), self.env)
        except OSError as exc:
            click.echo(f"warning: could not write GitHub step files: {exc}", err=True)

    def _summary(self, result: PublishResult) -> None:
        heading = "Dry run: nothing was minted or uploaded" if result.dry_run else "Summary"
        where = _where(result)
        mode = _credential(result)
        if result.dry_run and result.claims:
            click.echo("OIDC token claims (no secrets):", err=True)
            for name, value in result.claims:
                click.echo(f"  {name} = {one_line(value)}", err=True)
        if sys.stdout.isatty() and self.rich:
            self._rich_summary(result, heading, where, mode)
            return
        lines = [f"{heading}: {where}; {mode}"]
        lines.extend("  " + _plain_row(outcome) for outcome in result.files)
        if result.attestation_identity:
            lines.append(f"  attestations signed by {one_line(result.attestation_identity)}")
        if _published_url(result):
            lines.append(f"  {one_line(_published_url(result))}")
        click.echo("\n".join(lines))  # one write (and one scrub) for the whole table

    def _rich_summary(self, result: PublishResult, heading: str, where: str, mode: str) -> None:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"{heading}: {where}", caption=mode)
        with_urls = any(outcome.url for outcome in result.files)
        table.add_column("File", overflow="fold")
        table.add_column("Size", justify="right", no_wrap=True)
        table.add_column("SHA-256", no_wrap=True)
        table.add_column("Status", overflow="fold")
        table.add_column("Attestation", overflow="fold")
        if with_urls:
            table.add_column("URL", overflow="fold")
        for outcome in result.files:
            status = _STATUS_MARK.get(outcome.status, outcome.status)
            if outcome.message:
                status += f": {outcome.message}"
            row = [
                one_line(outcome.filename),
                human_size(outcome.size),
                one_line(outcome.sha256[:16]),
                one_line(status),
                one_line(outcome.attestation or "-"),
            ]
            table.add_row(*row, *([one_line(outcome.url)] if with_urls else []))
        Console(file=sys.stdout).print(table)
        if _published_url(result):
            click.echo(_published_url(result))


def _published_url(result: PublishResult) -> str:
    """The release (or project) page, once something is there: not for failures or dry runs."""
    if not result.ok or result.dry_run:
        return ""
    return result.release_url or result.project_url or result.simple_url or ""


def _where(result: PublishResult) -> str:
    if result.repository == result.upload_url:
        return result.upload_url
    return f"{result.repository} ({result.upload_url})"


def _credential(result: PublishResult) -> str:
    if result.trusted_publishing:
        return f"trusted publishing as {result.identity}"
    return result.identity


def _plain_row(outcome: FileResult) -> str:
    status = _STATUS_MARK.get(outcome.status, outcome.status)
    if outcome.message:
        status += f" ({outcome.message})"
    parts = [outcome.filename, human_size(outcome.size), f"sha256={outcome.sha256}", status]
    if outcome.attestation:
        parts.append(f"attestation: {outcome.attestation}")
    if outcome.url:
        parts.append(outcome.url)
    return "  ".join(one_line(part) for part in parts)


__all__ = [
    "Renderer",
    "early_error_document",
    "error_document",
    "github_outputs",
    "human_size",
    "raw_stderr",
    "result_document",
    "step_summary",
]
