"""No function in src/ is longer than MAX_LINES: long functions hide several concerns.

The complexity half of this rule is ruff's C901 (max-complexity in pyproject.toml).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "trustpub"
MAX_LINES = 80


def long_functions() -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_LINES:
                    found[(path.relative_to(SRC).as_posix(), node.name)] = length
    return found


def test_no_new_function_over_the_limit() -> None:
    found = long_functions()
    assert found == {}, f"functions over {MAX_LINES} lines: split them: {found}"


def test_the_checker_sees_long_functions(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    tree = ast.parse(f"def f():\n{body}\n")
    node = tree.body[0]
    assert isinstance(node, ast.FunctionDef)
    assert (node.end_lineno or 0) - node.lineno + 1 > MAX_LINES
