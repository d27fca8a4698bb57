"""Files read for the environment analyzer, each parsed once, and small helpers that find values and lines in them."""

from __future__ import annotations

import ast
import configparser
import posixpath
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any

import yaml

from mlops_audit.inventory import Inventory
from mlops_audit.model import Evidence, clip
from mlops_audit.safe_yaml import SAFE_LOADER

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

# PyYAML constructors leak more than YAMLError on malformed tagged scalars (`!!timestamp 99:99`).
YAML_ERRORS = (yaml.YAMLError, ValueError, TypeError, AttributeError, RecursionError, OverflowError)
PYTHON_ERRORS = (SyntaxError, ValueError, RecursionError)
MAX_YAML_NODES = 200_000  # nodes after alias expansion


class Reader:
    """Parses each file once per run; a file that does not parse leaves one error and reads as None."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self.errors: dict[str, Evidence] = {}
        self._parsed: dict[tuple[str, str], Any] = {}

    def text(self, path: str) -> str | None:
        return self.inventory.read_text(path)

    def paths(self, *patterns: str) -> list[str]:
        return [f.path for f in self.inventory.glob(*patterns)]

    def toml(self, path: str) -> dict[str, Any] | None:
        return self._parse(path, "toml", _load_toml)

    def ini(self, path: str) -> configparser.ConfigParser | None:
        return self._parse(path, "ini", _load_ini)

    def yaml(self, path: str) -> tuple[Any, yaml.Node | None]:
        return self._parse(path, "yaml", _load_yaml) or (None, None)

    def python(self, path: str) -> ast.Module | None:
        return self._parse(path, "python", _load_python)

    def _parse(self, path: str, kind: str, load: Callable[[str, str], Any]) -> Any:
        key = (path, kind)
        if key not in self._parsed:
            text = self.text(path)
            try:
                self._parsed[key] = None if text is None else load(text, path)
            except _ParseError as error:
                self.errors[path] = Evidence(path, error.line, snippet=clip(str(error)))
                self._parsed[key] = None
        return self._parsed[key]


class _ParseError(Exception):
    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def _load_toml(text: str, path: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except (ValueError, RecursionError) as error:
        found = re.search(r"line (\d+)", str(error))
        raise _ParseError(f"TOML does not parse: {error}", int(found.group(1)) if found else None) from None


def _load_ini(text: str, path: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text, source=path)
    except configparser.Error as error:
        raise _ParseError(f"INI does not parse: {error}", getattr(error, "lineno", None)) from None
    return parser


def _load_yaml(text: str, path: str) -> tuple[Any, yaml.Node | None]:
    try:
        return load_bounded_yaml(text)
    except YAML_ERRORS as error:
        mark = getattr(error, "problem_mark", None)
        raise _ParseError(f"YAML does not parse: {error}", mark.line + 1 if mark else None) from None


class AliasBomb(yaml.YAMLError):
    """A YAML document whose aliases expand it beyond `MAX_YAML_NODES` (a "billion laughs" file)."""


def load_bounded_yaml(text: str) -> tuple[Any, yaml.Node | None]:
    """One YAML document, safely constructed, and its node tree; raises a YAML error (`AliasBomb` among them) when
    it does not parse or its aliases would expand it beyond `MAX_YAML_NODES` nodes."""
    loader = SAFE_LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        if expanded_size(node) > MAX_YAML_NODES:
            raise AliasBomb(f"aliases expand it to over {MAX_YAML_NODES} nodes (or refer to themselves); not read")
        return loader.construct_document(node), node
    finally:
        loader.dispose()


def expanded_size(root: yaml.Node) -> int:
    """The nodes of a tree once aliases are expanded, counted iteratively up to `MAX_YAML_NODES + 1` (also for a
    self-referring alias)."""
    over = MAX_YAML_NODES + 1
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            sizes[key] = min(over, 1 + sum(sizes[id(child)] for child in _children(node)))
        elif key in open_nodes:
            return over
        elif key not in sizes:
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node))
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _load_python(text: str, path: str) -> ast.Module:
    try:
        return ast.parse(text, filename=path)
    except PYTHON_ERRORS as error:
        raise _ParseError(f"Python does not parse: {error}", getattr(error, "lineno", None)) from None


def line_of(text: str | None, predicate: Callable[[str], bool]) -> int | None:
    for number, line in enumerate((text or "").splitlines(), start=1):
        if predicate(line):
            return number
    return None


def line_containing(text: str | None, needle: str) -> int | None:
    return line_of(text, lambda line: needle in line) if needle else None


def key_line(text: str | None, key: str) -> int | None:
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*[=:]")
    return line_of(text, pattern.match)


def table_line(text: str | None, table: str) -> int | None:
    """The line of a `[table]` / `[[table]]` / `[table.sub]` header in TOML or INI."""
    pattern = re.compile(rf"^\s*\[\[?\s*{re.escape(table)}\s*[\].]")
    return line_of(text, pattern.match)


def dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def string_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split()
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)


def key_lines(node: yaml.Node | None) -> dict[str, int]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}


def item_lines(node: yaml.Node | None) -> list[int]:
    return [item.start_mark.line + 1 for item in node.value] if isinstance(node, yaml.SequenceNode) else []


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines joined over trailing backslashes, with their first line number and comments removed."""
    pending: list[str] = []
    start = 1
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        line = re.sub(r"(^|\s)#.*$", "", raw)
        if line.rstrip().endswith("\\"):
            pending.append(line.rstrip()[:-1])
            continue
        pending.append(line)
        yield start, " ".join(part.strip() for part in pending).strip()
        pending = []
    if pending:
        yield start, " ".join(part.strip() for part in pending).strip()


def relative(path: str, reference: str) -> str:
    return posixpath.normpath(posixpath.join(posixpath.dirname(path), reference))


def follow(node: ast.expr, names: dict[str, ast.expr]) -> ast.expr:
    """The value a module-level name was assigned (`install_requires=REQUIRED`), or the node itself."""
    return names.get(node.id, node) if isinstance(node, ast.Name) else node


def literal_strings(node: ast.expr | None, names: dict[str, ast.expr]) -> list[tuple[str, int]]:
    """String elements of a literal list or tuple (following one module-level name), with their lines."""
    if node is not None:
        node = follow(node, names)
    if not isinstance(node, (ast.List, ast.Tuple)):
        return []
    return [(e.value, e.lineno) for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
