"""Hostile file contents: enormous notebooks, pathological nesting, YAML alias bombs, LFS pointers.
Each ends as a note or a finding, in bounded time and memory."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import audit, audit_json, git_repo, mentioned, notes_about, write

LFS_POINTER = (
    "version https://git-lfs.github.com/spec/v1\n"
    "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    "size 5368709120\n"
)
BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + n)}: &{chr(98 + n)} [{','.join(['*' + chr(97 + n)] * 9)}]" for n in range(9)]
) + "\n" + "".join(f"{key}: *j\n" for key in ("dependencies", "stages", "jobs", "steps", "repos", "outs", "deps",
                                                    "entry_points", "pipelines", "services", "include"))


def _notebook(cells: list[dict]) -> str:
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def _cell(number: int) -> dict:
    return {"cell_type": "code", "execution_count": number, "metadata": {}, "outputs": [],
            "source": [f"x{number} = {number}\n", "import sklearn\n"]}


def test_a_notebook_of_thirty_thousand_cells(tmp_path: Path, ml_files: dict) -> None:
    cells = [_cell(n) for n in range(1, 30_001)]
    cells[100]["execution_count"] = 5  # out of order, so there is something to find
    root = write(tmp_path / "repo", {**ml_files, "notebooks/big.ipynb": _notebook(cells)})
    run = audit(root, timeout=60)
    report = run.json()
    assert mentioned(report, "notebooks/big.ipynb")


DEEP_FILES = ("notebooks/deep.ipynb", "conf/deep.json", ".github/workflows/deep.yml", "dvc.yaml", "environment.yml",
              ".pre-commit-config.yaml", "conf/deep.yaml", "MLproject", "data/deep.csv.dvc")
BOMB_FILES = (".github/workflows/ci.yml", ".gitlab-ci.yml", "dvc.yaml", "environment.yml", ".pre-commit-config.yaml",
              "MLproject", "params.yaml", "dvc.lock", "data/raw.csv.dvc", "bitbucket-pipelines.yml",
              "azure-pipelines.yml", ".circleci/config.yml", "cloudbuild.yaml", "buildspec.yml", "docker-compose.yml")
UNPARSED = ("conf/deep.json", "conf/deep.yaml", "dvc.lock")  # listed, never parsed: they need no note


def _deep(name: str) -> str:
    if name.endswith(".ipynb"):
        return '{"cells": ' + "[" * 200_000 + "]" * 200_000 + "}"
    if name.endswith(".json"):
        return "[" * 200_000 + "]" * 200_000
    return "a:\n" + "[" * 200_000 + "\n"


def test_nesting_two_hundred_thousand_deep(tmp_path: Path, ml_files: dict) -> None:
    root = write(tmp_path / "repo", {**ml_files, **{name: _deep(name) for name in DEEP_FILES}})
    report = audit_json(root)
    for name in DEEP_FILES:
        assert name in UNPARSED or mentioned(report, name), (name, report["notes"])


def test_yaml_alias_bombs(tmp_path: Path, ml_files: dict) -> None:
    """A billion laughs in every YAML file the audit reads: bounded time and memory, and each file is reported."""
    root = write(tmp_path / "repo", {**ml_files, **{name: BILLION_LAUGHS for name in BOMB_FILES}})
    run = audit(root, timeout=30)
    report = run.json()
    assert run.seconds < 30
    for name in BOMB_FILES:
        assert name in UNPARSED or mentioned(report, name), (name, report["notes"])


def test_lfs_pointers_are_read_as_pointers(tmp_path: Path, ml_files: dict) -> None:
    files = {**ml_files, ".gitattributes": "*.pkl filter=lfs diff=lfs merge=lfs -text\n"
                                           "*.csv filter=lfs diff=lfs merge=lfs -text\n",
             "models/model.pkl": LFS_POINTER, "data/train.csv": LFS_POINTER, "src/pointer.py": LFS_POINTER,
             "notebooks/pointer.ipynb": LFS_POINTER}
    root = git_repo(tmp_path / "repo", files)
    report = audit_json(root)
    assert mentioned(report, "notebooks/pointer.ipynb")
    committed = {e["path"] for f in report["findings"] if f["id"] in ("L0-DATA-01", "L0-REG-01")
                 and f["outcome"] in ("fail", "partial") for e in f["evidence"]}
    assert not committed & {"models/model.pkl", "data/train.csv"}  # versioned with LFS: no finding against them


def test_notebook_variants_that_are_not_notebooks(tmp_path: Path, ml_files: dict) -> None:
    shapes = {
        "a.ipynb": "[]", "b.ipynb": "null", "c.ipynb": '"text"', "d.ipynb": '{"cells": 5}',
        "e.ipynb": '{"cells": [5, null, "x", {"cell_type": 7, "source": {"a": 1}}]}',
        "f.ipynb": '{"worksheets": [{"cells": [{"cell_type": "code", "input": 3, "prompt_number": "x"}]}]}',
        "g.ipynb": '{"cells": [{"cell_type": "code", "source": "1", "execution_count": 1e999, "outputs": 7}]}',
        "h.ipynb": "1" * 5000, "i.ipynb": "\ufeff{}", "j.ipynb": "",
    }
    root = write(tmp_path / "repo", {**ml_files, **{f"nb/{k}": v for k, v in shapes.items()}})
    report = audit_json(root)
    for name in ("a.ipynb", "b.ipynb", "c.ipynb", "d.ipynb", "h.ipynb", "j.ipynb"):
        assert notes_about(report, f"nb/{name}"), name


def _one_cell(source: str | list[str]) -> str:
    return _notebook([{"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [], "source": source}])


def test_notebooks_whose_source_is_one_huge_string(tmp_path: Path, ml_files: dict) -> None:
    """`source` as one string rather than a list of lines: 50,000 statements, one line of 3 MB, nesting the parser
    refuses, and 200,000 lines of markdown. Bounded time; what cannot be parsed is said."""
    root = write(tmp_path / "repo", {
        **ml_files,
        "notebooks/statements.ipynb": _one_cell("import sklearn\n" + "x = 1\n" * 50_000),
        "notebooks/one_line.ipynb": _one_cell("s = '" + "a" * 3_000_000 + "'"),
        "notebooks/parens.ipynb": _one_cell("y = " + "(" * 200_000 + ")" * 200_000),
        "notebooks/markdown.ipynb": _notebook([{"cell_type": "markdown", "metadata": {}, "source": "# t\n" * 200_000}]),
    })
    run = audit(root, timeout=30)
    report = run.json()
    assert run.seconds < 30
    assert any("does not parse" in message for message in notes_about(report, "notebooks/parens.ipynb"))
    assert not notes_about(report, "notebooks/statements.ipynb") and not notes_about(report, "notebooks/one_line.ipynb")


CLOSED_NESTING = {
    "flow mappings": "a: " + "{a: " * 20_000 + "1" + "}" * 20_000 + "\n",
    "flow sequences": "a: " + "[" * 20_000 + "]" * 20_000 + "\n",
    "block mappings": "".join(" " * depth + f"k{depth}:\n" for depth in range(800)) + " " * 800 + "v\n",
}


def test_yaml_nested_deep_but_well_formed(tmp_path: Path, ml_files: dict) -> None:
    """Closed nesting (the deep-nesting test above leaves it open): flow mappings and sequences 20,000 deep (twenty
    times Python's recursion limit), block mappings 800 deep, in the YAML files the audit parses. Each parses or
    is noted; none crashes or hangs."""
    files = {".github/workflows/ci.yml": "flow sequences", "dvc.yaml": "flow mappings",
             "environment.yml": "flow mappings", "params.yaml": "block mappings", ".gitlab-ci.yml": "block mappings",
             "conf/base/catalog.yml": "flow mappings", "MLproject": "flow mappings"}
    root = write(tmp_path / "repo", {**ml_files, **{name: CLOSED_NESTING[shape] for name, shape in files.items()}})
    run = audit(root, timeout=30)
    report = run.json()
    assert run.seconds < 30
    for name, shape in files.items():
        if shape != "block mappings":  # over Python's recursion limit: each is noted
            assert mentioned(report, name), (name, report["notes"])
