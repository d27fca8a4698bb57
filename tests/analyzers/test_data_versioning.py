"""The data-versioning analyzer over real DVC, git-lfs and marker files, and the data or model files in a tree."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops_audit.analyzers.data_versioning import DataFacts, analyze_data
from mlops_audit.inventory import build_inventory
from mlops_audit.testing import make_repo, write_tree

DVC_CONFIG = """\
[core]
    remote = storage
    autostage = true
['remote "storage"']
    url = s3://ml-bucket/dvcstore
['remote "backup"']
    url = gs://ml-backup/dvc
"""

DVC_YAML = """\
stages:
  prepare:
    cmd: python src/prepare.py data/raw data/prepared
    deps:
      - src/prepare.py
      - data/raw
    params:
      - prepare.split
      - train.yaml:
          - epochs
          - batch_size
      - configs/all.yaml:
    outs:
      - data/prepared
  train:
    cmd:
      - python src/train.py
      - python src/export.py
    deps: [data/prepared]
    outs:
      - models/model.pkl:
          cache: true
    metrics:
      - metrics.json:
          cache: false
    plots:
      - plots/roc.csv
  evaluate:
    foreach:
      - val
      - test
    do:
      cmd: python src/evaluate.py ${item}
      outs:
        - reports/${item}.json
  tune:
    matrix:
      lr: [0.1, 0.01]
    cmd: python src/tune.py --lr ${item.lr}
    outs:
      - tuning/lr-${item.lr}.csv
artifacts:
  churn-model:
    path: models/model.pkl
    type: model
"""

POINTER = """\
outs:
- md5: 3863d0e317dd1b5d5bd3f5a4f3c2a8e7.dir
  size: 2048
  nfiles: 2
  path: raw
"""


def data_facts(root: Path) -> DataFacts:
    return analyze_data(build_inventory(root))


def test_dvc_project(tmp_path: Path) -> None:
    make_repo(
        tmp_path,
        {
            ".dvc/config": DVC_CONFIG,
            ".dvc/config.local": "['remote \"storage\"']\n    access_key_id = AKIA0000\n",
            ".dvcignore": "",
            "dvc.yaml": DVC_YAML,
            "dvc.lock": "schema: '2.0'\nstages: {}\n",
            "data/raw.dvc": POINTER,
            "data/raw/part-1.csv": "a,b\n1,2\n",
            "models/model.pkl": {"size": 64},
            "tuning/lr-0.1.csv": "x\n",
            "notes/sample.csv": "a\n",
        },
    )
    facts = data_facts(tmp_path)
    assert facts.dvc_config == ".dvc/config"
    assert facts.dvc_remotes == ("backup", "storage")
    assert facts.dvc_default_remote == "storage"
    assert facts.dvc_config_local_tracked
    assert facts.dvc_files == ("data/raw.dvc",)
    assert facts.dvc_pipelines == ("dvc.yaml",)
    assert facts.dvc_locks == ("dvc.lock",)
    assert facts.errors == ()

    stages = {stage.name: stage for stage in facts.stages}
    assert list(stages) == ["prepare", "train", "evaluate", "tune"]
    prepare, train = stages["prepare"], stages["train"]
    assert prepare.line == 2 and prepare.path == "dvc.yaml"
    assert prepare.cmd == ("python src/prepare.py data/raw data/prepared",)
    assert prepare.deps == ("src/prepare.py", "data/raw")
    assert prepare.params == ("prepare.split", "train.yaml:epochs", "train.yaml:batch_size", "configs/all.yaml")
    assert train.cmd == ("python src/train.py", "python src/export.py")
    assert train.outs == ("models/model.pkl",)
    assert train.metrics == ("metrics.json",) and train.plots == ("plots/roc.csv",)
    assert stages["evaluate"].outs == ("reports/${item}.json",)
    assert stages["tune"].cmd == ("python src/tune.py --lr ${item.lr}",)

    assert [(e.path, e.line, e.snippet) for e in facts.dvc_artifacts] == [
        ("dvc.yaml", DVC_YAML.splitlines().index("  churn-model:") + 1, "churn-model: models/model.pkl")
    ]
    artifacts = {a.path: a for a in facts.artifacts}
    assert artifacts["data/raw/part-1.csv"].dvc_tracked  # under the folder `data/raw.dvc` versions
    assert artifacts["models/model.pkl"].dvc_tracked and artifacts["models/model.pkl"].kind == "model"
    assert artifacts["tuning/lr-0.1.csv"].dvc_tracked  # a templated matrix output
    assert not artifacts["notes/sample.csv"].dvc_tracked
    assert "data/raw" in facts.dvc_outputs


def test_config_local_untracked_and_no_remote(tmp_path: Path) -> None:
    make_repo(tmp_path, {".dvc/config": "", "README.md": "x"})
    write_tree(tmp_path, {".dvc/config.local": "[core]\nremote = mine\n"})
    facts = data_facts(tmp_path)
    assert facts.dvc_config == ".dvc/config"
    assert facts.dvc_remotes == () and facts.dvc_default_remote is None
    assert not facts.dvc_config_local_tracked


def test_stage_outputs_resolve_from_the_pipeline_folder_and_wdir(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "pipelines/dvc.yaml": "stages:\n  features:\n    wdir: ..\n    cmd: python f.py\n"
            "    outs: [data/features.parquet]\n",
            "pipelines/local/dvc.yaml": "stages:\n  s:\n    cmd: x\n    outs: [out.csv, ../../escape.csv, s3://b/k]\n",
            "data/features.parquet": {"size": 10},
            "pipelines/local/out.csv": "a\n",
        },
    )
    facts = data_facts(tmp_path)
    assert facts.dvc_pipelines == ("pipelines/dvc.yaml", "pipelines/local/dvc.yaml")
    assert all(a.dvc_tracked for a in facts.artifacts)
    assert facts.dvc_outputs == ("data/features.parquet", "escape.csv", "pipelines/local/out.csv")


def test_git_lfs_patterns_and_pointer_files(tmp_path: Path) -> None:
    make_repo(
        tmp_path,
        {
            ".gitattributes": "# large files\n*.pt filter=lfs diff=lfs merge=lfs -text\n"
            "*.ipynb filter=nbstripout\ndata/**/*.parquet filter=lfs diff=lfs merge=lfs -text\n",
            "models/net.pt": {"lfs": True},
            "data/train.csv": "x,y\n" * 300_000,
        },
    )
    facts = data_facts(tmp_path)
    assert [(e.path, e.line, e.snippet) for e in facts.lfs_patterns] == [
        (".gitattributes", 2, "*.pt"),
        (".gitattributes", 4, "data/**/*.parquet"),
    ]
    artifacts = {a.path: a for a in facts.artifacts}
    assert artifacts["models/net.pt"].lfs_pointer and artifacts["models/net.pt"].tracked
    csv = artifacts["data/train.csv"]
    assert csv.tracked and csv.size == 1_200_000 and csv.kind == "data"
    assert not csv.lfs_pointer and not csv.dvc_tracked


def test_other_tools(tmp_path: Path) -> None:
    spec = {"pipeline": {"name": "edges"}, "input": {"pfs": {"repo": "images", "glob": "/*"}},
            "transform": {"cmd": ["python3", "/edges.py"]}}
    write_tree(
        tmp_path,
        {
            ".datalad/config": "[datalad \"dataset\"]\n\tid = 1\n",
            ".datalad/.gitattributes": "config annex.largefiles=nothing\n",
            ".lakectl.yaml": "server:\n  endpoint_url: http://localhost:8000\n",
            "pachyderm/edges.json": json.dumps(spec),
            "configs/other.json": json.dumps({"pipeline": "pfs-free"}),
        },
    )
    facts = data_facts(tmp_path)
    assert [(e.path, e.snippet) for e in facts.other_tools] == [
        (".datalad/.gitattributes", "DataLad"),
        (".lakectl.yaml", "lakeFS"),
        ("pachyderm/edges.json", "Pachyderm"),
    ]


def test_parse_errors_are_recorded_not_raised(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            ".dvc/config": "remote = orphan\n[core\n",
            "dvc.yaml": "stages:\n  train:\n    cmd: [unclosed\n",
            "data.dvc": "outs: {path: [\n",
            "other/dvc.yaml": "- just\n- a list\n",
            "weird/dvc.yaml": "stages:\n  a: 3\n  b:\n    foreach: 1\n    do: 2\n",
        },
    )
    facts = data_facts(tmp_path)
    assert {e.path for e in facts.errors} == {".dvc/config", "data.dvc", "dvc.yaml", "other/dvc.yaml"}
    broken = next(e for e in facts.errors if e.path == "dvc.yaml")
    assert broken.line == 4 and broken.snippet.startswith("YAML does not parse")
    assert [s.name for s in facts.stages] == ["a", "b"]
    assert all(s.cmd == () for s in facts.stages)


def test_no_data_versioning_at_all(tmp_path: Path) -> None:
    write_tree(tmp_path, {"train.py": "print(1)\n"})
    assert data_facts(tmp_path) == DataFacts()


YAML_PIECES = ["stages:", "  a:", "    cmd: x", "    outs:", "    - b", "    - {c: {cache: false}}", "foreach: [1]",
               "do:", "  params: [{p.yaml: }]", "artifacts:", "  m: {path: 3}", ": :", "- ", "\t", "${x}", "'",
               "[", "{", "a: 2001-13-45", "a: !!timestamp 2020-01-01 99:99", "&a [*a]", "? [1]"]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(), st.lists(st.sampled_from(YAML_PIECES)).map("\n".join)))
def test_arbitrary_dvc_files_never_raise(scratch: Path, text: str) -> None:
    content = text.encode("utf-8", "replace")
    for name in ("dvc.yaml", "x.dvc", ".dvc/config", ".gitattributes", "conf/base/catalog.yml"):
        (scratch / name).parent.mkdir(parents=True, exist_ok=True)
        (scratch / name).write_bytes(content)
    assert isinstance(data_facts(scratch), DataFacts)


def test_pointer_dvc_file_with_wdir(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {"meta/images.dvc": textwrap.dedent("""\
            wdir: ../datasets
            outs:
            - path: images
            """), "datasets/images/0001.npy": {"size": 16}},
    )
    facts = data_facts(tmp_path)
    assert facts.artifacts[0].dvc_tracked


KEDRO_CATALOG = """\
_csv: &csv
  type: pandas.CSVDataSet
  versioned: true

raw_iris:
  type: pandas.CSVDataSet
  filepath: data/01_raw/iris.csv

model_input:
  <<: *csv
  filepath: data/05_model_input/train.csv

classifier:
  type: pickle.PickleDataSet
  filepath: data/06_models/classifier.pkl
  versioned: true

report:
  type: text.TextDataSet
  versioned: "yes"
"""


def test_kedro_versioned_datasets(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "conf/base/catalog.yml": KEDRO_CATALOG,
            "conf/local/catalog/models.yaml": "scores:\n  type: json.JSONDataSet\n  versioned: true\n",
            "conf/base/parameters.yml": "plain:\n  versioned: true\n",  # not a catalog
            "catalog.yml": "elsewhere:\n  versioned: true\n",  # not under conf/
        },
    )
    facts = data_facts(tmp_path)
    lines = KEDRO_CATALOG.splitlines()
    assert [(e.path, e.line, e.snippet) for e in facts.versioned_datasets] == [
        ("conf/base/catalog.yml", lines.index("model_input:") + 1, "kedro versioned dataset: model_input"),
        ("conf/base/catalog.yml", lines.index("classifier:") + 1, "kedro versioned dataset: classifier"),
        ("conf/local/catalog/models.yaml", 1, "kedro versioned dataset: scores"),
    ]
    assert facts.errors == ()


def test_broken_kedro_catalog_is_noted(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "conf/base/catalog.yml": "iris:\n  type: [unclosed\n  versioned: true\n",
            "conf/local/catalog.yml": "- a\n- list\n",
        },
    )
    facts = data_facts(tmp_path)
    assert facts.versioned_datasets == ()
    assert [e.path for e in facts.errors] == ["conf/base/catalog.yml"]
    assert facts.errors[0].snippet.startswith("YAML does not parse")


def test_kedro_catalog_alias_bomb_is_not_expanded(tmp_path: Path) -> None:
    rows = ["a: &a {versioned: true}"]
    rows += [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(9)]
    write_tree(tmp_path, {"conf/base/catalog.yml": "\n".join(rows) + "\n"})
    facts = data_facts(tmp_path)
    assert facts.versioned_datasets == ()
    assert [e.path for e in facts.errors] == ["conf/base/catalog.yml"]
    assert "aliases expand" in facts.errors[0].snippet
