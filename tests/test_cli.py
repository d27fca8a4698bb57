"""The command line as a user runs it: exit codes, formats, the quality gate, rules and explain."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_audit.cli import main
from mlops_audit.testing import make_repo

LEVEL0 = {
    "train.ipynb": json.dumps(
        {
            "nbformat": 4, "nbformat_minor": 5, "metadata": {},
            "cells": [{"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
                       "source": ["import pickle\n", "from sklearn.linear_model import LogisticRegression\n",
                                  "model = LogisticRegression().fit(X, y)\n",
                                  "pickle.dump(model, open('/Users/ana/model.pkl', 'wb'))\n"]}],
        }
    ),
    "requirements.txt": "scikit-learn\n",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", LEVEL0)


def test_text_report_and_exit_zero(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(repo)]) == 0
    out = capsys.readouterr().out
    assert "Level 0" in out and "\x1b[" not in out


def test_json_to_file(repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    assert main(["audit", str(repo), "--format", "json", "-o", str(target)]) == 0
    report = json.loads(target.read_text())
    assert report["level"] == 0 and report["applicable"] is True
    assert {f["id"] for f in report["findings"]} >= {"L1-PIPE-01", "L0-REG-01"}


def test_quality_gate_fails_with_exit_one(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(repo), "--min-level", "1"]) == 1
    assert "level 0 is below the required level 1" in capsys.readouterr().err
    assert main(["audit", str(repo), "--fail-under", "1.5"]) == 1


def test_configuration_sets_the_gate_and_cli_overrides(repo: Path) -> None:
    (repo / "pyproject.toml").write_text("[tool.mlops-audit]\nmin-level = 1\n")
    assert main(["audit", str(repo)]) == 1
    assert main(["audit", str(repo), "--min-level", "0"]) == 0


def test_select_and_ignore(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(repo), "--format", "json", "--select", "L0", "--ignore", "L0-REG-01"]) == 0
    ids = {f["id"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert ids and all(i.startswith("L0-") for i in ids) and "L0-REG-01" not in ids


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["audit", "does-not-exist"], "no such file or directory"),
        (["audit", "--select", "L9-NOPE"], "matches no rule"),
        (["audit", "--format", "yaml"], "unknown format `yaml`"),
        (["explain", "L9-XX-99"], "no rule `L9-XX-99`"),
    ],
)
def test_usage_errors_exit_two_with_a_message(
    args: list[str], message: str, repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_file_instead_of_directory(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(repo / "requirements.txt")]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_broken_user_pack_names_file_and_rule(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack = tmp_path / "team.yaml"
    pack.write_text("rules:\n  - id: TEAM-PIPE-01\n    slug: x\n")
    assert main(["audit", str(repo), "--rules", str(pack)]) == 2
    err = capsys.readouterr().err
    assert "team.yaml: rule TEAM-PIPE-01" in err and "missing `title`" in err


def test_rules_and_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    listing = capsys.readouterr().out
    assert "L1-PIPE-01" in listing and "rules;" in listing
    assert main(["rules", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) >= 40
    assert main(["explain", "L1-PIPE-01"]) == 0
    text = capsys.readouterr().out
    assert "Why" in text and "How to fix" in text and "What it looks for" in text


def test_not_an_ml_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path / "lib", {"src/lib/__init__.py": "def add(a, b):\n    return a + b\n"})
    assert main(["audit", str(repo), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["applicable"] is False


def test_module_entry_point_runs(repo: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mlops_audit", "audit", str(repo), "--min-level", "2"],
        capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.returncode == 1 and "Level 0" in done.stdout and "below the required level 2" in done.stderr


def test_several_reports_in_one_run(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sarif, summary, junit = tmp_path / "audit.sarif", tmp_path / "summary.md", tmp_path / "junit.xml"
    args = ["audit", str(repo), "-o", str(sarif), "-o", str(summary), "--format", f"junit:{junit}", "--format", "json"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["level"] == 0
    assert json.loads(sarif.read_text())["version"] == "2.1.0"
    assert summary.read_text().startswith("#") and "<testsuites" in junit.read_text()


def test_baseline_fails_only_on_new_findings(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baseline = tmp_path / "baseline.json"
    assert main(["audit", str(repo), "--write-baseline", str(baseline)]) == 0
    assert main(["audit", str(repo), "--baseline", str(baseline)]) == 0
    (repo / "notebooks").mkdir()
    (repo / "notebooks" / "model.pkl").write_bytes(b"\x80\x04K\x01.")
    capsys.readouterr()
    assert main(["audit", str(repo), "--baseline", str(baseline)]) == 1
    assert "new finding" in capsys.readouterr().err


def test_fail_on_and_exit_zero(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(repo), "--fail-on", "gate"]) == 1
    assert "severity `gate`" in capsys.readouterr().err
    assert main(["audit", str(repo), "--fail-on", "gate", "--exit-zero"]) == 0


def test_init_writes_once(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(repo)]) == 0
    assert (repo / ".mlops-audit.toml").is_file()
    assert main(["init", str(repo)]) == 2
    assert main(["audit", str(repo)]) == 0


def test_scaffold_shows_a_plan_then_applies_it(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = sorted(p.relative_to(repo) for p in repo.rglob("*") if ".git" not in p.parts)
    assert main(["scaffold", str(repo), "--to-level", "1"]) == 0
    assert "Plan" in capsys.readouterr().out
    assert sorted(p.relative_to(repo) for p in repo.rglob("*") if ".git" not in p.parts) == before
    assert main(["scaffold", str(repo), "--to-level", "1", "--apply"]) == 0
    assert (repo / "params.yaml").is_file()


def test_facts_cache_lives_in_the_user_cache_folder(repo: Path, _private_cache_home: Path) -> None:
    assert main(["audit", str(repo), "--no-cache"]) == 0
    assert not (_private_cache_home / "mlops-audit").exists()
    assert main(["audit", str(repo)]) == 0
    assert (_private_cache_home / "mlops-audit" / "facts.sqlite3").is_file()
    assert not any(p.name.startswith("facts.sqlite3") for p in repo.rglob("*"))
