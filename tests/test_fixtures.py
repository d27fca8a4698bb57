"""The bundled example repositories audit to the level an expert gives them, with a schema-valid JSON report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from mlops_audit.audit import run_audit
from mlops_audit.model import Outcome
from mlops_audit.reporters import json_report
from mlops_audit.testing import make_repo

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EXPECTED = {"level0-notebook-churn": 0, "level1-dvc-pipeline": 1, "level2-cicd-platform": 2}


def fixture_repo(name: str, tmp_path: Path) -> Path:
    """A copy of the fixture as a git repository with a short history."""
    root = tmp_path / name
    shutil.copytree(FIXTURES / name, root)
    return make_repo(root, {}, commits=3)


@pytest.mark.parametrize(("name", "level"), sorted(EXPECTED.items()))
def test_fixture_reaches_its_level(name: str, level: int, tmp_path: Path) -> None:
    assessment = run_audit(fixture_repo(name, tmp_path))
    assert assessment.applicable
    failed = {f.rule.id: f.message for f in assessment.findings if f.gate_failed and f.rule.level == level + 1}
    assert assessment.level == level, f"gates: {[ls.failed_gates for ls in assessment.levels]}; {failed}"
    assert level <= assessment.score <= level + 1


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_json_report_is_valid_and_deterministic(name: str, tmp_path: Path) -> None:
    root = fixture_repo(name, tmp_path)
    first = json_report.render(run_audit(root, shown_root=name))
    second = json_report.render(run_audit(root, shown_root=name))
    assert first == second
    schema = json.loads(json_report.schema_path().read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(json.loads(first))


def test_level0_findings_point_at_the_evidence(tmp_path: Path) -> None:
    assessment = run_audit(fixture_repo("level0-notebook-churn", tmp_path))
    by_id = {f.rule.id: f for f in assessment.findings}
    handoff = by_id["L0-REG-01"]
    assert handoff.outcome is Outcome.FAIL
    assert any(e.path.endswith(".pkl") for e in handoff.evidence)
    paths = by_id["L0-NB-05"]
    assert paths.outcome is Outcome.FAIL
    assert any(e.path.endswith(".ipynb") and e.cell for e in paths.evidence)


def test_audit_never_writes_into_the_repository(tmp_path: Path) -> None:
    root = fixture_repo("level1-dvc-pipeline", tmp_path)
    before = sorted((p.relative_to(root), p.stat().st_mtime_ns) for p in root.rglob("*"))
    run_audit(root)
    assert sorted((p.relative_to(root), p.stat().st_mtime_ns) for p in root.rglob("*")) == before
