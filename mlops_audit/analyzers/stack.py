"""Recognise the ML tools a repository uses, from signatures kept as data in `signatures.yaml`.

A tool is "used" when it is imported and called (or configured by its own files, or run by CI); "declared"
when it only appears in a dependency manifest, or is imported but never called. Evidence found only under
example or documentation folders counts as "declared": a tutorial is not the project's stack. When the
project's entrypoints are known (see `reachability`), code that no entrypoint reaches counts as "declared" too,
but only in tests (for tools that are not testing or data-validation tools) and in folders that look
non-production (`notebooks/`, `scratch/`, `experiments/`, `legacy/`, ...): an unreached library module is most
often run by an entrypoint this cannot see.
Categories: ml_framework, orchestrator, tracker, registry, data_versioning, data_validation, feature_store,
serving, monitoring, hpo, testing, explainability, fairness, secret_scanning, iac, rollout.

Each entry of `signatures.yaml` names a tool, its categories and its signals; `facets` are further signal sets
that add categories only when they match (MLflow is a tracker, and a registry only when models are registered).
Signals:
- `imports`: module prefixes. Import plus any call, decorator or base class under that prefix is "used";
  import alone is "declared".
- `calls`, `decorators`, `bases`: globs over resolved dotted names (`mlflow.register_model`, `prefect.flow`,
  `metaflow.FlowSpec`). A glob starting with `*` (`*.link_model`) matches a method on any object, and counts
  only in a source that imports one of the signal set's `within` modules (default: its `imports`).
- `keywords`: `<call glob>(<keyword>)`, a call passing that keyword (`*(model_package_group_name)`).
- `files`: path globs; `file_contents`: path globs plus regexes that must all match inside. Only configuration
  kinds (YAML, JSON, TOML, CI, DVC, manifests, other) of at most 1 MB are read.
- `packages`: distribution names in manifests ("declared").
- `commands`: regexes over CI commands, Makefile/tox targets, Dockerfile entrypoints and shell scripts.
- `uses`: CI action, orb or template globs; `hooks`: pre-commit hook id globs; `images`: Docker base image globs.
`weak: true` marks tools that are thin evidence for their category (demo UIs, local-only TensorBoard logs); the
detected ones are listed in `StackFacts.weak`.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Callable, Generic, Iterator, TypeVar

import yaml

from mlops_audit.analyzers.ci import CIFacts
from mlops_audit.analyzers.code import CallRef, ClassRef, CodeFacts, DecoratorRef, ImportRef
from mlops_audit.analyzers.environment import EnvironmentFacts
from mlops_audit.analyzers.notebooks import NotebookFacts
from mlops_audit.analyzers.python_code import PythonFacts
from mlops_audit.analyzers.reachability import Reachability
from mlops_audit.inventory import Inventory, matches, roles_of
from mlops_audit.model import DetectedTool, Evidence, clip
from mlops_audit.safe_yaml import SAFE_LOADER

CATEGORIES = (
    "ml_framework", "orchestrator", "tracker", "registry", "data_versioning", "data_validation", "feature_store",
    "serving", "monitoring", "hpo", "testing", "explainability", "fairness", "secret_scanning", "iac", "rollout",
)
SIGNAL_KEYS = frozenset(
    {"imports", "within", "calls", "decorators", "bases", "keywords", "files", "file_contents", "packages",
     "commands", "uses", "hooks", "images"}
)
TOOL_KEYS = SIGNAL_KEYS | {"name", "title", "categories", "weak", "facets"}
FACET_KEYS = SIGNAL_KEYS | {"categories"}
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")
KEYWORD_PATTERN = re.compile(r"([^()\s]+)\((\w+)\)")
WILDCARDS = frozenset("*?[")

MAX_EVIDENCE = 5
MAX_MATCHED_NAMES = 500_000
MAX_CONTENT_BYTES = 1024 * 1024
CONTENT_KINDS = frozenset({"yaml", "json", "toml", "ci", "dvc", "manifest", "other"})
SCRIPT_SUFFIXES = (".sh", ".bash")
CONTENT_MATCHES = "content matches"  # an inventory's shared table: (path in the repository, signature) -> match
NON_PRODUCTION_DIRS = frozenset(
    {"notebooks", "notebook", "nbs", "scratch", "sandbox", "experiments", "experiment", "legacy", "old",
     "archive", "archived", "playground"}
)
TESTED_IN_TESTS = frozenset({"testing", "data_validation"})  # categories whose natural home is the test suite


@dataclass(frozen=True, slots=True)
class StackFacts:
    tools: tuple[DetectedTool, ...] = ()
    weak: tuple[str, ...] = ()  # detected tools that are weak evidence for their category (demo UIs, TensorBoard)

    def in_category(self, category: str, strength: str = "used") -> tuple[DetectedTool, ...]:
        wanted = ("used",) if strength == "used" else ("used", "declared")
        return tuple(t for t in self.tools if category in t.categories and t.strength in wanted)


# --- signatures ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContentSignature:
    globs: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]  # all must match; evidence points at the first
    # for each pattern anchored at a line start, the plain text its matches start with ("" for others): matches
    # are tried only where that text starts a line, as a search for `^kind:` is ten times slower than a find
    line_starts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Signature:
    """One set of signals and the categories they prove."""

    categories: tuple[str, ...]
    imports: tuple[str, ...] = ()
    within: tuple[str, ...] = ()
    calls: tuple[str, ...] = ()
    decorators: tuple[str, ...] = ()
    bases: tuple[str, ...] = ()
    keywords: tuple[tuple[str, str], ...] = ()  # (call glob, keyword)
    files: tuple[str, ...] = ()
    file_contents: tuple[ContentSignature, ...] = ()
    packages: tuple[str, ...] = ()
    commands: tuple[re.Pattern[str], ...] = ()
    uses: tuple[str, ...] = ()
    hooks: tuple[str, ...] = ()
    images: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ToolSignature:
    name: str
    title: str
    weak: bool
    signatures: tuple[Signature, ...]  # the tool's own signals first, then its facets


@functools.lru_cache(maxsize=1)
def load_signatures() -> tuple[ToolSignature, ...]:
    """The signatures shipped with the package, validated; read once per process."""
    text = resources.files("mlops_audit.analyzers").joinpath("signatures.yaml").read_text(encoding="utf-8")
    return parse_signatures(yaml.load(text, Loader=SAFE_LOADER))


def parse_signatures(data: object) -> tuple[ToolSignature, ...]:
    """Validate loaded YAML; any problem is a ValueError naming the tool."""
    if not isinstance(data, list):
        raise ValueError("signatures: expected a list of tools")
    tools = tuple(_parse_tool(entry, position) for position, entry in enumerate(data, 1))
    names = [tool.name for tool in tools]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"signatures: duplicate tool names {duplicates}")
    return tools


def _parse_tool(entry: object, position: int) -> ToolSignature:
    if not isinstance(entry, dict):
        raise ValueError(f"signatures: entry {position} is not a mapping")
    name = entry.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"signatures: entry {position}: `name` must be a lowercase id, got {name!r}")
    where = f"signatures: tool {name!r}"
    _check_keys(entry, TOOL_KEYS, where)
    title = entry.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ValueError(f"{where}: `title` must be a non-empty string")
    weak = entry.get("weak", False)
    if not isinstance(weak, bool):
        raise ValueError(f"{where}: `weak` must be true or false")
    own = _parse_signature(entry, where, ())
    facets = entry.get("facets", [])
    if not isinstance(facets, list):
        raise ValueError(f"{where}: `facets` must be a list")
    parsed = [own]
    for number, facet in enumerate(facets, 1):
        facet_where = f"{where} facet {number}"
        if not isinstance(facet, dict):
            raise ValueError(f"{facet_where}: not a mapping")
        _check_keys(facet, FACET_KEYS, facet_where)
        parsed.append(_parse_signature(facet, facet_where, own.within))
    return ToolSignature(name, title.strip(), weak, tuple(parsed))


def _check_keys(raw: dict[Any, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(str(key) for key in raw if key not in allowed)
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown}")


def _parse_signature(raw: dict[str, Any], where: str, inherited_within: tuple[str, ...]) -> Signature:
    categories = _strings(raw, "categories", where)
    if not categories:
        raise ValueError(f"{where}: `categories` must list at least one category")
    unknown = [category for category in categories if category not in CATEGORIES]
    if unknown:
        raise ValueError(f"{where}: unknown categories {unknown}")
    imports = _strings(raw, "imports", where)
    signature = Signature(
        categories=categories,
        imports=imports,
        within=_strings(raw, "within", where) or imports or inherited_within,
        calls=_strings(raw, "calls", where),
        decorators=_strings(raw, "decorators", where),
        bases=_strings(raw, "bases", where),
        keywords=tuple(_parse_keyword(text, where) for text in _strings(raw, "keywords", where)),
        files=_strings(raw, "files", where),
        file_contents=tuple(_parse_content(item, where) for item in _list(raw, "file_contents", where)),
        packages=tuple(normalise_package(name) for name in _strings(raw, "packages", where)),
        commands=tuple(_compile(text, where) for text in _strings(raw, "commands", where)),
        uses=tuple(text.lower() for text in _strings(raw, "uses", where)),
        hooks=tuple(text.lower() for text in _strings(raw, "hooks", where)),
        images=tuple(text.lower() for text in _strings(raw, "images", where)),
    )
    if not any(getattr(signature, key) for key in SIGNAL_KEYS - {"within"}):
        raise ValueError(f"{where}: no signals (imports, calls, files, packages, commands, ...)")
    globs = [*signature.calls, *signature.decorators, *signature.bases, *(glob for glob, _ in signature.keywords)]
    if any(_wild_top(glob) for glob in globs) and not signature.within:
        raise ValueError(f"{where}: a glob starting with a wildcard needs `within` (or `imports`) modules")
    return signature


def _list(raw: dict[str, Any], key: str, where: str) -> list[Any]:
    value = raw.get(key, [])
    if not isinstance(value, list):
        raise ValueError(f"{where}: `{key}` must be a list")
    return value


def _strings(raw: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    values = _list(raw, key, where)
    if not all(isinstance(value, str) and value for value in values):
        raise ValueError(f"{where}: `{key}` must be a list of non-empty strings")
    return tuple(values)


def _parse_keyword(text: str, where: str) -> tuple[str, str]:
    found = KEYWORD_PATTERN.fullmatch(text)
    if found is None:
        raise ValueError(f"{where}: keyword signal {text!r} is not `<call glob>(<keyword>)`")
    return found.group(1), found.group(2)


def _parse_content(item: object, where: str) -> ContentSignature:
    if not isinstance(item, dict) or set(item) != {"glob", "regex"}:
        raise ValueError(f"{where}: each `file_contents` item needs exactly `glob` and `regex`")
    globs = (item["glob"],) if isinstance(item["glob"], str) else item["glob"]
    regexes = (item["regex"],) if isinstance(item["regex"], str) else item["regex"]
    if not isinstance(globs, (list, tuple)) or not globs or not all(isinstance(g, str) and g for g in globs):
        raise ValueError(f"{where}: `file_contents` glob must be a string or a list of strings")
    if not isinstance(regexes, (list, tuple)) or not regexes or not all(isinstance(r, str) for r in regexes):
        raise ValueError(f"{where}: `file_contents` regex must be a string or a list of strings")
    patterns = tuple(_compile(text, where, re.MULTILINE) for text in regexes)
    return ContentSignature(tuple(globs), patterns, tuple(map(line_start_text, regexes)))


def line_start_text(regex: str) -> str:
    """The plain text that follows the `^` of a line-anchored regex, which every match starts with
    (`^kind:\\s*Workflow` gives "kind:"); "" for a regex that is not anchored so, or that has an alternative at its
    top level."""
    if not regex.startswith("^") or _top_level_alternative(regex):
        return ""
    text: list[str] = []
    index = 1
    while index < len(regex):
        char = regex[index]
        if char == "\\":
            escaped = regex[index + 1:index + 2]
            if not escaped or escaped.isalnum():  # a class (`\\s`), an anchor or a reference: no longer plain
                break
            char, index = escaped, index + 1
        elif char in ".^$*+?{}[]()|":
            break
        following = regex[index + 1:index + 2]
        if following in ("?", "*", "{"):  # this character may be absent, or repeated a counted number of times
            break
        text.append(char)
        if following == "+":
            break
        index += 1
    return "".join(text)


def _top_level_alternative(regex: str) -> bool:
    depth, index, in_class = 0, 0, False
    while index < len(regex):
        char = regex[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
        index += 1
    return False


def _compile(text: str, where: str, flags: int = 0) -> re.Pattern[str]:
    try:
        return re.compile(text, flags)
    except re.error as error:
        raise ValueError(f"{where}: bad regex {text!r}: {error}") from None


def normalise_package(name: str) -> str:
    """PEP 503 normal form of a distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _wild_top(glob: str) -> bool:
    return any(char in WILDCARDS for char in _top(glob))


def _top(name: str) -> str:
    return name.split(".", 1)[0]


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


# --- indexes ------------------------------------------------------------------------------------------------

V = TypeVar("V")


@dataclass(slots=True)
class _NameIndex(Generic[V]):
    """Globs over dotted names, keyed by their first component; globs that start with a wildcard apart."""

    exact: dict[str, list[tuple[str, V]]] = field(default_factory=dict)
    wild: list[tuple[str, int, V]] = field(default_factory=list)  # (glob, group id, value)
    any_wild: re.Pattern[str] | None = None  # every wild glob at once, made on first use

    def add(self, glob: str, gid: int, value: V) -> None:
        if _wild_top(glob):
            self.wild.append((glob, gid, value))
            self.any_wild = None
        else:
            self.exact.setdefault(_top(glob), []).append((glob, value))

    def wild_matches(self, name: str) -> list[tuple[str, int, V]]:
        """The wild globs `name` matches: most names match none, which one combined pattern tells at once."""
        if self.any_wild is None:
            self.any_wild = re.compile("|".join(fnmatch.translate(glob) for glob, _, _ in self.wild) or "(?!)")
        if not self.any_wild.match(name):
            return []
        return [entry for entry in self.wild if fnmatch.fnmatchcase(name, entry[0])]


@dataclass(slots=True)
class _PathIndex(Generic[V]):
    """Path globs split by exact file name, last extension, and the rest (matched one by one)."""

    names: dict[str, list[V]] = field(default_factory=dict)
    suffixes: dict[str, list[tuple[str, V]]] = field(default_factory=dict)
    rest: list[tuple[str, V]] = field(default_factory=list)

    def add(self, glob: str, value: V) -> None:
        if "/" not in glob and not any(char in WILDCARDS for char in glob):
            self.names.setdefault(glob, []).append(value)
        elif "/" not in glob and glob.startswith("*.") and not any(char in WILDCARDS for char in glob[2:]):
            self.suffixes.setdefault(glob.rsplit(".", 1)[1], []).append((glob, value))
        else:
            self.rest.append((glob, value))

    def lookup(self, path: str) -> Iterator[V]:
        name = path.rsplit("/", 1)[-1]
        yield from self.names.get(name, ())
        if "." in name:
            for glob, value in self.suffixes.get(name.rsplit(".", 1)[1], ()):
                if fnmatch.fnmatchcase(name, glob):
                    yield value
        for glob, value in self.rest:
            if matches(path, (glob,)):
                yield value


@dataclass(slots=True)
class _Index:
    """Every signal of every tool, keyed for lookups; a group id is a position in `owners`."""

    owners: list[int] = field(default_factory=list)  # group id -> tool position
    imports: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # top -> (prefix, gid)
    within: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    names: dict[str, _NameIndex[int]] = field(default_factory=dict)  # "calls"/"decorators"/"bases"
    keywords: _NameIndex[tuple[int, str]] = field(default_factory=_NameIndex)
    files: _PathIndex[int] = field(default_factory=_PathIndex)
    contents: _PathIndex[tuple[ContentSignature, int]] = field(default_factory=_PathIndex)
    packages: dict[str, list[int]] = field(default_factory=dict)
    commands: list[tuple[re.Pattern[str], int]] = field(default_factory=list)
    uses: list[tuple[str, int]] = field(default_factory=list)
    hooks: list[tuple[str, int]] = field(default_factory=list)
    images: list[tuple[str, int]] = field(default_factory=list)

    @classmethod
    def build(cls, tools: tuple[ToolSignature, ...]) -> _Index:
        index = cls(names={"calls": _NameIndex(), "decorators": _NameIndex(), "bases": _NameIndex()})
        for position, tool in enumerate(tools):
            for signature in tool.signatures:
                index._add(len(index.owners), signature)
                index.owners.append(position)
        return index

    def _add(self, gid: int, signature: Signature) -> None:
        for prefix in signature.imports:
            self.imports.setdefault(_top(prefix), []).append((prefix, gid))
        for prefix in signature.within:
            self.within.setdefault(_top(prefix), []).append((prefix, gid))
        for kind in ("calls", "decorators", "bases"):
            for glob in getattr(signature, kind):
                self.names[kind].add(glob, gid, gid)
        for glob, keyword in signature.keywords:
            self.keywords.add(glob, gid, (gid, keyword))
        for glob in signature.files:
            self.files.add(glob, gid)
        for content in signature.file_contents:
            for glob in content.globs:
                self.contents.add(glob, (content, gid))
        for package in signature.packages:
            self.packages.setdefault(package, []).append(gid)
        self.commands.extend((pattern, gid) for pattern in signature.commands)
        self.uses.extend((glob, gid) for glob in signature.uses)
        self.hooks.extend((glob, gid) for glob in signature.hooks)
        self.images.extend((glob, gid) for glob in signature.images)


@dataclass(slots=True)
class _Found:
    """Evidence per signal group; `used` is False for declared-only evidence."""

    items: dict[int, list[tuple[bool, Evidence]]] = field(default_factory=dict)
    side_code: frozenset[str] = frozenset()  # unreached code in non-production folders: never proves use
    side_tests: frozenset[str] = frozenset()  # unreached tests: prove use only for `test_groups`
    test_groups: frozenset[int] = frozenset()

    def add(self, gid: int, evidence: Evidence, used: bool) -> None:
        used = used and "example" not in roles_of(evidence.path) and not self._aside(gid, evidence.path)
        self.items.setdefault(gid, []).append((used, evidence))

    def _aside(self, gid: int, path: str) -> bool:
        return path in self.side_code or (path in self.side_tests and gid not in self.test_groups)


# --- detection ----------------------------------------------------------------------------------------------


def detect_stack(
    inventory: Inventory,
    python: PythonFacts,
    notebooks: NotebookFacts,
    environment: EnvironmentFacts,
    ci: CIFacts,
    reachability: Reachability = Reachability(),
    signals: Callable[[CodeFacts], CodeSignals] | None = None,
) -> StackFacts:
    """The tools the repository uses or declares. `signals` gives a source's `code_signals`, when the caller
    keeps them (a monorepo's projects share their sources with the whole)."""
    tools = load_signatures()
    index = _index()
    signals = signals or code_signals
    found = _aside_found(tools, python, notebooks, reachability)
    for file in python.files:
        _add_code_signals(file.path, signals(file.code), found)
    for notebook in notebooks.notebooks:
        _add_code_signals(notebook.path, signals(notebook.code), found)
    _scan_files(index, inventory, found)
    _scan_ci(index, ci, found)
    _scan_environment(index, environment, found)
    detected = _summarise(tools, index, found)
    names = {tool.name for tool in detected}
    weak = sorted(tool.name for tool in tools if tool.weak and tool.name in names)
    return StackFacts(tools=detected, weak=tuple(weak))


def _aside_found(
    tools: tuple[ToolSignature, ...], python: PythonFacts, notebooks: NotebookFacts, reachability: Reachability
) -> _Found:
    """An empty `_Found` knowing which sources lie aside from what the project runs (none when unknown)."""
    if not reachability.known:
        return _Found()
    unreached = [path for path in (*(f.path for f in python.files), *(n.path for n in notebooks.notebooks))
                 if path not in reachability.files]
    signatures = [signature for tool in tools for signature in tool.signatures]
    return _Found(
        side_code=frozenset(path for path in unreached if _non_production(path)),
        side_tests=frozenset(path for path in unreached if "test" in roles_of(path)),
        test_groups=frozenset(gid for gid, signature in enumerate(signatures)
                              if TESTED_IN_TESTS & set(signature.categories)),
    )


def _non_production(path: str) -> bool:
    return any(part.lower() in NON_PRODUCTION_DIRS for part in path.split("/")[:-1])


@dataclass(frozen=True, slots=True)
class _NameMatch:
    """The signal groups a resolved name can prove, before a source's imports are taken into account."""

    namespace: tuple[int, ...] = ()  # under an import prefix: needs that import
    exact: tuple[int, ...] = ()  # a glob matches: needs the name's top module imported
    wild: tuple[int, ...] = ()  # a `*` glob matches: needs a `within` import
    keywords: tuple[tuple[int, str], ...] = ()  # (group, keyword) for call globs that match
    wild_keywords: tuple[tuple[int, str], ...] = ()


NO_MATCH = _NameMatch()


@dataclass(slots=True)
class _Matcher:
    """Glob matching per distinct (kind, name), cached (up to MAX_MATCHED_NAMES): the same names recur across a
    repository."""

    index: _Index
    cache: dict[tuple[str, str], _NameMatch] = field(default_factory=dict)

    def match(self, kind: str, name: str) -> _NameMatch:
        key = (kind, name)
        if key not in self.cache:
            if len(self.cache) >= MAX_MATCHED_NAMES:  # the process audits on and on: start afresh
                self.cache.clear()
            self.cache[key] = self._match(kind, name)
        return self.cache[key]

    def _match(self, kind: str, name: str) -> _NameMatch:
        top, index = _top(name), self.index
        names, keywords = index.names[kind], index.keywords
        parts = (
            tuple(gid for prefix, gid in index.imports.get(top, ()) if _under(name, prefix)),
            tuple(gid for glob, gid in names.exact.get(top, ()) if fnmatch.fnmatchcase(name, glob)),
            tuple(gid for _, gid, _ in names.wild_matches(name)),
            tuple(v for glob, v in keywords.exact.get(top, ()) if fnmatch.fnmatchcase(name, glob))
            if kind == "calls" else (),
            tuple(v for _, _, v in keywords.wild_matches(name)) if kind == "calls" else (),
        )
        return _NameMatch(*parts) if any(parts) else NO_MATCH


Ref = CallRef | DecoratorRef | ClassRef
# The signal groups a source proves by use, each with its first reference, then those it only imports.
CodeSignals = tuple[tuple[tuple[int, Ref], ...], tuple[tuple[int, ImportRef], ...]]


@functools.lru_cache(maxsize=1)
def _index() -> _Index:
    return _Index.build(load_signatures())


@functools.lru_cache(maxsize=1)
def _matcher() -> _Matcher:
    """The process's name matcher: its cache of matched names serves every source and every audit."""
    return _Matcher(_index())


def code_signals(code: CodeFacts) -> CodeSignals:
    """What one source proves, from its facts alone: one pass over its imports, then its calls, decorators and
    class bases."""
    matcher = _matcher()
    index = matcher.index
    tops = {_top(ref.module) for ref in code.imports}
    imported: dict[int, ImportRef] = {}
    within: set[int] = set()
    for ref in code.imports:
        for prefix, gid in index.imports.get(_top(ref.module), ()):
            if _under(ref.module, prefix) and gid not in imported:
                imported[gid] = ref
        within.update(gid for prefix, gid in index.within.get(_top(ref.module), ()) if _under(ref.module, prefix))
    hits: dict[int, tuple[tuple[int, int], Ref]] = {}
    for kind, name, keywords, ref in _named_refs(code):
        match = matcher.match(kind, name)
        if match is NO_MATCH or not (within or match.namespace or match.exact or match.keywords):
            continue  # nothing, or only wild globs, which count in a source importing a `within` module
        gids = _proven(match, _top(name) in tops, imported, within, keywords)
        position = (ref.cell or 0, ref.line)
        for gid in gids:
            if gid not in hits or position < hits[gid][0]:
                hits[gid] = (position, ref)
    used = tuple((gid, ref) for gid, (_, ref) in hits.items())
    return used, tuple((gid, ref) for gid, ref in imported.items() if gid not in hits)


def _add_code_signals(path: str, signals: CodeSignals, found: _Found) -> None:
    used, declared = signals
    for gid, ref in used:
        found.add(gid, _ref_evidence(path, ref), used=True)
    for gid, imported in declared:
        found.add(gid, Evidence(path, imported.line, imported.cell, clip(f"import {imported.module}")), used=False)


def _proven(
    match: _NameMatch, top_imported: bool, imported: dict[int, ImportRef], within: set[int], keywords: tuple[str, ...]
) -> list[int]:
    gids = [gid for gid in match.namespace if gid in imported] if match.namespace else []
    if top_imported:
        gids += match.exact
        if match.keywords:
            gids += [gid for gid, keyword in match.keywords if keyword in keywords]
    if match.wild:  # most matches have only these: each part is looked into only when it holds something
        gids += [gid for gid in match.wild if gid in within]
    if match.wild_keywords:
        gids += [gid for gid, keyword in match.wild_keywords if gid in within and keyword in keywords]
    return gids


def _named_refs(code: CodeFacts) -> Iterator[tuple[str, str, tuple[str, ...], Ref]]:
    """(kind, resolved name, keywords passed, reference) for each call, decorator and class base."""
    for call in code.calls:
        yield "calls", call.name, call.keywords, call
    for decorator in code.decorators:
        yield "decorators", decorator.name, (), decorator
    for cls in code.classes:
        for base in cls.bases:
            yield "bases", base, (), cls


def _ref_evidence(path: str, ref: Ref) -> Evidence:
    if isinstance(ref, CallRef):
        snippet = ref.snippet or ref.name
    elif isinstance(ref, DecoratorRef):
        snippet = f"@{ref.name}"
    else:
        snippet = f"class {ref.name}({', '.join(ref.bases)})"
    return Evidence(path, ref.line, ref.cell, clip(snippet))


def _scan_files(index: _Index, inventory: Inventory, found: _Found) -> None:
    for file in inventory.files:
        for gid in index.files.lookup(file.path):
            found.add(gid, Evidence(file.path), used=True)
        if file.size > MAX_CONTENT_BYTES:
            continue
        if file.kind in CONTENT_KINDS:
            _scan_contents(list(index.contents.lookup(file.path)), inventory, file.path, found)
        elif file.kind == "script" and file.path.endswith(SCRIPT_SUFFIXES) and index.commands:
            _scan_script(index, file.path, inventory.read_text(file.path), found)


def _scan_contents(
    contents: list[tuple[ContentSignature, int]], inventory: Inventory, path: str, found: _Found
) -> None:
    """Each content signature's evidence in the file, found once for the inventory and every view made from it."""
    if not contents:
        return
    known = inventory.shared(CONTENT_MATCHES)
    origin = inventory.origin(path)
    text = None
    for content, gid in contents:
        key = (origin, content)
        if key not in known:
            text = text if text is not None else inventory.read_text(path)
            if text is None:  # noted by the read, each time
                return
            known[key] = _content_match(content, text)
        match = known[key]
        if match is not None:
            found.add(gid, Evidence(path, match[0], snippet=match[1]), used=True)


def _content_match(content: ContentSignature, text: str) -> tuple[int, str] | None:
    """The line number and text of the first pattern's match when every pattern matches."""
    offset = -1
    for pattern, line_start in zip(content.patterns, content.line_starts, strict=True):
        start = _first_match(pattern, line_start, text)
        if start < 0:
            return None
        offset = start if offset < 0 else offset
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    line = text[start : end if end >= 0 else len(text)]
    return text.count("\n", 0, offset) + 1, clip(line)


def _first_match(pattern: re.Pattern[str], line_start: str, text: str) -> int:
    """Where the first match of `pattern` starts in `text`, -1 without one; a pattern whose matches start a line
    with `line_start` is tried only at the lines that start so."""
    if not line_start:
        match = pattern.search(text)
        return match.start() if match else -1
    start = text.find(line_start)
    while start >= 0:
        if (start == 0 or text[start - 1] == "\n") and pattern.match(text, start):
            return start
        start = text.find(line_start, start + 1)
    return -1


def _scan_script(index: _Index, path: str, text: str | None, found: _Found) -> None:
    for number, line in enumerate((text or "").splitlines(), 1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            _scan_command(stripped, Evidence(path, number, snippet=clip(stripped)), found)


def _scan_command(text: str, evidence: Evidence, found: _Found) -> None:
    for gid in _command_groups(text):
        found.add(gid, evidence, used=True)


@functools.lru_cache(maxsize=1 << 14)  # the same CI commands are read in every view of a monorepo
def _command_groups(text: str) -> tuple[int, ...]:
    """The groups whose command patterns match one command line."""
    return tuple(gid for pattern, gid in _index().commands if pattern.search(text))


def _scan_ci(index: _Index, ci: CIFacts, found: _Found) -> None:
    for workflow in ci.workflows:
        _scan_uses(index, workflow.uses, workflow.path, None, found)
        for job in workflow.jobs:
            for command in job.commands:
                evidence = Evidence(command.path or job.path, command.line, snippet=clip(command.text))
                _scan_command(command.text, evidence, found)
            _scan_uses(index, job.uses, job.path, job.line, found)


def _scan_uses(index: _Index, references: tuple[str, ...], path: str, line: int | None, found: _Found) -> None:
    for reference in references:
        for glob, gid in index.uses:
            if fnmatch.fnmatchcase(reference.lower(), glob):
                found.add(gid, Evidence(path, line, snippet=clip(reference)), used=True)


def _scan_environment(index: _Index, environment: EnvironmentFacts, found: _Found) -> None:
    for manifest in environment.manifests:
        for requirement in manifest.requirements:
            for gid in index.packages.get(normalise_package(requirement.name), ()):
                snippet = clip(f"{requirement.name}{requirement.spec}")
                found.add(gid, Evidence(requirement.path, requirement.line, snippet=snippet), used=False)
    for hook in environment.precommit_hooks:
        for glob, gid in index.hooks:
            if fnmatch.fnmatchcase((hook.snippet or "").lower(), glob):
                found.add(gid, hook, used=True)
    for dockerfile in environment.dockerfiles:
        for image in dockerfile.base_images:
            for glob, gid in index.images:
                if fnmatch.fnmatchcase(image.image.lower(), glob):
                    found.add(gid, Evidence(image.path, image.line, snippet=clip(image.image)), used=True)
        for entrypoint in dockerfile.entrypoints:
            _scan_command(entrypoint.snippet or "", entrypoint, found)
    for target in environment.targets:
        for command in target.commands:
            _scan_command(command, Evidence(target.path, target.line, snippet=clip(command)), found)


# --- summary ------------------------------------------------------------------------------------------------


def _summarise(tools: tuple[ToolSignature, ...], index: _Index, found: _Found) -> tuple[DetectedTool, ...]:
    groups: dict[int, list[tuple[Signature, list[tuple[bool, Evidence]]]]] = {}
    signatures = [signature for tool in tools for signature in tool.signatures]
    for gid, items in found.items.items():
        groups.setdefault(index.owners[gid], []).append((signatures[gid], items))
    detected = [_detected(tools[position], matched) for position, matched in groups.items()]
    return tuple(sorted(detected, key=lambda tool: tool.name))


def _detected(tool: ToolSignature, matched: list[tuple[Signature, list[tuple[bool, Evidence]]]]) -> DetectedTool:
    """Strength is the best over the tool's signal groups; categories come from the groups at that strength."""
    group_used = [(signature, any(used for used, _ in items)) for signature, items in matched]
    used = any(flag for _, flag in group_used)
    categories = {category for signature, flag in group_used if flag == used for category in signature.categories}
    evidence = _best_evidence([item for _, items in matched for item in items])
    return DetectedTool(
        name=tool.name,
        categories=tuple(category for category in CATEGORIES if category in categories),
        strength="used" if used else "declared",
        evidence=evidence,
    )


def _best_evidence(items: list[tuple[bool, Evidence]]) -> tuple[Evidence, ...]:
    """At most MAX_EVIDENCE items: usage before declarations, project files before tests and examples."""
    best: dict[Evidence, bool] = {}
    for used, evidence in items:
        best[evidence] = best.get(evidence, False) or used
    ranked = sorted(best.items(), key=lambda item: (not item[1], _role_rank(item[0].path), _sort_key(item[0])))
    return tuple(evidence for evidence, _ in ranked[:MAX_EVIDENCE])


def _role_rank(path: str) -> int:
    roles = roles_of(path)
    return 2 if "example" in roles else 1 if "test" in roles else 0


def _sort_key(evidence: Evidence) -> tuple[str, int, int, str]:
    return (evidence.path, evidence.cell or 0, evidence.line or 0, evidence.snippet or "")
