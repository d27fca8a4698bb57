"""All facts about one repository: one record per analyzer, computed once, read by the rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from mlops_audit.analyzers.ci import CIFacts, analyze_ci
from mlops_audit.analyzers.code import CodeFacts
from mlops_audit.analyzers.data_versioning import DataFacts, analyze_data
from mlops_audit.analyzers.environment import EnvironmentFacts, analyze_environment
from mlops_audit.analyzers.git_history import GitFacts, analyze_git
from mlops_audit.analyzers.notebooks import NotebookFacts, analyze_notebooks
from mlops_audit.analyzers.python_code import PythonFacts, analyze_python
from mlops_audit.analyzers.reachability import Reachability, reachable_files
from mlops_audit.analyzers.secrets import SecretFacts, analyze_secrets
from mlops_audit.analyzers.stack import StackFacts, detect_stack
from mlops_audit.inventory import Inventory, RepoFile
from mlops_audit.model import Note

if TYPE_CHECKING:
    from mlops_audit.cache import FactsCache


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

    def code_units(self) -> Iterator[CodeUnit]:
        for file in self.python.files:
            kind = "notebook" if file.notebook_like else "python"
            yield CodeUnit(file.path, kind, file.roles, file.code)
        for notebook in self.notebooks.notebooks:
            yield CodeUnit(notebook.path, "notebook", notebook.roles, notebook.code)


def collect_facts(inventory: Inventory, cache: FactsCache | None = None) -> Facts:
    """Run every analyzer over the inventory. Analyzers are pure; problems become notes, never exceptions. With a
    cache, Python files and notebooks analysed before (same content) are not parsed again."""
    python = analyze_python(inventory, cache)
    notebooks = analyze_notebooks(inventory, cache)
    ci = analyze_ci(inventory)
    data = analyze_data(inventory)
    environment = analyze_environment(inventory)
    git = analyze_git(inventory)
    reachability = reachable_files(inventory, python, notebooks, ci, data, environment)
    stack = detect_stack(inventory, python, notebooks, environment, ci, reachability)
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
