"""Facts from Jupyter notebooks (nbformat v3 and v4): execution order, hidden state, outputs, code facts."""

from __future__ import annotations

from dataclasses import dataclass

from mlops_audit.analyzers.code import CodeFacts, LiteralRef
from mlops_audit.inventory import Inventory


@dataclass(frozen=True, slots=True)
class Notebook:
    path: str
    roles: tuple[str, ...]
    nbformat: int | None
    cells: int
    code_cells: int
    markdown_cells: int
    execution_counts: tuple[int | None, ...]  # one per code cell, top to bottom
    executed: bool  # at least one code cell has an execution count
    out_of_order_cell: int | None  # first cell (1-based, among all cells) whose count is lower than an earlier one
    unexecuted_cells: tuple[int, ...]  # code cells without a count that sit between executed cells
    cells_with_outputs: int
    output_bytes: int
    installs: tuple[LiteralRef, ...]  # `!pip install`, `%pip install`, `!conda install`, `!apt-get` lines
    code: CodeFacts  # the same facts as Python, each reference carrying its cell number
    error: str | None = None  # "not valid JSON: ..." when the notebook cannot be read

    @property
    def out_of_order(self) -> bool:
        return self.out_of_order_cell is not None


@dataclass(frozen=True, slots=True)
class NotebookFacts:
    notebooks: tuple[Notebook, ...] = ()


def analyze_notebooks(inventory: Inventory) -> NotebookFacts:
    raise NotImplementedError
