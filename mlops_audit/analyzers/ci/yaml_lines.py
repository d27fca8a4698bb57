"""YAML that remembers lines: a safe loader whose mappings and sequences know where keys and values start."""

from __future__ import annotations

from typing import Iterator

import yaml

from mlops_audit.safe_yaml import SAFE_LOADER

MAX_EXPANDED_NODES = 200_000  # YAML nodes after alias expansion: stops "billion laughs" files
Loc = tuple[int | None, bool]  # (1-based line where a value's text starts, whether it is a literal block)
NO_LOC: Loc = (None, False)


class Map(dict):  # type: ignore[type-arg]
    """A YAML mapping that remembers the line of each key and where each value's text starts."""

    __slots__ = ("line", "key_lines", "value_locs")


class _Seq(list):  # type: ignore[type-arg]
    __slots__ = ("line", "item_locs")


class Reference(tuple):  # type: ignore[type-arg]
    """GitLab's `!reference [.job, script]`."""


class _Loader(SAFE_LOADER):  # type: ignore[misc,valid-type]
    """Safe loading plus lines; unknown tags (`!Ref`, `!!python/...`) load as plain values; dates stay text."""


def _loc(node: yaml.Node) -> Loc:
    literal = isinstance(node, yaml.ScalarNode) and node.style == "|"
    block = isinstance(node, yaml.ScalarNode) and node.style in ("|", ">")
    return node.start_mark.line + 1 + (1 if block else 0), literal


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Iterator[Map]:
    data = Map()
    data.line, data.key_lines, data.value_locs = node.start_mark.line + 1, {}, {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            continue
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = key_node.start_mark.line + 1
        data.value_locs[key] = _loc(value_node)


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> Iterator[_Seq]:
    data = _Seq()
    data.line, data.item_locs = node.start_mark.line + 1, []
    yield data
    for item in node.value:
        data.append(loader.construct_object(item, deep=True))
        data.item_locs.append(_loc(item))


def _construct_any(loader: _Loader, node: yaml.Node) -> object:
    if isinstance(node, yaml.MappingNode):
        return _construct_map(loader, node)
    if isinstance(node, yaml.SequenceNode):
        return _construct_seq(loader, node)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


def _construct_reference(loader: _Loader, node: yaml.Node) -> Reference:
    if isinstance(node, yaml.SequenceNode):
        return Reference(str(loader.construct_object(item, deep=True)) for item in node.value)
    return Reference()


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:omap", _construct_any)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_str)
_Loader.add_constructor("!reference", _construct_reference)
_Loader.add_constructor(None, _construct_any)


def load_yaml(text: str) -> tuple[Map | None, str | None]:
    """The document of a YAML file (GitLab's `spec:` header document skipped), or None and an error."""
    try:
        documents = _documents(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        return None, f"YAML does not parse: {problem}{where}"
    except (RecursionError, ValueError, TypeError, OverflowError) as error:
        return None, f"YAML does not parse: {type(error).__name__}"
    if documents is None:
        return None, "YAML aliases expand to too many nodes (or refer to themselves); not read"
    if len(documents) > 1 and isinstance(documents[0], dict) and set(documents[0]) == {"spec"}:
        documents = documents[1:]
    if not documents:
        return None, "YAML file is empty"
    if len(documents) > 1:
        return None, f"YAML file holds {len(documents)} documents; expected one"
    if not isinstance(documents[0], Map):
        return None, f"YAML top level is a {_type_name(documents[0])}, not a mapping"
    return documents[0], None


def _documents(text: str) -> list[object] | None:
    """The non-empty documents of a YAML stream, or None when aliases would expand it beyond bounds."""
    loader = _Loader(text)
    try:
        nodes = []
        while loader.check_node():
            nodes.append(loader.get_node())
            if _expanded_size(nodes[-1], {}, set()) > MAX_EXPANDED_NODES:
                return None
        return [d for d in map(loader.construct_document, nodes) if d is not None]
    finally:
        loader.dispose()


def _expanded_size(node: yaml.Node, sizes: dict[int, int], open_nodes: set[int]) -> int:
    """Nodes in the document once aliases are expanded (a self-referring alias counts as unbounded)."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_nodes:
        return MAX_EXPANDED_NODES + 1
    open_nodes.add(key)
    children: list[yaml.Node] = []
    if isinstance(node, yaml.SequenceNode):
        children = node.value
    elif isinstance(node, yaml.MappingNode):
        children = [part for pair in node.value for part in pair]
    total = 1
    for child in children:
        total += _expanded_size(child, sizes, open_nodes)
        if total > MAX_EXPANDED_NODES:
            break
    open_nodes.discard(key)
    sizes[key] = total
    return total


def _type_name(value: object) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    return "number" if isinstance(value, (int, float)) else type(value).__name__


def value_loc(container: object, key: object) -> Loc:
    if isinstance(container, Map):
        return container.value_locs.get(key, NO_LOC)
    if isinstance(container, _Seq) and isinstance(key, int) and 0 <= key < len(container.item_locs):
        return container.item_locs[key]
    return NO_LOC


def key_line(container: object, key: object) -> int | None:
    if isinstance(container, Map):
        return container.key_lines.get(key)
    return value_loc(container, key)[0]


def start_line(value: object) -> int | None:
    return getattr(value, "line", None)
