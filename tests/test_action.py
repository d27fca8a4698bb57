"""The GitHub Action (action.yml and its script, run for real) and the GitLab CI template."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlops_audit.testing import make_repo

PROJECT = Path(__file__).resolve().parent.parent
SCRIPT = PROJECT / "ci" / "action-run.sh"
FIXTURE = PROJECT / "fixtures" / "level1-dvc-pipeline"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURE, root)
    return make_repo(root, {}, commits=2)


def run_action(tmp_path: Path, repo: Path, **inputs: str) -> tuple[subprocess.CompletedProcess[str], str]:
    """The action's run step, with this checkout's CLI as `MLOPS_AUDIT`; returns the process and the summary."""
    command = tmp_path / "mlops-audit"
    command.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m mlops_audit "$@"\n')
    command.chmod(0o755)
    summary = tmp_path / "summary.md"
    summary.write_text("# Earlier step\n")
    env = {
        "PATH": os.environ["PATH"], "PYTHONPATH": str(PROJECT), "MLOPS_AUDIT": str(command),
        "GITHUB_STEP_SUMMARY": str(summary), "AUDIT_PATH": str(repo), "XDG_CACHE_HOME": str(tmp_path / "cache"),
        **inputs,
    }
    done = subprocess.run(["bash", str(SCRIPT)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    return done, summary.read_text()


def test_action_metadata_is_a_composite_action_with_documented_inputs() -> None:
    action = yaml.safe_load((PROJECT / "action.yml").read_text())
    assert action["name"] and action["description"]
    assert set(action["inputs"]) >= {"path", "min-level", "fail-under", "formats", "python-version"}
    assert all(spec.get("description") and "default" in spec for spec in action["inputs"].values())
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    assert steps[0]["uses"].startswith("actions/setup-python@")
    assert steps[0]["with"]["update-environment"] is False
    for step in steps:
        if "run" in step:
            assert step["shell"] == "bash"
            assert "${{" not in step["run"], "inputs reach scripts through env, never by interpolation"
    used = {name for step in steps for name in re.findall(r"inputs\.([\w-]+)", json.dumps(step))}
    assert used == set(action["inputs"])
    assert "ci/action-run.sh" in steps[-1]["run"] and SCRIPT.is_file()


def test_one_run_writes_every_report_and_its_gate_is_the_exit_code(tmp_path: Path, repo: Path) -> None:
    failed, summary = run_action(tmp_path, repo, MIN_LEVEL="2", FORMATS="json:report.json, sarif:report.sarif")
    assert failed.returncode == 1, failed.stderr
    assert "quality gate failed: level 1 is below the required level 2" in failed.stderr
    assert json.loads((tmp_path / "report.json").read_text())["level"] == 1
    assert json.loads((tmp_path / "report.sarif").read_text())["version"] == "2.1.0"
    assert "Level 1" in failed.stdout  # the readable report in the log
    assert summary.startswith("# Earlier step\n") and "Level 1" in summary[len("# Earlier step\n"):]

    passed, _ = run_action(tmp_path, repo, MIN_LEVEL="1", FAIL_UNDER="1.0", ARGS="--ignore L0-NB-05")
    assert passed.returncode == 0, passed.stderr


def test_a_bare_format_replaces_the_text_report_in_the_log(tmp_path: Path, repo: Path) -> None:
    done, _ = run_action(tmp_path, repo, FORMATS="github")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("::") and "Level 1 —" not in done.stdout


def test_errors_exit_2(tmp_path: Path, repo: Path) -> None:
    missing, _ = run_action(tmp_path, repo, AUDIT_PATH=str(tmp_path / "missing"))
    assert missing.returncode == 2 and "no such file or directory" in missing.stderr
    bad, _ = run_action(tmp_path, repo, FORMATS="no-such-format:x.out")
    assert bad.returncode == 2 and "unknown format" in bad.stderr


def test_gitlab_template_uploads_a_code_quality_report() -> None:
    template = yaml.safe_load((PROJECT / "ci" / "gitlab" / "mlops-audit.gitlab-ci.yml").read_text())
    job = template["mlops-audit"]
    assert job["image"].startswith("python:")
    script = " ".join(job["script"])
    assert "pip install" in script
    assert "--format gitlab:gl-code-quality-report.json" in script
    assert job["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    assert job["artifacts"]["when"] == "always"
