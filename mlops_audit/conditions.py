"""Evaluate a rule's declarative condition against the facts (the language is documented in docs/rule-packs.md).

A condition is a mapping with one primitive key (`file`, `import`, `call`, `decorator`, `class`, `tool`,
`stack`, `fact`, `builtin`, `true`, `false`) and its options, or a combinator (`all`, `any`, `not`). It yields a
three-valued `Verdict` (true, false, unknown) carrying the evidence that decided it.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlops_audit.analyzers.code import CallRef, ClassRef, DecoratorRef, ImportRef
from mlops_audit.inventory import RepoFile, glob_indexes, glob_matcher
from mlops_audit.model import Evidence, clip

if TYPE_CHECKING:
    from mlops_audit.facts import CodeUnit, Facts

EVIDENCE_LIMIT = 20


@dataclass(frozen=True, slots=True)
class Verdict:
    """True, false or unknown (None), with the evidence that decided it and an optional detail for messages."""

    value: bool | None
    evidence: tuple[Evidence, ...] = ()
    detail: str = ""


Builtin = Callable[["Facts", Mapping[str, Any]], Verdict]

COMBINATORS = ("all", "any", "not")
CODE_PRIMITIVES = ("import", "call", "decorator", "class")
PRIMITIVE_OPTIONS: dict[str, frozenset[str]] = {
    "file": frozenset({"tracked", "kind", "min_size", "roles"}),
    "import": frozenset({"in", "roles"}),
    "call": frozenset({"in", "roles", "keyword", "literal"}),
    "decorator": frozenset({"in", "roles"}),
    "class": frozenset({"in", "roles"}),
    "tool": frozenset({"strength"}),
    "stack": frozenset({"strength"}),
    "fact": frozenset({"where", "count", "equals", "min", "max"}),
    "builtin": frozenset({"params"}),
    "true": frozenset(),
    "false": frozenset(),
}
ROLE_CHOICES = ("exclude", "any", "test", "example")


def condition_errors(condition: Any, builtins: Mapping[str, Builtin], where: str = "check") -> list[str]:
    """Every problem in a condition's shape, as messages naming where it is (empty when valid)."""
    if not isinstance(condition, Mapping) or not condition:
        return [f"{where}: a condition must be a non-empty mapping, got {condition!r}"]
    keys = set(condition)
    combinator = keys & set(COMBINATORS)
    if combinator:
        if len(keys) != 1:
            return [f"{where}: `{'`, `'.join(sorted(keys))}` cannot be combined; use one key per condition"]
        name = combinator.pop()
        inner = condition[name]
        if name == "not":
            return condition_errors(inner, builtins, f"{where}.not")
        if not isinstance(inner, list) or not inner:
            return [f"{where}.{name}: expects a non-empty list of conditions"]
        return [e for i, part in enumerate(inner) for e in condition_errors(part, builtins, f"{where}.{name}[{i}]")]
    primitives = keys & set(PRIMITIVE_OPTIONS)
    if len(primitives) != 1:
        known = ", ".join([*COMBINATORS, *PRIMITIVE_OPTIONS])
        return [f"{where}: expected exactly one of {known}; got {', '.join(sorted(map(str, keys)))}"]
    primitive = primitives.pop()
    errors = [
        f"{where}: unknown option `{option}` for `{primitive}`"
        for option in sorted(map(str, keys - {primitive} - PRIMITIVE_OPTIONS[primitive]))
    ]
    value = condition[primitive]
    if primitive == "builtin" and value not in builtins:
        errors.append(f"{where}: unknown built-in check `{value}`")
    if primitive == "fact" and not (isinstance(value, str) and re.fullmatch(r"[a-z_]+(\.[a-z_]+)*", value)):
        errors.append(f"{where}: `fact` expects a dotted path such as `ci.workflows.jobs`, got {value!r}")
    if primitive not in ("builtin", "fact", "true", "false") and not _is_names(value):
        errors.append(f"{where}: `{primitive}` expects a string or a list of strings, got {value!r}")
    if condition.get("roles", "exclude") not in ROLE_CHOICES:
        errors.append(f"{where}: `roles` must be one of {', '.join(ROLE_CHOICES)}")
    return errors


def _is_names(value: Any) -> bool:
    return isinstance(value, str) or (
        isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)
    )


class Evaluator:
    """Evaluates conditions over one repository's facts; code references are indexed by name once, on first use."""

    def __init__(self, facts: Facts, builtins: Mapping[str, Builtin]) -> None:
        self.facts = facts
        self.builtins = builtins
        self._indexes: dict[str, dict[str, list[tuple[CodeUnit, list[_Ref]]]]] = {}
        self._by_top: dict[str, dict[str, list[str]]] = {}  # per kind: the indexed names by first dotted segment
        self._by_last: dict[str, dict[str, list[str]]] = {}  # and by last dotted segment
        self._order: dict[str, dict[str, int]] = {}  # per kind: each indexed name's position
        self._with_keyword: dict[str, set[str]] | None = None

    def __call__(self, condition: Mapping[str, Any]) -> Verdict:
        """The verdict of a (validated) condition."""
        if "all" in condition:
            return _all([self(c) for c in condition["all"]])
        if "any" in condition:
            return _any([self(c) for c in condition["any"]])
        if "not" in condition:
            inner = self(condition["not"])
            return Verdict(None if inner.value is None else not inner.value, inner.evidence, inner.detail)
        if "builtin" in condition:
            return self.builtins[condition["builtin"]](self.facts, condition.get("params") or {})
        if "true" in condition or "false" in condition:
            return Verdict("true" in condition)
        if "file" in condition:
            return _file(condition, self.facts)
        if "tool" in condition or "stack" in condition:
            return _stack(condition, self.facts)
        if "fact" in condition:
            return _fact(condition, self.facts)
        return self._code(condition)

    def _code(self, condition: Mapping[str, Any]) -> Verdict:
        primitive = next(k for k in CODE_PRIMITIVES if k in condition)
        kinds = _names(condition.get("in", ["python", "notebook"]))
        roles = condition.get("roles", "exclude")
        index = self._index(primitive)
        patterns = tuple(_names(condition[primitive]))
        matcher = _name_matcher(primitive, patterns)
        keys = _name_keys(primitive, patterns)
        candidates: Iterable[str] = index
        if keys is not None:  # only the names the patterns can match, by their first or last segments, in order
            candidates = sorted(self._named(primitive, keys), key=self._order[primitive].__getitem__)
        keyword = condition.get("keyword")
        literal = {(k, str(v)) for k, v in (condition.get("literal") or {}).items()}
        passed = {keyword} if keyword else set()
        passed.update(k for k, _ in literal)
        if passed and primitive == "call":  # only the names of calls passing those keywords (`call: "*"` among them)
            with_keyword = self._calls_with_keyword()
            named = set.intersection(*(with_keyword.get(k, set()) for k in passed))
            candidates = [name for name in candidates if name in named]
        hits: list[tuple[CodeUnit, str, list[_Ref]]] = []  # the matching references of a name in a unit
        for name in filter(matcher, candidates):
            for unit, refs in index[name]:
                if unit.kind not in kinds or not _role_ok(unit.roles, roles):
                    continue
                if keyword or literal:
                    refs = [ref for ref in refs if not isinstance(ref, CallRef) or (
                        (not keyword or keyword in ref.keywords) and literal <= set(ref.literals))]
                if refs:
                    hits.append((unit, name, refs))
        names = [name for _, name, refs in hits[:5] for _ in refs[:5]][:5]
        return _found(_first_evidence(hits), ", ".join(dict.fromkeys(names)))

    def _named(self, primitive: str, keys: tuple[tuple[str, str], ...]) -> set[str]:
        """The indexed names each key of `_name_keys` can stand for."""
        by_top, by_last = self._by_top[primitive], self._by_last[primitive]
        names: set[str] = set()
        for where, text in keys:
            if where == "top":
                names.update(by_top.get(text, ()))
            elif where == "last":
                names.update(by_last.get(text, ()))
            else:
                names.update(name for last in by_last if last.endswith(text) for name in by_last[last])
        return names

    def _calls_with_keyword(self) -> dict[str, set[str]]:
        """The names of the calls passing each keyword argument; made once per audit."""
        if self._with_keyword is None:
            self._with_keyword = {}
            for unit in self.facts.code_units():
                for call in unit.code.calls:
                    for keyword in call.keywords:
                        self._with_keyword.setdefault(keyword, set()).add(call.name)
        return self._with_keyword

    def _index(self, primitive: str) -> dict[str, list[tuple[CodeUnit, list[_Ref]]]]:
        """Every code reference of one kind by name, then by unit; built once per audit."""
        if primitive not in self._indexes:
            index: dict[str, list[tuple[CodeUnit, list[_Ref]]]] = {}
            for unit in self.facts.code_units():
                by_name: dict[str, list[_Ref]] = {}
                for name, ref in _code_refs(primitive, unit):
                    by_name.setdefault(name, []).append(ref)
                for name, refs in by_name.items():
                    index.setdefault(name, []).append((unit, refs))
            self._indexes[primitive] = index
            self._order[primitive] = {name: position for position, name in enumerate(index)}
            by_top: dict[str, list[str]] = {}
            by_last: dict[str, list[str]] = {}
            for name in index:
                by_top.setdefault(name.split(".", 1)[0], []).append(name)
                by_last.setdefault(name.rpartition(".")[2], []).append(name)
            self._by_top[primitive], self._by_last[primitive] = by_top, by_last
        return self._indexes[primitive]


def compile_patterns(condition: Mapping[str, Any]) -> None:
    """Compile the name and path patterns of a (validated) condition now; they are kept per process, so the
    processes forked later inherit them compiled."""
    parts = [*condition.get("all", ()), *condition.get("any", ())]
    if "not" in condition:
        parts.append(condition["not"])
    for part in parts:
        compile_patterns(part)
    if "file" in condition:
        glob_matcher(tuple(_names(condition["file"])))
    primitive = next((key for key in CODE_PRIMITIVES if key in condition), None)
    if primitive is not None:
        _name_matcher(primitive, tuple(_names(condition[primitive])))


def evaluate(condition: Mapping[str, Any], facts: Facts, builtins: Mapping[str, Builtin]) -> Verdict:
    """The verdict of one condition; to evaluate many over the same facts, use one `Evaluator`."""
    return Evaluator(facts, builtins)(condition)


def _all(parts: list[Verdict]) -> Verdict:
    if any(p.value is False for p in parts):
        return _joined(False, [p for p in parts if p.value is False])
    if any(p.value is None for p in parts):
        return _joined(None, [p for p in parts if p.value is None])
    return _joined(True, parts)


def _any(parts: list[Verdict]) -> Verdict:
    if any(p.value for p in parts):
        return _joined(True, [p for p in parts if p.value])
    if any(p.value is None for p in parts):
        return _joined(None, [p for p in parts if p.value is None])
    return _joined(False, parts)


def _joined(value: bool | None, parts: list[Verdict]) -> Verdict:
    evidence = _limited(e for p in parts for e in p.evidence)
    detail = ", ".join(dict.fromkeys(p.detail for p in parts if p.detail))
    return Verdict(value, evidence, detail)


def _limited(evidence: Iterable[Evidence]) -> tuple[Evidence, ...]:
    return tuple(sorted(set(evidence), key=lambda e: e.sort_key))[:EVIDENCE_LIMIT]


def _names(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _found(evidence: list[Evidence], detail: str) -> Verdict:
    return Verdict(bool(evidence), _limited(evidence), detail if evidence else "")


def _file(condition: Mapping[str, Any], facts: Facts) -> Verdict:
    patterns = _names(condition["file"])
    kinds = _names(condition["kind"]) if "kind" in condition else None
    roles = condition.get("roles", "any")
    names = _file_names(tuple(patterns))
    if names is not None:  # only the files of those names, in path order
        by_name = facts.derive("files_by_name", _files_by_name)
        matcher = glob_matcher(tuple(patterns))
        files = sorted((file for name in names for file in by_name.get(name, ())), key=lambda file: file.path)
        files = [file for file in files if matcher(file.path)]
    else:
        paths, file_names = facts.derive("paths_and_names", _paths_and_names)
        files = [facts.files[index] for index in glob_indexes(tuple(patterns), paths, file_names)]
    hits = [
        f
        for f in files
        if (not condition.get("tracked") or f.tracked)
        and (kinds is None or f.kind in kinds)
        and f.size >= condition.get("min_size", 0)
        and _role_ok(f.roles, roles)
    ]
    # in path order already: the first are the evidence (a pattern such as `*.py` matches most files)
    return _found([Evidence(f.path) for f in hits[:EVIDENCE_LIMIT]], ", ".join(f.path for f in hits[:3]))


@functools.lru_cache(maxsize=1024)
def _file_names(patterns: tuple[str, ...]) -> frozenset[str] | None:
    """The file names every path the globs match ends with (each glob's last segment, when it holds no
    wildcard); None otherwise."""
    names = {pattern.rsplit("/", 1)[-1] for pattern in patterns}
    return None if any(not name or any(char in name for char in "*?[") for name in names) else frozenset(names)


def _paths_and_names(facts: Facts) -> tuple[list[str], list[str]]:
    paths = [file.path for file in facts.files]
    return paths, [path.rpartition("/")[2] for path in paths]


def _files_by_name(facts: Facts) -> dict[str, list[RepoFile]]:
    by_name: dict[str, list[RepoFile]] = {}
    for file in facts.files:
        by_name.setdefault(file.path.rsplit("/", 1)[-1], []).append(file)
    return by_name


def _role_ok(roles: tuple[str, ...], wanted: str) -> bool:
    if wanted == "any":
        return True
    if wanted == "exclude":
        return not roles
    return wanted in roles


_Ref = ImportRef | CallRef | DecoratorRef | tuple[ClassRef, str]


def _first_evidence(hits: list[tuple[CodeUnit, str, list[_Ref]]]) -> list[Evidence]:
    """The evidence of the matches that can be among the first EVIDENCE_LIMIT once sorted: made in position order
    until that many distinct ones are made and their last position is complete. Each file gives one at least, so
    only the first EVIDENCE_LIMIT files (by path) are looked into."""
    shown = set(sorted({unit.path for unit, _, _ in hits})[:EVIDENCE_LIMIT])
    found: list[tuple[str, int, int, int]] = []  # where each match is, cheap to sort: (path, cell, line, index)
    matched: list[tuple[CodeUnit, str, _Ref]] = []
    for unit, name, refs in hits:
        if unit.path in shown:
            for ref in refs:
                position = ref[0] if isinstance(ref, tuple) else ref
                found.append((unit.path, position.cell or 0, position.line, len(matched)))
                matched.append((unit, name, ref))
    evidence: set[Evidence] = set()
    last: tuple[str, int, int] | None = None
    for path, cell, line, index in sorted(found):
        if len(evidence) >= EVIDENCE_LIMIT and (path, cell, line) != last:
            break
        unit, name, ref = matched[index]
        evidence.add(_code_evidence(unit.path, name, ref))
        last = (path, cell, line)
    return list(evidence)


def _code_refs(primitive: str, unit: CodeUnit) -> Iterator[tuple[str, _Ref]]:
    code = unit.code
    if primitive == "import":
        yield from ((ref.module, ref) for ref in code.imports)
    elif primitive == "call":
        yield from ((call.name, call) for call in code.calls)
    elif primitive == "decorator":
        yield from ((deco.name, deco) for deco in code.decorators)
    else:
        yield from ((base, (cls, base)) for cls in code.classes for base in cls.bases)


def _code_evidence(path: str, name: str, ref: _Ref) -> Evidence:
    if isinstance(ref, ImportRef):
        return Evidence(path, ref.line, ref.cell, clip(f"import {name}"))
    if isinstance(ref, CallRef):
        return Evidence(path, ref.line, ref.cell, clip(ref.snippet or name))
    if isinstance(ref, DecoratorRef):
        return Evidence(path, ref.line, ref.cell, clip(f"@{name} {ref.target}"))
    cls, base = ref
    return Evidence(path, cls.line, cls.cell, clip(f"class {cls.name}({base})"))


@functools.lru_cache(maxsize=4096)
def _name_keys(primitive: str, patterns: tuple[str, ...]) -> tuple[tuple[str, str], ...] | None:
    """Where to find, in an index of names, every name the patterns can match: ("top", first dotted segment) for a
    pattern whose first segment is plain (an import's top module); else, for a glob ending in plain text, ("last",
    last segment) when that text holds a dot (`*.log_metric`), ("suffix", text) when it does not (`*Estimator`,
    which only a last segment ending so can match). None when a pattern can match names of any ending."""
    keys = []
    for pattern in patterns:
        top = pattern.split(".", 1)[0]
        if not any(char in top for char in "*?["):
            keys.append(("top", top))
            continue
        if primitive == "import" or "[" in pattern:
            return None
        tail = pattern[max(pattern.rfind("*"), pattern.rfind("?")) + 1:]
        if "." in tail:
            last = tail.rpartition(".")[2]
            if not last:
                return None
            keys.append(("last", last))
        elif tail:
            keys.append(("suffix", tail))
        else:
            return None
    return tuple(keys)


@functools.lru_cache(maxsize=4096)
def _name_matcher(primitive: str, patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """Imports match a module or its submodules; calls, decorators and bases match globs."""
    if primitive == "import":
        expression = "(?:" + "|".join(map(re.escape, patterns)) + r")(?:\.|\Z)"
    else:
        expression = "|".join(fnmatch.translate(p) for p in patterns)
    return re.compile(expression).match  # type: ignore[return-value]


def _stack(condition: Mapping[str, Any], facts: Facts) -> Verdict:
    strengths = ("used", "declared") if condition.get("strength") == "declared" else ("used",)
    if "tool" in condition:
        wanted = set(_names(condition["tool"]))
        tools = [t for t in facts.stack.tools if t.name in wanted and t.strength in strengths]
    else:
        wanted = set(_names(condition["stack"]))
        tools = [t for t in facts.stack.tools if wanted & set(t.categories) and t.strength in strengths]
    evidence = [e for t in tools for e in t.evidence]
    return Verdict(bool(tools), _limited(evidence), ", ".join(t.name for t in tools))


_MISSING = object()


def _fact(condition: Mapping[str, Any], facts: Facts) -> Verdict:
    path = condition["fact"]
    items, unknown = _walk(facts, path.split("."), path)
    if "where" in condition:
        items = [(value, anchor) for value, anchor in items if _where(value, condition["where"], path)]
        enough = len(items) >= condition.get("count", 1)
    else:
        items = [(value, anchor) for value, anchor in items if _passes(value, condition)]
        enough = bool(items)
    if not enough and unknown:
        return Verdict(None, detail=f"{path} is unknown")
    evidence = [e for value, anchor in items if (e := _evidence(value, anchor)) is not None]
    details = [d for value, _ in items if (d := _detail(value))]
    return Verdict(enough, _limited(evidence), ", ".join(dict.fromkeys(details[:5])))


def _walk(root: Any, parts: list[str], path: str) -> tuple[list[tuple[Any, Any]], bool]:
    """All values at `parts` below `root`, lists flattened, each with its nearest ancestor that has a path."""
    values: list[tuple[Any, Any]] = [(root, None)]
    unknown = False
    for part in parts:
        found: list[tuple[Any, Any]] = []
        for value, anchor in values:
            anchor = value if _has_path(value) else anchor
            child = getattr(value, part, _MISSING)
            if child is _MISSING:
                raise ValueError(f"fact path `{path}`: {type(value).__name__} has no field `{part}`")
            if child is None:
                unknown = True
            elif isinstance(child, (list, tuple)):
                found.extend((item, anchor) for item in child)
            else:
                found.append((child, anchor))
        values = found
    return values, unknown


def _has_path(value: Any) -> bool:
    return isinstance(getattr(value, "path", None), str)


def _passes(value: Any, condition: Mapping[str, Any]) -> bool:
    if "equals" in condition:
        return value == condition["equals"]
    if "min" in condition or "max" in condition:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return False
        return condition.get("min", value) <= value <= condition.get("max", value)
    return bool(value)


def _where(item: Any, where: Mapping[str, Any], path: str) -> bool:
    for field, expected in where.items():
        actual = getattr(item, field, _MISSING)
        if actual is _MISSING:
            raise ValueError(f"fact path `{path}`: {type(item).__name__} has no field `{field}`")
        if not _field_matches(actual, expected):
            return False
    return True


def _field_matches(actual: Any, expected: Any) -> bool:
    if isinstance(expected, Mapping):
        if "not" in expected:
            return not _field_matches(actual, expected["not"])
        if "matches" in expected:
            values = actual if isinstance(actual, (list, tuple)) else [actual]
            return any(isinstance(v, str) and re.search(expected["matches"], v, re.I) for v in values)
        if not isinstance(actual, (int, float)) or isinstance(actual, bool):
            return False
        return expected.get("min", actual) <= actual <= expected.get("max", actual)
    options = expected if isinstance(expected, list) else [expected]
    if isinstance(actual, (list, tuple)):
        return any(option in actual for option in options)
    return actual in options


def _evidence(value: Any, anchor: Any) -> Evidence | None:
    if isinstance(value, Evidence):
        return value
    owner = value if _has_path(value) else anchor
    if owner is None:
        return Evidence(value) if isinstance(value, str) else None
    line = getattr(value, "line", None) or getattr(owner, "line", None)
    cell = getattr(value, "cell", None)
    snippet = _detail(value)
    return Evidence(owner.path, line if isinstance(line, int) else None, cell, clip(snippet) if snippet else None)


def _detail(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Evidence):
        return value.snippet or value.path
    if dataclasses.is_dataclass(value):
        for field in ("snippet", "text", "name", "image", "path"):
            text = getattr(value, field, None)
            if isinstance(text, str) and text:
                return text
    return ""
