"""YAML with line numbers: a compose-node walk into plain values plus a line table.

Scalars stay strings (``on:`` stays the key ``"on"``; ``true`` stays ``"true"``), except
YAML nulls, which become None. Merge keys (``<<``) are applied. The walk counts the
values it makes: aliases can make a small file expand without bound, so a document that
grows past :data:`MAX_NODES` values is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

Path_ = tuple[str | int, ...]

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's loader when PyYAML was built with it (several times faster), else PyYAML's own."""

MAX_NODES = 200_000
"""Values one document may expand to (aliases included)."""


class YamlProblem(Exception):
    """The text is not YAML we can read; ``line`` is 1-based."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Document:
    """A parsed YAML document and the line of every key and list item in it."""

    data: Any
    lines: dict[Path_, int]

    def line(self, *path: str | int) -> int:
        """The line of ``path``, else of its nearest ancestor that has one (else 1)."""
        key: Path_ = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return 1


class _Walker:
    def __init__(self) -> None:
        self.lines: dict[Path_, int] = {}
        self.count = 0

    def value(self, node: yaml.Node, path: Path_) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise YamlProblem(f"the document expands to more than {MAX_NODES} values", 1)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.lines.setdefault((*path, index), item.start_mark.line + 1)
                items.append(self.value(item, (*path, index)))
            return items
        text = str(node.value)
        if node.tag == "tag:yaml.org,2002:null":
            return None
        return text

    def mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged = self.value(value_node, path)
                for source in merged if isinstance(merged, list) else [merged]:
                    if isinstance(source, dict):
                        for key, value in source.items():
                            out.setdefault(key, value)
                continue
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            where: Path_ = (*path, key)
            self.lines[where] = key_node.start_mark.line + 1
            out[key] = self.value(value_node, where)
        return out


MAX_FLOW_DEPTH = 200
"""Nested ``[``/``{`` beyond this are refused before parsing (PyYAML's scanner slows down
with every open flow level; no CI file comes near it)."""


def _flow_depth_line(text: str) -> int | None:
    """The line where ``[``/``{`` nesting first exceeds :data:`MAX_FLOW_DEPTH`, else None."""
    if text.count("[") + text.count("{") <= MAX_FLOW_DEPTH:
        return None
    depth = 0
    line = 1
    for char in text:
        if char in "[{":
            depth += 1
            if depth > MAX_FLOW_DEPTH:
                return line
        elif char in "]}":
            depth = max(0, depth - 1)
        elif char == "\n":
            line += 1
    return None


def parse(text: str) -> Document:
    """Parse one YAML document; :class:`YamlProblem` names the line of a syntax error."""
    deep = _flow_depth_line(text)
    if deep is not None:
        raise YamlProblem(f"more than {MAX_FLOW_DEPTH} nested [ or {{", deep)
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlProblem(str(error.problem or error.context or "invalid YAML"), line) from None
    except yaml.YAMLError as error:
        raise YamlProblem(str(error).splitlines()[0] if str(error) else "invalid YAML", 1) from None
    except RecursionError:
        raise YamlProblem("the document nests too deeply", 1) from None
    if node is None:
        return Document(None, {})
    walker = _Walker()
    try:
        data = walker.value(node, ())
    except RecursionError:
        raise YamlProblem("the document nests too deeply", 1) from None
    return Document(data, walker.lines)


__all__ = ["MAX_FLOW_DEPTH", "MAX_NODES", "Document", "YamlProblem", "parse"]
