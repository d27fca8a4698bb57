"""Recognise the ML tools a repository uses, from signatures kept as data in `signatures.yaml`.

A tool is "used" when it is imported and called (or configured by its own files, or run by CI); "declared"
when it only appears in a dependency manifest.
Categories: ml_framework, orchestrator, tracker, registry, data_versioning, data_validation, feature_store,
serving, monitoring, hpo, testing, explainability, fairness, secret_scanning, iac, rollout.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlops_audit.analyzers.ci import CIFacts
from mlops_audit.analyzers.environment import EnvironmentFacts
from mlops_audit.analyzers.notebooks import NotebookFacts
from mlops_audit.analyzers.python_code import PythonFacts
from mlops_audit.inventory import Inventory
from mlops_audit.model import DetectedTool


@dataclass(frozen=True, slots=True)
class StackFacts:
    tools: tuple[DetectedTool, ...] = ()

    def in_category(self, category: str, strength: str = "used") -> tuple[DetectedTool, ...]:
        wanted = ("used",) if strength == "used" else ("used", "declared")
        return tuple(t for t in self.tools if category in t.categories and t.strength in wanted)


def detect_stack(
    inventory: Inventory,
    python: PythonFacts,
    notebooks: NotebookFacts,
    environment: EnvironmentFacts,
    ci: CIFacts,
) -> StackFacts:
    raise NotImplementedError
