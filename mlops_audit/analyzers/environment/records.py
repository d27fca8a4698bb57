"""What the environment analyzer reports: manifests and their requirements, Dockerfiles and targets."""

from __future__ import annotations

from dataclasses import dataclass

from mlops_audit.model import Evidence


@dataclass(frozen=True, slots=True)
class Requirement:
    name: str  # normalised distribution name ("scikit-learn")
    spec: str  # the version specifier as written ("==1.4.2", ">=1.0", "")
    pinned: bool  # exact pin (== / ===) or from a lock file
    path: str
    line: int | None


@dataclass(frozen=True, slots=True)
class Manifest:
    path: str
    # "requirements", "pep621", "poetry", "pdm", "setup.cfg", "setup.py", "conda", "pipfile", "mlproject",
    # "python_env" (MLflow python_env.yaml), "pyproject" (a pyproject.toml that does not parse)
    kind: str
    requirements: tuple[Requirement, ...]
    python_requires: str | None = None
    error: str | None = None
    lock: bool = False  # a pip-compile / uv export, or requirements carrying --hash
    references: tuple[str, ...] = ()  # files it points at: `-r`/`-c` includes, MLproject environment files


@dataclass(frozen=True, slots=True)
class BaseImage:
    image: str
    path: str
    line: int
    pinned: bool  # explicit tag other than `latest`, or an @sha256 digest


@dataclass(frozen=True, slots=True)
class Dockerfile:
    path: str
    base_images: tuple[BaseImage, ...]
    entrypoints: tuple[Evidence, ...]  # CMD / ENTRYPOINT lines (snippet = the command)
    installs_from_lock: bool


@dataclass(frozen=True, slots=True)
class Target:
    """A named command recipe: a Makefile target, a tox/nox session, a console script, a Taskfile task."""

    name: str
    path: str
    line: int | None
    commands: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EnvironmentFacts:
    manifests: tuple[Manifest, ...] = ()
    lock_files: tuple[str, ...] = ()  # poetry.lock, uv.lock, Pipfile.lock, pdm.lock, conda-lock.yml, pip-compile output
    python_pins: tuple[Evidence, ...] = ()  # .python-version, requires-python, runtime.txt, conda python=, FROM python:3.x
    pinned_ratio: float | None = None  # share of requirements pinned exactly, over all manifests; None when none
    dockerfiles: tuple[Dockerfile, ...] = ()
    compose_files: tuple[str, ...] = ()
    precommit_hooks: tuple[Evidence, ...] = ()  # snippet = hook id
    lint_configs: tuple[Evidence, ...] = ()  # snippet = tool name (ruff, flake8, black, mypy, pylint, isort)
    test_files: tuple[str, ...] = ()  # test modules by pytest's conventions and the `testpaths` configured
    test_config: tuple[Evidence, ...] = ()  # [tool.pytest.ini_options], pytest.ini, tox.ini, noxfile.py, conftest.py
    targets: tuple[Target, ...] = ()  # Makefile targets, tox/nox sessions, [project.scripts], Taskfile/justfile
    packages: tuple[str, ...] = ()  # importable packages: directories with __init__.py at the root or under src/
    errors: tuple[Evidence, ...] = ()  # manifests that would not parse (snippet = the problem)
