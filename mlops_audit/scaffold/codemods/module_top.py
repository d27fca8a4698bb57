"""Helpers for the top of a module: what it imports and defines, and inserting statements after its imports."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst
from libcst.helpers import get_full_name_for_node


def _is_import_line(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(part, (cst.Import, cst.ImportFrom)) for part in statement.body
    )


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def import_block_end(module: cst.Module) -> int:
    """The index in `module.body` just after the docstring and the imports that open the module."""
    end = 0
    for index, statement in enumerate(module.body):
        if _is_import_line(statement) or (index == 0 and _is_docstring(statement)):
            end = index + 1
        else:
            break
    return end


def imported_names(module: cst.Module) -> dict[str, str]:
    """Top-level bound name → what it imports: `np` → `numpy`, `Path` → `pathlib.Path`."""
    names: dict[str, str] = {}
    for statement in module.body:
        if not _is_import_line(statement):
            continue
        for part in statement.body:
            if isinstance(part, cst.Import):
                for alias in part.names:
                    full = get_full_name_for_node(alias.name) or ""
                    bound = get_full_name_for_node(alias.asname.name) if alias.asname else full.split(".")[0]
                    names[bound or full] = full if alias.asname else full.split(".")[0]
            elif isinstance(part, cst.ImportFrom) and not isinstance(part.names, cst.ImportStar):
                source = get_full_name_for_node(part.module) if part.module else ""
                for alias in part.names:
                    name = get_full_name_for_node(alias.name) or ""
                    bound = get_full_name_for_node(alias.asname.name) if alias.asname else name
                    names[bound or name] = f"{source}.{name}"
    return names


def assigned_names(module: cst.Module) -> set[str]:
    """Names assigned by top-level `NAME = ...` statements."""
    names = set()
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for part in statement.body:
                if isinstance(part, (cst.Assign, cst.AnnAssign)):
                    targets = [t.target for t in part.targets] if isinstance(part, cst.Assign) else [part.target]
                    names |= {t.value for t in targets if isinstance(t, cst.Name)}
    return names


def insert_after_imports(
    module: cst.Module, imports: Sequence[str], statements: Sequence[str]
) -> cst.Module:
    """Add import lines at the end of the opening import block, then `statements` after it (each a line of code)."""
    end = import_block_end(module)
    new_imports = [cst.parse_statement(line + "\n") for line in imports]
    body = [cst.parse_statement(line + "\n") for line in statements]
    if body:
        if end or new_imports:
            body[0] = body[0].with_changes(leading_lines=[cst.EmptyLine()])
        following = list(module.body[end:])
        if following and not following[0].leading_lines:
            following[0] = following[0].with_changes(leading_lines=[cst.EmptyLine()])
        return module.with_changes(body=[*module.body[:end], *new_imports, *body, *following])
    return module.with_changes(body=[*module.body[:end], *new_imports, *module.body[end:]])
