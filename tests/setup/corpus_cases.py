"""The ``trustpub check`` corpus: one file per case, several CI files per case.

A case file starts with ``# case:``, ``# publisher:`` (KEY=VALUE pairs, or ``none``) and
``# pypi:`` (what PyPI answers, from Warehouse 6b62157) lines; then each CI file follows a
``# === <path>`` line. A line expecting findings ends in ``# <- kind [kind...]``: the test
requires exactly those (kind, line) pairs, nothing more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"
_MARK = re.compile(r"#\s*<-\s*([\w -]+)$")


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    publisher: str | None
    pypi: str
    files: dict[str, str]
    expected: frozenset[tuple[str, str, int]]
    """(file, kind, line)"""

    def write(self, root: Path) -> None:
        for rel, text in self.files.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")


def load_case(path: Path) -> Case:
    meta: dict[str, str] = {}
    files: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# === "):
            current = files.setdefault(line[6:].strip(), [])
        elif current is None:
            key, _, value = line.lstrip("# ").partition(":")
            meta[key.strip()] = value.strip()
        else:
            current.append(line)
    expected: set[tuple[str, str, int]] = set()
    for rel, lines in files.items():
        for number, line in enumerate(lines, start=1):
            mark = _MARK.search(line)
            if mark:
                expected.update((rel, kind, number) for kind in mark[1].split())
    publisher = meta.get("publisher", "none")
    return Case(
        name=path.stem,
        description=meta["case"],
        publisher=None if publisher == "none" else publisher,
        pypi=meta["pypi"],
        files={rel: "\n".join(lines) + "\n" for rel, lines in files.items()},
        expected=frozenset(expected),
    )


def all_cases() -> list[Case]:
    return [load_case(p) for p in sorted(CORPUS.glob("*.yml"))]
