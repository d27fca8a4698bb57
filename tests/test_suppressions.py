"""Suppressions: inline `# mlops-audit: ignore[...]` comments and the configuration's `suppress` entries."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_audit.audit import AuditOptions, run_audit
from mlops_audit.config import load_config
from mlops_audit.model import Assessment, Evidence, Finding, Note, Outcome
from mlops_audit.reporters import json_report, text
from mlops_audit.suppressions import InlineSuppression, scan_source
from mlops_audit.testing import make_repo

TRAIN = (
    "import pandas as pd\n"
    "from sklearn.linear_model import LogisticRegression\n"
    "\n"
    "{comment}"
    'df = pd.read_csv("/Users/ana/Downloads/churn.csv"){tail}\n'
    "LogisticRegression().fit(df, df)\n"
)
NOTEBOOK_LINE = 'df = pd.read_csv("/content/drive/churn.csv"){tail}\n'
WORKFLOW = (
    "on:\n"
    "  schedule:\n"
    "    - cron: '0 5 * * 1'\n"
    "jobs:\n"
    "  retrain:{tail}\n"
    "    runs-on: ubuntu-latest\n"
    "    steps:\n"
    "      - run: dvc repro\n"
)


def notebook(*cells: str) -> str:
    return json.dumps({
        "cells": [
            {"cell_type": "code", "execution_count": n, "metadata": {}, "outputs": [], "source": source}
            for n, source in enumerate(cells, 1)
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    })


def repo_files(
    py_comment: str = "", py_tail: str = "", nb_tail: str = "", ci_tail: str = "", **extra: str
) -> dict[str, str]:
    return {
        "src/train.py": TRAIN.format(comment=py_comment, tail=py_tail),
        "notebooks/eda.ipynb": notebook("import pandas as pd\n", NOTEBOOK_LINE.format(tail=nb_tail)),
        "dvc.yaml": "stages:\n  train:\n    cmd: python src/train.py\n",
        ".github/workflows/retrain.yml": WORKFLOW.format(tail=ci_tail),
        **extra,
    }


def audit(tmp_path: Path, files: dict[str, str], with_config: bool = False) -> Assessment:
    root = make_repo(tmp_path / "repo", files)
    options = AuditOptions(suppress=load_config(root).suppress) if with_config else AuditOptions()
    return run_audit(root, options)


def finding(assessment: Assessment, rule: str) -> Finding:
    return next(f for f in assessment.findings if f.rule.id == rule)


def suppression_notes(assessment: Assessment) -> list[Note]:
    return [note for note in assessment.notes if note.kind == "suppression"]


def test_inline_suppressions_in_python_a_notebook_cell_and_a_workflow(tmp_path: Path) -> None:
    assessment = audit(tmp_path, repo_files(
        py_comment="# mlops-audit: ignore[L0-NB-05] the shared runner mounts this path\n",
        nb_tail="  # mlops-audit: ignore[L0-NB-05] Colab demo",
        ci_tail="  # mlops-audit: ignore[L2-TEST-03]: the nightly run is our integration test",
    ))
    paths = finding(assessment, "L0-NB-05")
    assert paths.outcome is Outcome.FAIL  # the outcome is kept; the decision is recorded beside it
    assert paths.suppression is not None
    assert paths.suppression.reason == "Colab demo"  # the one covering the first evidence item (sorted by path)
    assert (paths.suppression.source.path, paths.suppression.source.cell, paths.suppression.source.line) == (
        "notebooks/eda.ipynb", 2, 1
    )
    ci = finding(assessment, "L2-TEST-03")
    assert ci.outcome is Outcome.PARTIAL
    assert ci.suppression is not None and ci.suppression.reason == "the nightly run is our integration test"
    assert ci.suppression.source == Evidence(
        ".github/workflows/retrain.yml", 5, None,
        "# mlops-audit: ignore[L2-TEST-03]: the nightly run is our integration test",
    )
    assert suppression_notes(assessment) == []


def test_partly_covered_evidence_keeps_the_finding_and_says_why(tmp_path: Path) -> None:
    assessment = audit(tmp_path, repo_files(py_tail="  # mlops-audit: ignore[L0-NB-05] the shared runner path"))
    assert finding(assessment, "L0-NB-05").suppression is None
    [note] = suppression_notes(assessment)
    assert note.path == "src/train.py"
    assert "covers only part of the evidence of L0-NB-05" in note.message
    assert "notebooks/eda.ipynb cell 2:1" in note.message


def test_own_line_comment_applies_to_the_next_non_blank_line_only(tmp_path: Path) -> None:
    skipping_blank = "# mlops-audit: ignore[L0-NB-05] shared path\n\n"
    nb_suppressed = {"nb_tail": "  # mlops-audit: ignore[L0-NB-05] demo"}
    kept = audit(tmp_path / "a", repo_files(py_comment=skipping_blank, **nb_suppressed))
    assert finding(kept, "L0-NB-05").suppression is not None
    too_far = "# mlops-audit: ignore[L0-NB-05] shared path\nimport os\n"
    missed = audit(tmp_path / "b", repo_files(py_comment=too_far, **nb_suppressed))
    assert finding(missed, "L0-NB-05").suppression is None
    assert any("src/train.py" == note.path and "line 4" in note.message for note in suppression_notes(missed))


def test_scan_source_targets() -> None:
    source = (
        "x = 1  # mlops-audit: ignore[L0-NB-05] end of line\n"
        "# mlops-audit: ignore[a-b-01, L1-ENV-02] stacked\n"
        "   # mlops-audit: ignore[L2-CI-01] — second of the stack\n"
        "\n"
        "y = 2\n"
        "# mlops-audit: ignore[L0-VCS-01] nothing follows\n"
    )
    found: list[InlineSuppression] = []
    notes: list[Note] = []
    scan_source("src/x.py", None, source, found, notes)
    assert [(s.rules, s.reason, s.source.line, s.target) for s in found] == [
        (("L0-NB-05",), "end of line", 1, 1),
        (("A-B-01", "L1-ENV-02"), "stacked", 2, 5),
        (("L2-CI-01",), "second of the stack", 3, 5),
        (("L0-VCS-01",), "nothing follows", 6, None),
    ]
    assert notes == []


def test_scan_source_reports_malformed_comments() -> None:
    source = (
        "a = 1  # mlops-audit: ignore[L0-NB-05]\n"
        "b = 2  # mlops-audit: ignore[] why\n"
        "c = 3  # mlops-audit: ignore L0-NB-05 because\n"
        "d = 4  # mlops-audit: disable[L0-NB-05] because\n"
        "e = 5  # mlops-audit: is run in CI\n"
    )
    found: list[InlineSuppression] = []
    notes: list[Note] = []
    scan_source("nb.ipynb", 3, source, found, notes)
    assert found == []
    messages = [note.message for note in notes]
    assert messages[0].startswith("cell 3, line 1: suppression ignore[L0-NB-05] has no reason, so it is not applied")
    assert messages[1] == "cell 3, line 2: suppression names no rule; write the rule ids inside `ignore[...]`"
    assert all("not understood" in message for message in messages[2:]) and len(messages) == 4
    assert {note.kind for note in notes} == {"suppression"}


def test_unknown_reasonless_and_unused_suppressions_are_notes(tmp_path: Path) -> None:
    assessment = audit(tmp_path, repo_files(
        py_tail="  # mlops-audit: ignore[L0-NB-05]",
        nb_tail="  # mlops-audit: ignore[L9-XX-01, L1-ENV-02] not ours",
        ci_tail="  # mlops-audit: ignore[L0-VCS-02] stale",
    ))
    assert finding(assessment, "L0-NB-05").suppression is None
    messages = {(note.path, note.message) for note in suppression_notes(assessment)}
    assert any(path == "src/train.py" and "has no reason" in text for path, text in messages)
    assert any(path == "notebooks/eda.ipynb" and "unknown rule id `L9-XX-01`" in text for path, text in messages)
    assert any(path == "notebooks/eda.ipynb" and "L1-ENV-02 has evidence here (unused)" in text
               for path, text in messages)
    assert any(path == ".github/workflows/retrain.yml" and "L0-VCS-02" in text and "unused" in text
               for path, text in messages)


def test_deselected_rules_are_neither_applied_nor_reported(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", repo_files(py_tail="  # mlops-audit: ignore[L0-NB-05] shared path"))
    assessment = run_audit(root, AuditOptions(select=("L1",)))
    assert suppression_notes(assessment) == []


def test_configuration_entries_suppress_findings_with_and_without_evidence(tmp_path: Path) -> None:
    pyproject = (
        "[tool.mlops-audit]\n"
        "suppress = [\n"
        '  {rule = "L1-FS-01", reason = "batch predictions only"},\n'
        '  {rule = "l0-nb-05", reason = "demo material", paths = ["notebooks/*", "src/*.py"]},\n'
        '  {rule = "L1-ENV-03", reason = "only for the notebooks", paths = ["notebooks/*"]},\n'
        '  {rule = "L7-ZZ-01", reason = "typo"},\n'
        "]\n"
    )
    assessment = audit(tmp_path, repo_files(**{"pyproject.toml": pyproject}), with_config=True)
    store = finding(assessment, "L1-FS-01")
    assert store.evidence == () and store.outcome is Outcome.FAIL
    assert store.suppression is not None and store.suppression.reason == "batch predictions only"
    assert store.suppression.source.path == "pyproject.toml" and store.suppression.source.line == 3
    assert finding(assessment, "L0-NB-05").suppression.reason == "demo material"
    assert finding(assessment, "L1-ENV-03").suppression is None  # no evidence: a path-restricted entry cannot cover it
    messages = sorted(note.message for note in suppression_notes(assessment))
    assert any("line 5: suppress entry for L1-ENV-03" in m and "(unused)" in m for m in messages)
    assert any("unknown rule id `L7-ZZ-01`" in m for m in messages)


def test_suppressed_findings_count_as_not_applicable_but_gates_stay_unmet(tmp_path: Path) -> None:
    pyproject = '[tool.mlops-audit]\nsuppress = [{rule = "L1-CODE-02", reason = "a single script is enough"}]\n'
    plain = audit(tmp_path / "a", repo_files())
    suppressed = audit(tmp_path / "b", repo_files(**{"pyproject.toml": pyproject}), with_config=True)
    assert "L1-CODE-02" in suppressed.levels[1].failed_gates
    assert suppressed.level == plain.level == 0
    assert suppressed.levels[1].coverage > plain.levels[1].coverage
    assert suppressed.levels[1].counts["suppressed"] == 1
    assert suppressed.levels[1].counts["fail"] == plain.levels[1].counts["fail"]


def test_passing_findings_are_never_suppressed(tmp_path: Path) -> None:
    assessment = audit(tmp_path, repo_files(ci_tail="  # mlops-audit: ignore[L1-CT-01] scheduled on purpose"))
    scheduled = finding(assessment, "L1-CT-01")
    assert scheduled.outcome is Outcome.PASS and scheduled.evidence[0].line == 5
    assert scheduled.suppression is None
    assert any("L1-CT-01" in note.message and "(unused)" in note.message for note in suppression_notes(assessment))


def test_a_broken_notebook_with_the_marker_is_skipped(tmp_path: Path) -> None:
    files = repo_files(**{"notebooks/broken.ipynb": '{"cells": [ # mlops-audit: ignore[L0-NB-05] x'})
    assessment = audit(tmp_path, files)
    assert finding(assessment, "L0-NB-05").suppression is None


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("#mlops-audit:ignore[]L0-NB-05, \n\r\tx")), max_size=200),
       st.one_of(st.none(), st.integers(1, 5)))
def test_scanning_arbitrary_text_never_raises(text: str, cell: int | None) -> None:
    found: list[InlineSuppression] = []
    notes: list[Note] = []
    scan_source("f.py", cell, text, found, notes)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for item in found:
        assert item.reason and item.rules
        assert item.target is None or item.source.line <= item.target <= len(lines)


def test_hash_comment_configuration_files_are_scanned(tmp_path: Path) -> None:
    key = "aws_access_key_id = AKIAQWERTYUIOPASDFGH"
    files = repo_files(**{"config/settings.ini": f"[aws]\n{key}  # mlops-audit: ignore[ANY-SEC-01] revoked in 2023\n"})
    secret = finding(audit(tmp_path, files), "ANY-SEC-01")
    assert secret.outcome is Outcome.FAIL and [e.path for e in secret.evidence] == ["config/settings.ini"]
    assert secret.suppression is not None and secret.suppression.reason == "revoked in 2023"


def test_suppressed_findings_are_shown_with_their_reason_in_text_and_json(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {
        "train.py": "from sklearn.svm import SVC\nSVC().fit(X, y)\n# mlops-audit: ignore[L0-NB-05] the shared drive is mounted on every runner\n"
                    "DATA = '/Users/ana/data.csv'\n",
    })
    assessment = run_audit(root)
    [finding] = [f for f in assessment.findings if f.rule.id == "L0-NB-05"]
    assert finding.suppression is not None
    report = text.render(assessment, color=False)
    assert "Suppressed (accepted by the team)" in report and "shared drive is mounted" in report
    [entry] = [f for f in json.loads(json_report.render(assessment))["findings"] if f["id"] == "L0-NB-05"]
    assert entry["suppression"]["reason"] == "the shared drive is mounted on every runner"
    assert entry["suppression"]["source"]["line"] == 3
