"""Replace machine-specific absolute path literals (`/Users/...`, `/home/...`, `C:\\...`) with lookups in
params.yaml: `PARAMS["paths"]["<name>"]`, `PARAMS` being loaded once after the imports."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Collection

import libcst as cst

from mlops_audit.analyzers.code import ABSOLUTE_PATH
from mlops_audit.scaffold.codemods import Rewrite, parse
from mlops_audit.scaffold.codemods.module_top import assigned_names, imported_names, insert_after_imports

PARAMS_NAME = "PARAMS"
LOAD_PARAMS = f'{PARAMS_NAME} = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))'


def param_name(path: str, taken: Collection[str]) -> str:
    """A params key for a path: `/Users/ana/churn.csv` → `churn_csv` (`churn_csv_2` when taken)."""
    base = re.sub(r"[^a-z0-9]+", "_", posixpath.basename(path.replace("\\", "/").rstrip("/")).lower()).strip("_")
    name = base if base and not base[0].isdigit() else f"path_{base}".rstrip("_")
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}_{number}", number + 1
    return candidate


def relative_guess(path: str, known_files: Collection[str]) -> str:
    """Where the file probably lives in the repository: a file of the same name, else `data/<name>`."""
    name = posixpath.basename(path.replace("\\", "/").rstrip("/"))
    same = sorted(file for file in known_files if posixpath.basename(file) == name)
    return same[0] if same else f"data/{name}"


class _ReplacePaths(cst.CSTTransformer):
    def __init__(self, taken: Collection[str], known_files: Collection[str]) -> None:
        self.taken = set(taken)
        self.known_files = known_files
        self.names: dict[str, str] = {}  # literal value -> params key
        self.entries: dict[str, str] = {}  # params key -> repository-relative value

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> bool:
        return False  # a part of an implicit concatenation cannot become an expression on its own

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
        return not (len(node.body) == 1 and isinstance(node.body[0], cst.Expr))  # docstrings and bare strings

    def leave_SimpleString(
        self, original_node: cst.SimpleString, updated_node: cst.SimpleString
    ) -> cst.BaseExpression:
        value = updated_node.evaluated_value
        if not isinstance(value, str) or "\n" in value or not ABSOLUTE_PATH.match(value):
            return updated_node
        if value not in self.names:
            name = param_name(value, self.taken)
            self.taken.add(name)
            self.names[value] = name
            self.entries[name] = relative_guess(value, self.known_files)
        return cst.parse_expression(f'{PARAMS_NAME}["paths"]["{self.names[value]}"]')


def replace_paths(source: str, taken: Collection[str] = (), known_files: Collection[str] = ()) -> Rewrite:
    """The source reading its absolute paths from params.yaml; unchanged when it has none (or does not parse).

    `taken` are params keys already in use; `known_files` are repository paths, to guess each file's new home.
    """
    module = parse(source)
    if module is None:
        return Rewrite(source)
    transformer = _ReplacePaths(taken, known_files)
    module = module.visit(transformer)
    if not transformer.names:
        return Rewrite(source)
    names = imported_names(module)
    imports = [] if names.get("yaml") == "yaml" else ["import yaml"]
    imports += [] if names.get("Path") == "pathlib.Path" else ["from pathlib import Path"]
    statements = [] if PARAMS_NAME in assigned_names(module) else [LOAD_PARAMS]
    changes = tuple(f'{value} → {PARAMS_NAME}["paths"]["{name}"]' for value, name in transformer.names.items())
    return Rewrite(
        insert_after_imports(module, imports, statements).code, changes, tuple(sorted(transformer.entries.items()))
    )
