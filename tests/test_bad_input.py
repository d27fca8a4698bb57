"""Broken input gives a clear note or finding and a normal exit, never a traceback; nothing is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_audit.audit import run_audit
from mlops_audit.cli import main
from mlops_audit.testing import make_repo

BROKEN = {
    "notebooks/broken.ipynb": "{ this is not json",
    "src/syntax.py": "def train(:\n    pass\n",
    "src/legacy.py": "print 'hello from python 2'\n",
    ".github/workflows/ci.yml": "on: [push\njobs: {\n",
    "dvc.yaml": "stages:\n  train:\n    cmd: [unclosed\n",
    "requirements.txt": "scikit-learn==1.4.2\n",
    "src/train.py": "from sklearn.linear_model import LogisticRegression\nLogisticRegression().fit([[0]], [0])\n",
}


def test_broken_files_become_notes_and_the_audit_completes(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", BROKEN)
    (root / "src" / "binary.py").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00binary")
    assessment = run_audit(root)
    notes = {note.path: note.message for note in assessment.notes}
    assert "not valid JSON" in notes["notebooks/broken.ipynb"] or "cannot be read" in notes["notebooks/broken.ipynb"]
    assert "does not parse" in notes["src/syntax.py"]
    assert "does not parse" in notes["src/legacy.py"]
    assert "binary" in notes["src/binary.py"]
    assert ".github/workflows/ci.yml" in notes
    assert "dvc.yaml" in notes
    assert assessment.applicable and assessment.level == 0


def test_broken_repository_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_repo(tmp_path / "repo", BROKEN)
    assert main(["audit", str(root), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"src/syntax.py", "notebooks/broken.ipynb"} <= {note["path"] for note in report["notes"]}


def test_empty_directory_is_not_applicable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["audit", str(tmp_path / "empty")]) == 0
    assert "No ML code found" in capsys.readouterr().out


def test_symlink_loop_and_escape_are_noted_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "secret.py"
    outside.write_text("import mlflow\nmlflow.register_model('x', 'y')\n")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "escape.py").symlink_to(outside)
    (root / "loop.py").symlink_to(root / "loop.py")
    assessment = run_audit(root)
    assert not any(e.path == "escape.py" for f in assessment.findings for e in f.evidence)
    assert any(note.path == "escape.py" and "outside" in note.message for note in assessment.notes)
