"""Facts from `.py` files: imports, resolved calls and decorators, seeds, fit and persist sites, paths."""

from __future__ import annotations

from dataclasses import dataclass

from mlops_audit.analyzers.code import CodeFacts
from mlops_audit.inventory import Inventory


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
    raise NotImplementedError
