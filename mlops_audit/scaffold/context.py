"""The values the templates are rendered with: the stack choice, paths, versions and the commands CI runs."""

from __future__ import annotations

import json
import posixpath
from collections.abc import Collection, Mapping
from shlex import quote
from typing import Any

from mlops_audit.facts import Facts
from mlops_audit.scaffold.stack_choice import TITLES, StackChoice
from mlops_audit.scaffold.steps import DISTRIBUTIONS

PYTHON_VERSION = "3.11"
RUFF_VERSION = "0.7.2"
SEED = 42
THRESHOLDS = {"roc_auc": 0.7, "accuracy": 0.7}
DEFAULT_PATHS = {
    "raw": "data/raw/dataset.csv",
    "interim": "data/interim/dataset.csv",
    "validated": "data/validated/dataset.csv",
    "features": "data/features/dataset.csv",
    "test": "data/split/test.csv",
    "model": "models/model",
    "run": "models/run.json",
    "metrics": "metrics.json",
    "registered": "models/registered.json",
    "promoted": "models/promoted.json",
    "drift_report": "reports/drift.html",
}
TRACKER_SECRETS = {
    "mlflow": ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"),
    "wandb": ("WANDB_API_KEY",),
}
RUN_SECRETS = {
    "dvc": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),  # the DVC remote (S3 by default)
    "prefect": ("PREFECT_API_URL", "PREFECT_API_KEY"),
    "airflow": ("AIRFLOW_API_URL", "AIRFLOW_USERNAME", "AIRFLOW_PASSWORD"),
    "kfp": ("KFP_HOST",),
    "zenml": ("ZENML_STORE_URL", "ZENML_STORE_API_KEY"),
}
DEPLOY_SECRETS = {
    "dvc": (),
    "prefect": ("PREFECT_API_URL", "PREFECT_API_KEY"),
    "airflow": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AIRFLOW_DAGS_URI"),
    "kfp": ("KFP_HOST",),
    "zenml": ("ZENML_STORE_URL", "ZENML_STORE_API_KEY"),
}
PACKAGING = ("pyproject.toml", "setup.py", "setup.cfg")


def raw_data_path(facts: Facts) -> str:
    """The dataset the pipeline starts from: the first CSV under `data/` (committed or DVC-tracked), else a
    conventional place."""
    for file in facts.files:
        path = file.path.removesuffix(".dvc")
        if path.startswith("data/") and path.endswith(".csv") and not file.roles:
            return path
    return DEFAULT_PATHS["raw"]


def pipeline_paths(facts: Facts, extra: Mapping[str, str]) -> dict[str, str]:
    return {**DEFAULT_PATHS, "raw": raw_data_path(facts), **extra}


def notebook_dirs(facts: Facts) -> list[str]:
    folders = {posixpath.dirname(nb.path) or "." for nb in facts.notebooks.notebooks if not nb.roles}
    return sorted(folders)


def _run_pipeline(stack: StackChoice) -> list[str]:
    if stack.orchestrator == "dvc":
        return ["dvc pull", "dvc repro", "dvc push"]
    if stack.orchestrator == "airflow":
        trigger = (
            'curl --fail -X POST "$AIRFLOW_API_URL/api/v1/dags/training/dagRuns" --user '
            '"$AIRFLOW_USERNAME:$AIRFLOW_PASSWORD" -H "Content-Type: application/json" -d "{}"'
        )
        return [trigger]
    return [f"python {quote(stack.pipeline_path)}" + (" --run" if stack.orchestrator == "kfp" else "")]


def _deploy(stack: StackChoice) -> list[str]:
    return {
        "dvc": ['docker buildx imagetools create --tag "$IMAGE:$DEPLOY_ENV" "$IMAGE:$IMAGE_TAG"'],
        "prefect": ["prefect --no-prompt deploy --all"],
        "airflow": [f'aws s3 sync {quote(posixpath.dirname(stack.pipeline_path) or ".")} "$AIRFLOW_DAGS_URI"'],
        "kfp": [f"python {quote(stack.pipeline_path)} --upload"],
        "zenml": ['zenml stack set "$DEPLOY_ENV"', f"python {quote(stack.pipeline_path)}"],
    }[stack.orchestrator]


def _container_command(stack: StackChoice) -> str:
    command = {
        "dvc": ["sh", "-c", "dvc pull && dvc repro"],
        "airflow": ["airflow", "dags", "test", "training"],
    }.get(stack.orchestrator, ["python", stack.pipeline_path])
    return json.dumps(command)


def build_context(
    stack: StackChoice, facts: Facts, present: Collection[str], extra_paths: Mapping[str, str], branch: str
) -> dict[str, Any]:
    """Template values; `present` holds the files that exist or that the plan creates."""
    requirements = "requirements.txt" in present
    installable = any(name in present for name in PACKAGING)
    install = (["pip install -r requirements.txt"] if requirements else []) + (
        ["pip install -e ."] if installable else []
    )
    orchestrator_tool = [] if stack.orchestrator in ("dvc", "airflow") else [f"pip install {DISTRIBUTIONS[stack.orchestrator]}"]
    retraining = {
        "dvc": "`dvc repro` weekly and when data changes (continuous-training workflow)",
        "airflow": "the `training` DAG runs weekly",
    }.get(stack.orchestrator, f"`{stack.pipeline_path}` runs weekly and when data changes")
    return {
        "package": stack.package,
        "package_dir": stack.package_dir,
        "src_layout": stack.package_dir.startswith("src/"),
        "model_name": stack.package.replace("_", "-"),
        "orchestrator": stack.orchestrator,
        "ci": stack.ci,
        "tracker": stack.tracker,
        "tracker_title": TITLES[stack.tracker],
        "validation": stack.validation,
        "pipeline_path": stack.pipeline_path,
        "python_version": PYTHON_VERSION,
        "ruff_version": RUFF_VERSION,
        "versions": DISTRIBUTIONS,
        "seed": SEED,
        "paths": pipeline_paths(facts, extra_paths),
        "thresholds": THRESHOLDS,
        "notebook_dirs": notebook_dirs(facts),
        "default_branch": branch,
        "requirements": requirements,
        "installable": installable,
        "install": install,
        "run_pipeline": _run_pipeline(stack),
        "run_secrets": [*TRACKER_SECRETS[stack.tracker], *RUN_SECRETS[stack.orchestrator]],
        "deploy": _deploy(stack),
        "deploy_install": [] if stack.orchestrator in ("dvc", "airflow") else [*install, *orchestrator_tool],
        "deploy_secrets": [*TRACKER_SECRETS[stack.tracker], *DEPLOY_SECRETS[stack.orchestrator]],
        "container_command": _container_command(stack),
        "retraining": retraining,
    }
