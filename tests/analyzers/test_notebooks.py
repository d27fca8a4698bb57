"""The notebook analyzer over real `.ipynb` JSON (nbformat v4 and v3) written as Jupyter writes it."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_audit.analyzers.notebooks import Cell, Notebook, analyze_notebooks, clean_cell, read_notebook
from mlops_audit.inventory import build_inventory

KERNEL = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python", "version": "3.11.7"},
}


def lines(text: str) -> list[str]:
    """A cell source as Jupyter stores it: a list of lines, each but the last ending with a newline."""
    return text.splitlines(keepends=True)


def markdown(text: str) -> dict:
    return {"cell_type": "markdown", "id": f"md{zlib.crc32(text.encode()):08x}", "metadata": {}, "source": lines(text)}


def code(text: str, count: int | None, outputs: list | None = None) -> dict:
    return {
        "cell_type": "code",
        "execution_count": count,
        "id": f"c{zlib.crc32(text.encode()):08x}",
        "metadata": {},
        "outputs": outputs or [],
        "source": lines(text),
    }


def stream(text: str) -> dict:
    return {"name": "stdout", "output_type": "stream", "text": lines(text)}


def v4(*cells: dict) -> str:
    return json.dumps({"cells": list(cells), "metadata": KERNEL, "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n"


def analyze(tmp_path: Path, files: dict[str, str]) -> dict[str, Notebook]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return {nb.path: nb for nb in analyze_notebooks(build_inventory(tmp_path)).notebooks}


def test_v4_notebook_counts_and_code_facts(tmp_path: Path):
    text = v4(
        markdown("# Churn model\nExploration."),
        code("import pandas as pd\nfrom sklearn.linear_model import LogisticRegression", 1),
        code("df = pd.read_csv('/Users/ana/churn.csv')\ndf.head()", 2, [stream("   a  b\n0  1  2\n")]),
        code("clf = LogisticRegression(random_state=0)\nclf.fit(X, y)", 3),
        code("", None),
    )
    (nb,) = analyze(tmp_path, {"notebooks/explore.ipynb": text}).values()
    assert (nb.nbformat, nb.cells, nb.code_cells, nb.markdown_cells) == (4, 5, 4, 1)
    assert nb.execution_counts == (1, 2, 3, None)
    assert nb.executed and not nb.out_of_order and nb.unexecuted_cells == ()
    assert nb.cells_with_outputs == 1
    assert nb.output_bytes == len(json.dumps([stream("   a  b\n0  1  2\n")]))
    assert nb.error is None and nb.code.syntax_error is None
    assert [(i.module, i.cell, i.line) for i in nb.code.imports] == [
        ("pandas", 2, 1),
        ("sklearn.linear_model.LogisticRegression", 2, 2),
    ]
    assert [(p.value, p.cell, p.line) for p in nb.code.absolute_paths] == [("/Users/ana/churn.csv", 3, 1)]
    assert [(c.name, c.cell, c.line) for c in nb.code.fit_calls] == [("clf.fit", 4, 2)]
    (model,) = [c for c in nb.code.calls if c.name == "sklearn.linear_model.LogisticRegression"]
    assert model.literals == (("random_state", "0"),)


def test_out_of_order_and_unexecuted_cells(tmp_path: Path):
    text = v4(
        markdown("# Title"),
        code("import numpy as np", 1),
        code("x = np.arange(3)", 5),
        code("y = x * 2", None),
        code("z = y + 1", 3),
        code("print(z)", 6),
        code("w = 1", None),
    )
    (nb,) = analyze(tmp_path, {"order.ipynb": text}).values()
    assert nb.execution_counts == (1, 5, None, 3, 6, None)
    assert nb.out_of_order_cell == 5  # count 3 after count 5; cell 5 counting the markdown cell
    assert nb.unexecuted_cells == (4,)  # cell 7 is after the last executed cell


def test_stripped_notebook_has_no_execution_evidence(tmp_path: Path):
    (nb,) = analyze(tmp_path, {"clean.ipynb": v4(code("a = 1", None), code("b = 2", None))}).values()
    assert not nb.executed and nb.out_of_order_cell is None and nb.unexecuted_cells == ()


def test_magics_and_installs_keep_cell_and_line_numbers(tmp_path: Path):
    text = v4(
        markdown("# Setup"),
        code("!pip install -q xgboost==2.0.3\n%pip install mlflow\nimport xgboost as xgb\n%matplotlib inline", 1),
        code("%%capture\n!conda install -y lightgbm\nbooster = xgb.train(params, dtrain)", 2),
        code("%%bash\nsudo apt-get install -y graphviz\necho done", 3),
        code("import sys\n!{sys.executable} -m pip install pandas", 4),
        code("%%sql\nSELECT * FROM runs", 5),
        code("files = !ls data\nxgb.train?\nfor f in files:\n    !echo {f}\nbooster.save_model('model.json')", 6),
    )
    (nb,) = analyze(tmp_path, {"setup.ipynb": text}).values()
    assert [(ref.value, ref.cell, ref.line) for ref in nb.installs] == [
        ("pip install -q xgboost==2.0.3", 2, 1),
        ("pip install mlflow", 2, 2),
        ("conda install -y lightgbm", 3, 2),
        ("sudo apt-get install -y graphviz", 4, 2),
        ("{sys.executable} -m pip install pandas", 5, 2),
    ]
    assert nb.code.syntax_error is None
    assert [(i.module, i.cell, i.line) for i in nb.code.imports] == [("xgboost", 2, 3), ("sys", 5, 1)]
    assert [(c.name, c.cell, c.line) for c in nb.code.fit_calls] == [("xgboost.train", 3, 3)]
    assert [(c.name, c.cell, c.line) for c in nb.code.persist_calls] == [("booster.save_model", 7, 5)]


def test_a_cell_with_a_syntax_error_keeps_the_other_cells(tmp_path: Path):
    text = v4(
        code("import torch", 1),
        code("print 'legacy'", 2),
        code("torch.manual_seed(0)\ntorch.save(model, 'model.pt')", 3),
    )
    (nb,) = analyze(tmp_path, {"broken.ipynb": text}).values()
    assert nb.error is None
    assert nb.code.syntax_error is not None and nb.code.syntax_error.startswith("cell 2, line 1:")
    assert [(c.name, c.cell, c.line) for c in nb.code.seed_calls] == [("torch.manual_seed", 3, 1)]
    assert [(c.name, c.cell, c.line) for c in nb.code.persist_calls] == [("torch.save", 3, 2)]


def test_v3_notebook(tmp_path: Path):
    document = {
        "metadata": {"name": ""},
        "nbformat": 3,
        "nbformat_minor": 0,
        "worksheets": [
            {
                "cells": [
                    {"cell_type": "heading", "level": 1, "metadata": {}, "source": ["Iris classifier"]},
                    {
                        "cell_type": "code",
                        "collapsed": False,
                        "input": ["from sklearn import svm\n", "import pickle"],
                        "language": "python",
                        "metadata": {},
                        "outputs": [],
                        "prompt_number": 2,
                    },
                    {"cell_type": "markdown", "metadata": {}, "source": ["Train it."]},
                    {
                        "cell_type": "code",
                        "collapsed": False,
                        "input": ["clf = svm.SVC()\n", "clf.fit(X, y)\n", "pickle.dump(clf, open('m.pkl', 'wb'))"],
                        "language": "python",
                        "metadata": {},
                        "outputs": [
                            {"metadata": {}, "output_type": "pyout", "prompt_number": 1, "text": ["SVC()"]}
                        ],
                        "prompt_number": 1,
                    },
                ],
                "metadata": {},
            }
        ],
    }
    (nb,) = analyze(tmp_path, {"iris.ipynb": json.dumps(document, indent=1)}).values()
    assert (nb.nbformat, nb.cells, nb.code_cells, nb.markdown_cells) == (3, 4, 2, 2)
    assert nb.execution_counts == (2, 1) and nb.out_of_order_cell == 4
    assert nb.cells_with_outputs == 1
    assert [(c.name, c.cell, c.line) for c in nb.code.fit_calls] == [("clf.fit", 4, 2)]
    assert [(c.name, c.cell) for c in nb.code.persist_calls] == [("pickle.dump", 4)]
    assert [c.name for c in nb.code.calls if c.name.startswith("sklearn")] == ["sklearn.svm.SVC"]


def test_files_that_are_not_notebooks(tmp_path: Path):
    notebooks = analyze(
        tmp_path,
        {
            "truncated.ipynb": '{"cells": [{"cell_type": "code", ',
            "list.ipynb": "[1, 2, 3]",
            "empty_object.ipynb": "{}",
            "deep.ipynb": "[" * 100_000 + "]" * 100_000,
            "empty.ipynb": "",
        },
    )
    errors = {path: nb.error for path, nb in notebooks.items()}
    assert errors["truncated.ipynb"].startswith("not valid JSON:")
    assert errors["list.ipynb"] == "not a Jupyter notebook: the JSON is not an object"
    assert errors["empty_object.ipynb"] == "not a Jupyter notebook: no cells"
    assert errors["deep.ipynb"] == "not valid JSON: nested too deeply"
    assert errors["empty.ipynb"].startswith("not valid JSON:")
    assert all(nb.cells == 0 and nb.code_cells == 0 and nb.output_bytes == 0 for nb in notebooks.values())


def test_checkpoints_are_not_analyzed_and_roles_are_kept(tmp_path: Path):
    notebook = v4(code("x = 1", 1))
    notebooks = analyze(
        tmp_path,
        {"docs/tour.ipynb": notebook, ".ipynb_checkpoints/tour-checkpoint.ipynb": notebook},
    )
    assert list(notebooks) == ["docs/tour.ipynb"]
    assert notebooks["docs/tour.ipynb"].roles == ("example",)


def test_string_sources_and_malformed_cells_are_tolerated():
    document = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": "1",
                "metadata": {},
                "outputs": {},
                "source": "import os\r\nos.getcwd()",
            },
            "not a cell",
            {"cell_type": "code", "source": ["x = ", 3, "1"]},
            {"cell_type": "raw", "source": None},
        ],
        "nbformat": 4,
    }
    nb = read_notebook("odd.ipynb", (), json.dumps(document))
    assert nb.error is None
    assert (nb.cells, nb.code_cells, nb.markdown_cells) == (3, 2, 0)
    assert nb.execution_counts == (None, None)
    assert [(c.name, c.cell, c.line) for c in nb.code.calls] == [("os.getcwd", 1, 2)]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
cell_like = st.fixed_dictionaries(
    {"cell_type": st.sampled_from(["code", "markdown", "raw", "heading", 7])},
    optional={
        "source": st.text(max_size=60) | st.lists(st.text(max_size=30), max_size=4) | json_values,
        "execution_count": st.none() | st.integers() | json_values,
        "outputs": st.lists(json_values, max_size=3) | json_values,
    },
)


@settings(max_examples=150, deadline=None)
@given(st.lists(cell_like | json_values, max_size=6), st.sampled_from([3, 4, None, "4"]))
def test_arbitrary_notebook_shaped_json_never_raises(cells: list, version: object):
    nb = read_notebook("any.ipynb", (), json.dumps({"cells": cells, "nbformat": version}))
    assert nb.cells <= len(cells)


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_arbitrary_text_never_raises(text: str):
    nb = read_notebook("any.ipynb", (), text)
    assert nb.error is not None or nb.cells >= 0


def test_shell_line_continued_with_indented_lines_does_not_break_parsing() -> None:
    source = "!python build/utils.py \\\n    --mode=create\\\n    --project=x\nimport os\n"
    cell = Cell(number=1, kind="code", source=source, count=1, outputs=())
    cleaned, _ = clean_cell(cell)
    compile(cleaned, "cell", "exec")
