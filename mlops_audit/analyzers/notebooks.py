"""Facts from Jupyter notebooks (nbformat v3 and v4): execution order, hidden state, outputs, code facts.

Notebooks are read with `json.loads`. IPython syntax is removed before `ast` sees the code: line magics (`%`),
shell lines (`!`), help lines (`obj?`, `?obj`) and magic assignments (`files = !ls`) become blank lines (`pass`
inside a block), so line numbers stay those Jupyter shows. A cell magic drops its whole cell, except
`%%capture`, `%%time` and `%%timeit`, whose body is Python.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from mlops_audit.analyzers.code import (
    CodeFacts,
    LiteralRef,
    as_dict,
    code_facts_from_dict,
    code_facts_to_dict,
    extract_cells_facts,
    field_values,
    literal_refs_from_list,
    pickled_by_fields,
)
from mlops_audit.cache import Codec, FactsCache, source_record
from mlops_audit.inventory import Inventory, RepoFile
from mlops_audit.model import clip

PYTHON_CELL_MAGICS = frozenset({"%%capture", "%%time", "%%timeit"})
SHELL_CELL_MAGICS = frozenset({"%%bash", "%%sh", "%%script", "%%system"})
INSTALL = re.compile(
    r"(?:sudo\s+)?(?:pip3?|(?:python3?|\{sys\.executable\})\s+-m\s+pip|uv\s+pip|conda|mamba|micromamba|apt-get|apt)"
    r"(?:\s+-\S+)*\s+install\b"
)
HELP_LINE = re.compile(r"[\w.]+\?{1,2}")
MAGIC_ASSIGNMENT = re.compile(r"[A-Za-z_][\w.,\s]*=\s*[!%]")


@pickled_by_fields
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


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell as Jupyter shows it, whatever the nbformat version."""

    number: int  # 1-based among all cells
    kind: str  # "code", "markdown" (v3 "heading" included) or "raw"
    source: str
    count: int | None
    outputs: tuple[object, ...]


class NotANotebook(ValueError):
    """The text is not a notebook; the message says why."""


def analyze_notebooks(inventory: Inventory, cache: FactsCache | None = None) -> NotebookFacts:
    """Every `.ipynb` file; one that cannot be read or parsed keeps its `error`. A content already in the cache
    (analysed earlier in this audit, or stored by an earlier one) is not parsed again."""
    cache = cache if cache is not None else FactsCache()
    notebooks = []
    for file, codec in notebook_sources(inventory):
        record = source_record(cache, inventory, file.path, codec)
        if record is None:
            reason = next((note.message for note in inventory.notes if note.path == file.path), "cannot be read")
            notebooks.append(_failed(file.path, file.roles, f"not read: {reason}"))
        else:
            notebooks.append(replace(record, path=file.path, roles=file.roles))
    return NotebookFacts(tuple(notebooks))


def notebook_sources(inventory: Inventory) -> Iterator[tuple[RepoFile, Codec[Notebook]]]:
    """Each notebook with the codec that analyses it."""
    for file in inventory.of_kind("notebook"):
        yield file, NOTEBOOK


def notebook_to_dict(notebook: Notebook) -> dict[str, Any]:
    """A notebook's facts as JSON-ready data, without its path and roles (they are not facts of its content)."""
    data = as_dict(notebook)
    del data["path"], data["roles"]
    data["installs"] = [field_values(ref) for ref in notebook.installs]
    data["code"] = code_facts_to_dict(notebook.code)
    return data


def notebook_from_dict(data: dict[str, Any]) -> Notebook:
    """The Notebook of `notebook_to_dict`, without path and roles; raises KeyError, TypeError or ValueError when
    malformed."""
    return Notebook(**{
        **data,
        "path": "",
        "roles": (),
        "execution_counts": tuple(data["execution_counts"]),
        "unexecuted_cells": tuple(data["unexecuted_cells"]),
        "installs": literal_refs_from_list(data["installs"]),
        "code": code_facts_from_dict(data["code"]),
    })


def _analyse_notebook(text: str) -> Notebook:
    return read_notebook("", (), text)


NOTEBOOK = Codec("notebook", _analyse_notebook, notebook_to_dict, notebook_from_dict)


def read_notebook(path: str, roles: tuple[str, ...], text: str) -> Notebook:
    """The facts of one notebook's JSON text; never raises."""
    try:
        document = json.loads(text.removeprefix("\ufeff"))
        version, cells = notebook_cells(document)
        return _notebook(path, roles, version, cells)
    except RecursionError:
        return _failed(path, roles, "not valid JSON: nested too deeply")
    except NotANotebook as error:
        return _failed(path, roles, str(error))
    except ValueError as error:  # json.JSONDecodeError, or a number too long to read
        return _failed(path, roles, f"not valid JSON: {error}")


def notebook_cells(document: object) -> tuple[int | None, list[Cell]]:
    """The nbformat version and the cells of a loaded notebook (v4 `cells`, v3 and older `worksheets`)."""
    if not isinstance(document, dict):
        raise NotANotebook("not a Jupyter notebook: the JSON is not an object")
    version = document.get("nbformat")
    version = version if type(version) is int else None
    if isinstance(document.get("cells"), list):
        raw = document["cells"]
    elif isinstance(document.get("worksheets"), list):
        raw = [cell for sheet in document["worksheets"] if isinstance(sheet, dict)
               for cell in _list(sheet.get("cells"))]
    else:
        raise NotANotebook("not a Jupyter notebook: no cells")
    cells = [_cell(number, cell) for number, cell in enumerate((c for c in raw if isinstance(c, dict)), 1)]
    return version, cells


def clean_cell(cell: Cell) -> tuple[str | None, list[LiteralRef]]:
    """The cell's Python with IPython syntax removed (None when a cell magic makes it not Python) and its installs."""
    lines = cell.source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first = next((line.split()[0] for line in lines if line.strip()), "")
    if first.startswith("%%") and first not in PYTHON_CELL_MAGICS:
        shell = first in SHELL_CELL_MAGICS
        found = [_install(cell, index, line) for index, line in enumerate(lines, 1) if shell]
        return None, [ref for ref in found if ref is not None]
    cleaned: list[str] = []
    installs: list[LiteralRef] = []
    continued = False
    indent = ""
    for index, line in enumerate(lines, 1):
        text = line.strip()
        if not continued and not _is_ipython(text):
            cleaned.append(line)
            continue
        if not continued:
            indent = line[: len(line) - len(line.lstrip())]  # continuation lines keep the magic's indent
            if (ref := _install(cell, index, text.lstrip("!%"))) is not None:
                installs.append(ref)
        continued = text.endswith("\\")
        cleaned.append(indent + "pass" if indent else "")
    return "\n".join(cleaned), installs


def _notebook(path: str, roles: tuple[str, ...], version: int | None, cells: list[Cell]) -> Notebook:
    code = [cell for cell in cells if cell.kind == "code"]
    sources: list[tuple[int, str]] = []
    installs: list[LiteralRef] = []
    for cell in code:
        cleaned, found = clean_cell(cell)
        installs.extend(found)
        if cleaned is not None:
            sources.append((cell.number, cleaned))
    with_outputs = [cell for cell in code if cell.outputs]
    return Notebook(
        path=path,
        roles=roles,
        nbformat=version,
        cells=len(cells),
        code_cells=len(code),
        markdown_cells=sum(1 for cell in cells if cell.kind == "markdown"),
        execution_counts=tuple(cell.count for cell in code),
        executed=any(cell.count is not None for cell in code),
        out_of_order_cell=_out_of_order(code),
        unexecuted_cells=_unexecuted(code),
        cells_with_outputs=len(with_outputs),
        output_bytes=sum(len(json.dumps(list(cell.outputs))) for cell in with_outputs),
        installs=tuple(installs),
        code=extract_cells_facts(sources),
    )


def _failed(path: str, roles: tuple[str, ...], error: str) -> Notebook:
    return Notebook(path, roles, None, 0, 0, 0, (), False, None, (), 0, 0, (), CodeFacts(), error)


def _cell(number: int, cell: dict[str, object]) -> Cell:
    kind = cell.get("cell_type")
    if kind == "code":
        source = cell.get("source", cell.get("input"))
        count = cell.get("execution_count", cell.get("prompt_number"))
        return Cell(number, "code", _text(source), count if type(count) is int else None,
                    tuple(_list(cell.get("outputs"))))
    kind = "markdown" if kind in ("markdown", "heading") else "raw"
    return Cell(number, kind, _text(cell.get("source")), None, ())


def _text(source: object) -> str:
    if isinstance(source, str):
        return source
    return "".join(part for part in _list(source) if isinstance(part, str))


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _is_ipython(text: str) -> bool:
    return (
        text.startswith(("%", "!", "?"))
        or (text.endswith("?") and HELP_LINE.fullmatch(text) is not None)
        or MAGIC_ASSIGNMENT.match(text) is not None
    )


def _install(cell: Cell, line: int, command: str) -> LiteralRef | None:
    command = command.strip()
    return LiteralRef(clip(command), line, cell.number) if INSTALL.match(command) else None


def _out_of_order(code: list[Cell]) -> int | None:
    highest: int | None = None
    for cell in code:
        if cell.count is None:
            continue
        if highest is not None and cell.count < highest:
            return cell.number
        highest = cell.count if highest is None else max(highest, cell.count)
    return None


def _unexecuted(code: list[Cell]) -> tuple[int, ...]:
    executed = [cell.number for cell in code if cell.count is not None]
    if not executed:
        return ()
    return tuple(
        cell.number for cell in code
        if cell.count is None and cell.source.strip() and executed[0] < cell.number < executed[-1]
    )
