"""Facts from `.py` files: imports, resolved calls and decorators, seeds, fit and persist sites, paths."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from mlops_audit.analyzers.code import (
    CodeFacts,
    LiteralRef,
    code_facts_from_dict,
    code_facts_to_dict,
    extract_code_facts_and_comparisons,
    field_values,
    literal_refs_from_list,
    normalise,
    pickled_by_fields,
)
from mlops_audit.cache import Codec, FactsCache, source_record
from mlops_audit.inventory import Inventory, RepoFile
from mlops_audit.model import clip

DATABRICKS_HEADER = "# Databricks notebook source"
PERCENT_CELL = re.compile(r"^# %%", re.MULTILINE)
NBCONVERT_CELL = re.compile(r"^# In\[[ \d]*\]", re.MULTILINE)
JUPYTEXT_HEADER = re.compile(r"^# ---\s*\n(?:#.*\n)*?#\s+jupytext:", re.MULTILINE)

# Names that denote the model in production (the champion) rather than the one just trained.
REFERENCE_MODEL = re.compile(
    r"champ|production|(?<![a-z])prod(?![a-z])|deployed|incumbent|(?:current|previous|old|existing|registered|live)_?model"
)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class PythonFile:
    path: str
    roles: tuple[str, ...]
    code: CodeFacts
    notebook_like: bool = False  # jupytext percent script, `# Databricks notebook source`, or nbconvert `# In[` dump
    # ordering comparisons of a production (champion) model's value with another computed value:
    # `new_mse < production_model_mse`, `m_chall > m_champ` (the value is the comparison's source text)
    champion_comparisons: tuple[LiteralRef, ...] = ()


@dataclass(frozen=True, slots=True)
class PythonFacts:
    files: tuple[PythonFile, ...] = ()


def analyze_python(inventory: Inventory, cache: FactsCache | None = None) -> PythonFacts:
    """Every readable `.py` file, tests and examples included (their roles say where they sit); a content already
    in the cache (analysed earlier in this audit, or stored by an earlier one) is not parsed again."""
    cache = cache if cache is not None else FactsCache()
    return PythonFacts(tuple(
        replace(record, path=file.path, roles=file.roles)
        for file, codec in python_sources(inventory)
        if (record := source_record(cache, inventory, file.path, codec)) is not None
    ))


def python_sources(inventory: Inventory) -> Iterator[tuple[RepoFile, Codec[PythonFile]]]:
    """Each `.py` file with the codec that analyses it."""
    for file in inventory.of_kind("python"):
        yield file, PACKAGE_MODULE if _in_package(inventory, file.path) else SCRIPT


def python_file_to_dict(file: PythonFile) -> dict[str, Any]:
    """A file's facts as JSON-ready data, without its path and roles (they are not facts of its content)."""
    return {
        "code": code_facts_to_dict(file.code),
        "notebook_like": file.notebook_like,
        "champion_comparisons": [field_values(ref) for ref in file.champion_comparisons],
    }


def python_file_from_dict(data: dict[str, Any]) -> PythonFile:
    """The PythonFile of `python_file_to_dict`, without path and roles; raises KeyError, TypeError or ValueError
    when malformed."""
    return PythonFile(
        "", (), code_facts_from_dict(data["code"]), bool(data["notebook_like"]),
        literal_refs_from_list(data["champion_comparisons"]),
    )


def _analyse_script(text: str) -> PythonFile:
    return analyze_python_source("", (), text)


def _analyse_package_module(text: str) -> PythonFile:
    return analyze_python_source("", (), text, in_package=True)


SCRIPT = Codec("python", _analyse_script, python_file_to_dict, python_file_from_dict)
PACKAGE_MODULE = Codec("python-package", _analyse_package_module, python_file_to_dict, python_file_from_dict)


def _in_package(inventory: Inventory, path: str) -> bool:
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    return inventory.get(f"{folder}/__init__.py" if folder else "__init__.py") is not None


def analyze_python_source(path: str, roles: tuple[str, ...], text: str, in_package: bool = False) -> PythonFile:
    """One file's facts; a file that does not parse keeps its `syntax_error`."""
    code, orderings = extract_code_facts_and_comparisons(text)
    return PythonFile(path, roles, code, is_notebook_like(text, in_package), champion_comparisons(text, orderings))


def champion_comparisons(text: str, orderings: list[ast.Compare]) -> tuple[LiteralRef, ...]:
    """The ordering comparisons (<, <=, >, >=) of the text of which exactly one side names the production model
    and neither side is a constant: the champion/challenger decision written as plain code."""
    if not orderings:
        return ()
    lines = normalise(text).split("\n")
    found = {
        LiteralRef(clip(lines[node.lineno - 1].strip()), node.lineno)
        for node in orderings
        # the comparison's lines first, as names and strings are written in them: most mention no such model
        if _mentions_reference("\n".join(lines[node.lineno - 1:node.end_lineno]).lower())
        and _champion_comparison(node)
    }
    return tuple(sorted(found, key=lambda ref: ref.line))


def _mentions_reference(text: str) -> bool:
    """REFERENCE_MODEL's search in a lower-cased text, after a check of the words every match holds (cheaper)."""
    return (
        "champ" in text or "prod" in text or "model" in text or "deployed" in text or "incumbent" in text
    ) and REFERENCE_MODEL.search(text) is not None


def _champion_comparison(node: ast.Compare) -> bool:
    sides = (node.left, node.comparators[0])
    if any(isinstance(side, ast.Constant) for side in sides):
        return False
    named = [bool(REFERENCE_MODEL.search(_names(side))) for side in sides]
    return named.count(True) == 1


def _names(node: ast.expr) -> str:
    """The identifiers and string keys an expression mentions, lower-cased: `prod["mse"]` -> "prod mse"."""
    parts = []
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            parts.append(child.id)
        elif isinstance(child, ast.Attribute):
            parts.append(child.attr)
        elif isinstance(child, ast.Constant) and isinstance(child.value, str):
            parts.append(child.value)
    return " ".join(parts).lower()


def is_notebook_like(text: str, in_package: bool = False) -> bool:
    """A notebook kept as a script: Databricks source, jupytext percent cells, or an nbconvert export.

    In a package module (its folder has `__init__.py`), `# %%` lines are section markers of editors, not cells,
    unless a jupytext header says the file is a notebook."""
    # Each pattern only after a plain search for the text every match holds: most files hold none.
    end = text.find("\n")
    if (text if end < 0 else text[:end]).removeprefix("\ufeff").strip() == DATABRICKS_HEADER:
        return True
    if "# In[" in text and NBCONVERT_CELL.search(text):
        return True
    if "# %%" not in text or in_package and not ("jupytext:" in text and JUPYTEXT_HEADER.search(text)):
        return False
    percent = PERCENT_CELL.finditer(text)
    return next(percent, None) is not None and next(percent, None) is not None
