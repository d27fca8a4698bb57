"""Baselines: record today's findings, then report only the new ones, even after lines move."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_audit.audit import run_audit
from mlops_audit.baseline import new_findings, read_baseline, write_baseline
from mlops_audit.errors import AuditError
from mlops_audit.model import Outcome
from mlops_audit.testing import make_repo, write_tree

TRAIN = (
    "import pandas as pd\n"
    "from sklearn.linear_model import LogisticRegression\n"
    "\n"
    'df = pd.read_csv("/Users/ana/Downloads/churn.csv")\n'
    "LogisticRegression().fit(df, df)\n"
)


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"src/train.py": TRAIN, "requirements.txt": "pandas\nscikit-learn\n"})


def test_round_trip_records_failing_and_partial_findings_sorted(repo: Path, tmp_path: Path) -> None:
    assessment = run_audit(repo)
    path = tmp_path / "baseline.json"
    count = write_baseline(assessment, path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["version"] == 1 and len(document["entries"]) == count > 0
    keys = [(e["rule"], e["path"] or "", e["fingerprint"]) for e in document["entries"]]
    assert keys == sorted(keys)
    failing = {f.rule.id for f in assessment.findings if f.outcome in (Outcome.FAIL, Outcome.PARTIAL)}
    assert {e["rule"] for e in document["entries"]} == failing
    assert {"rule": "L0-NB-05", "path": "src/train.py"}.items() <= next(
        e for e in document["entries"] if e["rule"] == "L0-NB-05"
    ).items()
    assert new_findings(assessment, path) == []
    write_baseline(run_audit(repo), tmp_path / "again.json")
    assert (tmp_path / "again.json").read_bytes() == path.read_bytes()  # deterministic


def test_findings_stay_known_when_lines_move(repo: Path, tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    write_baseline(run_audit(repo), path)
    moved = TRAIN.replace("\ndf =", '\n"""Train the churn model."""\nimport os\n\n\ndf =')
    write_tree(repo, {"src/train.py": moved})
    after = run_audit(repo)
    nb05 = next(f for f in after.findings if f.rule.id == "L0-NB-05")
    assert nb05.evidence[0].line == 8  # the evidence moved down four lines
    assert new_findings(after, path) == []


def test_a_new_occurrence_makes_the_finding_new(repo: Path, tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    write_baseline(run_audit(repo), path)
    write_tree(repo, {"src/score.py": 'import pandas as pd\n\nx = pd.read_csv("/home/bob/data.csv")\n'})
    assert [f.rule.id for f in new_findings(run_audit(repo), path)] == ["L0-NB-05"]


def test_suppressed_findings_are_left_out(repo: Path, tmp_path: Path) -> None:
    suppressed = TRAIN.replace("churn.csv\")", "churn.csv\")  # mlops-audit: ignore[L0-NB-05] shared runner")
    write_tree(repo, {"src/train.py": suppressed})
    path = tmp_path / "baseline.json"
    write_baseline(run_audit(repo), path)
    assert all(entry.rule != "L0-NB-05" for entry in read_baseline(path))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "not valid JSON"),
        ('{"version": 99, "entries": []}', "not an mlops-audit baseline"),
        ("[1, 2]", "not an mlops-audit baseline"),
        ('{"version": 1, "entries": [{"rule": "L0-NB-05"}]}', "`entries` must be a list"),
        ('{"version": 1}', "`entries` must be a list"),
    ],
)
def test_missing_or_corrupt_baseline_is_a_clear_error(
    repo: Path, tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "baseline.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(AuditError, match="baseline") as error:
        new_findings(run_audit(repo), path)
    assert message in str(error.value)
