"""Facts from `.py` files: imports, resolved calls and decorators, seeds, fit and persist sites, paths."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlops_audit.analyzers.code import CodeFacts, extract_code_facts
from mlops_audit.inventory import Inventory

DATABRICKS_HEADER = "# Databricks notebook source"
PERCENT_CELL = re.compile(r"^# %%", re.MULTILINE)
NBCONVERT_CELL = re.compile(r"^# In\[[ \d]*\]", re.MULTILINE)


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
            files.append(analyze_python_source(file.path, file.roles, text))
    return PythonFacts(tuple(files))


def analyze_python_source(path: str, roles: tuple[str, ...], text: str) -> PythonFile:
    """One file's facts; a file that does not parse keeps its `syntax_error`."""
    return PythonFile(path, roles, extract_code_facts(text), is_notebook_like(text))


def is_notebook_like(text: str) -> bool:
    """A notebook kept as a script: Databricks source, jupytext percent cells, or an nbconvert export."""
    first_line = text.removeprefix("\ufeff").split("\n", 1)[0].strip()
    if first_line == DATABRICKS_HEADER:
        return True
    if NBCONVERT_CELL.search(text):
        return True
    percent = PERCENT_CELL.finditer(text)
    return next(percent, None) is not None and next(percent, None) is not None
