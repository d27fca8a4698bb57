"""All facts about one repository: one record per analyzer, computed once, read by the rules."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Iterator, TypeVar

from mlops_audit.analyzers.ci import CIFacts, analyze_ci
from mlops_audit.analyzers.code import CodeFacts
from mlops_audit.analyzers.data_versioning import DataFacts, analyze_data
from mlops_audit.analyzers.environment import EnvironmentFacts, analyze_environment
from mlops_audit.analyzers.git_history import GitFacts, analyze_git, read_history
from mlops_audit.analyzers.notebooks import NotebookFacts, analyze_notebooks, notebook_sources
from mlops_audit.analyzers.python_code import PythonFacts, analyze_python, python_sources
from mlops_audit.analyzers.reachability import Reachability, reachable_files
from mlops_audit.analyzers.secrets import (
    Secret,
    SecretFacts,
    analyze_secrets,
    file_secrets,
    remember_secrets,
)
from mlops_audit.analyzers.stack import StackFacts, code_signals, detect_stack
from mlops_audit.cache import FactsCache, fill_sources
from mlops_audit.inventory import Inventory, RepoFile
from mlops_audit.model import Note
from mlops_audit.suppressions import mentions, remember_mentions

T = TypeVar("T")
FileSecrets = dict[tuple[str, bool], tuple[Secret, ...]]  # by path in the repository and whether fakes are expected


@dataclass(frozen=True, slots=True)
class CodeUnit:
    """One analysed source: a `.py` file or a notebook's code cells."""

    path: str
    kind: str  # "python" or "notebook"
    roles: tuple[str, ...]
    code: CodeFacts


@dataclass(frozen=True, slots=True)
class Facts:
    files: tuple[RepoFile, ...]
    python: PythonFacts
    notebooks: NotebookFacts
    ci: CIFacts
    data: DataFacts
    environment: EnvironmentFacts
    git: GitFacts
    stack: StackFacts
    secrets: SecretFacts
    notes: tuple[Note, ...]
    reachability: Reachability  # the entrypoints and the sources they reach
    _derived: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def derive(self, name: str, compute: Callable[[Facts], T]) -> T:
        """`compute(self)`, computed once: for what several rules read from the same facts."""
        if name not in self._derived:
            self._derived[name] = compute(self)
        return self._derived[name]

    def code_units(self) -> tuple[CodeUnit, ...]:
        """Every `.py` file, then every notebook, as a unit of code."""
        return self.derive("code_units", _code_units)


def _code_units(facts: Facts) -> tuple[CodeUnit, ...]:
    python = (
        CodeUnit(file.path, "notebook" if file.notebook_like else "python", file.roles, file.code)
        for file in facts.python.files
    )
    notebooks = (
        CodeUnit(notebook.path, "notebook", notebook.roles, notebook.code) for notebook in facts.notebooks.notebooks
    )
    return (*python, *notebooks)


def collect_facts(inventory: Inventory, cache: FactsCache | None = None) -> Facts:
    """Run every analyzer over the inventory. Analyzers are pure; problems become notes, never exceptions. Python
    files and notebooks whose content is in the cache (analysed before in this audit or, with a cache folder, in
    an earlier one) are not parsed again; the others are parsed first, all together, in parallel when many."""
    cache = cache if cache is not None else FactsCache()
    analyse_sources(inventory, cache)
    python = analyze_python(inventory, cache)
    notebooks = analyze_notebooks(inventory, cache)
    ci = analyze_ci(inventory)
    data = analyze_data(inventory)
    environment = analyze_environment(inventory)
    git = analyze_git(inventory)
    reachability = reachable_files(inventory, python, notebooks, ci, data, environment)
    stack = detect_stack(inventory, python, notebooks, environment, ci, reachability, cache.derived(code_signals))
    return Facts(
        files=tuple(inventory.files),
        python=python,
        notebooks=notebooks,
        ci=ci,
        data=data,
        environment=environment,
        git=git,
        stack=stack,
        secrets=analyze_secrets(inventory),
        notes=tuple(sorted({*inventory.notes, *_analysis_notes(python, notebooks, ci, data, environment, git)})),
        reachability=reachability,
    )


def analyse_sources(inventory: Inventory, cache: FactsCache) -> None:
    """Put the facts of every Python file and notebook in the cache, parsing together those it lacks, each with
    its stack signals made where it is parsed."""
    sources = itertools.chain(python_sources(inventory), notebook_sources(inventory))
    fill_sources(cache, inventory, sources, code_signals)


@dataclass(frozen=True, slots=True)
class ReadAhead:
    """What `read_ahead` made in another process."""

    history: dict[str, Any]  # see `read_history`
    secrets: FileSecrets
    mentions: dict[str, bool]  # see `suppressions.mentions`
    notes: list[Note]


def read_ahead(inventory: Inventory, folders: Sequence[str] = ()) -> ReadAhead:
    """What an audit reads that needs no source parsed, made in another process while the sources are: the git
    history of the inventory and of its views of `folders` (see `read_history`), each file's secrets, which files
    mention inline suppressions, and the notes on the files read."""
    history = read_history(inventory, folders)
    secrets: FileSecrets = {}
    mentioned: dict[str, bool] = {}
    for file in inventory.files:  # each file read once for both
        secrets.update(file_secrets(inventory, [file]))
        mentioned.update(mentions(inventory, [file]))
    return ReadAhead(history, secrets, mentioned, inventory.notes)


def keep_read_ahead(inventory: Inventory, reads: ReadAhead | None) -> None:
    """Keep what `read_ahead` made for the inventory and every view made from it (nothing when it made nothing)."""
    if reads is not None:
        inventory.shared_reads.update(reads.history)
        remember_secrets(inventory, reads.secrets)
        remember_mentions(inventory, reads.mentions)
        _keep_notes(inventory, reads.notes)


def _keep_notes(inventory: Inventory, notes: Iterable[Note]) -> None:
    """Add the notes another process made on reading the inventory's files (a binary file skipped, say)."""
    known = set(inventory.notes)
    inventory.notes.extend(note for note in notes if note not in known)


def _analysis_notes(
    python: PythonFacts,
    notebooks: NotebookFacts,
    ci: CIFacts,
    data: DataFacts,
    environment: EnvironmentFacts,
    git: GitFacts,
) -> Iterator[Note]:
    """The files the analyzers could not understand, so the report can say what was not judged."""
    for file in python.files:
        if file.code.syntax_error:
            yield Note(file.path, f"Python does not parse ({file.code.syntax_error})", "syntax-error")
    for notebook in notebooks.notebooks:
        if notebook.error:
            yield Note(notebook.path, f"notebook cannot be read ({notebook.error})", "invalid-notebook")
        elif notebook.code.syntax_error:
            yield Note(notebook.path, f"notebook code does not parse ({notebook.code.syntax_error})", "syntax-error")
    for workflow in ci.workflows:
        if workflow.error:
            yield Note(workflow.path, workflow.error, "invalid-ci")
    for problem in (*data.errors, *environment.errors):
        yield Note(problem.path, problem.snippet or "cannot be parsed", "invalid-config")
    if git.error:
        yield Note(".git", f"git history unavailable: {git.error}", "git")
    if git.scan_note:
        yield Note(".git", git.scan_note, "git")
