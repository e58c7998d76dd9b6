"""The environment of a fake CI job, through the real ``trustpub sandbox env``.

``sandbox_env(sandbox, "github", repository="octo/pkg", environment="pypi")``
runs ``python -m trustpub sandbox env --format json`` against a running sandbox
(the ``sandbox`` / ``sandbox_factory`` fixtures) and returns the variables, ready
to pass to a child process: ``subprocess.run(..., env={**os.environ, **variables})``.

Job keywords (docs/sandbox-identity.md): ``repository``, ``workflow``, ``ref``,
``sha``, ``environment``, ``event``, ``actor``, ``runner``, ``fork`` (bool),
``id_token`` (bool), ``email``, ``impersonate``, ``organization``, ``project``,
``builder``, ``audience``, ``timeout`` (int), ``claims`` (dict of claim -> JSON
value to set) and ``remove_claims`` (names of claims to delete).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

_TEXT_OPTIONS = (
    "repository",
    "workflow",
    "ref",
    "sha",
    "environment",
    "event",
    "actor",
    "runner",
    "email",
    "impersonate",
    "organization",
    "project",
    "builder",
    "audience",
)


class RunningSandbox(Protocol):
    """What the helpers need from a sandbox (``helpers_sandbox.Sandbox`` has it)."""

    @property
    def url(self) -> str: ...

    @property
    def ca_cert(self) -> Path | None: ...


def env_arguments(provider: str, **job: Any) -> list[str]:
    """The ``trustpub sandbox env`` job options for a job description."""
    args = ["--provider", provider]
    for key in _TEXT_OPTIONS:
        value = job.pop(key, None)
        if value is not None:
            args += [f"--{key}", str(value)]
    if job.pop("fork", False):
        args.append("--fork")
    id_token = job.pop("id_token", None)
    if id_token is not None:
        args.append("--id-token" if id_token else "--no-id-token")
    timeout = job.pop("timeout", None)
    if timeout is not None:
        args += ["--timeout", str(int(timeout))]
    claims: Mapping[str, Any] = job.pop("claims", None) or {}
    for key, value in claims.items():
        args += ["--claim", f"{key}={json.dumps(value)}"]
    removed: Iterable[str] = job.pop("remove_claims", None) or ()
    for key in removed:
        args += ["--claim", f"{key}="]
    if job:
        raise TypeError(f"unknown job keyword(s): {', '.join(sorted(job))}")
    return args


def run_sandbox_env(
    sandbox: RunningSandbox, *args: str, use_ca: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m trustpub sandbox env --url <sandbox> [--ca-cert] ARGS`` (no check)."""
    command = [sys.executable, "-m", "trustpub", "sandbox", "env", "--url", sandbox.url]
    if use_ca and sandbox.ca_cert is not None:
        command += ["--ca-cert", str(sandbox.ca_cert)]
    child_env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("TRUSTPUB_SANDBOX_URL", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
    }
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        env=child_env,
        timeout=120,
        check=False,
    )


def sandbox_env(sandbox: RunningSandbox, provider: str, **job: Any) -> dict[str, str]:
    """The variables of a new fake CI job of ``provider`` on a running sandbox."""
    result = run_sandbox_env(sandbox, *env_arguments(provider, **job), "--format", "json")
    if result.returncode != 0:
        raise AssertionError(
            f"trustpub sandbox env failed ({result.returncode}): {result.stderr.strip()}"
        )
    variables = json.loads(result.stdout)
    if not isinstance(variables, dict):
        raise AssertionError(f"trustpub sandbox env printed {result.stdout!r}")
    return {str(key): str(value) for key, value in variables.items()}


__all__ = ["RunningSandbox", "env_arguments", "run_sandbox_env", "sandbox_env"]
