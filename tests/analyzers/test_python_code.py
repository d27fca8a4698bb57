"""The `.py` analyzer over a real file tree: every file, its roles, notebook-like scripts, bad files."""

from __future__ import annotations

import textwrap
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_audit.analyzers.python_code import PythonFile, analyze_python, analyze_python_source
from mlops_audit.inventory import build_inventory


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")


def by_path(root: Path) -> dict[str, PythonFile]:
    return {file.path: file for file in analyze_python(build_inventory(root)).files}


def test_every_python_file_with_roles(tmp_path: Path):
    write(
        tmp_path,
        {
            "src/churn/train.py": """
                import joblib
                from sklearn.ensemble import RandomForestClassifier

                def main():
                    model = RandomForestClassifier(random_state=0)
                    model.fit(X, y)
                    joblib.dump(model, "model.joblib")

                if __name__ == "__main__":
                    main()
                """,
            "tests/test_train.py": "from churn.train import main\n\ndef test_main():\n    main()\n",
            "examples/demo.py": "import mlflow\nmlflow.autolog()\n",
            "README.md": "# churn\n",
        },
    )
    files = by_path(tmp_path)
    assert sorted(files) == ["examples/demo.py", "src/churn/train.py", "tests/test_train.py"]
    train = files["src/churn/train.py"]
    assert train.roles == () and not train.notebook_like
    assert train.code.has_main_guard
    assert [(c.name, c.line) for c in train.code.fit_calls] == [("model.fit", 7)]
    assert [c.name for c in train.code.persist_calls] == ["joblib.dump"]
    assert files["tests/test_train.py"].roles == ("test",)
    assert files["examples/demo.py"].roles == ("example",)
    assert [c.name for c in files["examples/demo.py"].code.calls] == ["mlflow.autolog"]


def test_notebook_like_scripts(tmp_path: Path):
    write(
        tmp_path,
        {
            "notebooks/explore.py": """
                # Databricks notebook source
                import mlflow

                # COMMAND ----------

                # MAGIC %pip install xgboost

                # COMMAND ----------

                mlflow.set_experiment("/Users/ana@example.com/churn")
                """.lstrip("\n"),
            "analysis.py": "# %%\nimport pandas as pd\n\n# %% [markdown]\n# Notes\n\n# %%\ndf = pd.read_csv('x.csv')\n",
            "export.py": """
                #!/usr/bin/env python
                # coding: utf-8

                # In[1]:


                import numpy as np


                # In[ ]:


                np.zeros(3)
                """.lstrip("\n"),
            "one_cell.py": "# %%\nprint('a single VS Code cell is not a notebook')\n",
            "plain.py": "x = '# %%'\n",
        },
    )
    files = by_path(tmp_path)
    assert {path: file.notebook_like for path, file in files.items()} == {
        "analysis.py": True,
        "export.py": True,
        "notebooks/explore.py": True,
        "one_cell.py": False,
        "plain.py": False,
    }
    databricks = files["notebooks/explore.py"].code
    assert databricks.syntax_error is None
    assert [(c.name, c.line) for c in databricks.calls] == [("mlflow.set_experiment", 10)]
    assert [c.name for c in files["export.py"].code.calls] == ["numpy.zeros"]


def test_syntax_errors_are_kept_and_binary_files_skipped(tmp_path: Path):
    write(
        tmp_path,
        {
            "legacy.py": "import os\nprint 'python 2'\n",
            "weird.py": b"\xff\xfe\x00\x01binary\x00",
            "ok.py": "import os\n",
        },
    )
    inventory = build_inventory(tmp_path)
    files = {file.path: file for file in analyze_python(inventory).files}
    assert sorted(files) == ["legacy.py", "ok.py"]
    assert files["legacy.py"].code.syntax_error.startswith("line 2:")
    assert files["legacy.py"].code.imports == ()
    assert any(note.path == "weird.py" for note in inventory.notes)


def test_undecodable_bytes_are_replaced_not_a_crash(tmp_path: Path):
    write(tmp_path, {"latin.py": b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\nprint(name)\n"})
    (file,) = analyze_python(build_inventory(tmp_path)).files
    assert file.code.syntax_error is None
    assert [c.name for c in file.code.calls] == ["print"]


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_arbitrary_text_never_raises(text: str):
    file = analyze_python_source("any.py", (), text)
    assert file.path == "any.py"


def test_arbitrary_files_on_disk_never_raise(tmp_path: Path):
    samples = ["", "\n\n", "def", "\x00" * 10, "é" * 100, "if True:\n\tpass\n        pass\n", "'''", "\\"]
    write(tmp_path, {f"sample_{index}.py": text for index, text in enumerate(samples)})
    files = analyze_python(build_inventory(tmp_path)).files
    assert len(files) == len(samples) - 1  # the one with NUL bytes is binary, noted by the inventory


def test_percent_section_markers_in_a_package_module_are_not_notebook_cells(tmp_path: Path):
    module = (
        "# %% IMPORTS\n\nimport mlflow\n\n# %% SERVICES\n\n"
        "def run_context(name):\n    return mlflow.start_run(run_name=name)\n"
    )
    jupytext = (
        "# ---\n# jupyter:\n#   jupytext:\n#     text_representation:\n#       format_name: percent\n# ---\n\n"
        "# %%\nimport mlflow\n\n# %%\nmlflow.start_run()\n"
    )
    write(
        tmp_path,
        {
            "src/bikes/__init__.py": "",
            "src/bikes/io/__init__.py": "",
            "src/bikes/io/services.py": module,
            "src/bikes/io/explore.py": jupytext,
            "scratch/explore.py": module,
        },
    )
    files = {f.path: f for f in analyze_python(build_inventory(tmp_path)).files}
    assert not files["src/bikes/io/services.py"].notebook_like
    assert files["src/bikes/io/explore.py"].notebook_like
    assert files["scratch/explore.py"].notebook_like


def test_champion_comparisons_are_recorded_with_lines(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "evaluate/evaluate_model.py": """
                production_model_mse = float(model.tags["mse"])
                new_model_mse = float(run.parent.get_metrics().get("mse"))
                if new_model_mse < production_model_mse:
                    print("register")
            """,
            "components/upload_model.py": """
                def compare(champion_metrics, challenger_metrics, metric):
                    m_champ = champion_metrics[metric]
                    m_chall = challenger_metrics[metric]
                    return m_chall > m_champ
            """,
            "train.py": """
                if losses["val"] < best_val_loss:
                    best_val_loss = losses["val"]
                if production_model_mse > 0:
                    pass
                if prod["auc"] >= prod["auc_floor"]:
                    pass
            """,
            "broken.py": "if production_model_mse <\n",
        },
    )
    found = {path: [(r.line, r.value) for r in file.champion_comparisons] for path, file in by_path(tmp_path).items()}
    assert found["evaluate/evaluate_model.py"] == [(4, "if new_model_mse < production_model_mse:")]
    assert found["components/upload_model.py"] == [(5, "return m_chall > m_champ")]
    assert found["train.py"] == []  # best-so-far, a constant, or both sides the production model
    assert found["broken.py"] == []


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=200))
def test_champion_comparisons_never_raise(text: str) -> None:
    assert isinstance(analyze_python_source("x.py", (), "production_model = 1\n" + text).champion_comparisons, tuple)
