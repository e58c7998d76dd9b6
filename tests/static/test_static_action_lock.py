"""The action's install list (requirements/action.txt) pins everything it installs, by hash.

The action's install step runs in a job holding ``id-token: write``: whatever pip installs
there can mint upload tokens. So the action installs only from this lock with
``--require-hashes``, then trustpub itself with ``--no-deps --no-build-isolation``. These
tests keep the lock complete when pyproject.toml changes (regenerate it as
docs/github-actions.md describes).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements" / "action.txt"
_HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def _entries() -> list[str]:
    """The lock's logical lines (continuations joined, comments dropped)."""
    text = LOCK.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def _pins() -> dict[str, list[tuple[str, str]]]:
    """Name -> [(version, marker text)] for every pin in the lock."""
    pins: dict[str, list[tuple[str, str]]] = {}
    for entry in _entries():
        requirement = Requirement(_HASH.sub("", entry).strip())
        (spec,) = requirement.specifier
        assert spec.operator == "==", f"not an exact pin: {entry}"
        marker = "" if requirement.marker is None else str(requirement.marker)
        pins.setdefault(canonicalize_name(requirement.name), []).append((spec.version, marker))
    return pins


def _wanted() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    texts = [*project["project"]["dependencies"], *project["build-system"]["requires"]]
    return [Requirement(text) for text in texts]


def test_every_lock_line_is_an_exact_pin_with_a_sha256_hash() -> None:
    entries = _entries()
    assert entries
    for entry in entries:
        assert not entry.startswith("-"), f"options and includes are not allowed: {entry}"
        assert _HASH.search(entry), f"no sha256 hash: {entry}"
        assert not _HASH.sub("", entry).count("--"), f"an option besides --hash: {entry}"
    _pins()


@pytest.mark.parametrize("requirement", _wanted(), ids=str)
def test_the_lock_pins_every_runtime_dependency_and_the_build_backend(
    requirement: Requirement,
) -> None:
    pins = _pins().get(canonicalize_name(requirement.name))
    assert pins, f"{requirement.name} is not in requirements/action.txt: regenerate it"
    specifier = SpecifierSet(str(requirement.specifier))
    for version, marker in pins:
        assert specifier.contains(version, prereleases=True), (
            f"{requirement.name}=={version} ({marker or 'all'}) does not satisfy {requirement}: "
            "regenerate requirements/action.txt"
        )


def test_the_action_installs_only_from_the_lock() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    (install,) = [step for step in action["runs"]["steps"] if step.get("id") == "install"]
    script = install["run"]
    assert '--require-hashes -r "${TRUSTPUB_ACTION_PATH}/requirements/action.txt"' in script
    assert '--no-deps --no-build-isolation "${TRUSTPUB_ACTION_PATH}"' in script
    installs = [line for line in script.splitlines() if '"${pip[@]}"' in line]
    assert len(installs) == 2, installs
    assert script.count("pip install") == 1
