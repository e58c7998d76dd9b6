"""Declare the publisher in ``pyproject.toml``: ``[tool.trustpub.publisher]``.

Edited with tomlkit so that everything else in the file (comments, ordering, quoting,
blank lines) stays byte for byte as it was; only the publisher table is added or replaced.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import tomlkit
import tomlkit.exceptions
from tomlkit.items import Table

from trustpub.errors import ConfigError


def _table(parent: Table | tomlkit.TOMLDocument, key: str, where: Path) -> Table:
    existing = parent.get(key)
    if existing is None:
        created = tomlkit.table(is_super_table=True)
        parent[key] = created
        return created
    if not isinstance(existing, Table):
        raise ConfigError(
            f"{where}: '{key}' is not a table",
            hint=f"make [{key}] a table, or remove the key",
            anchor="configuration-errors",
        )
    return existing


def with_publisher(text: str, publisher: Mapping[str, str], *, where: Path) -> str:
    """``text`` (a pyproject.toml) with ``[tool.trustpub.publisher]`` set to ``publisher``."""
    try:
        document = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as error:
        raise ConfigError(
            f"{where} is not valid TOML: {error}",
            hint="fix the TOML syntax, then run trustpub init again",
            anchor="configuration-errors",
        ) from None
    tool = _table(document, "tool", where)
    trustpub = _table(tool, "trustpub", where)
    table = tomlkit.table()
    for key, value in publisher.items():
        table[key] = value
    trustpub["publisher"] = table
    return tomlkit.dumps(document)


__all__ = ["with_publisher"]
