"""Shared pieces of the end-to-end tests: a clean child environment, running the CLI, pip."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

TESTS_DIR = Path(__file__).resolve().parent.parent

_CI_PREFIXES = (
    "GITHUB_",
    "ACTIONS_",
    "GITLAB_",
    "CI_",
    "TRUSTPUB_",
    "RUNNER_",
    "PIP_",
    "BUILDKITE",
    "CIRCLE",
)
_CI_NAMES = frozenset(
    {
        "CI",
        "GCE_METADATA_HOST",
        "GCE_METADATA_IP",
        "GOOGLE_SERVICE_ACCOUNT_NAME",
        "ACTIVESTATE_OIDC_TOKEN",
        "SSL_CERT_FILE",
        "REQUESTS_CA_BUNDLE",
        "PYTHON_KEYRING_BACKEND",
    }
)


def base_env() -> dict[str, str]:
    """This process's environment without any CI identity, CA override or keyring choice."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_CI_PREFIXES)
        and key not in _CI_NAMES
        and not key.endswith("_ID_TOKEN")
    }


def child_env(*layers: Mapping[str, str]) -> dict[str, str]:
    """A child environment: clean base, an empty keyring, then ``layers`` in order."""
    env = base_env()
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    env["PYTHONUNBUFFERED"] = "1"
    for layer in layers:
        env.update(layer)
    return env


def run_publish(
    args: list[str], *, env: Mapping[str, str], cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``python -m trustpub publish ARGS`` as a real subprocess."""
    return run_trustpub(["publish", *args], env=env, cwd=cwd, timeout=timeout)


def run_trustpub(
    args: list[str], *, env: Mapping[str, str], cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``python -m trustpub ARGS`` as a real subprocess (stdin closed, output captured)."""
    return subprocess.run(
        [sys.executable, "-m", "trustpub", *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def json_result(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The one JSON document a ``--json`` run printed on stdout."""
    try:
        document = json.loads(result.stdout)
    except json.JSONDecodeError as error:
        raise AssertionError(
            f"stdout is not one JSON document ({error}):\n{result.stdout}\n--- stderr:\n{result.stderr}"
        ) from None
    assert isinstance(document, dict)
    return document


def pip_install(
    simple_url: str, requirement: str, target: Path, *, cert: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``pip install --no-deps --target`` from one index only (no PyPI, no cache)."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--no-cache-dir",
        "--disable-pip-version-check",
        "--index-url",
        simple_url,
        "--target",
        str(target),
        requirement,
    ]
    if cert is not None:
        command[4:4] = ["--cert", str(cert)]
    env = child_env({"PIP_CONFIG_FILE": os.devnull})  # no site pip.conf (find-links, cert)
    env.pop("CURL_CA_BUNDLE", None)
    return subprocess.run(
        command,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        stdin=subprocess.DEVNULL,
    )


MASK_LINE = re.compile(r"^::add-mask::(.+)$", re.MULTILINE)


def masked_values(text: str) -> list[str]:
    """The values a run asked GitHub to mask."""
    return MASK_LINE.findall(text)


def without_mask_lines(text: str) -> str:
    return MASK_LINE.sub("", text)


def secret_pieces(value: str) -> list[str]:
    """A secret and the recognisable pieces of it (JWT segments, macaroon body)."""
    pieces = {value}
    pieces.update(part for part in re.split(r"[.\s]", value) if len(part) >= 12)
    if value.startswith("pypi-"):
        pieces.add(value[5:])
    return sorted(pieces, key=len, reverse=True)


__all__ = [
    "TESTS_DIR",
    "base_env",
    "child_env",
    "json_result",
    "masked_values",
    "pip_install",
    "run_publish",
    "secret_pieces",
    "without_mask_lines",
]
