"""Codemods: before/after examples, idempotence (a second run changes nothing), and no crash on any input."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_audit.analyzers.code import extract_code_facts
from mlops_audit.scaffold.codemods.notebooks import extract_notebook, module_name
from mlops_audit.scaffold.codemods.paths import param_name, relative_guess, replace_paths
from mlops_audit.scaffold.codemods.seeds import add_seeds

SEEDS_BEFORE = '''"""Train the churn model."""
import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)
model = RandomForestClassifier(
    n_estimators=100,
    max_depth=4,
)
model.fit(X_train, y_train)
'''
SEEDS_AFTER = '''"""Train the churn model."""
import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
import random

SEED = 42
random.seed(SEED)
np.random.seed(SEED)

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=SEED)
model = RandomForestClassifier(
    n_estimators=100,
    max_depth=4,
    random_state=SEED,
)
model.fit(X_train, y_train)
'''

PATHS_BEFORE = '''import pandas as pd

df = pd.read_csv("/Users/maria/Downloads/churn.csv")
backup = pd.read_csv("C:\\\\exports\\\\churn.csv")
'''
PATHS_AFTER = '''import pandas as pd
import yaml
from pathlib import Path

PARAMS = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))

df = pd.read_csv(PARAMS["paths"]["churn_csv"])
backup = pd.read_csv(PARAMS["paths"]["churn_csv_2"])
'''


def test_seeds_before_and_after() -> None:
    rewrite = add_seeds(SEEDS_BEFORE, 42)
    assert rewrite.text == SEEDS_AFTER
    assert "random_state=SEED added to train_test_split()" in rewrite.changes
    assert extract_code_facts(rewrite.text).seed_calls


def test_seeds_are_idempotent_and_respect_existing_seeds() -> None:
    assert not add_seeds(SEEDS_AFTER, 42).changed
    seeded = "import random\nrandom.seed(1)\nsplit = train_test_split(X, y, random_state=1)\nKMeans(**options)\n"
    assert add_seeds(seeded, 42).text == seeded


def test_seeds_keep_a_call_without_trailing_comma_on_its_lines() -> None:
    source = "import random\n\nrandom.seed(0)\nSEED = 0\nm = XGBClassifier(\n    n_estimators=10\n)\n"
    assert add_seeds(source, 0).text.endswith("m = XGBClassifier(\n    n_estimators=10, random_state=SEED\n)\n")


def test_paths_before_and_after() -> None:
    rewrite = replace_paths(PATHS_BEFORE, taken={"raw"}, known_files=["data/churn.csv"])
    assert rewrite.text == PATHS_AFTER
    assert rewrite.paths == (("churn_csv", "data/churn.csv"), ("churn_csv_2", "data/churn.csv"))
    assert not extract_code_facts(rewrite.text).absolute_paths
    assert not replace_paths(rewrite.text).changed


def test_paths_leave_docstrings_and_relative_paths_alone() -> None:
    source = '"""Reads /Users/ana/data.csv by default."""\nimport pandas as pd\n\ndf = pd.read_csv("data/x.csv")\n'
    assert not replace_paths(source).changed


def test_path_names_and_guesses() -> None:
    assert param_name("/home/ana/Train Data.parquet", set()) == "train_data_parquet"
    assert param_name("/Users/x/2024.csv", {"path_2024_csv"}) == "path_2024_csv_2"
    assert relative_guess("/Users/x/churn.csv", ["data/raw/churn.csv"]) == "data/raw/churn.csv"
    assert relative_guess("C:\\exports\\sales.csv", []) == "data/sales.csv"


def notebook(*cells: str) -> str:
    return json.dumps(
        {
            "cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# Train"]}]
            + [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": c}
               for c in cells],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


NOTEBOOK_AFTER = '''"""Code cells of `notebooks/Train Model.ipynb`, extracted by `mlops-audit scaffold`.

One function per group of cells, run in order by `main()`: review it, then move each function into the
pipeline step it belongs to."""

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score


def preprocess():
    # cell 3
    df = pd.read_csv("data/churn.csv")
    X, y = df.drop(columns=["churn"]), df["churn"]
    return X, y


def train(X, y):
    # cell 4
    model = LogisticRegression()
    model.fit(X, y)
    return model


def evaluate(X, model, y):
    # cell 5
    print(f1_score(y, model.predict(X)))


def main() -> None:
    X, y = preprocess()
    model = train(X, y)
    evaluate(X, model, y)


if __name__ == "__main__":
    main()
'''


def test_notebook_cells_become_functions_in_order() -> None:
    text = notebook(
        "!pip install scikit-learn\nimport pandas as pd\nfrom sklearn.linear_model import LogisticRegression",
        'df = pd.read_csv("../data/churn.csv")\ndf.head\nX, y = df.drop(columns=["churn"]), df["churn"]',
        "model = LogisticRegression()\nmodel.fit(X, y)",
        "from sklearn.metrics import f1_score\nprint(f1_score(y, model.predict(X)))",
        "%%bash\nls data",
    )
    rewrite = extract_notebook("notebooks/Train Model.ipynb", text)
    assert rewrite is not None
    assert rewrite.text == NOTEBOOK_AFTER
    assert module_name("notebooks/Train Model.ipynb") == "from_notebook_train_model"
    facts = extract_code_facts(rewrite.text)
    assert facts.fit_calls and facts.syntax_error is None


def test_notebook_extraction_is_deterministic_and_skips_what_does_not_parse() -> None:
    text = notebook("import pandas as pd", "def broken(:\n    pass", "df = pd.DataFrame()\nmodel.fit(df)")
    first = extract_notebook("nb.ipynb", text)
    assert first is not None and first == extract_notebook("nb.ipynb", text)
    assert any("does not parse" in change for change in first.changes)
    assert extract_notebook("nb.ipynb", "not json") is None
    assert extract_notebook("nb.ipynb", notebook("%matplotlib inline")) is None


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_codemods_never_crash_and_are_idempotent(source: str) -> None:
    for codemod in (lambda s: add_seeds(s, 1), lambda s: replace_paths(s)):
        once = codemod(source)
        assert codemod(once.text).text == once.text
        if once.changed:
            compile(once.text, "<codemod>", "exec")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(max_size=80), max_size=5))
def test_notebook_extraction_never_crashes(cells: list[str]) -> None:
    rewrite = extract_notebook("nb.ipynb", notebook(*cells))
    if rewrite is not None:
        compile(rewrite.text, "<notebook>", "exec")
