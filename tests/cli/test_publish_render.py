"""Rendering of publish results: JSON document, GitHub outputs and step summary, masking."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from trustpub._secret import Secret, forget_all
from trustpub.cli._render import (
    Renderer,
    github_outputs,
    human_size,
    result_document,
    step_summary,
)
from trustpub.errors import UploadError
from trustpub.publish import PublishResult
from trustpub.upload.results import FileResult, FileStatus

SHA = "ab" * 32


def result(**changes: Any) -> PublishResult:
    base = PublishResult(
        repository="testpypi",
        upload_url="https://test.pypi.org/legacy/",
        trusted_publishing=True,
        provider="github",
        identity="GitHub Actions (octo/pkg, workflow release.yml)",
        files=(
            FileResult(
                "pkg-1.0-py3-none-any.whl", 2048, SHA, FileStatus.UPLOADED, "https://f/w", ""
            ),
            FileResult(
                "pkg-1.0.tar.gz", 100, SHA, FileStatus.SKIPPED, "", "identical | already there"
            ),
        ),
        project_url="https://test.pypi.org/project/pkg/",
        release_url="https://test.pypi.org/project/pkg/1.0/",
        ok=True,
    )
    return dataclasses.replace(base, **changes)


def test_result_document_shape() -> None:
    document = result_document(result())
    assert json.loads(json.dumps(document)) == document
    assert document["repository"] == "testpypi"
    assert document["trusted_publishing"] is True
    assert document["provider"] == "github"
    assert document["ok"] is True
    assert document["error"] is None
    assert document["files"][0] == {
        "filename": "pkg-1.0-py3-none-any.whl",
        "size": 2048,
        "sha256": SHA,
        "status": "uploaded",
        "url": "https://f/w",
        "message": "",
        "attestation": "",
    }


def test_result_document_error() -> None:
    error = UploadError("index refused pkg-1.0.tar.gz", hint="bump the version", anchor="x-y")
    document = result_document(result(ok=False, error=error))
    assert document["ok"] is False
    assert document["error"] == {
        "message": "index refused pkg-1.0.tar.gz",
        "hint": "bump the version",
        "details": [],
        "code": "x-y",
        "anchor": "x-y",
        "docs_url": "https://trustpub.readthedocs.io/en/latest/troubleshooting/#x-y",
        "exit_code": 6,
    }


def test_github_outputs_success_and_failure() -> None:
    outputs = github_outputs(result())
    assert outputs["trusted-publishing"] == "true"
    assert outputs["project-url"] == "https://test.pypi.org/project/pkg/"
    assert outputs["release-url"] == "https://test.pypi.org/project/pkg/1.0/"
    assert [entry["status"] for entry in json.loads(outputs["files"])] == ["uploaded", "skipped"]
    assert github_outputs(result(dry_run=True))["release-url"] == ""
    failed = github_outputs(result(ok=False, trusted_publishing=False))
    assert failed["release-url"] == ""
    assert failed["trusted-publishing"] == "false"
    assert github_outputs(None) == {
        "files": "[]",
        "project-url": "",
        "release-url": "",
        "trusted-publishing": "false",
    }


def test_step_summary_markdown() -> None:
    text = step_summary(result(), None)
    assert text.startswith("### trustpub publish: succeeded")
    assert (
        "| [`pkg-1.0-py3-none-any.whl`](https://f/w) | 2.0 KiB | `abababababababab` | uploaded |"
        in (text)
    )
    # Table cells are escaped; file names are code spans (inert whatever they hold).
    assert "identical \\| already there" in text
    assert "- Release: https://test.pypi.org/project/pkg/1.0/" in text
    failed = step_summary(
        result(ok=False, error=UploadError("refused", hint="fix it", details=["a", "b"])), None
    )
    assert "trustpub publish: failed" in failed
    assert "**Error:** refused" in failed
    assert "```\na\nb\n```" in failed
    assert "**Fix:** fix it" in failed


def test_step_summary_scrubs_secrets() -> None:
    forget_all()
    secret = Secret("pypi-SummaryCanaryTokenValue0123456789")
    text = step_summary(None, UploadError(f"oops {secret.reveal()}"))
    assert secret.reveal() not in text
    forget_all()


@pytest.mark.parametrize(
    ("size", "shown"), [(5, "5 B"), (2048, "2.0 KiB"), (3 * 2**20, "3.0 MiB"), (2**31, "2.0 GiB")]
)
def test_human_size(size: int, shown: str) -> None:
    assert human_size(size) == shown


def test_mask_only_on_github(capsys: pytest.CaptureFixture[str]) -> None:
    secret = Secret("eyJmask.canaryvalue.signature", register=False)
    Renderer(env={}, rich_output=False).mask(secret)
    assert capsys.readouterr().out == ""
    Renderer(env={"GITHUB_ACTIONS": "true"}, rich_output=False).mask(secret)
    assert capsys.readouterr().out == "::add-mask::eyJmask.canaryvalue.signature\n"
    Renderer(env={"GITHUB_ACTIONS": "true"}, json_output=True, rich_output=False).mask(secret)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "::add-mask::eyJmask.canaryvalue.signature\n"


def test_mask_once_per_value(capsys: pytest.CaptureFixture[str]) -> None:
    """A --token is masked when parsed and handed back by the core: one line, not two."""
    renderer = Renderer(env={"GITHUB_ACTIONS": "true"}, rich_output=False)
    renderer.mask_given(Secret("pypi-OnceOnlyMaskValue0123", register=False))
    renderer.mask_found(Secret("pypi-OnceOnlyMaskValue0123", register=False))
    renderer.mask(Secret("pypi-AnotherMaskValue45678", register=False))
    assert capsys.readouterr().out == (
        "::add-mask::pypi-OnceOnlyMaskValue0123\n::add-mask::pypi-AnotherMaskValue45678\n"
    )


def test_plain_progress_lines(capsys: pytest.CaptureFixture[str]) -> None:
    renderer = Renderer(env={}, rich_output=False)
    renderer.file_started("pkg-1.0.tar.gz", 100)
    renderer.file_progress("pkg-1.0.tar.gz", 100)
    renderer.file_finished("pkg-1.0.tar.gz", "uploaded")
    renderer.debug("hidden without -v")
    assert capsys.readouterr().err == "uploading pkg-1.0.tar.gz (100 B)\npkg-1.0.tar.gz: uploaded\n"
    quiet = Renderer(env={}, rich_output=False, quiet=True)
    quiet.info("step")
    quiet.file_started("x", 1)
    assert capsys.readouterr().err == ""


def test_rich_progress_restarts_a_retried_file() -> None:
    import io

    from rich.console import Console

    renderer = Renderer(env={}, rich_output=True)
    renderer._console = Console(file=io.StringIO(), force_terminal=True, width=100)
    renderer.file_started("pkg-1.0.tar.gz", 100)
    renderer.file_progress("pkg-1.0.tar.gz", 60)
    renderer.file_started("pkg-1.0.tar.gz", 100)  # the uploader retries: starts over
    progress = renderer._progress
    assert progress is not None
    assert [(task.description, task.completed) for task in progress.tasks] == [
        ("pkg-1.0.tar.gz", 0)
    ]
    renderer.file_finished("pkg-1.0.tar.gz", "uploaded")
    assert progress.tasks == []
    renderer.end_section("x")
    assert renderer._progress is None
