"""The ML projects of a monorepo: folders below the repository root that hold a project of their own.

A project root is found from file paths alone: a folder with a package manifest (`pyproject.toml`, `setup.py`,
`setup.cfg`), a pipeline or platform definition (`dvc.yaml`, `MLproject`, `feature_store.yaml`, `databricks.yml`,
`prefect.yaml`), a Kedro configuration (`conf/base/`), or a `requirements.txt` with Python or notebooks below it.
Nested roots collapse into the outermost one; folders of tests and documentation hold no projects.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from mlops_audit.inventory import TEST_DIRS, classify

MARKER_NAMES = frozenset(
    {"pyproject.toml", "setup.py", "setup.cfg", "dvc.yaml", "MLproject", "feature_store.yaml", "databricks.yml",
     "prefect.yaml"}
)
CODE_SUFFIXES = (".py", ".ipynb")
EXCLUDED_DIRS = TEST_DIRS | {"docs", "doc"}
MAX_PROJECTS = 50
# Files outside every project that apply to all of them: CI, git and DVC settings, hooks, root manifests.
SHARED_NAMES = frozenset({".gitattributes", ".gitignore", ".pre-commit-config.yaml", ".dvcignore"})
SHARED_FOLDERS = (".github/", ".gitlab/", ".dvc/")


@dataclass(frozen=True, slots=True)
class ProjectRoots:
    roots: tuple[str, ...]  # sorted folder paths, at most MAX_PROJECTS
    dropped: int = 0  # roots found beyond the cap


def find_project_roots(paths: Iterable[str]) -> ProjectRoots:
    """The outermost project roots below the repository root, among the repository-relative file `paths`."""
    outermost = _outermost(_candidates(paths))
    return ProjectRoots(tuple(outermost[:MAX_PROJECTS]), max(len(outermost) - MAX_PROJECTS, 0))


def shared_paths(paths: Iterable[str], roots: Iterable[str]) -> tuple[str, ...]:
    """The files outside every project root that every project is audited with."""
    prefixes = tuple(root + "/" for root in roots)
    return tuple(sorted(p for p in paths if not p.startswith(prefixes) and _repository_wide(p)))


def _repository_wide(path: str) -> bool:
    kind = classify(path)
    return (
        kind == "ci"
        or path in SHARED_NAMES
        or path.startswith(SHARED_FOLDERS)
        or ("/" not in path and kind == "manifest")
    )


def _candidates(paths: Iterable[str]) -> set[str]:
    found: set[str] = set()
    requirements: set[str] = set()
    with_code: set[str] = set()  # folders with Python or notebooks at any depth below
    for path in paths:
        folder, _, name = path.rpartition("/")
        if name in MARKER_NAMES:
            found.add(folder)
        elif name == "requirements.txt":
            requirements.add(folder)
        if name.endswith(CODE_SUFFIXES):
            with_code.update(_ancestors(folder))
        kedro = _kedro_root(path)
        if kedro is not None:
            found.add(kedro)
    found |= requirements & with_code
    return {root for root in found if root and not _excluded(root)}


def _ancestors(folder: str) -> list[str]:
    """The folder and every folder above it, the repository root ("") included."""
    parts = folder.split("/") if folder else []
    return ["/".join(parts[:end]) for end in range(len(parts) + 1)]


def _kedro_root(path: str) -> str | None:
    """The folder holding a Kedro `conf/base/` that `path` is in, or None."""
    parts = path.split("/")
    for index in range(len(parts) - 2):
        if parts[index] == "conf" and parts[index + 1] == "base":
            return "/".join(parts[:index])
    return None


def _excluded(root: str) -> bool:
    return any(part.lower() in EXCLUDED_DIRS for part in PurePosixPath(root).parts)


def _outermost(candidates: set[str]) -> list[str]:
    """The candidates no other candidate contains, sorted."""
    return sorted(root for root in candidates if not any(a in candidates for a in _ancestors(root)[1:-1]))
