"""Facts from `.py` files: imports, resolved calls and decorators, seeds, fit and persist sites, paths."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlops_audit.analyzers.code import CodeFacts, extract_code_facts
from mlops_audit.inventory import Inventory

DATABRICKS_HEADER = "# Databricks notebook source"
PERCENT_CELL = re.compile(r"^# %%", re.MULTILINE)
NBCONVERT_CELL = re.compile(r"^# In\[[ \d]*\]", re.MULTILINE)
JUPYTEXT_HEADER = re.compile(r"^# ---\s*\n(?:#.*\n)*?#\s+jupytext:", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class PythonFile:
    path: str
    roles: tuple[str, ...]
    code: CodeFacts
    notebook_like: bool = False  # jupytext percent script, `# Databricks notebook source`, or nbconvert `# In[` dump


@dataclass(frozen=True, slots=True)
class PythonFacts:
    files: tuple[PythonFile, ...] = ()


def analyze_python(inventory: Inventory) -> PythonFacts:
    """Every readable `.py` file, tests and examples included (their roles say where they sit)."""
    files = []
    for file in inventory.of_kind("python"):
        text = inventory.read_text(file.path)
        if text is not None:
            files.append(analyze_python_source(file.path, file.roles, text, _in_package(inventory, file.path)))
    return PythonFacts(tuple(files))


def _in_package(inventory: Inventory, path: str) -> bool:
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    return inventory.get(f"{folder}/__init__.py" if folder else "__init__.py") is not None


def analyze_python_source(path: str, roles: tuple[str, ...], text: str, in_package: bool = False) -> PythonFile:
    """One file's facts; a file that does not parse keeps its `syntax_error`."""
    return PythonFile(path, roles, extract_code_facts(text), is_notebook_like(text, in_package))


def is_notebook_like(text: str, in_package: bool = False) -> bool:
    """A notebook kept as a script: Databricks source, jupytext percent cells, or an nbconvert export.

    In a package module (its folder has `__init__.py`), `# %%` lines are section markers of editors, not cells,
    unless a jupytext header says the file is a notebook."""
    first_line = text.removeprefix("\ufeff").split("\n", 1)[0].strip()
    if first_line == DATABRICKS_HEADER:
        return True
    if NBCONVERT_CELL.search(text):
        return True
    if in_package and not JUPYTEXT_HEADER.search(text):
        return False
    percent = PERCENT_CELL.finditer(text)
    return next(percent, None) is not None and next(percent, None) is not None
