"""The rooms of src/trustpub and who may import whom (docs/dev/architecture.md).

Each top-level module or package of ``trustpub`` is a room. The rules below are the
architecture page in executable form: a change that breaks one must change the page too.
Imports inside functions count: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "trustpub"

# Rooms that only the CLI may import.
CLI_ONLY = {"cli", "sandbox"}
# The foundation: imported by everyone, importing nothing above it.
FOUNDATION = {"__version__", "errors", "_secret", "reporter", "repository", "_gitlab", "_threads"}
# room -> rooms it must never import (besides the CLI-only ones).
FORBIDDEN: dict[str, set[str]] = {
    "oidc": {"providers", "exchange", "upload", "publish", "_http"},
    "providers": {"exchange", "upload", "publish"},
    "upload": {"providers", "exchange", "publish"},
    "exchange": {"upload", "publish"},
    "_http": {"oidc", "providers", "exchange", "upload", "publish"},
    "setup": {"providers", "exchange", "upload", "publish", "_http"},
}
# The sandbox is server-side: it may share rules with the client but never use its flow.
SANDBOX_FORBIDDEN = {"cli", "publish", "exchange"}


def _room(path: Path) -> str:
    return path.relative_to(SRC).parts[0].removesuffix(".py")


def _imported_rooms(path: Path) -> set[str]:
    rooms: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "trustpub":
                names = [f"trustpub.{alias.name}" for alias in node.names]
            elif node.module.startswith("trustpub."):
                names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names if alias.name.startswith("trustpub.")]
        rooms.update(name.split(".")[1] for name in names)
    return rooms


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in SRC.rglob("*.py"):
        room = _room(path)
        graph[room] |= _imported_rooms(path) - {room}
    return graph


GRAPH = _graph()


def test_only_the_cli_imports_the_cli_and_the_sandbox() -> None:
    offenders = {
        (room, target)
        for room, targets in GRAPH.items()
        for target in targets & CLI_ONLY
        if room not in {"cli", "__main__"} and not (room == "sandbox" and target == "sandbox")
    }
    # The sandbox is a room of its own: it may not import the CLI either.
    assert offenders == set()


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_forbidden_imports(room: str) -> None:
    assert GRAPH.get(room, set()) & FORBIDDEN[room] == set()


def test_the_sandbox_does_not_use_the_client_flow() -> None:
    assert GRAPH.get("sandbox", set()) & SANDBOX_FORBIDDEN == set()


def test_the_foundation_imports_only_the_foundation() -> None:
    for room in FOUNDATION:
        assert GRAPH.get(room, set()) <= FOUNDATION, room


def test_no_cycles_between_rooms() -> None:
    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in GRAPH.get(start, set()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cycles = sorted(room for room in GRAPH if reaches(room, room, {room}))
    assert cycles == []


def test_nothing_outside_the_cli_prints() -> None:
    offenders: list[str] = []
    for path in SRC.rglob("*.py"):
        if _room(path) in {"cli", "__main__"}:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"print", "input"}
            ):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
            if isinstance(node, ast.Attribute) and node.attr in {"stdout", "stderr"}:
                value = node.value
                if isinstance(value, ast.Name) and value.id == "sys":
                    offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
            if isinstance(node, ast.ImportFrom | ast.Import):
                modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                if any(m == "rich" or m.startswith("rich.") for m in modules):
                    offenders.append(f"{path.relative_to(SRC)}:{node.lineno} (rich)")
    assert offenders == []


def test_the_checks_can_fail() -> None:
    """The graph is not empty and sees the edges we know exist."""
    assert "oidc" in GRAPH["providers"]
    assert "upload" in GRAPH["publish"]
