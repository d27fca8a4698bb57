"""Facts about one unit of Python source (a `.py` file, or the code cells of a notebook), read with `ast`.

CONTRACT (shared by `python_code.py` and `notebooks.py`; rules query these fields by name):
- Every reference carries `line` (1-based, within the cell for notebooks) and `cell` (1-based notebook cell
  number, None for `.py` files).
- Names are resolved through the module's import table: with `import mlflow as mf`, `mf.register_model(...)`
  is recorded as `mlflow.register_model`; with `from prefect import flow`, `@flow` is `prefect.flow`;
  `from kfp import dsl` then `@dsl.pipeline` is `kfp.dsl.pipeline`. A call on a local object keeps its
  written name (`model.fit`). Resolution is static and never imports anything.
- Written names render a call in the middle of a chain as `()` and a subscript as `[]`
  (`Trainer(...).train()` is `transformers.Trainer().train`); any other expression renders as `?`.
- A name bound by several imports resolves through the nearest import above its use (the first one when none
  is above, as for a use inside a function defined before a late import).
"""

from __future__ import annotations

import ast
import bisect
import operator
import re
import sys
import warnings
from dataclasses import dataclass, field, fields
from typing import Any, Callable, NamedTuple, Sequence, TypeVar

from mlops_audit.model import SNIPPET_LIMIT, clip

# Bump whenever what the analyzers extract from a file, or how it is stored, changes: cached facts of older
# versions are then ignored.
ANALYZER_VERSION = 2

R = TypeVar("R")

_FIELD_VALUES: dict[type, Callable[[Any], tuple[Any, ...]]] = {}  # per `pickled_by_fields` class


def pickled_by_fields(cls: type[R]) -> type[R]:
    """Pickle a dataclass as its constructor's arguments. The default for slotted dataclasses calls a Python
    `__getstate__` and `__setstate__` per object, which makes sending a large repository's records back from the
    parsing processes cost half as much as the parse itself."""
    values = operator.attrgetter(*(item.name for item in fields(cls)))  # type: ignore[arg-type]
    _FIELD_VALUES[cls] = values

    def __reduce__(self: R) -> tuple[type[R], tuple[Any, ...]]:
        return cls, values(self)

    if "__reduce__" not in vars(cls):  # unless the class pickles itself its own way
        cls.__reduce__ = __reduce__  # type: ignore[method-assign,assignment]
    return cls


# The references below are made by the hundred thousand in a large repository, and read back as many times from
# the parsing processes: they are not frozen, as a frozen dataclass is made five times slower. They are never
# changed once made (and are hashed by value).


@pickled_by_fields
@dataclass(slots=True, unsafe_hash=True)
class ImportRef:
    module: str  # the full dotted name imported: `import numpy as np` -> "numpy"; `from a.b import c` -> "a.b.c"
    alias: str  # the local name it is bound to ("np", "c"); "*" for star imports (module is then "a.b")
    line: int
    cell: int | None = None


@pickled_by_fields
@dataclass(slots=True, unsafe_hash=True)
class CallRef:
    name: str  # resolved dotted name: "mlflow.register_model", "sklearn.model_selection.train_test_split", "model.fit"
    line: int
    cell: int | None = None
    keywords: tuple[str, ...] = ()  # keyword argument names passed
    literals: tuple[tuple[str, str], ...] = ()  # (keyword, repr of literal value) for literal keyword values
    snippet: str = ""  # the call's source text, clipped
    args: tuple[str | None, ...] = ()  # one per positional argument: repr of a literal value, else None


@pickled_by_fields
@dataclass(slots=True, unsafe_hash=True)
class DecoratorRef:
    name: str  # resolved dotted name of the decorator (call parentheses dropped): "prefect.flow"
    target: str  # the decorated function or class
    line: int
    cell: int | None = None
    keywords: tuple[str, ...] = ()


@pickled_by_fields
@dataclass(slots=True, unsafe_hash=True)
class ClassRef:
    name: str
    bases: tuple[str, ...]  # resolved dotted names: ("metaflow.FlowSpec",)
    line: int
    cell: int | None = None


@pickled_by_fields
@dataclass(slots=True, unsafe_hash=True)
class LiteralRef:
    value: str  # e.g. an absolute path literal "/home/ana/data.csv"
    line: int
    cell: int | None = None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class CodeFacts:
    imports: tuple[ImportRef, ...] = ()
    calls: tuple[CallRef, ...] = ()
    decorators: tuple[DecoratorRef, ...] = ()
    classes: tuple[ClassRef, ...] = ()
    functions: tuple[str, ...] = ()  # names of top-level and nested function definitions
    absolute_paths: tuple[LiteralRef, ...] = ()  # machine-specific absolute path literals (/Users/, C:\, /content/drive)
    seed_calls: tuple[CallRef, ...] = ()  # random.seed, np.random.seed, torch.manual_seed, seed_everything, ...
    fit_calls: tuple[CallRef, ...] = ()  # .fit(, .train(, trainer.fit, xgb.train, lgb.train, ...
    persist_calls: tuple[CallRef, ...] = ()  # pickle.dump, joblib.dump, torch.save, model.save, save_model, ...
    has_main_guard: bool = False  # `if __name__ == "__main__":`
    loc: int = 0  # non-blank, non-comment lines
    syntax_error: str | None = None  # "line 3: invalid syntax" when the source does not parse
    extra: dict[str, object] = field(default_factory=dict)

    def __reduce__(self) -> tuple[Callable[..., CodeFacts], tuple[Any, ...]]:
        """Pickled with its calls, the most numerous references, as rows of field values: a third faster both ways
        than one reduction per call."""
        values = field_values(self)
        return _code_facts_from_rows, (values[:1], tuple(map(_FIELD_VALUES[CallRef], self.calls)), values[2:])


def _code_facts_from_rows(before: tuple[Any, ...], calls: tuple[tuple[Any, ...], ...], after: tuple[Any, ...]
                          ) -> CodeFacts:
    return CodeFacts(*before, tuple([CallRef(*row) for row in calls]), *after)


def as_dict(record: object) -> dict[str, Any]:
    """A flat record's fields by name, one level deep (nested records are converted by their callers)."""
    return {item.name: getattr(record, item.name) for item in fields(record)}


def field_values(record: object) -> tuple[Any, ...]:
    """The values of a record's fields, in order (for a class made `pickled_by_fields`)."""
    return _FIELD_VALUES[type(record)](record)


REFERENCE_LISTS = ("imports", "calls", "decorators", "classes", "absolute_paths", "seed_calls", "fit_calls",
                   "persist_calls")


def code_facts_to_dict(facts: CodeFacts) -> dict[str, Any]:
    """CodeFacts as JSON-ready data, each reference as the list of its field values (half the size of a mapping
    by field name, and read back twice as fast); `code_facts_from_dict` reads it back."""
    data = as_dict(facts)
    for name in REFERENCE_LISTS:
        data[name] = [field_values(ref) for ref in data[name]]
    return data


def code_facts_from_dict(data: dict[str, Any]) -> CodeFacts:
    """The CodeFacts of `code_facts_to_dict`; raises KeyError, TypeError or ValueError on malformed data."""
    return CodeFacts(
        imports=tuple([ImportRef(module, alias, line, cell) for module, alias, line, cell in data["imports"]]),
        calls=call_refs_from_list(data["calls"]),
        decorators=tuple([
            DecoratorRef(name, target, line, cell, tuple(keywords))
            for name, target, line, cell, keywords in data["decorators"]
        ]),
        classes=tuple([ClassRef(name, tuple(bases), line, cell) for name, bases, line, cell in data["classes"]]),
        functions=tuple(data["functions"]),
        absolute_paths=literal_refs_from_list(data["absolute_paths"]),
        seed_calls=call_refs_from_list(data["seed_calls"]),
        fit_calls=call_refs_from_list(data["fit_calls"]),
        persist_calls=call_refs_from_list(data["persist_calls"]),
        has_main_guard=bool(data["has_main_guard"]),
        loc=int(data["loc"]),
        syntax_error=data["syntax_error"],
        extra=dict(data["extra"]),
    )


def call_refs_from_list(rows: list[list[Any]]) -> tuple[CallRef, ...]:
    return tuple([
        CallRef(name, line, cell, tuple(keywords), tuple([(key, value) for key, value in literals]), snippet,
                tuple(args))
        for name, line, cell, keywords, literals, snippet, args in rows
    ])


def literal_refs_from_list(rows: list[list[Any]]) -> tuple[LiteralRef, ...]:
    return tuple([LiteralRef(value, line, cell) for value, line, cell in rows])


Locate = Callable[[int], tuple[int | None, int]]  # a parsed line -> (cell, line shown to the user)

ABSOLUTE_PATH = re.compile(
    r"/Users/[\w.@-]+|/home/[\w.@-]+/|[A-Za-z]:[\\/][\w .$~-]|/content/drive\b|/kaggle/(?:input|working)\b"
    r"|/mnt/[a-z]/|/dbfs/"
)
MAX_PATH_LITERAL = 400
MAX_PARSED_LINES = 100_000  # hand-written modules are far smaller; a larger tree would take gigabytes

SEED_LAST = frozenset(
    {"seed_everything", "set_seed", "set_random_seed", "manual_seed", "manual_seed_all", "set_global_seed",
     "seed_all"}
)
SEEDED_GENERATORS = frozenset({"default_rng", "RandomState", "Random", "PRNGKey", "key"})  # of a `random` module
FIT_LAST = frozenset({"fit", "partial_fit", "fit_generator"})
TRAIN_FUNCTIONS = frozenset({"xgboost.train", "lightgbm.train", "xgb.train", "lgb.train"})
DATASET_LIKE = re.compile(r"data|^ds$|_ds$|df|split|loader|corpus|batch")
TRAINER_LIKE = re.compile(r"trainer|tuner")
OPTIMIZER_LIKE = re.compile(r"optim|^opt$")
PERSIST_NAMES = frozenset(
    {"pickle.dump", "cloudpickle.dump", "dill.dump", "joblib.dump", "sklearn.externals.joblib.dump", "torch.save",
     "torch.jit.save", "skops.io.dump", "onnx.save", "tensorflow.saved_model.save", "safetensors.torch.save_file"}
)
PERSIST_LAST = frozenset({"save_model", "save_pretrained", "save_weights", "save_checkpoint"})
# The last name segments of every seed, fit and persist call: any other call is none of them.
SITE_LAST = frozenset({
    *SEED_LAST, "seed", *SEEDED_GENERATORS, *FIT_LAST, "step", "train", *PERSIST_LAST, "save",
    *(name.rpartition(".")[2] for name in PERSIST_NAMES),
})
MODEL_LIKE = re.compile(r"model|net|clf|classifier|regressor|estimator|booster|^bst$|learner|pipeline|^pipe$")


def extract_code_facts(source: str) -> CodeFacts:
    """Facts of one source text; a text that does not parse gives only `loc` and `syntax_error`."""
    return extract_code_facts_and_comparisons(source)[0]


def extract_code_facts_and_comparisons(source: str) -> tuple[CodeFacts, list[ast.Compare]]:
    """The facts of one source text, and its ordering comparisons (`a < b`, `a >= b`) for further reading."""
    source = normalise(source)
    lines = source.split("\n")
    loc = count_loc(lines)
    tree, error = parse(source)
    if tree is None:
        return CodeFacts(loc=loc, syntax_error=error), []
    collector = _Collector()
    collector.walk(tree, lines, _plain)
    return collector.facts(loc), collector.orderings


def extract_cells_facts(cells: Sequence[tuple[int, str]]) -> CodeFacts:
    """Facts of notebook code cells given as (cell number, cleaned source), parsed together.

    When the joined cells do not parse, each cell is parsed alone and the ones that parse still give their facts,
    resolved through one import table; `syntax_error` then names the first cell that does not parse.
    """
    cells = [(number, normalise(text)) for number, text in cells]
    joined, origins = _join(cells)
    lines = joined.split("\n")
    loc = count_loc(lines)
    tree, _ = parse(joined)
    collector = _Collector()
    if tree is not None:
        collector.walk(tree, lines, lambda line: origins[min(line, len(origins)) - 1])
        return collector.facts(loc)
    first_error = None
    for number, text in cells:
        tree, error = parse(text)
        if tree is None:
            first_error = first_error or f"cell {number}, {error}"
            continue
        collector.walk(tree, text.split("\n"), lambda line, cell=number: (cell, line))
    return collector.facts(loc, first_error)


def parse(source: str) -> tuple[ast.Module | None, str | None]:
    """The module tree, or None and a "line N: message" error; never raises. A source of over MAX_PARSED_LINES
    lines is not parsed: its tree would take gigabytes (generated code, data written as Python)."""
    lines = source.count("\n") + 1
    if lines > MAX_PARSED_LINES:
        return None, f"line 1: too large to analyse ({lines:,} lines; the limit is {MAX_PARSED_LINES:,})"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(source), None
    except SyntaxError as error:
        return None, f"line {error.lineno or 1}: {error.msg}"
    except (ValueError, TypeError) as error:
        return None, f"line 1: {error}"
    except RecursionError:
        return None, "line 1: too deeply nested to parse"
    except MemoryError:
        return None, "line 1: too large to parse in the memory available"


def count_loc(lines: list[str]) -> int:
    """Lines that are neither blank nor only a comment."""
    return len([text for text in map(str.strip, lines) if text and text[0] != "#"])


def normalise(source: str) -> str:
    """Without a byte-order mark, every line ending a `\\n`: as the parsed tree numbers lines."""
    return source.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _join(cells: Sequence[tuple[int, str]]) -> tuple[str, list[tuple[int, int]]]:
    parts: list[str] = []
    origins: list[tuple[int, int]] = []
    for number, text in cells:
        lines = text.split("\n")
        parts.extend(lines)
        origins.extend((number, index) for index in range(1, len(lines) + 1))
    return "\n".join(parts), origins or [(1, 1)]


def _plain(line: int) -> tuple[int | None, int]:
    return None, line


class _Site(NamedTuple):
    key: tuple[int, int, int]  # (unit, parsed line, column): the walk is not in source order, the output is
    written: str  # the name as written, resolved once every import is known
    cell: int | None
    line: int

    @property
    def position(self) -> tuple[int, int]:
        return self.key[0], self.key[1]


class _Collector:
    """Walks each parsed tree once; names are resolved after the walks, through one import table."""

    def __init__(self) -> None:
        self.unit = 0
        self.bindings: dict[str, list[tuple[tuple[int, int], str]]] = {}
        self.imports: list[tuple[tuple[int, int, int, int], ImportRef]] = []
        # (unit, parsed line, column), written name, cell, line shown, node, snippet
        self.calls: list[tuple[tuple[int, int, int], str, int | None, int, ast.Call, str]] = []
        self.decorators: list[tuple[_Site, str, tuple[str, ...]]] = []
        self.classes: list[tuple[_Site, list[str]]] = []
        self.functions: list[tuple[tuple[int, int, int], str]] = []
        self.paths: set[tuple[tuple[int, int, int], str, LiteralRef]] = set()
        self.orderings: list[ast.Compare] = []
        self.main_guard = False
        self.shared: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self.names: dict[str, str] | None = None  # written -> resolved call names, when they do not vary

    def walk(self, tree: ast.Module, lines: list[str], locate: Locate) -> None:
        self.unit += 1
        unit = self.unit
        self.main_guard = self.main_guard or any(_is_main_guard(node) for node in tree.body)
        # Every node that can hold a call, a string or a definition, depth first; faster than `ast.walk`.
        stack: list[ast.AST] = [tree]
        pop, push, extend, children = stack.pop, stack.append, stack.extend, CHILD_FIELDS.get
        while stack:
            node = pop()
            kind = type(node)
            for name in children(kind, ()):
                value = getattr(node, name)
                if type(value) is list:
                    extend(value)
                elif type(value) in VISITED:  # a lone name or operator is never pushed, only to be popped
                    push(value)
            if kind is ast.Call:  # the most frequent site: a plain tuple, made inline
                cell, line = locate(node.lineno)
                key = (unit, node.lineno, node.col_offset)
                self.calls.append((key, _written(node.func), cell, line, node, _snippet(lines, node)))
            elif kind is ast.Constant:
                value = node.value
                if type(value) is str and (value[:1] == "/" or value[1:2] == ":"):  # as every absolute path starts
                    self._path(node, unit, locate)
            elif kind is ast.Import or kind is ast.ImportFrom:
                self._import(node, unit, locate)
            elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef or kind is ast.ClassDef:
                self._definition(node, unit, locate)
            elif kind is ast.Compare and len(node.ops) == 1 and type(node.ops[0]) in ORDERING:
                self.orderings.append(node)

    def _path(self, node: ast.Constant, unit: int, locate: Locate) -> None:
        value = node.value
        if 2 < len(value) <= MAX_PATH_LITERAL and "\n" not in value and ABSOLUTE_PATH.match(value):
            cell, line = locate(node.lineno)
            self.paths.add(((unit, node.lineno, node.col_offset), value, LiteralRef(value, line, cell)))

    def _import(self, node: ast.Import | ast.ImportFrom, unit: int, locate: Locate) -> None:
        cell, line = locate(node.lineno)
        for number, alias in enumerate(node.names):
            key = (unit, node.lineno, node.col_offset, number)
            if isinstance(node, ast.Import):
                module = alias.name
                bound = alias.asname or module.split(".", 1)[0]
                target = module if alias.asname else bound
            else:
                base = "." * node.level + (node.module or "")
                if alias.name == "*":
                    self.imports.append((key, ImportRef(base, "*", line, cell)))
                    continue
                module = target = base + alias.name if base.endswith(".") else f"{base}.{alias.name}"
                bound = alias.asname or alias.name
            self.imports.append((key, ImportRef(module, bound, line, cell)))
            self.bindings.setdefault(bound, []).append(((unit, node.lineno), target))

    def _definition(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, unit: int,
                    locate: Locate) -> None:
        if isinstance(node, ast.ClassDef):
            bases = [_written(base.value if isinstance(base, ast.Subscript) else base) for base in node.bases]
            self.classes.append((_site(unit, node, node.name, locate), bases))
        else:
            self.functions.append(((unit, node.lineno, node.col_offset), node.name))
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            keywords = tuple(k.arg for k in call.keywords if k.arg) if call else ()
            site = _site(unit, decorator, _written(call.func if call else decorator), locate)
            self.decorators.append((site, node.name, keywords))

    def facts(self, loc: int, syntax_error: str | None = None) -> CodeFacts:
        for candidates in self.bindings.values():
            candidates.sort()
        # a call's name resolves the same wherever it is written unless some name is bound by several imports
        self.names = {} if all(len(candidates) == 1 for candidates in self.bindings.values()) else None
        self.calls.sort(key=_first)
        calls = list(map(self._call, self.calls))
        sites = [(ref, node) for ref, node in calls if ref.name.rpartition(".")[2] in SITE_LAST]
        return CodeFacts(
            imports=tuple(ref for _, ref in sorted(self.imports, key=_first)),
            calls=tuple([ref for ref, _ in calls]),
            decorators=tuple(
                DecoratorRef(self._resolve(site.written, site.position), target, site.line, site.cell, keywords)
                for site, target, keywords in sorted(self.decorators, key=_first_key)
            ),
            classes=tuple(
                ClassRef(site.written, tuple(self._resolve(base, site.position) for base in bases), site.line,
                         site.cell)
                for site, bases in sorted(self.classes, key=_first_key)
            ),
            functions=tuple(name for _, name in sorted(self.functions)),
            absolute_paths=tuple(ref for *_, ref in sorted(self.paths, key=lambda entry: entry[:2])),
            seed_calls=tuple(ref for ref, node in sites if _is_seed(ref.name, node)),
            fit_calls=tuple(ref for ref, node in sites if _is_fit(ref.name, node)),
            persist_calls=tuple(ref for ref, _ in sites if _is_persist(ref.name)),
            has_main_guard=self.main_guard,
            loc=loc,
            syntax_error=syntax_error,
        )

    def _call(self, site: tuple[tuple[int, int, int], str, int | None, int, ast.Call, str]) -> tuple[CallRef, ast.Call]:
        key, written, cell, line, node, snippet = site
        shared = self.shared  # calls repeat: one object per distinct name or value list saves memory
        keywords: tuple[str, ...] = ()
        literals: tuple[tuple[str, str], ...] = ()
        args: tuple[str | None, ...] = ()
        if node.keywords:
            keywords = tuple([k.arg for k in node.keywords if k.arg])
            keywords = shared.setdefault(keywords, keywords)
            literals = tuple([
                (k.arg, value) for k in node.keywords
                if k.arg and type(k.value) in LITERAL_NODES and (value := _literal(k.value)) is not None
            ])
            literals = shared.setdefault(literals, literals)
        if node.args:
            args = tuple([_literal(arg) if type(arg) in LITERAL_NODES else None for arg in node.args])
            args = shared.setdefault(args, args)
        names = self.names
        name = names.get(written) if names is not None else None
        if name is None:
            name = sys.intern(self._resolve(written, key[:2]))
            if names is not None:
                names[written] = name
        return CallRef(name, line, cell, keywords, literals, snippet, args), node

    def _resolve(self, written: str, position: tuple[int, int]) -> str:
        head, dot, rest = written.partition(".")
        bare = head.split("(", 1)[0].split("[", 1)[0] if "(" in head or "[" in head else head
        candidates = self.bindings.get(bare)
        if not candidates:
            return written
        index = bisect.bisect_right(candidates, (position, "\uffff")) - 1
        return candidates[max(index, 0)][1] + head[len(bare):] + dot + rest


ORDERING = frozenset({ast.Lt, ast.LtE, ast.Gt, ast.GtE})


def _child_fields() -> dict[type, tuple[str, ...]]:
    """For each node type, the fields that hold nodes worth visiting (not names, contexts or aliases)."""
    leaves = {"ctx", "id", "attr", "name", "asname", "module", "level", "arg", "kind", "names", "type_comment",
              "conversion", "is_async", "type_ignores", "simple", "op", "ops", "kwd_attrs", "rest", "lineno", "tag"}
    types = [value for value in vars(ast).values() if isinstance(value, type) and issubclass(value, ast.AST)]
    fields = {kind: tuple(name for name in kind._fields if name not in leaves) for kind in types}
    fields[ast.Constant] = ()
    return {kind: names for kind, names in fields.items() if names}


CHILD_FIELDS = _child_fields()
VISITED = frozenset({*CHILD_FIELDS, ast.Constant})  # the node types the walk looks at or into


def _site(unit: int, node: ast.expr | ast.stmt, written: str, locate: Locate) -> _Site:
    cell, line = locate(node.lineno)
    return _Site((unit, node.lineno, node.col_offset), written, cell, line)


def _first_key(entry: tuple) -> tuple[int, int, int]:
    return entry[0].key


_first = operator.itemgetter(0)


def _written(node: ast.expr) -> str:
    """The dotted name of an expression as written, without recursion (chains can be long)."""
    parts: list[str] = []
    suffix = ""
    while True:
        kind = type(node)
        if kind is ast.Attribute:
            parts.append(node.attr + suffix)
            suffix = ""
            node = node.value
        elif kind is ast.Call:
            suffix = "()" + suffix
            node = node.func
        elif kind is ast.Subscript:
            suffix = "[]" + suffix
            node = node.value
        elif kind is ast.Name:
            parts.append(node.id + suffix)
            break
        elif kind is ast.Constant:
            parts.append(type(node.value).__name__ + suffix)
            break
        else:
            parts.append("?" + suffix)
            break
    return ".".join(reversed(parts))


LITERAL_NODES = frozenset({ast.Constant, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.UnaryOp, ast.BinOp})


def _literal(node: ast.expr) -> str | None:
    """`repr` of a literal value, clipped; None for anything that is not a literal (callers skip any node whose
    type is not in LITERAL_NODES: most arguments are names, attributes or calls)."""
    if type(node) is ast.Constant:
        value = node.value
        if type(value) is str and len(value) > SNIPPET_LIMIT:
            value = value[:SNIPPET_LIMIT]
        try:
            text = repr(value)
        except ValueError:  # an int too long to print
            return None
        # the only whitespace a repr can hold is a plain space: most are already one clipped line
        return text if len(text) <= SNIPPET_LIMIT and "  " not in text else clip(text)
    try:
        return clip(repr(ast.literal_eval(node)))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _snippet(lines: list[str], node: ast.expr) -> str:
    """The node's source text from the lines, cheaply (no `ast.get_source_segment`)."""
    first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
    if first >= len(lines):
        return ""
    if first == last:  # most calls
        return clip(_columns(lines[first], node.col_offset, node.end_col_offset))
    pieces: list[str] = []
    size = 0
    for index in range(first, min(last, len(lines) - 1) + 1):
        line = lines[index]
        start = node.col_offset if index == first else 0
        end = node.end_col_offset if index == last else None
        piece = _columns(line, start, end)
        pieces.append(piece)
        size += len(piece.strip()) + 1
        if size > SNIPPET_LIMIT:
            break
    return clip(" ".join(pieces))


def _columns(line: str, start: int, end: int | None) -> str:
    """Slice a line by UTF-8 byte columns, as `ast` counts them."""
    if line.isascii():
        return line[start:end]
    return line.encode("utf-8")[start:end].decode("utf-8", errors="replace")


def _is_main_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare) or len(node.test.comparators) != 1:
        return False
    sides = (node.test.left, node.test.comparators[0])
    names = {side.id for side in sides if isinstance(side, ast.Name)}
    values = {side.value for side in sides if isinstance(side, ast.Constant)}
    return names == {"__name__"} and values == {"__main__"} and isinstance(node.test.ops[0], ast.Eq)


def _split(name: str) -> tuple[str, str]:
    receiver, _, last = name.rpartition(".")
    return receiver, last


def _receiver_tail(receiver: str) -> str:
    return receiver.rpartition(".")[2].removesuffix("()").removesuffix("[]").lower()


def _is_seed(name: str, node: ast.Call) -> bool:
    receiver, last = _split(name)
    if last in SEED_LAST:
        return True
    from_random = receiver == "random" or receiver.endswith(".random")
    if last == "seed":
        return from_random
    return last in SEEDED_GENERATORS and from_random and bool(node.args or node.keywords)


def _is_fit(name: str, node: ast.Call) -> bool:
    receiver, last = _split(name)
    if not receiver:
        return False
    tail = _receiver_tail(receiver)
    if last in FIT_LAST:
        return True
    if last == "step":
        return bool(OPTIMIZER_LIKE.search(tail))
    if last != "train":
        return False
    if name in TRAIN_FUNCTIONS or TRAINER_LIKE.search(tail):
        return True
    if DATASET_LIKE.search(tail):
        return False
    return not _is_mode_switch(node)


def _is_mode_switch(node: ast.Call) -> bool:
    """`module.train()`, `module.train(False)`, `module.train(mode=True)`: PyTorch's training-mode switch."""
    if not node.args and not node.keywords:
        return True
    if node.keywords:
        return not node.args and len(node.keywords) == 1 and node.keywords[0].arg == "mode"
    return len(node.args) == 1 and isinstance(node.args[0], ast.Constant) and type(node.args[0].value) is bool


def _is_persist(name: str) -> bool:
    if name in PERSIST_NAMES:
        return True
    receiver, last = _split(name)
    if not receiver:
        return False
    if last in PERSIST_LAST:
        return True
    return last == "save" and bool(MODEL_LIKE.search(_receiver_tail(receiver)))
