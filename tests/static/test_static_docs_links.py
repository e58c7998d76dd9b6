"""The documentation site builds strictly, and every link trustpub prints resolves in it.

trustpub prints ``docs: <DOCS_URL>troubleshooting/#<anchor>`` under each error. The anchors
are collected from the source with :mod:`ast` (every string literal given as ``anchor=`` or
assigned to ``default_anchor``) and must exist as element ids in the built troubleshooting
page. The configuration page must list every environment variable and exit code.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import click
import pytest
import yaml

from trustpub.errors import DOCS_URL, ExitCode, troubleshooting_url

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src" / "trustpub"
DOCS = ROOT / "docs"

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("mkdocs_click") is None,
    reason="mkdocs is not installed (pip install -e '.[docs]'; the test extra includes it)",
)


def _strings(node: ast.AST | None) -> Iterator[str]:
    if node is None:
        return
    for child in ast.walk(node):
        if isinstance(child, ast.Constant) and isinstance(child.value, str) and child.value:
            yield child.value


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_anchor_name(name: str | None) -> bool:
    return name is not None and "anchor" in name.lower()


class _Module:
    """What one source file says about anchors (a few shapes, followed one step)."""

    def __init__(self, tree: ast.Module) -> None:
        self.constants: dict[str, ast.AST] = {}
        self.anchor_params: dict[str, int] = {}  # callable -> positional index of `anchor`
        self.functions: dict[str, ast.FunctionDef] = {}
        for node in tree.body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.constants[target.id] = node.value
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                if node.value is not None:
                    self.constants[node.target.id] = node.value
            elif isinstance(node, ast.FunctionDef):
                self.functions[node.name] = node
                names = [arg.arg for arg in [*node.args.posonlyargs, *node.args.args]]
                if "anchor" in names:
                    self.anchor_params[node.name] = names.index("anchor")
            elif isinstance(node, ast.ClassDef):
                fields = [
                    item.target.id
                    for item in node.body
                    if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
                ]
                if "anchor" in fields:  # a dataclass-like record: positional = field order
                    self.anchor_params[node.name] = fields.index("anchor")

    def resolve(self, node: ast.AST | None) -> Iterator[str]:
        """String literals in ``node``, following a bare module-level constant name."""
        if isinstance(node, ast.Name) and node.id in self.constants:
            yield from _strings(self.constants[node.id])
        else:
            yield from _strings(node)

    def table_column(self, table: ast.AST, index: int) -> Iterator[str]:
        """Column ``index`` of a module-level tuple/list of tuples."""
        value = self.constants.get(table.id) if isinstance(table, ast.Name) else table
        if isinstance(value, ast.Tuple | ast.List):
            for row in value.elts:
                if isinstance(row, ast.Tuple) and index < len(row.elts):
                    yield from _strings(row.elts[index])

    def returned_column(self, function: str, index: int) -> Iterator[str]:
        """Element ``index`` of every tuple that ``function`` returns."""
        definition = self.functions.get(function)
        if definition is None:
            return
        for node in ast.walk(definition):
            if (
                isinstance(node, ast.Return)
                and isinstance(node.value, ast.Tuple)
                and index < len(node.value.elts)
            ):
                yield from self.resolve(node.value.elts[index])


def collect_anchors(root: Path = SOURCE, *, base: Path = ROOT) -> dict[str, list[str]]:
    """anchor -> places (``file:line``, relative to ``base``) where the source names it.

    Collected: literals given as ``anchor=`` (or a module constant given so), assigned to a
    name containing ``anchor`` (``default_anchor``, ``_ANCHOR``), passed positionally where
    a function's parameter or a record's field is ``anchor``, the ``anchor`` column of a
    table iterated as ``for ..., anchor, ... in TABLE``, and the ``anchor`` element of the
    tuples a function returns into ``..., anchor, ... = function(...)``.
    """
    anchors: dict[str, list[str]] = {}
    parsed = {
        path: ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for path in sorted(root.rglob("*.py"))
    }
    modules = {path: _Module(tree) for path, tree in parsed.items()}
    everywhere: dict[str, int] = {}
    for module in modules.values():
        everywhere.update(module.anchor_params)

    for path, tree in parsed.items():
        module = modules[path]

        def add(values: Iterator[str], line: int, path: Path = path) -> None:
            for value in values:
                anchors.setdefault(value, []).append(f"{path.relative_to(base)}:{line}")

        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "anchor":
                add(module.resolve(node.value), node.value.lineno)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if _is_anchor_name(_name(target)):
                        add(module.resolve(node.value), node.lineno)
                    elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Call):
                        names = [_name(element) for element in target.elts]
                        callee = _name(node.value.func)
                        if "anchor" in names and callee is not None:
                            add(module.returned_column(callee, names.index("anchor")), node.lineno)
            elif isinstance(node, ast.AnnAssign) and _is_anchor_name(_name(node.target)):
                add(module.resolve(node.value), node.lineno)
            elif isinstance(node, ast.Call):
                index = everywhere.get(_name(node.func) or "")
                if index is not None and index < len(node.args):
                    add(module.resolve(node.args[index]), node.lineno)
            elif isinstance(node, ast.For) and isinstance(node.target, ast.Tuple):
                names = [_name(element) for element in node.target.elts]
                if "anchor" in names:
                    add(module.table_column(node.iter, names.index("anchor")), node.lineno)
    return anchors


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)


def _ids(page: Path) -> set[str]:
    parser = _Ids()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.ids


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built with ``mkdocs build --strict`` (warnings fail the build)."""
    target = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-q",
            "-f",
            str(ROOT / "mkdocs.yml"),
            "-d",
            str(target),
        ],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return target


def test_collect_anchors_follows_the_shapes_the_source_uses(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "m.py").write_text(
        "_ANCHOR = 'module-constant'\n"
        "RULES = (('marker', 'table-column', 'cause'),)\n"
        "class E(Exception):\n"
        "    default_anchor = 'class-default'\n"
        "class F(E):\n"
        "    default_anchor: str = 'annotated-default'\n"
        "class Record:\n"
        "    text: str\n"
        "    anchor: str\n"
        "def problem(text, anchor):\n"
        "    return Record(text, anchor)\n"
        "def parts(x):\n"
        "    return ('message', 'returned-element')\n"
        "def f(x):\n"
        "    for marker, anchor, cause in RULES:\n"
        "        pass\n"
        "    message, anchor = parts(x)\n"
        "    problem('t', 'positional-argument')\n"
        "    Record('t', 'record-field')\n"
        "    raise E('m', anchor='keyword' if x else 'other-branch')\n"
        "def g():\n"
        "    raise E('m', anchor=_ANCHOR)\n",
        encoding="utf-8",
    )
    found = collect_anchors(package, base=tmp_path)
    assert set(found) == {
        "module-constant",
        "table-column",
        "class-default",
        "annotated-default",
        "returned-element",
        "positional-argument",
        "record-field",
        "keyword",
        "other-branch",
    }
    assert found["keyword"] == ["pkg/m.py:20"]


def test_site_url_is_the_docs_url() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["site_url"] == DOCS_URL
    assert config["strict"] is True


def test_every_printed_troubleshooting_link_resolves(site: Path) -> None:
    anchors = collect_anchors()
    assert anchors, "no anchors found in src/trustpub: the collector is broken"
    page_url = troubleshooting_url("x").removeprefix(DOCS_URL).split("#", 1)[0]
    page = site / page_url / "index.html"
    assert page.is_file(), f"{page_url} is not in the built site"
    ids = _ids(page)
    missing = {anchor: places for anchor, places in anchors.items() if anchor not in ids}
    assert not missing, (
        "troubleshooting anchors missing from docs/troubleshooting.md: "
        + ", ".join(f"{anchor} ({', '.join(places)})" for anchor, places in sorted(missing.items()))
    )


def test_cli_reference_lists_every_command(site: Path) -> None:
    ids = _ids(site / "cli" / "index.html")
    assert {"trustpub", "trustpub-publish", "trustpub-claims", "trustpub-sandbox"} <= ids
    text = (site / "cli" / "index.html").read_text(encoding="utf-8")
    assert "TRUSTPUB_TRUSTED_PUBLISHING" in text
    assert "--oidc-token-env" in text


def _envvars(command: click.Command, ctx: click.Context) -> Iterator[str]:
    for param in command.params:
        envvar = getattr(param, "envvar", None)
        if isinstance(envvar, str):
            yield envvar
        elif envvar:
            yield from envvar
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None:
                yield from _envvars(sub, click.Context(sub, parent=ctx, info_name=name))


def test_configuration_page_lists_every_variable_and_exit_code() -> None:
    from trustpub.cli import cli

    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    variables = set(_envvars(cli, click.Context(cli, info_name="trustpub")))
    assert "TRUSTPUB_TOKEN" in variables
    missing = sorted(name for name in variables if f"`{name}`" not in text)
    assert not missing, f"docs/configuration.md does not mention {missing}"
    for code in ExitCode:
        assert f"\n| {int(code)} |" in text, f"exit code {int(code)} is not documented"


def test_action_guide_lists_every_input_and_output() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    text = (DOCS / "github-actions.md").read_text(encoding="utf-8")
    for name in [*action["inputs"], *action["outputs"]]:
        assert f"| `{name}` |" in text, f"docs/github-actions.md does not document {name}"
