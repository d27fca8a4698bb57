"""Facts about the environment: dependency manifests, pinning, lock files, containers, tooling and tests.

Everything is read statically: TOML with `tomllib`, INI with `configparser`, YAML with the safe loader, and
`setup.py` / `noxfile.py` with `ast` (never executed).
"""

from __future__ import annotations

from mlops_audit.analyzers.environment.containers import COMPOSE_GLOBS, lock_requirement_names, read_dockerfile
from mlops_audit.analyzers.environment.manifests import LOCK_NAMES, normalise, pinned_ratio, python_pins, read_manifests
from mlops_audit.analyzers.environment.reader import Reader
from mlops_audit.analyzers.environment.records import (
    BaseImage,
    Dockerfile,
    EnvironmentFacts,
    Manifest,
    Requirement,
    Target,
)
from mlops_audit.analyzers.environment.targets import (
    justfile_targets,
    makefile_targets,
    nox_targets,
    taskfile_targets,
    tox_targets,
)
from mlops_audit.analyzers.environment.tooling import (
    configured_testpaths,
    lint_configs,
    packages,
    precommit_hooks,
    test_config,
    test_files,
)
from mlops_audit.inventory import Inventory
from mlops_audit.model import Evidence

__all__ = [
    "BaseImage",
    "Dockerfile",
    "EnvironmentFacts",
    "Manifest",
    "Requirement",
    "Target",
    "analyze_environment",
    "normalise",
]


def _by_place(evidence: Evidence) -> tuple[str, int, str]:
    """A sort key that tolerates evidence without a line."""
    return evidence.path, evidence.line or 0, evidence.snippet or ""


def analyze_environment(inventory: Inventory) -> EnvironmentFacts:
    reader = Reader(inventory)
    manifests, targets = read_manifests(reader)
    lock_files = sorted({f.path for f in inventory.glob(*LOCK_NAMES)} | {m.path for m in manifests if m.lock})
    dockerfiles = [read_dockerfile(reader, f.path, lock_requirement_names(manifests))
                   for f in inventory.of_kind("docker")]
    testpaths = configured_testpaths(reader)
    targets += makefile_targets(reader) + tox_targets(reader) + nox_targets(reader)
    targets += justfile_targets(reader) + taskfile_targets(reader)
    return EnvironmentFacts(
        manifests=tuple(sorted(manifests, key=lambda m: (m.path, m.kind))),
        lock_files=tuple(lock_files),
        python_pins=tuple(sorted(python_pins(reader, manifests, dockerfiles), key=_by_place)),
        pinned_ratio=pinned_ratio(manifests, lock_files),
        dockerfiles=tuple(dockerfiles),
        compose_files=tuple(f.path for f in inventory.glob(*COMPOSE_GLOBS)),
        precommit_hooks=tuple(precommit_hooks(reader)),
        lint_configs=tuple(sorted(lint_configs(reader), key=_by_place)),
        test_files=tuple(test_files(inventory, testpaths)),
        test_config=tuple(sorted(test_config(reader), key=_by_place)),
        targets=tuple(sorted(targets, key=lambda t: (t.path, t.line or 0, t.name))),
        packages=tuple(packages(inventory)),
        errors=tuple(sorted(reader.errors.values(), key=_by_place)),
    )
