"""A deterministic synthetic ML monorepo of about N files, committed to git, for the speed benchmarks.

The same (files, seed) always gives the same tree. Its shape follows the real monorepos the tool is tuned on:
one folder per project under `projects/`, each a package of modules of varied length (data loading, features,
training with scikit-learn, PyTorch or XGBoost, evaluation with MLflow tracking), tests, notebooks with outputs,
a DVC pipeline with parameters and `.dvc` pointers, YAML configuration, a Dockerfile and a requirements file; and
at the root one GitHub Actions workflow per project, a pre-commit configuration and a pyproject.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from mlops_audit.testing import make_repo

FRAMEWORKS = (
    ("sklearn.ensemble", "RandomForestClassifier", "n_estimators=200, random_state=seed"),
    ("xgboost", "XGBClassifier", "max_depth=6, random_state=seed"),
    ("sklearn.linear_model", "LogisticRegression", "max_iter=500, random_state=seed"),
)
FILES_PER_PROJECT = 400


def function(rng: random.Random, name: str) -> str:
    """A function of 8 to 40 lines mixing pandas work, arithmetic, branches and loops."""
    lines = [f"def {name}(frame: pd.DataFrame, threshold: float = {rng.random():.3f}) -> pd.DataFrame:",
             f'    """Step {name} of the feature pipeline."""', "    result = frame.copy()"]
    for index in range(rng.randint(2, 12)):
        column = f"feature_{rng.randint(0, 99)}"
        lines.extend(rng.choice((
            [f'    result["{column}"] = result["{column}"].fillna(result["{column}"].median())'],
            [f'    if result["{column}"].std() > threshold:',
             f'        result["{column}_z"] = (result["{column}"] - result["{column}"].mean()) / result["{column}"].std()'],
            [f"    for lag in range(1, {rng.randint(2, 8)}):",
             f'        result[f"{column}_lag{{lag}}"] = result["{column}"].shift(lag)'],
            [f'    result = result[result["{column}"] >= {rng.randint(0, 10)} * threshold]'],
        )))
    lines.append("    return result")
    return "\n".join(lines)


def module(rng: random.Random, project: str, number: int) -> str:
    kind = rng.random()
    header = f'"""{project}: module {number}."""\nfrom __future__ import annotations\n\nimport logging\n\n'
    header += "import numpy as np\nimport pandas as pd\n"
    if kind < 0.15:  # a training entry point
        package, estimator, arguments = rng.choice(FRAMEWORKS)
        return header + (
            f"import mlflow\nfrom {package} import {estimator}\nfrom sklearn.model_selection import train_test_split\n"
            "\nlog = logging.getLogger(__name__)\n\n\n"
            f"def train(path: str, seed: int = 42) -> {estimator}:\n"
            "    frame = pd.read_parquet(path)\n"
            '    features, target = frame.drop(columns=["label"]), frame["label"]\n'
            "    x_train, x_test, y_train, y_test = train_test_split(features, target, random_state=seed)\n"
            f"    model = {estimator}({arguments})\n"
            "    with mlflow.start_run():\n"
            "        model.fit(x_train, y_train)\n"
            '        mlflow.log_metric("accuracy", model.score(x_test, y_test))\n'
            f'        mlflow.sklearn.log_model(model, "model", registered_model_name="{project}")\n'
            "    return model\n\n\n"
            'if __name__ == "__main__":\n    train("data/features.parquet")\n'
        )
    functions = "\n\n\n".join(function(rng, f"step_{number}_{index}") for index in range(rng.randint(1, 6)))
    return header + "\nlog = logging.getLogger(__name__)\n\n\n" + functions + "\n"


def test_module(project: str, number: int) -> str:
    return (
        f"import pandas as pd\n\nfrom {project}.module_{number} import *  # noqa: F403\n\n\n"
        f"def test_module_{number}_keeps_rows():\n"
        '    frame = pd.DataFrame({"feature_1": [1.0, None, 3.0]})\n'
        "    assert len(frame) == 3\n"
    )


def notebook(rng: random.Random, number: int) -> str:
    cells: list[dict] = [{"cell_type": "markdown", "metadata": {}, "source": [f"# Exploration {number}\n"]}]
    for count in range(1, rng.randint(4, 24)):
        cells.append({
            "cell_type": "code", "execution_count": count, "metadata": {},
            "outputs": [{"output_type": "stream", "name": "stdout", "text": [f"{rng.random():.6f}\n"] * 5}],
            "source": ["import pandas as pd\n", f"df = pd.read_csv('data/raw_{count}.csv')\n",
                       f"df.groupby('feature_{count}').mean().head({count})\n"],
        })
    return json.dumps({"cells": cells, "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4,
                       "nbformat_minor": 5}, indent=1)


def project_files(rng: random.Random, project: str, count: int) -> dict[str, str]:
    """About `count` files of one project."""
    base = f"projects/{project}"
    files = {
        f"{base}/requirements.txt": "pandas==2.2.2\nnumpy==1.26.4\nscikit-learn==1.5.0\nxgboost==2.0.3\nmlflow==2.14.1\n",
        f"{base}/Dockerfile": "FROM python:3.11-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
                              f'COPY src/ src/\nCMD ["python", "-m", "{project}.module_0"]\n',
        f"{base}/params.yaml": f"train:\n  seed: 42\n  n_estimators: {rng.randint(50, 500)}\n",
        f"{base}/dvc.yaml": "stages:\n  train:\n"
                            f"    cmd: python -m {project}.module_0\n    deps: [data/features.parquet]\n"
                            "    params: [train]\n    outs: [models/model.pkl]\n    metrics: [{metrics.json: {cache: false}}]\n",
        f"{base}/data/features.parquet.dvc": f"outs:\n- md5: {rng.getrandbits(128):032x}\n  size: 1048576\n"
                                             "  path: features.parquet\n",
        f"{base}/src/{project}/__init__.py": "",
    }
    remaining = count - len(files)
    notebooks, tests, configs = remaining // 12, remaining // 10, remaining // 20
    for number in range(remaining - notebooks - tests - configs):
        files[f"{base}/src/{project}/module_{number}.py"] = module(rng, project, number)
    for number in range(tests):
        files[f"{base}/tests/test_module_{number}.py"] = test_module(project, number)
    for number in range(notebooks):
        files[f"{base}/notebooks/{number:03d}_eda.ipynb"] = notebook(rng, number)
    for number in range(configs):
        files[f"{base}/conf/experiment_{number}.yaml"] = (
            f"experiment: {project}-{number}\nmodel:\n  max_depth: {rng.randint(2, 12)}\n"
            f"  learning_rate: {rng.random():.4f}\nfeatures: [{', '.join(f'f{i}' for i in range(rng.randint(3, 20)))}]\n"
        )
    return files


def workflow(project: str) -> str:
    return (
        f"name: {project}\non:\n  pull_request:\n    paths: ['projects/{project}/**']\n  push:\n    branches: [main]\n"
        "jobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"
        f"      - run: pip install -r projects/{project}/requirements.txt\n"
        f"      - run: pytest projects/{project}/tests\n"
    )


def generate(root: Path, files: int, seed: int = 0) -> Path:
    """Write and commit a synthetic monorepo of about `files` files under `root`."""
    rng = random.Random(seed)
    projects = max(1, round(files / FILES_PER_PROJECT))
    tree: dict[str, str] = {
        "pyproject.toml": '[tool.ruff]\nline-length = 120\n',
        ".pre-commit-config.yaml": "repos:\n  - repo: https://github.com/kynan/nbstripout\n    rev: 0.7.1\n"
                                   "    hooks:\n      - id: nbstripout\n",
        ".gitignore": "__pycache__/\n*.pyc\n/data/\n",
    }
    for number in range(projects):
        name = f"project_{number:03d}"
        tree[f".github/workflows/{name}.yml"] = workflow(name)
        share = (files - len(tree)) // (projects - number)
        tree.update(project_files(rng, name, share))
    return make_repo(root, tree)
