"""Condition expressions (GitHub `if:`, GitLab `rules: if:`) narrowed to the triggers under which they can hold."""

from __future__ import annotations

from typing import Callable

from mlops_audit.analyzers.ci.shared import MAX_NESTING

Atom = Callable[[str, frozenset[str]], "frozenset[str] | None"]


def _split_top(expr: str, operator: str) -> list[str]:
    """`expr` split on `operator` outside parentheses and quotes."""
    parts, depth, start, index, quote = [], 0, 0, 0, ""
    while index < len(expr):
        char = expr[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and expr.startswith(operator, index):
            parts.append(expr[start:index])
            index += len(operator)
            start = index
            continue
        index += 1
    parts.append(expr[start:])
    return parts


def _strip_parens(expr: str) -> str:
    expr = expr.strip()
    while expr.startswith("(") and expr.endswith(")") and _balanced(expr[1:-1]):
        expr = expr[1:-1].strip()
    return expr


def _balanced(expr: str) -> bool:
    depth = 0
    for char in expr:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def narrow(expr: str, triggers: frozenset[str], atom: Atom, depth: int = 0) -> tuple[frozenset[str], bool]:
    """The triggers under which `expr` can hold, and whether that is exact (every clause understood)."""
    result: set[str] = set()
    exact = True
    for disjunct in _split_top(expr, "||"):
        allowed = set(triggers)
        for clause in _split_top(_strip_parens(disjunct), "&&"):
            clause = _strip_parens(clause)
            if depth < MAX_NESTING and len(_split_top(clause, "||")) > 1:
                found, clause_exact = narrow(clause, triggers, atom, depth + 1)
            else:
                found_or_none = atom(clause, triggers)
                found, clause_exact = (triggers, False) if found_or_none is None else (found_or_none, True)
            allowed &= found
            exact &= clause_exact
        result |= allowed
    return frozenset(result), exact
