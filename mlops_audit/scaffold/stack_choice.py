"""Fit the scaffold to the repository: the orchestrator, CI system, tracker, validation library and package it
already uses, with the default chosen (and said so) for each one it does not."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

from mlops_audit.facts import Facts
from mlops_audit.model import DetectedTool

ORCHESTRATORS = ("prefect", "airflow", "kfp", "zenml", "dvc")  # preference when several are in use
ORCHESTRATOR_TOOLS = {"prefect": "prefect", "airflow": "airflow", "kfp": "kfp", "vertex-pipelines": "kfp",
                      "zenml": "zenml", "dvc": "dvc"}
TITLES = {
    "dvc": "DVC", "prefect": "Prefect", "airflow": "Airflow", "kfp": "Kubeflow Pipelines", "zenml": "ZenML",
    "github": "GitHub Actions", "gitlab": "GitLab CI", "mlflow": "MLflow", "wandb": "Weights & Biases",
    "pandera": "pandera", "great_expectations": "Great Expectations",
}
DEFAULT_PIPELINES = {
    "dvc": "dvc.yaml",
    "prefect": "flows/training.py",
    "airflow": "dags/training_dag.py",
    "kfp": "pipelines/training_pipeline.py",
    "zenml": "pipelines/training.py",
}
PIPELINE_MARKERS = {  # decorators or calls that define a pipeline, to find the one a repository already has
    "prefect": frozenset({"prefect.flow"}),
    "airflow": frozenset({"airflow.decorators.dag", "airflow.sdk.dag", "airflow.DAG", "airflow.models.DAG",
                          "airflow.models.dag.DAG", "airflow.sdk.DAG"}),
    "kfp": frozenset({"kfp.dsl.pipeline"}),
    "zenml": frozenset({"zenml.pipeline", "zenml.pipelines.pipeline"}),
}
NOT_PACKAGES = frozenset({"dags", "flows", "pipelines", "scripts", "notebooks", "docs", "config", "configs"})


@dataclass(frozen=True, slots=True)
class StackChoice:
    orchestrator: str  # dvc, prefect, airflow, kfp, zenml
    ci: str  # github, gitlab
    tracker: str  # mlflow, wandb
    validation: str  # pandera, great_expectations
    package: str  # importable package name
    package_dir: str  # "src/<package>" or "<package>"
    pipeline_path: str  # the pipeline definition in use, or the one the scaffold creates
    reasons: tuple[tuple[str, str], ...]  # (dimension, why this choice), in dimension order

    def reason(self, dimension: str) -> str:
        return dict(self.reasons)[dimension]


def choose_stack(facts: Facts, folder_name: str) -> StackChoice:
    orchestrator, orchestrator_reason = _orchestrator(facts)
    ci, ci_reason = _ci(facts)
    tracker, tracker_reason = _tracker(facts)
    validation, validation_reason = _validation(facts)
    package, package_dir, package_reason = _package(facts, folder_name)
    return StackChoice(
        orchestrator=orchestrator,
        ci=ci,
        tracker=tracker,
        validation=validation,
        package=package,
        package_dir=package_dir,
        pipeline_path=_pipeline_path(facts, orchestrator),
        reasons=(
            ("orchestrator", orchestrator_reason),
            ("ci", ci_reason),
            ("tracker", tracker_reason),
            ("validation", validation_reason),
            ("package", package_reason),
        ),
    )


def _ranked(tools: tuple[DetectedTool, ...], names: dict[str, str], order: tuple[str, ...]) -> list[str]:
    """Choices among the detected tools: used before declared, then in `order`."""
    found = {(tool.strength != "used", order.index(names[tool.name])) for tool in tools if tool.name in names}
    return [order[index] for _, index in sorted(found)]


def _orchestrator(facts: Facts) -> tuple[str, str]:
    ranked = _ranked(facts.stack.in_category("orchestrator", "declared"), ORCHESTRATOR_TOOLS, ORCHESTRATORS)
    if ranked:
        return ranked[0], f"{TITLES[ranked[0]]} (already in use)"
    return "dvc", "no orchestrator found: using DVC"


def _ci(facts: Facts) -> tuple[str, str]:
    if any(file.path == ".gitlab-ci.yml" for file in facts.files):
        return "gitlab", "GitLab CI (.gitlab-ci.yml exists)"
    systems = sorted({workflow.system for workflow in facts.ci.workflows})
    if "github" in systems:
        return "github", "GitHub Actions (already in use)"
    if systems:
        return "github", f"no GitHub Actions or GitLab CI found ({', '.join(systems)} in use): GitHub Actions"
    return "github", "no CI found: GitHub Actions"


def _tracker(facts: Facts) -> tuple[str, str]:
    ranked = _ranked(facts.stack.in_category("tracker", "declared"), {"mlflow": "mlflow", "wandb": "wandb"},
                     ("mlflow", "wandb"))
    if ranked:
        return ranked[0], f"{TITLES[ranked[0]]} (already in use)"
    return "mlflow", "no tracker found: MLflow"


def _validation(facts: Facts) -> tuple[str, str]:
    names = {"pandera": "pandera", "great-expectations": "great_expectations"}
    ranked = _ranked(facts.stack.in_category("data_validation", "declared"), names, ("pandera", "great_expectations"))
    if ranked:
        return ranked[0], f"{TITLES[ranked[0]]} (already in use)"
    return "pandera", "no data validation library found: pandera"


def _package(facts: Facts, folder_name: str) -> tuple[str, str, str]:
    paths = {file.path for file in facts.files}
    candidates = [name for name in facts.environment.packages if name not in NOT_PACKAGES]
    in_src = [name for name in candidates if f"src/{name}/__init__.py" in paths]
    if in_src:
        return in_src[0], f"src/{in_src[0]}", f"{in_src[0]} (existing package)"
    if candidates:
        return candidates[0], candidates[0], f"{candidates[0]} (existing package)"
    name = package_slug(folder_name)
    return name, f"src/{name}", f"{name} (no package found: named after the folder)"


def package_slug(folder_name: str) -> str:
    """An importable package name from a folder name: `Level0-Notebook Churn` -> `level0_notebook_churn`."""
    name = re.sub(r"[^a-z0-9]+", "_", folder_name.lower()).strip("_") or "project"
    if name[0].isdigit():
        name = f"project_{name}"
    return f"{name}_pkg" if keyword.iskeyword(name) else name


def _pipeline_path(facts: Facts, orchestrator: str) -> str:
    """The file defining the pipeline: the first project module that declares one, else the scaffold's default."""
    markers = PIPELINE_MARKERS.get(orchestrator, frozenset())
    for file in facts.python.files:
        if "test" in file.roles or "example" in file.roles:
            continue
        names = {d.name for d in file.code.decorators} | {c.name for c in file.code.calls}
        if names & markers:
            return file.path
    return DEFAULT_PIPELINES[orchestrator]
