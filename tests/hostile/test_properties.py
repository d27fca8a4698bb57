"""Properties over open-ended input.

- Any bytes as any analysed file type (code, notebooks, CI, DVC, environments, build targets, scripts, project
  templates) never make `collect_facts` raise.
- Every report format of any assessment is valid: JSON against the report schema, SARIF against SARIF 2.1.0,
  GitLab as JSON, JUnit and the badge as XML, HTML as balanced markup; and rendering is deterministic.
- Auditing the same repository twice gives byte-identical reports in every format.

Monotone scoring (a failing rule turned passing never lowers level, score or coverage) is a property of
`tests/test_scoring.py`; it is not repeated here.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conftest import ALL_FORMATS, PROJECT, check_report, run_cli
from mlops_audit.audit import run_audit
from mlops_audit.facts import collect_facts
from mlops_audit.inventory import build_inventory
from mlops_audit.model import Assessment, DetectedTool, Evidence, Finding, Note, Outcome, Suppression
from mlops_audit.outputs import render
from mlops_audit.templates import as_generated

FACT_EXAMPLES = 150
REPORT_EXAMPLES = 60

# A valid seed per analysed file type: mutations of it reach deeper into each parser than noise alone.
SEEDS = {
    "src/train.py": b"import mlflow\nfrom sklearn.svm import SVC\nwith mlflow.start_run():\n    SVC().fit(X, y)\n",
    "notebooks/train.ipynb": json.dumps({"cells": [{"cell_type": "code", "execution_count": 2, "metadata": {},
                                                    "outputs": [{"output_type": "stream", "text": ["ok"]}],
                                                    "source": ["%pip install x\n", "import torch\n"]}],
                                         "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode(),
    ".github/workflows/ci.yml": b"on: [push, pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
                                b"    steps:\n      - uses: actions/checkout@v4\n      - run: pytest\n",
    "dvc.yaml": b"stages:\n  train:\n    cmd: python src/train.py\n    deps: [data/raw.csv]\n"
                b"    outs: [models/model.pkl]\n    params: [train.lr]\n",
    "requirements.txt": b"scikit-learn==1.4.2\n-r base.txt\ntorch>=2 ; python_version > '3.8'\n",
    "Dockerfile": b"FROM python:3.11-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
                  b'CMD ["python", "serve.py"]\n',
    "pyproject.toml": b'[project]\nname = "x"\ndependencies = ["mlflow==2.0"]\n[tool.poetry.dependencies]\n'
                      b'python = "^3.11"\n',
    ".dvc/config": b"[core]\n    remote = store\n['remote \"store\"']\n    url = s3://bucket/path\n",
    "Jenkinsfile": b"pipeline {\n  agent any\n  stages {\n    stage('test') { steps { sh 'pytest' } }\n  }\n}\n",
    ".gitlab-ci.yml": b"stages: [test]\ntest:\n  image: python:3.11\n  script:\n    - pytest\n  rules:\n"
                     b"    - if: $CI_PIPELINE_SOURCE == 'merge_request_event'\n",
    "environment.yml": b"name: x\nchannels: [conda-forge]\ndependencies:\n  - python=3.11\n  - pip:\n"
                       b"      - mlflow==2.12.1\n",
    "MLproject": b"name: x\npython_env: python_env.yaml\nentry_points:\n  main:\n"
                 b"    parameters: {alpha: {type: float, default: 0.1}}\n    command: python src/train.py {alpha}\n",
    "params.yaml": b"train:\n  lr: 0.1\n  seed: 42\npaths: {data: data/raw.csv}\n",
    ".pre-commit-config.yaml": b"repos:\n  - repo: https://github.com/kynan/nbstripout\n    rev: 0.7.1\n"
                               b"    hooks: [{id: nbstripout}]\n",
    "Makefile": b"train:\n\tpython -m src.train\n\ntest: train\n\tpytest -q\n",
    "data/raw.csv.dvc": b"outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 12000000\n  path: raw.csv\n",
    "dvc.lock": b"schema: '2.0'\nstages:\n  train:\n    cmd: python src/train.py\n    outs:\n"
                b"    - path: models/model.pkl\n      md5: 0123456789abcdef0123456789abcdef\n",
    "scripts/train.sh": b"#!/bin/sh\nset -e\ncd src && python train.py --seed 1 && bash ../scripts/train.sh\n",
    "conf/base/catalog.yml": b"raw:\n  type: pandas.CSVDataset\n  filepath: data/01_raw/raw.csv\n",
    "cookiecutter.json": b'{"project_name": "x", "_copy_without_render": ["*.html"]}',
    "{{cookiecutter.project_name}}/src/{{cookiecutter.project_name}}/train.py":
        b"import mlflow\n{% if cookiecutter.tracking %}mlflow.autolog(){% endif %}\nprint('{{ cookiecutter.x }}')\n",
    "copier.yml": b"_subdirectory: template\n_templates_suffix: .jinja\n_exclude: ['*.bak']\nname: {type: str}\n",
}


@st.composite
def _contents(draw: st.DrawFn, seed: bytes) -> bytes:
    """Noise, or the seed with a few bytes overwritten, inserted or cut."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=3000))
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "cut", "replace"]))
        chunk = draw(st.binary(min_size=1, max_size=12))
        if action == "insert":
            data[at:at] = chunk
        elif action == "cut":
            del data[at:at + len(chunk)]
        else:
            data[at:at + len(chunk)] = chunk
    return bytes(data)


@st.composite
def _file(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(SEEDS)))
    return name, draw(_contents(SEEDS[name]))


@settings(max_examples=FACT_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=st.lists(_file(), min_size=1, max_size=3, unique_by=lambda item: item[0]))
def test_any_bytes_as_any_analysed_file_never_crash_collect_facts(files: list[tuple[str, bytes]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name, content in files:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(content)
        facts = collect_facts(as_generated(build_inventory(root)))  # a template is read as what it generates
    if not {"cookiecutter.json", "copier.yml"} & {name for name, _ in files}:
        assert {name for name, _ in files} <= {file.path for file in facts.files}


# --- reports ----------------------------------------------------------------------------------------------------

_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40)
NOTE_KINDS = ("unreadable", "too-large", "binary", "symlink", "syntax-error", "invalid-notebook", "invalid-ci",
              "invalid-config", "git", "suppression")
_evidence = st.builds(Evidence, path=_text, line=st.none() | st.integers(1, 10**7),
                      cell=st.none() | st.integers(1, 10**5), snippet=st.none() | _text)


@lru_cache(maxsize=1)
def _real_assessment() -> Assessment:
    """A real assessment (the Level-2 fixture) whose rules and fields the strategy varies."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "repo"
        shutil.copytree(PROJECT / "fixtures" / "level2-cicd-platform", root)
        return run_audit(root, shown_root="level2-cicd-platform")


@st.composite
def _finding(draw: st.DrawFn, finding: Finding) -> Finding:
    suppression = draw(st.none() | st.builds(Suppression, reason=_text, source=_evidence))
    rule = dataclasses.replace(finding.rule, title=draw(_text), remediation=draw(_text),
                               docs=draw(st.none() | _text))
    return dataclasses.replace(finding, rule=rule, outcome=draw(st.sampled_from(list(Outcome))),
                               message=draw(_text), evidence=tuple(draw(st.lists(_evidence, max_size=3))),
                               suppression=suppression)


@st.composite
def _assessments(draw: st.DrawFn) -> Assessment:
    real = _real_assessment()
    chosen = draw(st.lists(st.sampled_from(real.findings), max_size=8, unique_by=lambda f: f.rule.id))
    findings = tuple(sorted((draw(_finding(f)) for f in chosen), key=lambda f: f.rule.id))
    tools = st.builds(DetectedTool, name=_text.filter(bool), categories=st.lists(_text, max_size=2).map(tuple),
                      strength=st.sampled_from(["used", "declared"]), evidence=st.lists(_evidence, max_size=2).map(tuple))
    return dataclasses.replace(
        real,
        root=draw(_text),
        applicable=draw(st.booleans()),
        level=draw(st.integers(0, 2)),
        score=draw(st.floats(0, 2)),
        findings=findings,
        stack=tuple(draw(st.lists(tools, max_size=3))),
        notes=tuple(draw(st.lists(st.builds(Note, _text, _text, st.sampled_from(NOTE_KINDS)), max_size=3))),
    )


@settings(max_examples=REPORT_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])
@given(assessment=_assessments())
def test_every_report_of_any_assessment_is_valid_and_deterministic(assessment: Assessment) -> None:
    for fmt in ALL_FORMATS:
        text = render(fmt, assessment)
        check_report(fmt, text)
        assert render(fmt, assessment) == text, fmt


def test_auditing_twice_gives_byte_identical_reports(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(PROJECT / "fixtures" / "level1-dvc-pipeline", root)
    outputs = []
    for run in ("first", "second"):
        out = tmp_path / run
        out.mkdir()
        result = run_cli(["audit", str(root), "--exit-zero", *(f"--format={fmt}:{out / fmt}" for fmt in ALL_FORMATS)],
                         watch=root)
        assert result.code == 0, result.stderr
        outputs.append({fmt: (out / fmt).read_bytes() for fmt in ALL_FORMATS})
    for fmt in ALL_FORMATS:
        check_report(fmt, outputs[0][fmt].decode("utf-8"))
        assert outputs[0][fmt] == outputs[1][fmt], fmt
