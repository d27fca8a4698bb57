"""Facts about one unit of Python source (a `.py` file, or the code cells of a notebook), read with `ast`.

CONTRACT (shared by `python_code.py` and `notebooks.py`; rules query these fields by name):
- Every reference carries `line` (1-based, within the cell for notebooks) and `cell` (1-based notebook cell
  number, None for `.py` files).
- Names are resolved through the module's import table: with `import mlflow as mf`, `mf.register_model(...)`
  is recorded as `mlflow.register_model`; with `from prefect import flow`, `@flow` is `prefect.flow`;
  `from kfp import dsl` then `@dsl.pipeline` is `kfp.dsl.pipeline`. A call on a local object keeps its
  written name (`model.fit`). Resolution is static and never imports anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ImportRef:
    module: str  # the full dotted name imported: `import numpy as np` -> "numpy"; `from a.b import c` -> "a.b.c"
    alias: str  # the local name it is bound to ("np", "c"); "*" for star imports
    line: int
    cell: int | None = None


@dataclass(frozen=True, slots=True)
class CallRef:
    name: str  # resolved dotted name: "mlflow.register_model", "sklearn.model_selection.train_test_split", "model.fit"
    line: int
    cell: int | None = None
    keywords: tuple[str, ...] = ()  # keyword argument names passed
    literals: tuple[tuple[str, str], ...] = ()  # (keyword, repr of literal value) for literal keyword values
    snippet: str = ""  # the call's source text, clipped


@dataclass(frozen=True, slots=True)
class DecoratorRef:
    name: str  # resolved dotted name of the decorator (call parentheses dropped): "prefect.flow"
    target: str  # the decorated function or class
    line: int
    cell: int | None = None
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ClassRef:
    name: str
    bases: tuple[str, ...]  # resolved dotted names: ("metaflow.FlowSpec",)
    line: int
    cell: int | None = None


@dataclass(frozen=True, slots=True)
class LiteralRef:
    value: str  # e.g. an absolute path literal "/home/ana/data.csv"
    line: int
    cell: int | None = None


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
