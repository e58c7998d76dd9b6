"""The publish orchestration in-process against the sandbox: secrets reach ``on_secret`` first."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from fixtures_dists import make_release
from helpers_sandbox import Sandbox, unique_name
from trustpub._secret import Secret
from trustpub.publish import PublishRequest, publish

pytestmark = pytest.mark.e2e


class EventReporter:
    """Records every reporter call, in order, next to the masks."""

    def __init__(self, events: list[tuple[str, str]]) -> None:
        self.events = events

    def debug(self, message: str) -> None:
        self.events.append(("debug", message))

    def info(self, message: str) -> None:
        self.events.append(("info", message))

    def warning(self, message: str) -> None:
        self.events.append(("warning", message))

    def file_started(self, filename: str, size: int) -> None:
        self.events.append(("started", filename))

    def file_progress(self, filename: str, sent: int) -> None:
        pass

    def file_finished(self, filename: str, status: str) -> None:
        self.events.append(("finished", f"{filename} {status}"))


def test_every_token_is_handed_to_on_secret_before_it_is_mentioned(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    project = unique_name("order")
    make_release(tmp_path / "dist", project, "1.0.0")
    repository = f"octo-org/{project}"
    sandbox.add_publisher(
        provider="github",
        repository=repository,
        workflow="release.yml",
        projects=[project],
        pending=True,
    )
    job_env = sandbox.job(provider="github", repository=repository, workflow="release.yml")["env"]
    events: list[tuple[str, str]] = []

    def on_secret(secret: Secret) -> None:
        value = secret.reveal()
        events.append(("mask", "oidc" if value.startswith("eyJ") else value[:5]))

    assert sandbox.ca_cert is not None
    with httpx.Client(verify=sandbox.ssl_context(), timeout=60.0) as client:
        result = publish(
            PublishRequest(
                paths=(str(tmp_path / "dist" / "*"),),
                repository=sandbox.upload_url,
                mode="always",
                pyproject=None,
            ),
            env=job_env,
            reporter=EventReporter(events),
            on_secret=on_secret,
            client=client,
        )

    assert result.ok, result.error
    assert result.trusted_publishing
    assert result.minted == 1
    masks = [event for event in events if event[0] == "mask"]
    # the OIDC token, the minted token, then the sigstore token (attestations are signed after
    # the first mint); each before any line that mentions it
    assert masks == [("mask", "oidc"), ("mask", "pypi-"), ("mask", "oidc")]
    minted_line = next(
        index
        for index, (kind, text) in enumerate(events)
        if kind == "info" and text.startswith("minted an upload token")
    )
    assert events.index(("mask", "pypi-")) < minted_line
    assert events.index(("mask", "oidc")) < minted_line
    first_upload = events.index(("started", f"{project.replace('-', '_')}-1.0.0-py3-none-any.whl"))
    assert events.index(("mask", "pypi-")) < first_upload
