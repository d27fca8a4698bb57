"""Reachability: which sources the project's entrypoints run, and how it keeps side code out of the stack."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_audit.analyzers.ci import CIFacts, CICommand, CIJob, CIWorkflow
from mlops_audit.analyzers.data_versioning import DataFacts
from mlops_audit.analyzers.environment import EnvironmentFacts
from mlops_audit.analyzers.environment.records import Target
from mlops_audit.analyzers.notebooks import analyze_notebooks
from mlops_audit.analyzers.python_code import analyze_python
from mlops_audit.analyzers.reachability import Reachability, reachable_files
from mlops_audit.facts import Facts, collect_facts
from mlops_audit.inventory import build_inventory
from mlops_audit.testing import write_tree

CI_TRAIN = """\
name: train
on: [push]
jobs:
  train:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pip install -e .
      - run: pytest tests
      - run: python -m churn.train --epochs 3
"""
PACKAGE = {
    "src/churn/__init__.py": "",
    "src/churn/train.py": "from churn.features import build\nfrom . import io\n\nbuild()\n",
    "src/churn/features.py": "from .io import load\n\ndef build():\n    return load()\n",
    "src/churn/io.py": "def load():\n    return 1\n",
    "src/churn/unused.py": "import os\n",
}
OLD_MLFLOW = "import mlflow\n\nmlflow.log_metric('auc', 0.9)\n"


def facts_of(root: Path, files: dict[str, str]) -> Facts:
    write_tree(root, files)
    return collect_facts(build_inventory(root))


def strength(facts: Facts, tool: str) -> str | None:
    return next((t.strength for t in facts.stack.tools if t.name == tool), None)


def test_ci_module_run_reaches_its_imports_and_sidelines_old_notebook_code(tmp_path: Path) -> None:
    facts = facts_of(tmp_path, {
        ".github/workflows/train.yml": CI_TRAIN, **PACKAGE, "notebooks/old_mlflow.py": OLD_MLFLOW,
    })
    reach = facts.reachability
    assert reach.known
    assert {"src/churn/train.py", "src/churn/features.py", "src/churn/io.py", "src/churn/__init__.py"} <= reach.files
    assert "src/churn/unused.py" not in reach.files
    assert "notebooks/old_mlflow.py" not in reach.files
    assert [e.snippet for e in reach.entrypoints] == ["python -m churn.train --epochs 3"]
    assert strength(facts, "mlflow") == "declared"


def test_unreached_library_module_still_counts_as_used(tmp_path: Path) -> None:
    facts = facts_of(tmp_path, {
        ".github/workflows/train.yml": CI_TRAIN, **PACKAGE, "src/churn/tracking.py": OLD_MLFLOW,
    })
    assert "src/churn/tracking.py" not in facts.reachability.files
    assert strength(facts, "mlflow") == "used"  # run by an entrypoint we may not see


def test_reached_code_in_a_notebooks_folder_counts_as_used(tmp_path: Path) -> None:
    facts = facts_of(tmp_path, {
        "Makefile": "report:\n\tpython notebooks/report.py\n", "notebooks/report.py": OLD_MLFLOW,
    })
    assert "notebooks/report.py" in facts.reachability.files
    assert strength(facts, "mlflow") == "used"


def test_no_entrypoint_means_unknown_and_nothing_downgraded(tmp_path: Path) -> None:
    facts = facts_of(tmp_path, {**PACKAGE, "notebooks/old_mlflow.py": OLD_MLFLOW})
    assert facts.reachability == Reachability()
    assert strength(facts, "mlflow") == "used"


def test_pytest_is_not_an_entrypoint_and_test_only_tracking_is_declared(tmp_path: Path) -> None:
    ci = CI_TRAIN.replace("python -m churn.train --epochs 3", "python -m pytest -q")
    only_tests = facts_of(tmp_path / "a", {".github/workflows/ci.yml": ci, "tests/test_log.py": OLD_MLFLOW})
    assert not only_tests.reachability.known
    facts = facts_of(tmp_path / "b", {
        ".github/workflows/train.yml": CI_TRAIN, **PACKAGE,
        "tests/test_log.py": OLD_MLFLOW,
        "tests/test_schema.py": "import pandera as pa\n\nschema = pa.DataFrameSchema({})\n",
    })
    assert strength(facts, "mlflow") == "declared"
    assert strength(facts, "pandera") == "used"  # data tests belong in the test suite


def test_dvc_stage_cmd_with_wdir_and_a_sibling_import(tmp_path: Path) -> None:
    facts = facts_of(tmp_path, {
        "pipeline/dvc.yaml": "stages:\n  train:\n    wdir: ..\n    cmd: python src/train.py\n    deps: [src]\n",
        "src/train.py": "import features\n\nfeatures.make()\n",
        "src/features.py": "def make():\n    pass\n",
    })
    assert facts.reachability.files == {"src/train.py", "src/features.py"}
    assert facts.reachability.entrypoints[0].path == "pipeline/dvc.yaml"


def test_console_script_runs_its_module(tmp_path: Path) -> None:
    facts = facts_of(tmp_path, {
        "pyproject.toml": '[project]\nname = "churn"\n[project.scripts]\nchurn = "churn.cli:main"\n',
        "churn/__init__.py": "", "churn/cli.py": "from churn import model\n", "churn/model.py": "",
    })
    assert facts.reachability.files == {"churn/__init__.py", "churn/cli.py", "churn/model.py"}


def test_makefile_target_and_the_shell_script_it_calls(tmp_path: Path) -> None:
    facts = facts_of(tmp_path, {
        "Makefile": "PYTHON = python3\ntrain:\n\t$(PYTHON) -m pipeline.train\nserve:\n\tbash scripts/serve.sh\n",
        "pipeline/__init__.py": "", "pipeline/train.py": "", "pipeline/__main__.py": "",
        "scripts/serve.sh": "#!/bin/sh\ncd app && uvicorn api.main:app --port 80\n",
        "app/api/__init__.py": "", "app/api/main.py": "",
    })
    assert facts.reachability.files == {
        "pipeline/__init__.py", "pipeline/train.py", "app/api/__init__.py", "app/api/main.py",
    }


def test_module_run_of_a_package_reaches_its_main(tmp_path: Path) -> None:
    facts = facts_of(tmp_path, {
        "Makefile": "run:\n\tpython -m churn\n", "src/churn/__init__.py": "", "src/churn/__main__.py": "",
    })
    assert facts.reachability.files == {"src/churn/__init__.py", "src/churn/__main__.py"}


def test_dockerfile_command_with_an_image_path(tmp_path: Path) -> None:
    facts = facts_of(tmp_path, {
        "Dockerfile": 'FROM python:3.11\nCOPY serving/ /app/\nCMD ["python", "/app/serving/serve.py"]\n',
        "serving/serve.py": "",
    })
    assert facts.reachability.files == {"serving/serve.py"}


def test_orchestrator_definitions_are_entrypoints_but_not_in_examples(tmp_path: Path) -> None:
    flow = "from prefect import flow\nfrom steps import train\n\n@flow\ndef pipeline():\n    train()\n"
    facts = facts_of(tmp_path, {
        "flows/training.py": flow, "flows/steps.py": "def train():\n    pass\n",
        "examples/demo_flow.py": flow,
    })
    assert facts.reachability.files == {"flows/training.py", "flows/steps.py"}
    assert facts.reachability.entrypoints[0].snippet == "@prefect.flow"


def test_papermill_reaches_the_notebook_and_its_imports(tmp_path: Path) -> None:
    notebook = (
        '{"cells": [{"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [],'
        ' "source": ["from churn import features\\n"]}],'
        ' "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    )
    facts = facts_of(tmp_path, {
        "Makefile": "report:\n\tpapermill nb/report.ipynb out.ipynb\n", "nb/report.ipynb": notebook,
        "churn/__init__.py": "", "churn/features.py": "",
    })
    assert facts.reachability.files == {"nb/report.ipynb", "churn/__init__.py", "churn/features.py"}


def test_import_cycles_terminate(tmp_path: Path) -> None:
    facts = facts_of(tmp_path, {
        "Makefile": "run:\n\tpython main.py\n",
        "main.py": "import pkg.a\n", "pkg/__init__.py": "from . import a\n",
        "pkg/a.py": "from pkg import b\n", "pkg/b.py": "from .a import thing\nfrom .. import main\n",
    })
    assert facts.reachability.files == {"main.py", "pkg/__init__.py", "pkg/a.py", "pkg/b.py"}


@settings(max_examples=60, deadline=None)
@given(command=st.text(max_size=120), module=st.from_regex(r"[a-z_.]{0,12}", fullmatch=True))
def test_arbitrary_commands_never_raise(command: str, module: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        write_tree(Path(folder), {"a/b.py": f"import {module or 'os'}\nfrom ... import x\n", "run.sh": command})
        inventory = build_inventory(folder)
        job = CIJob("j", "ci.yml", 1, ("push",), (CICommand(command, 1, ()),), ())
        reach = reachable_files(
            inventory, analyze_python(inventory), analyze_notebooks(inventory),
            CIFacts(workflows=(CIWorkflow("github", "ci.yml", "ci", ("push",), (), (), (job,)),)), DataFacts(),
            EnvironmentFacts(targets=(Target("t", "Makefile", 1, (command, f"{module}:main")),)),
        )
        assert reach.known == bool(reach.files)
