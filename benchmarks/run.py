"""Audit speed as a ratio to the parse floor, measured in one run.

    python benchmarks/run.py [PATH ...]

For a generated ML repository (deterministic, 600 files) and every PATH given, prints the wall time of a full
audit without a cache (cold), of the first audit into an empty facts cache (fill), of an audit whose cache that
first run filled (warm), and of the floor: one process that `ast.parse`s every `.py` and `json.loads` every
`.ipynb` of the same files. Machines are noisy: compare the ratios of one run, not seconds across runs.
"""

from __future__ import annotations

import ast
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mlops_audit.audit import AuditOptions, run_audit  # noqa: E402
from mlops_audit.inventory import build_inventory  # noqa: E402
from mlops_audit.testing import make_repo  # noqa: E402

MODULE = '''"""Step {n} of the churn pipeline."""
import json
import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split


def load_{n}(path: str) -> pd.DataFrame:
    frame = pd.read_csv(path)
    return frame.dropna()


def train_{n}(frame: pd.DataFrame, seed: int = 42) -> RandomForestClassifier:
    np.random.seed(seed)
    features, target = frame.drop(columns=["churn"]), frame["churn"]
    x_train, x_test, y_train, y_test = train_test_split(features, target, random_state=seed)
    model = RandomForestClassifier(n_estimators=100 + {n}, random_state=seed)
    model.fit(x_train, y_train)
    with open("metrics_{n}.json", "w") as handle:
        json.dump({{"score": model.score(x_test, y_test)}}, handle)
    return model


if __name__ == "__main__":
    train_{n}(load_{n}("data/train.csv"))
'''


def notebook(n: int) -> str:
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": [f"# Exploration {n}\n"]},
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
         "source": ["import pandas as pd\n", "df = pd.read_csv('data/train.csv')\n"]},
        {"cell_type": "code", "execution_count": 2, "metadata": {}, "outputs": [
            {"output_type": "stream", "name": "stdout", "text": ["rows: 1000\n"]}],
         "source": ["print('rows:', len(df))\n", "df.describe()\n"]},
    ]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def synthetic_repo(root: Path, modules: int = 540, notebooks: int = 40) -> Path:
    files: dict[str, str] = {f"src/pkg/step_{n}.py": MODULE.format(n=n) for n in range(modules)}
    files.update({f"notebooks/eda_{n}.ipynb": notebook(n) for n in range(notebooks)})
    files.update({
        "src/pkg/__init__.py": "",
        "dvc.yaml": "stages:\n  train:\n    cmd: python src/pkg/step_0.py\n    deps: [data/train.csv]\n",
        ".github/workflows/ci.yml": "on: [push, pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
                                    "    steps:\n      - run: pytest\n",
        "requirements.txt": "pandas==2.2.2\nscikit-learn==1.5.0\nnumpy==1.26.4\n",
    })
    return make_repo(root, files)


def floor(root: Path) -> float:
    inventory = build_inventory(root)
    start = time.perf_counter()
    for file in inventory.of_kind("python", "notebook"):
        text = (root / file.path).read_text(encoding="utf-8", errors="replace")
        try:
            ast.parse(text) if file.kind == "python" else json.loads(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            pass
    return time.perf_counter() - start


def audit_time(root: Path, cache_dir: Path | None = None) -> float:
    start = time.perf_counter()
    run_audit(root, AuditOptions(cache_dir=cache_dir))
    return time.perf_counter() - start


def fill_time(root: Path) -> float:
    """An audit into an empty cache: the cold run that pays for writing every entry."""
    with tempfile.TemporaryDirectory() as cache_dir:
        return audit_time(root, Path(cache_dir))


def measure(label: str, root: Path) -> None:
    audit_time(root)  # warm the file system cache so both sides read from memory
    floor_s = min(floor(root) for _ in range(3))
    cold_s = min(audit_time(root) for _ in range(3))
    fill_s = min(fill_time(root) for _ in range(3))
    with tempfile.TemporaryDirectory() as cache_dir:
        audit_time(root, Path(cache_dir))
        warm_s = min(audit_time(root, Path(cache_dir)) for _ in range(3))
    files = len(build_inventory(root).files)
    print(f"{label:<30} {files:>6} files  floor {floor_s:6.3f} s  "
          + "  ".join(f"{name} {seconds:6.3f} s {seconds / floor_s:5.2f}x"
                      for name, seconds in (("cold", cold_s), ("fill", fill_s), ("warm", warm_s))))


def main(paths: list[str]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        measure("synthetic ML repository", synthetic_repo(Path(scratch) / "synthetic"))
    for path in paths:
        measure(path, Path(path))


if __name__ == "__main__":
    main(sys.argv[1:])
