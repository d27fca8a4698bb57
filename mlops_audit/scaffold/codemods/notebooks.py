"""Extract a notebook's code cells into a module: the imports at the top, then one function per group of cells
(preprocess, train, evaluate — recognised by the calls they make), each taking the variables earlier groups
defined and returning those later groups use, and a `main()` that runs them in order.

Shell and magic lines (`!pip install`, `%matplotlib`) are kept as comments; bare display expressions
(`df.head`, `df.shape`) are dropped; notebook-relative paths (`../data/x.csv`) become repository-relative.
"""

from __future__ import annotations

import ast
import json
import posixpath
import re
from dataclasses import dataclass, field

import libcst as cst
from libcst.helpers import get_full_name_for_node

from mlops_audit.scaffold.codemods import Rewrite, parse

TRAIN_CALLS = frozenset({"fit", "partial_fit", "fit_generator", "train"})
EVALUATE_CALLS = re.compile(r"^(predict\w*|score|evaluate|\w+_score|\w+_error|classification_report|confusion_matrix)$")
DISPLAY = (cst.Name, cst.Attribute, cst.Subscript, cst.Tuple, cst.Comparison, cst.SimpleString, cst.Integer)


@dataclass(slots=True)
class _Group:
    role: str
    cells: list[tuple[int, list[cst.BaseStatement]]] = field(default_factory=list)

    def statements(self) -> list[cst.BaseStatement]:
        body = []
        for cell, statements in self.cells:
            first = statements[0].with_changes(leading_lines=[cst.EmptyLine(comment=cst.Comment(f"# cell {cell}"))])
            body += [first, *statements[1:]]
        return body


def module_name(notebook_path: str) -> str:
    """`notebooks/02_train model.ipynb` → `from_notebook_02_train_model`."""
    stem = posixpath.splitext(posixpath.basename(notebook_path))[0]
    return "from_notebook_" + (re.sub(r"[^a-z0-9]+", "_", stem.lower()).strip("_") or "cells")


def extract_notebook(notebook_path: str, text: str) -> Rewrite | None:
    """The module for a notebook's code cells, or None when the notebook is unreadable or holds no code."""
    try:
        cells = [(n, c) for n, c in enumerate(json.loads(text).get("cells", []), 1) if c.get("cell_type") == "code"]
    except (ValueError, AttributeError):
        return None
    imports: dict[str, cst.BaseStatement] = {}
    groups: list[_Group] = []
    changes: list[str] = []
    for number, cell in cells:
        source = cell.get("source", "")
        parsed = _parse_cell("".join(source) if isinstance(source, list) else str(source), notebook_path)
        if parsed is None:
            changes.append(f"cell {number} left out: it does not parse")
            continue
        body: list[cst.BaseStatement] = []
        for statement in parsed.body:
            if _is_import(statement):
                imports.setdefault(parsed.code_for_node(statement).strip(), statement.with_changes(leading_lines=[]))
            elif not _is_display(statement):
                body.append(statement)
        if body:
            _add_cell(groups, _role(body, groups), number, body)
    if not groups:
        return None
    code = _module(notebook_path, list(imports.values()), groups)
    names = ", ".join(_names(groups))
    return Rewrite(code, (f"{len(cells)} code cells → functions {names}", *changes))


def _parse_cell(source: str, notebook_path: str) -> cst.Module | None:
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        lines = ["# (notebook cell magic) " + line for line in lines]
    lines = [_shell_as_comment(line) for line in lines]
    module = parse("\n".join(lines) + "\n")
    if module is None:
        return None
    return module.visit(_RelativePaths(posixpath.dirname(notebook_path)))


def _shell_as_comment(line: str) -> str:
    stripped = line.lstrip()
    if stripped.startswith(("!", "%")) or (stripped.endswith("?") and not stripped.startswith("#")):
        return line[: len(line) - len(stripped)] + "# (notebook) " + stripped
    return line


class _RelativePaths(cst.CSTTransformer):
    """`"../data/x.csv"` in `notebooks/` → `"data/x.csv"`: paths relative to the project root, where steps run."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def leave_SimpleString(self, original_node: cst.SimpleString, updated_node: cst.SimpleString) -> cst.SimpleString:
        value = updated_node.evaluated_value
        if not isinstance(value, str) or not value.startswith(("./", "../")) or "\\" in value or '"' in value:
            return updated_node
        resolved = posixpath.normpath(posixpath.join(self.folder, value))
        if resolved.startswith(".."):
            return updated_node
        return cst.SimpleString(f'"{resolved}"')


def _is_import(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(part, (cst.Import, cst.ImportFrom)) for part in statement.body
    )


def _is_display(statement: cst.BaseStatement) -> bool:
    """A line that only shows a value in the notebook (`df.head`, `df.shape`, `X.columns`)."""
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and all(isinstance(part, cst.Expr) and isinstance(part.value, DISPLAY) for part in statement.body)
    )


class _Calls(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Call(self, node: cst.Call) -> None:
        self.names.add((get_full_name_for_node(node.func) or "").rsplit(".", 1)[-1])


def _signal(body: list[cst.BaseStatement]) -> str | None:
    calls = _Calls()
    for statement in body:
        statement.visit(calls)
    if calls.names & TRAIN_CALLS:
        return "train"
    if any(EVALUATE_CALLS.match(name) for name in calls.names):
        return "evaluate"
    return None


def _role(body: list[cst.BaseStatement], groups: list[_Group]) -> str:
    """A cell's group: what its calls say, else the previous group's (preprocess before any training)."""
    signal = _signal(body)
    if signal is not None:
        return signal
    return groups[-1].role if groups and groups[-1].role != "preprocess" else "preprocess"


def _add_cell(groups: list[_Group], role: str, number: int, body: list[cst.BaseStatement]) -> None:
    if not groups or groups[-1].role != role:
        groups.append(_Group(role))
    groups[-1].cells.append((number, body))


def _names(groups: list[_Group]) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for group in groups:
        seen[group.role] = seen.get(group.role, 0) + 1
        names.append(group.role if seen[group.role] == 1 else f"{group.role}_{seen[group.role]}")
    return names


def _flow(code: str) -> tuple[set[str], set[str]]:
    """(names the code binds, names it reads) at any depth."""
    bound, read = set(), set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
    return bound, read


def _module(notebook_path: str, imports: list[cst.BaseStatement], groups: list[_Group]) -> str:
    empty = cst.Module(body=[])
    flows = [_flow(empty.code_for_node(cst.Module(body=group.statements()))) for group in groups]
    names = _names(groups)
    functions, calls = [], []
    for index, (group, name) in enumerate(zip(groups, names)):
        earlier = set().union(*(bound for bound, _ in flows[:index]))
        later = set().union(*(read for _, read in flows[index + 1 :]))
        bound, read = flows[index]
        inputs, outputs = sorted(read & earlier), sorted(bound & later)
        functions.append(_function(name, group, inputs, outputs))
        call = f"{name}({', '.join(inputs)})"
        calls.append(f"{', '.join(outputs)} = {call}" if outputs else call)
    header = cst.parse_statement(
        f'"""Code cells of `{notebook_path}`, extracted by `mlops-audit scaffold`.\n\n'
        "One function per group of cells, run in order by `main()`: review it, then move each function into the\n"
        'pipeline step it belongs to."""\n'
    )
    main = cst.parse_statement("def main() -> None:\n" + "".join(f"    {line}\n" for line in calls))
    guard = cst.parse_statement('if __name__ == "__main__":\n    main()\n')
    spaced = [s.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()]) for s in (*functions, main, guard)]
    opening = [imports[0].with_changes(leading_lines=[cst.EmptyLine()]), *imports[1:]] if imports else []
    return cst.Module(body=[header, *opening, *spaced]).code


def _function(name: str, group: _Group, inputs: list[str], outputs: list[str]) -> cst.FunctionDef:
    body = group.statements()
    if outputs:
        body.append(cst.parse_statement(f"return {', '.join(outputs)}\n"))
    return cst.FunctionDef(
        name=cst.Name(name),
        params=cst.Parameters(params=[cst.Param(cst.Name(item)) for item in inputs]),
        body=cst.IndentedBlock(body=body),
    )
