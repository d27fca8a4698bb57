"""Planning and applying: nothing is written before `apply`, a user's file is never overwritten, codemods show
as diffs, and unsafe targets are left to a person."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from mlops_audit.audit import run_audit
from mlops_audit.errors import AuditError, PathError
from mlops_audit.model import Outcome
from mlops_audit.scaffold import files
from mlops_audit.scaffold.command import scaffold
from mlops_audit.scaffold.plan import build_plan
from mlops_audit.scaffold.writer import apply
from mlops_audit.testing import make_repo

TRAIN = '''import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

df = pd.read_csv("/home/ana/exports/churn.csv")
X_train, X_test, y_train, y_test = train_test_split(df.drop(columns=["y"]), df["y"], test_size=0.2)
LogisticRegression().fit(X_train, y_train)
'''


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file() and ".git/" not in
            p.relative_to(root).as_posix() + "/"}


def run(root: Path, mode: str, level: int | None = 1, rules: tuple[str, ...] = ()) -> tuple[int, str]:
    out = io.StringIO()
    code = scaffold(root, level, rules, mode, out)
    return code, out.getvalue()


def test_dry_run_and_diff_write_nothing(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "churn", {"train.py": TRAIN})
    before = snapshot(root)
    code, text = run(root, "dry-run")
    assert code == 0 and "Dry run: nothing written" in text
    assert "no orchestrator found: using DVC" in text and "create    dvc.yaml" in text
    code, diff = run(root, "diff")
    assert code == 0 and "--- /dev/null\n+++ b/dvc.yaml\n" in diff
    assert "--- a/train.py\n+++ b/train.py\n" in diff and '+df = pd.read_csv(PARAMS["paths"]["churn_csv"])' in diff
    assert snapshot(root) == before


def test_codemods_fix_the_users_module_and_record_its_paths(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "churn", {"train.py": TRAIN})
    code, text = run(root, "apply")
    assert code == 0 and "wrote    train.py" in text
    changed = (root / "train.py").read_text()
    assert "random_state=SEED" in changed and 'PARAMS["paths"]["churn_csv"]' in changed
    assert "churn_csv: data/churn.csv" in (root / "params.yaml").read_text()
    findings = {f.rule.id: f.outcome for f in run_audit(root).findings}
    assert findings["L0-NB-05"] is Outcome.PASS and findings["L1-ENV-04"] is Outcome.PASS
    after = snapshot(root)
    assert run(root, "apply")[1].count("wrote ") == 0 and snapshot(root) == after


def test_existing_files_are_kept_merged_or_left_to_a_person(tmp_path: Path) -> None:
    dockerfile = "FROM python\nRUN pip install -r requirements.txt\n"
    gitignore = "secrets/\n"
    train = "def train(X, y):\n    return None\n"
    root = make_repo(
        tmp_path / "churn",
        {"train.py": TRAIN, "Dockerfile": dockerfile, ".gitignore": gitignore, "src/churn/__init__.py": "",
         "src/churn/train.py": train},
    )
    plan = build_plan(root, 2)
    kinds = {action.path: action.kind for action in plan.actions}
    assert kinds["Dockerfile"] == "manual" and kinds["src/churn/train.py"] == "kept"
    run(root, "apply", 2)
    assert (root / "Dockerfile").read_text() == dockerfile
    assert (root / "src/churn/train.py").read_text() == train
    assert (root / ".dockerignore").exists()


def test_a_symlinked_folder_is_never_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = make_repo(tmp_path / "churn", {"train.py": TRAIN})
    os.symlink(outside, root / ".github")
    plan = build_plan(root, 2)
    workflows = [a for a in plan.actions if a.path.startswith(".github/")]
    assert workflows and all(a.kind == "manual" and "symlink" in a.detail for a in workflows)
    run(root, "apply", 2)
    assert list(outside.iterdir()) == []
    with pytest.raises(files.UnsafePath):
        files.write_atomic(root, "../escape.txt", "x")


def test_a_file_changed_after_planning_is_skipped(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "churn", {"train.py": TRAIN})
    plan = build_plan(root, 1)
    (root / "train.py").write_text("print('edited meanwhile')\n")
    outcome = apply(root, plan.actions)
    assert ("train.py", "changed since the plan was made") in outcome.skipped
    assert (root / "train.py").read_text() == "print('edited meanwhile')\n"


def test_named_rules_plan_only_their_steps(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "churn", {"train.py": TRAIN})
    plan = build_plan(root, None, ["linters-configured", "ANY-SEC-01"])
    assert [step.step.name for step in plan.steps] == ["precommit"]
    assert plan.passing == ("ANY-SEC-01",) and plan.target is None
    with pytest.raises(AuditError):
        build_plan(root, None, ["L9-NOPE"])
    with pytest.raises(AuditError):
        build_plan(root, 3)
    with pytest.raises(PathError):
        scaffold(tmp_path / "missing", 1, (), "dry-run", io.StringIO())


def test_written_files_keep_the_mode_of_the_file_they_replace(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "churn", {"run.sh": "echo hi\n"})
    (root / "run.sh").chmod(0o755)
    files.write_atomic(root, "run.sh", "echo bye\n")
    assert (root / "run.sh").stat().st_mode & 0o777 == 0o755
    assert [p.name for p in root.iterdir() if p.name.endswith(".tmp")] == []
