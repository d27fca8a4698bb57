"""The scaffold fits the tools a repository already uses, and says which defaults it chose."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_audit.facts import collect_facts
from mlops_audit.inventory import build_inventory
from mlops_audit.scaffold.stack_choice import choose_stack, package_slug
from mlops_audit.testing import make_repo

TRAIN = "from sklearn.linear_model import LogisticRegression\n\ndef train(X, y):\n    return LogisticRegression().fit(X, y)\n"


def stack_of(tmp_path: Path, files: dict[str, str], name: str = "churn-model"):
    root = make_repo(tmp_path / name, {"train.py": TRAIN, **files}, use_git=False)
    return choose_stack(collect_facts(build_inventory(root)), root.name)


def test_defaults_are_chosen_and_explained(tmp_path: Path) -> None:
    stack = stack_of(tmp_path, {})
    assert (stack.orchestrator, stack.ci, stack.tracker, stack.validation) == ("dvc", "github", "mlflow", "pandera")
    assert (stack.package, stack.package_dir, stack.pipeline_path) == ("churn_model", "src/churn_model", "dvc.yaml")
    assert stack.reason("orchestrator") == "no orchestrator found: using DVC"
    assert stack.reason("ci") == "no CI found: GitHub Actions"


@pytest.mark.parametrize(
    ("files", "orchestrator", "pipeline"),
    [
        ({"flows/train_flow.py": "from prefect import flow\n\n@flow\ndef training():\n    pass\n"},
         "prefect", "flows/train_flow.py"),
        ({"dags/train.py": "from airflow import DAG\n\nwith DAG('train', schedule=None):\n    pass\n"},
         "airflow", "dags/train.py"),
        ({"pipeline.py": "from kfp import dsl\n\n@dsl.pipeline(name='t')\ndef p():\n    pass\n"}, "kfp", "pipeline.py"),
        ({"run.py": "from zenml import pipeline\n\n@pipeline\ndef training():\n    pass\n"}, "zenml", "run.py"),
        ({"dvc.yaml": "stages:\n  train:\n    cmd: python train.py\n    outs: [model.pkl]\n"}, "dvc", "dvc.yaml"),
    ],
)
def test_the_orchestrator_in_use_and_its_pipeline_file(
    tmp_path: Path, files: dict[str, str], orchestrator: str, pipeline: str
) -> None:
    stack = stack_of(tmp_path, files)
    assert (stack.orchestrator, stack.pipeline_path) == (orchestrator, pipeline)
    assert "already in use" in stack.reason("orchestrator")


def test_gitlab_wandb_great_expectations_and_an_existing_package(tmp_path: Path) -> None:
    stack = stack_of(
        tmp_path,
        {
            ".gitlab-ci.yml": "test:\n  script: [pytest]\n",
            "src/fraud/__init__.py": "",
            "src/fraud/track.py": "import wandb\n\nwandb.init(project='fraud')\nwandb.log({'auc': 1.0})\n",
            "src/fraud/checks.py": "import great_expectations as gx\n\ncontext = gx.get_context()\n",
        },
    )
    assert (stack.ci, stack.tracker, stack.validation) == ("gitlab", "wandb", "great_expectations")
    assert (stack.package, stack.package_dir) == ("fraud", "src/fraud")


def test_a_root_level_package_keeps_its_layout(tmp_path: Path) -> None:
    stack = stack_of(tmp_path, {"churn/__init__.py": "", "dags/__init__.py": ""})
    assert (stack.package, stack.package_dir) == ("churn", "churn")


@pytest.mark.parametrize(
    ("folder", "slug"),
    [("Level0-Notebook Churn", "level0_notebook_churn"), ("2024 model", "project_2024_model"), ("class", "class_pkg"),
     ("---", "project")],
)
def test_package_slug(folder: str, slug: str) -> None:
    assert package_slug(folder) == slug
    assert slug.isidentifier()
