"""Closed loop: scaffold a repository up a level, audit it again. The rules the plan claimed pass, the level
rises, no line a user wrote is lost, and a second apply changes nothing."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import git
import pytest

from mlops_audit.audit import run_audit
from mlops_audit.model import Outcome
from mlops_audit.scaffold.command import scaffold
from mlops_audit.scaffold.plan import build_plan
from mlops_audit.testing import make_repo

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def commit_all(root: Path) -> None:
    with git.Repo(root) as repo:
        repo.git.add("--all")
        repo.git.commit("-q", "-m", "Apply the scaffold")


def climb(root: Path, target: int) -> tuple[float, float]:
    """Scaffold `root` to `target`, check the loop closes, and return the scores before and after."""
    before_tree = tree(root)
    before = run_audit(root)
    plan = build_plan(root, target)
    assert plan.fixes, "the plan claims to fix nothing"
    out = io.StringIO()
    assert scaffold(root, target, (), "apply", out) == 0, out.getvalue()
    commit_all(root)
    after = run_audit(root)
    outcomes = {f.rule.id: f for f in after.findings}
    unfixed = {rule: outcomes[rule].message for rule in plan.fixes if outcomes[rule].outcome is not Outcome.PASS}
    assert unfixed == {}
    assert before.level < target == after.level and after.score > before.score
    after_tree = tree(root)
    for path, content in before_tree.items():
        if path.endswith((".pkl", ".csv")):
            assert after_tree[path] == content
            continue
        kept = set(after_tree[path].decode().splitlines())
        assert [line for line in content.decode().splitlines() if line not in kept] == [], path
    again = io.StringIO()
    assert scaffold(root, target, (), "apply", again) == 0
    assert "Wrote 0 file(s)." in again.getvalue() and tree(root) == after_tree
    return before.score, after.score


@pytest.mark.parametrize(("name", "target"), [("level0-notebook-churn", 1), ("level1-dvc-pipeline", 2)])
def test_fixture_climbs_a_level(name: str, target: int, tmp_path: Path) -> None:
    root = tmp_path / name
    shutil.copytree(FIXTURES / name, root)
    make_repo(root, {}, commits=3)
    before, after = climb(root, target)
    assert int(after) == target and before < target


LEVEL1_PREFECT = {
    ".gitlab-ci.yml": "lint:\n  image: python:3.11-slim\n  script:\n    - pip install ruff\n    - ruff check .\n",
    "requirements.txt": "prefect==3.1.0\nwandb==0.18.5\nscikit-learn==1.5.2\npandas==2.2.3\n",
    "src/fraud/__init__.py": "",
    "src/fraud/ingest.py": "import pandas as pd\n\n\ndef ingest_data(path):\n    return pd.read_csv(path)\n",
    "src/fraud/prepare.py": "def prepare_features(df):\n    return df.dropna()\n",
    "src/fraud/train.py": (
        "import wandb\nfrom sklearn.linear_model import LogisticRegression\n\n\n"
        "def train_model(X, y):\n    run = wandb.init(project='fraud')\n    model = LogisticRegression(random_state=0)\n"
        "    model.fit(X, y)\n    wandb.log({'train_accuracy': model.score(X, y)})\n    run.finish()\n    return model\n"
    ),
    "src/fraud/evaluate.py": "from sklearn.metrics import roc_auc_score\n\n\ndef evaluate_model(y, p):\n    return roc_auc_score(y, p)\n",
    "flows/training.py": (
        "from prefect import flow, task\n\nfrom fraud.ingest import ingest_data\nfrom fraud.prepare import prepare_features\n"
        "from fraud.train import train_model\n\n\n@task\ndef load():\n    return ingest_data('data/tx.csv')\n\n\n"
        "@flow\ndef training():\n    df = prepare_features(load())\n    return train_model(df.drop(columns=['y']), df['y'])\n"
    ),
}


def test_a_gitlab_prefect_wandb_repository_climbs_to_level_2(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "fraud", LEVEL1_PREFECT, commits=3)
    assert run_audit(root).level == 1
    plan = build_plan(root, 2)
    assert (plan.stack.ci, plan.stack.orchestrator, plan.stack.tracker) == ("gitlab", "prefect", "wandb")
    assert plan.stack.pipeline_path == "flows/training.py"
    climb(root, 2)
    assert "- local: .gitlab/ci/cd.yml" in (root / ".gitlab-ci.yml").read_text()
