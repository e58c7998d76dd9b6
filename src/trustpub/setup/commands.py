"""What a CI step does, read from its text: publish (and how), build, pick an index.

One place for the command patterns ``trustpub check`` recognises on GitHub and GitLab.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trustpub.errors import ConfigError
from trustpub.oidc.publishers import Provider, Publisher, parse_expect

PUBLISH_ACTIONS = ("pypa/gh-action-pypi-publish", "trustpub/trustpub")
"""GitHub actions that upload to an index (matched without their ``@ref``)."""

OUR_ACTION = "trustpub/trustpub"

_PUBLISH = re.compile(
    r"(?:^|[\s;&|(`'\"/])"
    r"(?P<tool>trustpub|uv|twine|pdm|hatch|poetry|flit)"
    r"(?:\s+--?[\w-]+(?:[= ][^\s-][^\s]*)?)*?"  # options before the subcommand (uv -q publish)
    r"\s+(?P<sub>publish|upload)\b",
    re.MULTILINE,
)
_PUBLISH_SUBCOMMAND = {"twine": "upload"}  # every other tool: publish

_BUILD = re.compile(
    r"(?:^|[\s;&|(])(?:python3?\s+-m\s+build|pyproject-build|uv\s+build|hatch\s+build|"
    r"poetry\s+build|pdm\s+build|flit\s+build|pip3?\s+wheel|python3?\s+-m\s+pip\s+wheel|"
    r"setup\.py\s+(?:sdist|bdist\w*))\b",
    re.MULTILINE,
)
BUILD_ACTIONS = ("hynek/build-and-inspect-python-package",)

_TOKEN_VARIABLES = re.compile(
    r"\b(?:TWINE_PASSWORD|UV_PUBLISH_TOKEN|UV_PUBLISH_PASSWORD|PDM_PUBLISH_PASSWORD|"
    r"POETRY_PYPI_TOKEN_\w+|HATCH_INDEX_AUTH|FLIT_PASSWORD|TRUSTPUB_TOKEN)\b"
)
_TOKEN_OPTIONS = re.compile(r"(?:^|\s)(?:--token|--password|-p|-P)(?:[=\s]|$)", re.MULTILINE)
_TESTPYPI = re.compile(r"test\.pypi\.org|\btestpypi\b", re.IGNORECASE)
_INDEX_VARIABLE = re.compile(r"REPOSITORY|PUBLISH_URL|INDEX|_REPO$")
_EXPECT = re.compile(r"--expect(?:=|\s+)(\S+)")
_NO_ATTESTATIONS = re.compile(r"--no-attestations\b|--attestations(?:=|\s+)['\"]?off\b")
_ATTESTATIONS = re.compile(r"--attestations\b")


@dataclass(frozen=True)
class Publish:
    """A publishing command or action found in one step or script."""

    tool: str
    """``trustpub``, ``gh-action-pypi-publish``, ``twine``, ``uv``, ..."""
    index: str | None
    """``pypi``, ``testpypi``, or None for another index."""
    with_token: bool
    """An API token/password is passed: not trusted publishing."""
    attestations: bool
    """The step will make (sign) attestations when it can."""
    expect: tuple[str, ...] = ()
    """``--expect KEY=VALUE`` pairs (trustpub only)."""


def is_build(text: str) -> bool:
    """Whether a script builds distributions."""
    return _BUILD.search(text) is not None


def is_build_action(uses: str) -> bool:
    return uses.split("@", 1)[0] in BUILD_ACTIONS


def index_of(text: str) -> str | None:
    """The index a command line or URL targets (no mention: PyPI)."""
    if _TESTPYPI.search(text):
        return "testpypi"
    if "://" in text and "pypi.org" not in text:
        return None
    return "pypi"


def _scrub(text: str) -> str:
    """The script without comment lines (a commented-out publish does not publish)."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def publish_in_script(text: str, env: Mapping[str, str] | None = None) -> Publish | None:
    """The publishing command in a shell script, if any."""
    script = _scrub(text)
    match = next(
        (
            m
            for m in _PUBLISH.finditer(script)
            if m["sub"] == _PUBLISH_SUBCOMMAND.get(m["tool"], "publish")
        ),
        None,
    )
    if match is None:
        return None
    tool = match["tool"]
    names = " ".join(env or {})
    line_start = script.rfind("\n", 0, match.start()) + 1
    line_end = script.find("\n", match.end())
    command = script[line_start : line_end if line_end >= 0 else len(script)]
    values = " ".join(
        str(v) for k, v in (env or {}).items() if _INDEX_VARIABLE.search(k) and v is not None
    )
    with_token = bool(
        _TOKEN_VARIABLES.search(script + " " + names) or _TOKEN_OPTIONS.search(script)
    )
    attestations = tool == "trustpub" and not _NO_ATTESTATIONS.search(script)
    if tool == "twine":
        attestations = bool(_ATTESTATIONS.search(script))
    expect = tuple(_unquote(m[1]) for m in _EXPECT.finditer(script)) if tool == "trustpub" else ()
    return Publish(tool, index_of(command + " " + values), with_token, attestations, expect)


def _unquote(text: str) -> str:
    try:
        parts = shlex.split(text)
    except ValueError:
        return text
    return parts[0] if parts else text


def publish_in_action(uses: str, inputs: Mapping[str, str]) -> Publish | None:
    """The publishing action a ``uses:`` step runs, if it is one."""
    target = uses.split("@", 1)[0]
    if target not in PUBLISH_ACTIONS:
        return None
    tool = "trustpub" if target == OUR_ACTION else "gh-action-pypi-publish"
    attestations = str(inputs.get("attestations", "true")).strip().lower() != "false"
    url = str(inputs.get("repository-url") or inputs.get("repository_url") or "")
    expect = tuple(
        line.strip() for line in str(inputs.get("expect", "")).splitlines() if line.strip()
    )
    return Publish(
        tool, index_of(url), bool(str(inputs.get("password", "")).strip()), attestations, expect
    )


def expected_publisher(
    base: Publisher | None, provider: Provider, publish: Publish
) -> Publisher | None:
    """The publisher a step will be judged against: ``base`` plus the step's ``--expect``.

    None when nothing is declared for ``provider`` (then only PyPI's general rules apply).
    """
    if base is not None and base.provider is not provider:
        return None
    pairs = [pair for pair in publish.expect if "${{" not in pair and "$" not in pair]
    if not pairs:
        return base
    if base is None and not any(pair.startswith("repository=") for pair in pairs):
        # the repository is never compared statically; a stand-in lets the rest parse
        pairs.append("repository=owner/name")
    try:
        return parse_expect(pairs, base=base, provider=provider)
    except ConfigError:
        return base


def _job_environment(spec: Mapping[str, Any]) -> str | None:
    """A job's deployment environment: GitHub and GitLab both take ``environment: NAME`` or
    ``environment: {name: NAME}``; None when absent or blank."""
    env = spec.get("environment")
    if isinstance(env, dict):
        env = env.get("name")
    return env.strip() if isinstance(env, str) and env.strip() else None


@dataclass(frozen=True)
class EnvironmentGap:
    """A publishing job's environment that PyPI will not match with the publisher's.

    ``wanted`` None: the publisher names no environment and the job runs in none.
    """

    actual: str | None
    wanted: str | None

    def message(self, job: str) -> str:
        if self.actual is None:
            return f"job '{job}' has no environment, the publisher requires '{self.wanted}'"
        return (
            f"job '{job}' runs in environment '{self.actual}', the publisher names '{self.wanted}'"
        )


def environment_gap(
    spec: Mapping[str, Any], expected: Publisher | None, *, template: str, case_sensitive: bool
) -> EnvironmentGap | None:
    """What is wrong with a publishing job's environment, or None.

    A computed name (``template`` in it: ``${{`` on GitHub, ``$`` on GitLab) is not judged.
    The names must be equal: ignoring case on GitHub, exactly on GitLab (PyPI's comparisons).
    """
    actual = _job_environment(spec)
    wanted = expected.environment if expected is not None else None
    if actual is not None and template in actual:
        return None
    if wanted is None:
        return EnvironmentGap(None, None) if actual is None else None
    if actual == wanted or (
        not case_sensitive and actual is not None and actual.lower() == wanted.lower()
    ):
        return None
    return EnvironmentGap(actual, wanted)


__all__ = [
    "BUILD_ACTIONS",
    "OUR_ACTION",
    "PUBLISH_ACTIONS",
    "EnvironmentGap",
    "Publish",
    "environment_gap",
    "expected_publisher",
    "index_of",
    "is_build",
    "is_build_action",
    "publish_in_action",
    "publish_in_script",
]
