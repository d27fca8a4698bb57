"""The pre-commit hooks, run by the real pre-commit tool from a git copy of this checkout (slow: one install).

Skipped when pre-commit is not installed, except in CI (`CI=true`), where that is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import git
import pytest
import yaml

from mlops_audit.cli import cli
from mlops_audit.testing import make_repo

PROJECT = Path(__file__).resolve().parent.parent
HOOKS = {hook["id"]: hook for hook in yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text())}

if importlib.util.find_spec("pre_commit") is None and os.environ.get("CI") != "true":
    pytest.skip("pre-commit is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def hooks_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout's files (committed and new, not ignored) committed to a fresh repository."""
    root = tmp_path_factory.mktemp("hooks-repo")
    source = git.Repo(PROJECT)
    listed = source.git.ls_files("-z", "--cached", "--others", "--exclude-standard").split("\0")
    source.close()
    for name in listed:
        if name and (PROJECT / name).is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT / name, root / name)
    return make_repo(root, {})


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One hook environment for the module: pre-commit installs the hooks repository into it once."""
    return tmp_path_factory.mktemp("pre-commit-home")


def try_repo(hooks_repo: Path, home: Path, target: Path, hook: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home)}
    env.pop("PRE_COMMIT", None)
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(hooks_repo), hook, *args]
    return subprocess.run(command, cwd=target, env=env, capture_output=True, text=True, timeout=900)


def test_manifest_patterns_select_the_files_that_bear_on_maturity() -> None:
    files = re.compile(HOOKS["mlops-audit"]["files"])
    wanted = ["src/train.py", "nb/eda.ipynb", "data/raw.csv.dvc", "dvc.yaml", "dvc.lock", "MLproject",
              ".github/workflows/ci.yml", ".gitlab-ci.yml", "Jenkinsfile", "azure-pipelines.yml", ".circleci/config.yml",
              "bitbucket-pipelines.yml", "cloudbuild.yaml", "Dockerfile", "docker/Dockerfile.gpu", "requirements-dev.txt",
              "pyproject.toml", ".dvc/config"]
    assert [path for path in wanted if not files.search(path)] == []
    assert [path for path in ["README.md", "data/raw.csv", "docs/Dockerfile-notes.md"] if files.search(path)] == []
    assert HOOKS["mlops-audit"]["pass_filenames"] is False and HOOKS["mlops-audit"]["require_serial"] is True
    assert HOOKS["mlops-audit-lint"].get("pass_filenames", True) is True
    assert {hook["language"] for hook in HOOKS.values()} == {"python"}


def test_audit_hook_gates_on_the_configured_level_and_skips_unrelated_changes(
    hooks_repo: Path, pre_commit_home: Path, tmp_path: Path
) -> None:
    target = make_repo(tmp_path / "project", {
        "pyproject.toml": "[tool.mlops-audit]\nmin-level = 1\n",
        "notebooks/train.ipynb": '{"cells": [{"cell_type": "code", "execution_count": 1, "metadata": {}, '
                                 '"outputs": [], "source": ["import sklearn\\nmodel.fit(X, y)"]}], '
                                 '"metadata": {}, "nbformat": 4, "nbformat_minor": 4}',
        "README.md": "# churn\n",
    })
    failed = try_repo(hooks_repo, pre_commit_home, target, "mlops-audit", "--all-files")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "quality gate failed: level 0 is below the required level 1" in failed.stdout

    skipped = try_repo(hooks_repo, pre_commit_home, target, "mlops-audit", "--files", "README.md")
    assert skipped.returncode == 0 and "Skipped" in skipped.stdout


def test_lint_hook_reports_each_problem_of_the_files_passed(
    hooks_repo: Path, pre_commit_home: Path, tmp_path: Path
) -> None:
    if "lint" not in cli.commands:
        pytest.skip("the CLI has no `lint` command yet")
    target = make_repo(tmp_path / "project", {
        "src/load.py": "import pandas as pd\n\ndf = pd.read_csv('/Users/ana/churn.csv')\n",
        "src/clean.py": "print('ok')\n",
        "models/model.pkl": "pickled",
    })
    failed = try_repo(hooks_repo, pre_commit_home, target, "mlops-audit-lint", "--files", "src/load.py",
                      "src/clean.py", "models/model.pkl")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "src/load.py:3: L0-NB-05 machine-specific absolute path: /Users/ana/churn.csv" in failed.stdout
    assert "models/model.pkl: L0-REG-01" in failed.stdout
    assert "problems in" not in failed.stdout  # terse under pre-commit: no summary line

    passed = try_repo(hooks_repo, pre_commit_home, target, "mlops-audit-lint", "--files", "src/clean.py")
    assert passed.returncode == 0, passed.stdout + passed.stderr
