"""The file-level lint: the problems of the files given, one terse line each, and nothing about other files."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops_audit.audit import AuditOptions
from mlops_audit.lint import lint, render_lint
from mlops_audit.testing import make_repo

MB = 1_000_000


def notebook(*cells: tuple[int | None, str, bool]) -> str:
    """A notebook of code cells given as (execution count, source, has an output)."""
    return json.dumps({
        "cells": [
            {"cell_type": "code", "execution_count": count, "metadata": {}, "source": [source],
             "outputs": [{"name": "stdout", "output_type": "stream", "text": ["0.91\n"]}] if output else []}
            for count, source, output in cells
        ],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 4,
    })


def lines(root: Path, files: list[str], **options: object) -> list[str]:
    return render_lint(lint(root, files, AuditOptions(**options)), terse=True).splitlines()


def test_each_file_level_problem_is_one_line_with_its_place(tmp_path: Path) -> None:
    make_repo(tmp_path, {
        "nb/eda.ipynb": notebook((5, "x = 1", True), (2, "df = open('/Users/ana/churn.csv')", False)),
        "src/load.py": "import pandas as pd\n\ndf = pd.read_csv('/home/bob/churn.csv')\n",
        "src/db.py": "import boto3\nKEY = 'AKIAIOSFODNN7EXAMPLF'\n",
        "data/raw.csv": {"size": 12 * MB},
        "models/model.pkl": "pickled",
    })
    assert lines(tmp_path, ["nb/eda.ipynb", "src/load.py", "src/db.py", "data/raw.csv", "models/model.pkl"]) == [
        "data/raw.csv: L0-DATA-01 large dataset committed outside DVC or git-lfs: 12.0 MB",
        "models/model.pkl: L0-REG-01 model file committed outside DVC or git-lfs: 0.0 kB",
        "nb/eda.ipynb: L0-VCS-04 notebook saved with outputs; strip them (nbstripout) or pair it with jupytext",
        "nb/eda.ipynb cell 2: L0-NB-02 notebook executed out of order; restart the kernel and run all cells",
        "nb/eda.ipynb cell 2:1: L0-NB-05 machine-specific absolute path: /Users/ana/churn.csv",
        "src/db.py:2: ANY-SEC-01 hard-coded secret or credential file: KEY = 'AKIA…'",
        "src/load.py:3: L0-NB-05 machine-specific absolute path: /home/bob/churn.csv",
    ]


def test_only_the_files_given_are_linted(tmp_path: Path) -> None:
    make_repo(tmp_path, {
        "src/clean.py": "print('ok')\n",
        "src/dirty.py": "open('/Users/ana/x.csv')\n",
        "data/raw.csv": {"size": 12 * MB},
    })
    result = lint(tmp_path, ["src/clean.py", "missing.py", "../outside.py", str(tmp_path / "src" / "clean.py")])
    assert result.files == ("src/clean.py",) and not result.problems
    assert render_lint(result, terse=False) == "0 problems in 1 file checked\n"
    assert render_lint(result, terse=True) == ""


def test_dvc_and_lfs_coverage_is_read_from_the_folders_of_the_files(tmp_path: Path) -> None:
    make_repo(tmp_path, {
        "data/pointer.csv": {"size": 12 * MB},
        "data/pointer.csv.dvc": "outs:\n- md5: 9e107d9d372bb6826bd81d3542a419d6\n  path: pointer.csv\n",
        "raw/part-1.parquet": {"size": 12 * MB},
        "raw.dvc": "outs:\n- md5: 3f2a1c9e8b7d6a5f4e3d2c1b0a9f8e7d.dir\n  path: raw\n",
        "pipeline/models/model.pt": {"size": 2 * MB},
        "pipeline/dvc.yaml": "stages:\n  train:\n    cmd: python train.py\n    outs:\n    - models/model.pt\n",
        "assets/weights.h5": {"size": 30 * MB},
        "assets/.gitattributes": "*.h5 filter=lfs diff=lfs merge=lfs -text\n",
        "other/big.csv": {"size": 12 * MB},
    })
    files = ["data/pointer.csv", "raw/part-1.parquet", "pipeline/models/model.pt", "assets/weights.h5", "other/big.csv"]
    assert lines(tmp_path, files) == ["other/big.csv: L0-DATA-01 large dataset committed outside DVC or git-lfs: 12.0 MB"]


def test_a_small_dataset_and_stripped_or_paired_notebooks_pass(tmp_path: Path) -> None:
    make_repo(tmp_path, {
        "data/sample.csv": "a,b\n1,2\n",
        "nb/clean.ipynb": notebook((None, "x = 1", False)),
        "paired/eda.ipynb": notebook((1, "x = 1", True)),
    })
    assert lines(tmp_path, ["data/sample.csv", "nb/clean.ipynb"]) == []
    assert lines(tmp_path, ["paired/eda.ipynb"])[0].startswith("paired/eda.ipynb: L0-VCS-04")
    (tmp_path / "jupytext.toml").write_text('formats = "ipynb,py:percent"\n')
    assert lines(tmp_path, ["paired/eda.ipynb"]) == []


def test_unseeded_randomness_in_python_files(tmp_path: Path) -> None:
    make_repo(tmp_path, {
        "src/train.py": (
            "from sklearn.model_selection import train_test_split\n"
            "from sklearn.ensemble import RandomForestClassifier\n"
            "X_train, X_test = train_test_split(X, test_size=0.2)\n"
            "model = RandomForestClassifier(n_estimators=50, random_state=0)\n"
        ),
        "src/seeded.py": (
            "import numpy as np\nfrom sklearn.model_selection import train_test_split\n"
            "np.random.seed(0)\nparts = train_test_split(X)\n"
        ),
        "src/configured.py": "from sklearn.tree import DecisionTreeClassifier\nmodel = DecisionTreeClassifier(**params)\n",
        "tests/test_split.py": "from sklearn.model_selection import train_test_split\ntrain_test_split([1, 2])\n",
    })
    files = ["src/train.py", "src/seeded.py", "src/configured.py", "tests/test_split.py"]
    assert lines(tmp_path, files) == [
        "src/train.py:3: L1-ENV-04 no random_state and no seed set in this file: train_test_split(X, test_size=0.2)",
    ]


def test_suppressions_and_selection_apply_as_in_the_audit(tmp_path: Path) -> None:
    make_repo(tmp_path, {
        "src/a.py": "open('/Users/ana/x.csv')  # mlops-audit: ignore[L0-NB-05] demo machine only\n",
        "src/b.py": "open('/Users/ana/y.csv')\n",
        "models/model.pkl": "pickled",
    })
    files = ["src/a.py", "src/b.py", "models/model.pkl"]
    assert [line.split(": ")[1].split()[0] for line in lines(tmp_path, files)] == ["L0-REG-01", "L0-NB-05"]
    assert lines(tmp_path, files, ignore=("L0-REG",)) == [
        "src/b.py:1: L0-NB-05 machine-specific absolute path: /Users/ana/y.csv"
    ]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=300), suffix=st.sampled_from([".py", ".ipynb", ".csv", ".pkl", ".env", ".yaml"]))
def test_any_file_content_lints_without_crashing(tmp_path: Path, content: bytes, suffix: str) -> None:
    name = f"f{suffix}"
    (tmp_path / name).write_bytes(content)
    result = lint(tmp_path, [name])
    assert result.files == (name,)
    assert all(problem.evidence.path == name for problem in result.problems)
