"""Which source files the project actually runs: entrypoints, then the project modules they import.

Entrypoints are the files named by commands (CI steps, `dvc.yaml` stage `cmd`s, Dockerfile `CMD`/`ENTRYPOINT`,
Makefile/tox/nox/Taskfile targets, console scripts, MLproject entry points, the project's shell scripts),
plus orchestrator definitions (Prefect flows, Airflow DAGs, KFP/ZenML/Azure ML pipelines, Dagster definitions,
Metaflow flows, Luigi tasks, Kedro pipelines), which their orchestrator loads. Test runs (`pytest`) are not
entrypoints. From the entrypoints, project-internal imports are followed transitively; imports that name no
file of the repository (third-party code, dynamic imports) are ignored.

`known` is False when no entrypoint resolves to a file: the project then runs in a way this cannot see, and
nothing should be judged unreachable.
"""

from __future__ import annotations

import functools
import posixpath
import re
import shlex
from collections import deque
from dataclasses import dataclass
from typing import Iterable, Iterator

from mlops_audit.analyzers.ci import CIFacts
from mlops_audit.analyzers.code import CodeFacts
from mlops_audit.analyzers.data_versioning import DataFacts
from mlops_audit.analyzers.environment import EnvironmentFacts
from mlops_audit.analyzers.notebooks import NotebookFacts
from mlops_audit.analyzers.python_code import PythonFacts
from mlops_audit.inventory import Inventory, roles_of
from mlops_audit.model import Evidence, clip

SEGMENT_SPLIT = re.compile(r"&&|\|\||[;|\n]")
PYTHON_TOKEN = re.compile(r"python", re.IGNORECASE)
ENV_ASSIGNMENT = re.compile(r"[A-Za-z_]\w*=")
OBJECT_REFERENCE = re.compile(r"([A-Za-z_][\w.]*):[A-Za-z_][\w.]*(?:\(\))?")  # "pkg.mod:func", "app.main:app"
MODULE_NAME = re.compile(r"[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*")
SOURCE_SUFFIXES = (".py", ".ipynb")
SCRIPT_SUFFIXES = (".sh", ".bash")
TEST_RUNNERS = frozenset({"pytest", "py.test"})
MAX_SCRIPT_DEPTH = 3
NOT_ENTRYPOINTS = frozenset({"setup.py"})  # packaging, not a run

# Orchestrator definitions, by resolved name (a prefix of the decorator, base class or call).
ORCHESTRATOR_DECORATORS = (
    "prefect.flow", "airflow.decorators.dag", "airflow.sdk.dag", "kfp.dsl.pipeline", "kfp.v2.dsl.pipeline",
    "zenml.pipeline", "zenml.pipelines.pipeline", "dagster.asset", "dagster.multi_asset", "dagster.job",
    "dagster.op", "dagster.graph", "dagster.schedule", "dagster.sensor", "flytekit.workflow",
    "azure.ai.ml.dsl.pipeline",
)
ORCHESTRATOR_BASES = ("metaflow.FlowSpec", "luigi.Task", "luigi.WrapperTask")
ORCHESTRATOR_CALLS = (
    "airflow.DAG", "airflow.models.DAG", "airflow.models.dag.DAG", "airflow.sdk.DAG", "dagster.Definitions",
    "kedro.pipeline.Pipeline", "kedro.pipeline.pipeline", "kedro.pipeline.modular_pipeline.pipeline",
    "sagemaker.workflow.pipeline.Pipeline", "tfx.orchestration.pipeline.Pipeline", "tfx.v1.dsl.Pipeline",
    "google.cloud.aiplatform.PipelineJob", "kfp.compiler.Compiler",
)
ORCHESTRATOR_CALL_TOPS = frozenset(name.partition(".")[0] for name in ORCHESTRATOR_CALLS)  # any other call is none
ORCHESTRATOR_FOLDERS = frozenset({"dags"})  # Airflow loads every module of its DAG folder
KEDRO_REGISTRY = "pipeline_registry.py"


@dataclass(frozen=True, slots=True)
class Reachability:
    entrypoints: tuple[Evidence, ...] = ()  # the commands and definitions that start a run
    files: frozenset[str] = frozenset()  # sources reached from them (entry files included)
    known: bool = False  # at least one entrypoint resolved to a file of the repository


@dataclass(frozen=True, slots=True)
class _Entry:
    evidence: Evidence
    files: tuple[str, ...]


class _Sources:
    """The repository's Python sources and notebooks, with module-name and path lookups."""

    def __init__(self, inventory: Inventory, python: PythonFacts, notebooks: NotebookFacts) -> None:
        self.inventory = inventory
        self.code: dict[str, CodeFacts] = {file.path: file.code for file in python.files}
        self.code.update((notebook.path, notebook.code) for notebook in notebooks.notebooks)
        self.paths = frozenset(file.path for file in inventory.files)
        self.by_name: dict[str, list[str]] = {}
        for path in sorted(self.paths):
            self.by_name.setdefault(posixpath.basename(path), []).append(path)
        self.dirs = {folder for path in self.paths if path.endswith(".py") for folder in _ancestors(path)}
        self.tops = self._top_level_names()
        self.expanded: dict[tuple[str, tuple[str, ...], int], list[str]] = {}  # script expansions, done once

    def _top_level_names(self) -> dict[str, set[str]]:
        """Top-level module name -> the import roots providing it: the repository root, `src/`, the parents
        of top-level packages (directories holding `__init__.py` whose parent holds none)."""
        python = [path for path in self.paths if path.endswith(".py")]
        packages = {posixpath.dirname(path) for path in python if posixpath.basename(path) == "__init__.py"}
        roots = {"", "src"} | {posixpath.dirname(package) for package in packages
                               if posixpath.dirname(package) not in packages}
        tops: dict[str, set[str]] = {}
        for path in python:
            parts = path.split("/")
            for depth in range(len(parts)):
                root = "/".join(parts[:depth])
                if root in roots:
                    name = parts[depth][:-3] if depth == len(parts) - 1 else parts[depth]
                    tops.setdefault(name, set()).add(root)
        return tops

    def resolve_path(self, token: str, bases: Iterable[str]) -> list[str]:
        """Repository files a path written in a command names: relative to a base, else by unique suffix."""
        token = _strip_variables(token)
        if not token:
            return []
        if token.startswith("/"):
            return self._resolve_absolute(token)
        for base in bases:
            candidate = posixpath.normpath(posixpath.join(base, token))
            if candidate in self.paths:
                return [candidate]
        if ".." in token.split("/"):
            return []
        suffix = "/" + posixpath.normpath(token)
        return [path for path in self.by_name.get(posixpath.basename(token), ()) if f"/{path}".endswith(suffix)]

    def _resolve_absolute(self, token: str) -> list[str]:
        """A path inside an image (`/app/src/train.py`): the longest tail of it that names repository files."""
        parts = [part for part in token.split("/") if part and part not in (".", "..")]
        for start in range(len(parts)):
            suffix = "/" + "/".join(parts[start:])
            found = [path for path in self.by_name.get(parts[-1], ()) if f"/{path}".endswith(suffix)]
            if found:
                return found
        return []

    def resolve_module(self, name: str, importer: str | None = None) -> list[str]:
        """The files that importing `name` runs (the module and its packages' `__init__.py`)."""
        if name.startswith("."):
            return self._resolve_relative(name, importer or "")
        parts = name.split(".")
        roots = set(self.tops.get(parts[0], ()))
        if importer is not None:
            roots.add(posixpath.dirname(importer))  # a script's own folder is on sys.path
        found: list[str] = []
        for root in sorted(roots):
            found += self._resolve_under(root, parts)
        return found

    def _resolve_relative(self, name: str, importer: str) -> list[str]:
        level = len(name) - len(name.lstrip("."))
        folder = posixpath.dirname(importer)
        for _ in range(level - 1):
            folder = posixpath.dirname(folder)
        rest = name[level:]
        return self._resolve_under(folder, rest.split(".") if rest else [])

    def _resolve_under(self, root: str, parts: list[str]) -> list[str]:
        """`root/a/b.py` or `root/a/b/__init__.py` for the longest prefix of `parts` that exists, with the
        `__init__.py` of every package on the way."""
        found: list[str] = []
        for depth in range(1, len(parts) + 1):
            base = posixpath.join(root, *parts[:depth])
            init = f"{base}/__init__.py"
            if f"{base}.py" in self.paths:
                found.append(f"{base}.py")
                break
            if init in self.paths:
                found.append(init)
            elif base not in self.dirs:
                break  # neither a module nor a (namespace) package
        return found


def reachable_files(
    inventory: Inventory,
    python: PythonFacts,
    notebooks: NotebookFacts,
    ci: CIFacts,
    data: DataFacts,
    environment: EnvironmentFacts,
) -> Reachability:
    sources = _Sources(inventory, python, notebooks)
    entries = [entry for entry in _entries(sources, ci, data, environment) if entry.files]
    if not entries:
        return Reachability()
    starts = {path for entry in entries for path in entry.files}
    return Reachability(
        entrypoints=tuple(sorted({entry.evidence for entry in entries}, key=lambda evidence: evidence.sort_key)),
        files=frozenset(_follow_imports(sources, starts)),
        known=True,
    )


def _follow_imports(sources: _Sources, starts: set[str]) -> set[str]:
    """Every file reached from `starts` through project-internal imports; each file is visited once."""
    seen = set(starts)
    queue = deque(sorted(starts))
    while queue:
        path = queue.popleft()
        code = sources.code.get(path)
        if code is None:
            continue
        for ref in code.imports:
            for target in sources.resolve_module(ref.module, path):
                if target not in seen:
                    seen.add(target)
                    queue.append(target)
    return seen


# --- entrypoints --------------------------------------------------------------------------------------------


def _entries(sources: _Sources, ci: CIFacts, data: DataFacts, environment: EnvironmentFacts) -> Iterator[_Entry]:
    for workflow in ci.workflows:
        for job in workflow.jobs:
            for command in job.commands:
                evidence = Evidence(command.path or job.path, command.line, snippet=clip(command.text))
                yield _Entry(evidence, _command_files(sources, command.text, [""]))
    for stage in data.stages:
        folder = posixpath.normpath(posixpath.join(posixpath.dirname(stage.path), stage.wdir))
        folder = "" if folder == "." else folder
        for cmd in stage.cmd:
            evidence = Evidence(stage.path, stage.line, snippet=clip(cmd))
            yield _Entry(evidence, _command_files(sources, cmd, [folder, ""]))
    for dockerfile in environment.dockerfiles:
        folder = posixpath.dirname(dockerfile.path)
        for entrypoint in dockerfile.entrypoints:
            yield _Entry(entrypoint, _command_files(sources, entrypoint.snippet or "", [folder, ""]))
    for target in environment.targets:
        folder = posixpath.dirname(target.path)
        for command in target.commands:
            evidence = Evidence(target.path, target.line, snippet=clip(command))
            yield _Entry(evidence, _command_files(sources, command, [folder, ""]))
    yield from _script_entries(sources)
    yield from _orchestrator_entries(sources)


def _script_entries(sources: _Sources) -> Iterator[_Entry]:
    """Shell scripts of the project (`scripts/train.sh`) are run by hand or by a scheduler."""
    for path in sorted(sources.paths):
        if path.endswith(SCRIPT_SUFFIXES) and not roles_of(path):
            files = _script_files(sources, path, [""], 0)
            yield _Entry(Evidence(path), tuple(dict.fromkeys(files)))


def _orchestrator_entries(sources: _Sources) -> Iterator[_Entry]:
    """Files an orchestrator loads by itself. Examples and tests are not the project's pipelines."""
    for path in sorted(sources.code):
        if roles_of(path):
            continue
        evidence = _orchestrator_evidence(path, sources.code[path])
        if evidence is not None:
            yield _Entry(evidence, (path,))


def _orchestrator_evidence(path: str, code: CodeFacts) -> Evidence | None:
    for decorator in code.decorators:
        if _under_any(decorator.name, ORCHESTRATOR_DECORATORS):
            return Evidence(path, decorator.line, decorator.cell, clip(f"@{decorator.name}"))
    for cls in code.classes:
        if any(_under_any(base, ORCHESTRATOR_BASES) for base in cls.bases):
            return Evidence(path, cls.line, cls.cell, clip(f"class {cls.name}({', '.join(cls.bases)})"))
    for call in code.calls:
        if call.name.partition(".")[0] in ORCHESTRATOR_CALL_TOPS and _under_any(call.name, ORCHESTRATOR_CALLS):
            return Evidence(path, call.line, call.cell, clip(call.snippet or call.name))
    parts = path.split("/")
    if path.endswith(".py") and (ORCHESTRATOR_FOLDERS & set(parts[:-1]) or parts[-1] == KEDRO_REGISTRY):
        return Evidence(path)
    return None


def _under_any(name: str, prefixes: tuple[str, ...]) -> bool:
    """`name` is one of `prefixes` or a name inside one of them."""
    return _prefix_pattern(prefixes).match(name) is not None


@functools.lru_cache(maxsize=16)
def _prefix_pattern(prefixes: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("(?:" + "|".join(map(re.escape, prefixes)) + r")(?:\.|\Z)")


# --- commands -----------------------------------------------------------------------------------------------


def _command_files(sources: _Sources, text: str, bases: list[str], depth: int = 0) -> tuple[str, ...]:
    """The sources a command line runs, following `cd` and the shell scripts it calls."""
    found: list[str] = []
    bases = list(bases)
    for segment in SEGMENT_SPLIT.split(text):
        tokens = _tokens(segment)
        if not tokens or TEST_RUNNERS & set(tokens):
            continue
        if tokens[0] == "cd" and len(tokens) > 1:
            folder = posixpath.normpath(posixpath.join(bases[0], _strip_variables(tokens[1]) or "."))
            bases = ["" if folder == "." else folder, *bases]
            continue
        found += _segment_files(sources, tokens, bases, depth)
    return tuple(dict.fromkeys(found))


def _segment_files(sources: _Sources, tokens: tuple[str, ...], bases: list[str], depth: int) -> list[str]:
    found: list[str] = []
    python_seen = False
    for position, token in enumerate(tokens):
        token = token.strip("'\"`,[]")
        if PYTHON_TOKEN.search(token):
            python_seen = True
        if token == "-m" and python_seen and position + 1 < len(tokens):
            module = tokens[position + 1]
            if MODULE_NAME.fullmatch(module):
                found += _module_run(sources, module)
        elif token.endswith(SOURCE_SUFFIXES) and posixpath.basename(token) not in NOT_ENTRYPOINTS:
            found += sources.resolve_path(token, bases)
        elif token.endswith(SCRIPT_SUFFIXES) and depth < MAX_SCRIPT_DEPTH:
            found += _script_files(sources, token, bases, depth)
        elif token == "kedro" and "run" in tokens[position + 1:]:
            found += sources.by_name.get(KEDRO_REGISTRY, [])
        else:
            reference = OBJECT_REFERENCE.fullmatch(token)
            if reference is not None:
                found += sources.resolve_module(reference.group(1))
    return found


def _module_run(sources: _Sources, module: str) -> list[str]:
    """`python -m pkg.mod` runs the module, or the package's `__main__.py`."""
    files = sources.resolve_module(module)
    package = "/" + module.replace(".", "/") + "/__init__.py"
    mains = [path.removesuffix("__init__.py") + "__main__.py" for path in files if f"/{path}".endswith(package)]
    return files + [main for main in mains if main in sources.paths]


def _script_files(sources: _Sources, token: str, bases: list[str], depth: int) -> list[str]:
    found: list[str] = []
    for script in sources.resolve_path(token, bases):
        key = (script, tuple(bases), depth)
        if key not in sources.expanded:
            text = sources.inventory.read_text(script) or ""
            lines = [line.strip() for line in text.splitlines()]
            commands = "\n".join(line for line in lines if line and not line.startswith("#"))
            sources.expanded[key] = []  # a script that calls itself back meanwhile adds nothing
            sources.expanded[key] = list(
                _command_files(sources, commands, [*bases, posixpath.dirname(script)], depth + 1))
        found += sources.expanded[key]
    return found


@functools.lru_cache(maxsize=1 << 14)  # the same commands are read in every view of a monorepo
def _tokens(segment: str) -> tuple[str, ...]:
    try:
        tokens = shlex.split(segment, comments=True)
    except ValueError:
        tokens = segment.split()
    while tokens and ENV_ASSIGNMENT.match(tokens[0]):
        tokens.pop(0)
    return tuple(tokens)


def _ancestors(path: str) -> Iterator[str]:
    folder = posixpath.dirname(path)
    while folder:
        yield folder
        folder = posixpath.dirname(folder)


def _strip_variables(token: str) -> str:
    """`${SRC}/train.py` -> `train.py`: leading path parts holding shell or template variables are unknown."""
    parts = token.split("/")
    while parts and any(mark in parts[0] for mark in ("$", "{", "}")):
        parts.pop(0)
    return "/".join(parts).removeprefix("./")
