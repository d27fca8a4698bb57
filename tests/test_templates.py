"""Project templates (cookiecutter, copier, Databricks bundle templates) are judged as the project they generate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from mlops_audit.audit import run_audit
from mlops_audit.facts import collect_facts
from mlops_audit.inventory import build_inventory
from mlops_audit.model import Outcome
from mlops_audit.reporters import json_report
from mlops_audit.templates import as_generated, detect_template, render_path_component, render_text
from mlops_audit.testing import make_repo

# A Jinja expression that would create a file if the template were ever rendered.
WRITES_FILE = "{{ cycler.__init__.__globals__.os.popen('touch RENDERED') }}"

TRAIN = """\
import joblib
from sklearn.linear_model import LogisticRegression

from {{ cookiecutter.module_name }}.data import load_features


def main() -> None:
    features, labels = load_features("data/processed/features.csv")
    model = LogisticRegression().fit(features, labels)
    joblib.dump(model, "models/model.joblib")


if __name__ == "__main__":
    main()
"""
DATA = """\
import pandas as pd


def load_features(path: str):
    frame = pd.read_csv(path)
    return frame.drop(columns=["label"]), frame["label"]
"""
TEST = """\
from {{ cookiecutter.module_name }}.data import load_features


def test_load_features(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("a,label\\n1,0\\n")
    features, labels = load_features(str(path))
    assert list(labels) == [0]
"""
DVC = """\
stages:
  train:
    cmd: python src/{{ cookiecutter.module_name }}/train.py
    deps:
      - src/{{ cookiecutter.module_name }}/train.py
      - data/processed/features.csv
    outs:
      - models/model.joblib
"""
CI = """\
name: CI for {{ cookiecutter.project_name }}
{% if cookiecutter.ci == 'yes' %}
on:
  push:
    branches: [main]
  pull_request:
{% endif %}
jobs:
  test:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        python: ["{{ cookiecutter.python_version }}"]
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: {% raw %}${{ matrix.python }}{% endraw %}
      - run: pip install -r requirements.txt
      {%- if cookiecutter.lint %}
      - run: ruff check .
      {%- endif %}
      - run: pytest tests
"""
COOKIECUTTER = {
    "cookiecutter.json": json.dumps(
        {"project_name": "Churn", "repo_name": "churn", "module_name": "churn", "python_version": "3.11",
         "ci": ["yes", "no"], "lint": True}
    ),
    "README.md": "# A cookiecutter template for ML projects\n",
    "hooks/post_gen_project.py": "from pathlib import Path\nPath('HOOK_RAN').write_text('x')\n",
    # The template's own CI (it tests the generator) is no part of the generated project.
    ".github/workflows/template-tests.yml": "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
                                            "      - run: cookiecutter --no-input .\n",
    "{{cookiecutter.repo_name}}/README.md": "# {{ cookiecutter.project_name }}\n\n" + WRITES_FILE + "\n",
    "{{cookiecutter.repo_name}}/requirements.txt": "scikit-learn==1.5.0\npandas==2.2.2\njoblib==1.4.2\ndvc==3.51.0\n",
    "{{cookiecutter.repo_name}}/dvc.yaml": DVC,
    "{{cookiecutter.repo_name}}/src/{{ cookiecutter.module_name }}/__init__.py": "",
    "{{cookiecutter.repo_name}}/src/{{ cookiecutter.module_name }}/data.py": DATA,
    "{{cookiecutter.repo_name}}/src/{{ cookiecutter.module_name }}/train.py": TRAIN,
    "{{cookiecutter.repo_name}}/tests/test_data.py": TEST,
    "{{cookiecutter.repo_name}}/.github/workflows/ci.yml": CI,
}


def rendered_by_hand(files: dict[str, str]) -> dict[str, str]:
    """The project the cookiecutter template above generates, written without the template."""
    project = {}
    prefix = "{{cookiecutter.repo_name}}/"
    for path, text in files.items():
        if path.startswith(prefix):
            text = text.replace(WRITES_FILE, "")
            project[render_path_component_path(path[len(prefix):])] = render_text(text)
    return project


def render_path_component_path(path: str) -> str:
    return "/".join(render_path_component(part) for part in path.split("/"))


@pytest.fixture
def cookiecutter_repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "template", COOKIECUTTER)


def test_cookiecutter_template_is_detected(cookiecutter_repo: Path) -> None:
    template = detect_template(build_inventory(cookiecutter_repo))
    assert template is not None
    assert (template.kind, template.root) == ("cookiecutter", "{{cookiecutter.repo_name}}")
    assert ("{{ cookiecutter.module_name }}", "module_name") in template.path_substitutions


def test_generated_tree_is_re_rooted_and_classified(cookiecutter_repo: Path) -> None:
    view = as_generated(build_inventory(cookiecutter_repo))
    paths = {f.path: f.kind for f in view.files}
    assert paths[".github/workflows/ci.yml"] == "ci"
    assert paths["dvc.yaml"] == "dvc"
    assert paths["src/module_name/train.py"] == "python"
    assert paths["requirements.txt"] == "manifest"
    assert "test" in view.get("tests/test_data.py").roles
    # The generator's own files are not part of what it generates.
    assert not {"cookiecutter.json", "hooks/post_gen_project.py", ".github/workflows/template-tests.yml"} & set(paths)


def test_contents_are_read_with_stand_ins(cookiecutter_repo: Path) -> None:
    view = as_generated(build_inventory(cookiecutter_repo))
    workflow = yaml.safe_load(view.read_text(".github/workflows/ci.yml"))
    assert workflow["name"] == "CI for project_name"
    assert set(workflow[True]) == {"push", "pull_request"}  # YAML reads the key `on` as True
    steps = workflow["jobs"]["test"]["steps"]
    assert steps[1]["with"]["python-version"] == "${{ matrix.python }}"  # the raw block is kept as written
    assert {"run": "ruff check ."} in steps
    assert "from module_name.data import load_features" in view.read_text("src/module_name/train.py")


def test_audited_as_the_generated_project(cookiecutter_repo: Path, tmp_path: Path) -> None:
    template = run_audit(cookiecutter_repo)
    by_hand = run_audit(make_repo(tmp_path / "generated", rendered_by_hand(COOKIECUTTER)))
    assert template.applicable and by_hand.applicable
    assert (template.level, template.score) == (by_hand.level, by_hand.score)
    outcomes = {f.rule.id: f.outcome for f in template.findings}
    assert outcomes == {f.rule.id: f.outcome for f in by_hand.findings}
    ci = next(f for f in template.findings if f.rule.id == "L2-CI-01")
    assert ci.outcome is Outcome.PASS
    assert any(e.path == ".github/workflows/ci.yml" for e in ci.evidence)
    assert not any(n.kind in ("syntax-error", "invalid-ci", "invalid-config") for n in template.notes)


def test_the_assessment_says_it_judged_a_template(cookiecutter_repo: Path) -> None:
    notes = [n for n in run_audit(cookiecutter_repo).notes if n.kind == "template"]
    assert len(notes) == 1
    assert notes[0].path == "{{cookiecutter.repo_name}}/"
    assert notes[0].message == (
        "project template (cookiecutter): judged as the project it generates from `{{cookiecutter.repo_name}}/`; "
        "findings have lower confidence"
    )


def test_nothing_is_executed(cookiecutter_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(cookiecutter_repo)
    run_audit(cookiecutter_repo)
    for folder in (cookiecutter_repo, cookiecutter_repo / "{{cookiecutter.repo_name}}"):
        assert not (folder / "RENDERED").exists()
        assert not (folder / "HOOK_RAN").exists()
    readme = as_generated(build_inventory(cookiecutter_repo)).read_text("README.md")
    assert WRITES_FILE not in readme and "popen" in readme  # replaced by a stand-in name, never evaluated


def test_json_report_is_schema_valid(cookiecutter_repo: Path) -> None:
    schema = json.loads(json_report.schema_path().read_text(encoding="utf-8"))
    document = json.loads(json_report.render(run_audit(cookiecutter_repo)))
    Draft202012Validator(schema).validate(document)
    assert any(n["kind"] == "template" for n in document["notes"])


def test_plain_repository_is_not_a_template(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "plain", {"train.py": "print('{{ not a template }}')\n", "cookiecutter.json": "{}"})
    inventory = build_inventory(repo)
    assert detect_template(inventory) is None
    assert as_generated(inventory) is inventory
    assert not any(n.kind == "template" for n in run_audit(repo).notes)


def test_copy_without_render_is_read_as_written(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "t", {
        "cookiecutter.json": json.dumps({"name": "x", "_copy_without_render": [".github/workflows"]}),
        "{{ cookiecutter.name }}/.github/workflows/ci.yml": "name: {{ keep }}\n",
        "{{ cookiecutter.name }}/app.py": "NAME = '{{ cookiecutter.name }}'\n",
    })
    view = as_generated(build_inventory(repo))
    assert view.read_text(".github/workflows/ci.yml") == "name: {{ keep }}\n"
    assert view.read_text("app.py") == "NAME = 'name'\n"


COPIER = {
    "copier.yml": "_subdirectory: project\n_exclude:\n  - '*.bak'\nproject_name:\n  type: str\n"
                  "package:\n  type: str\n  default: '{{ project_name | lower }}'\n",
    "README.md": "# copier template\n",
    "project/README.md.jinja": "# {{ project_name }}\n",
    "project/notes.bak": "old\n",
    "project/src/{{ package }}/__init__.py": "",
    "project/src/{{ package }}/train.py.jinja": TRAIN.replace("{{ cookiecutter.module_name }}", "{{ package }}"),
    "project/src/{{ package }}/data.py": DATA,
    "project/requirements.txt.jinja": "scikit-learn==1.5.0\npandas==2.2.2\n",
    "project/{% if use_ci %}.github{% endif %}/workflows/ci.yml.jinja": CI.replace("cookiecutter.", ""),
}


def test_copier_template(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "copier", COPIER)
    template = detect_template(build_inventory(repo))
    assert template is not None and (template.kind, template.root) == ("copier", "project")
    view = as_generated(build_inventory(repo))
    paths = {f.path: f.kind for f in view.files}
    assert paths == {
        "README.md": "text", "requirements.txt": "manifest", "src/package/__init__.py": "python",
        "src/package/train.py": "python", "src/package/data.py": "python", ".github/workflows/ci.yml": "ci",
    }
    assert "from package.data import" in view.read_text("src/package/train.py")
    assessment = run_audit(repo)
    assert assessment.applicable
    assert any(n.kind == "template" and "(copier)" in n.message and "`project/`" in n.message
               for n in assessment.notes)
    assert next(f for f in assessment.findings if f.rule.id == "L2-CI-01").outcome is Outcome.PASS


BUNDLE_CI = """\
name: Bundle CI for {{ .input_project_name }}
on:
  pull_request:
    paths:
      - '{{template `project_name_alphanumeric_underscore` .}}/**'
env:
  {{ if (eq .input_cloud `azure`) -}}
  ARM_CLIENT_SECRET: {{`${{ secrets.ARM_CLIENT_SECRET }}`}}
  {{ else -}}
  DATABRICKS_TOKEN: {{`${{ secrets.DATABRICKS_TOKEN }}`}}
  {{- end }}
jobs:
  validate:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: databricks/setup-cli@main
      - run: databricks bundle validate -t staging
      - run: pytest tests
"""
BUNDLE = """\
bundle:
  name: {{ .input_project_name }}
include:
  - ./resources/*.yml
targets:
  dev:
    default: true
    workspace:
      host: {{template `databricks_dev_workspace_host` .}}
"""


def test_databricks_bundle_template(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "bundle", {
        "databricks_template_schema.json": json.dumps({"properties": {"input_project_name": {"type": "string"}}}),
        "library/template_variables.tmpl": "{{ define `model_name` -}} model {{- end }}",
        "template/update_layout.tmpl": "{{ skip `x` }}",
        "template/{{.input_root_dir}}/databricks.yml.tmpl": BUNDLE,
        "template/{{.input_root_dir}}/.github/workflows/{{.input_project_name}}-bundle-ci.yml.tmpl": BUNDLE_CI,
        "template/{{.input_root_dir}}/training/sample.parquet": {"size": 64},
        "template/{{.input_root_dir}}/requirements.txt.tmpl": "mlflow==2.14.0\nscikit-learn==1.5.0\n",
    })
    inventory = build_inventory(repo)
    template = detect_template(inventory)
    assert template is not None and (template.kind, template.root) == ("databricks", "template/{{.input_root_dir}}")
    view = as_generated(inventory)
    paths = {f.path: f.kind for f in view.files}
    assert paths == {
        ".github/workflows/project_name-bundle-ci.yml": "ci", "databricks.yml": "yaml",
        "requirements.txt": "manifest", "training/sample.parquet": "data",
    }
    bundle = yaml.safe_load(view.read_text("databricks.yml"))
    assert bundle["bundle"]["name"] == "project_name"
    assert bundle["targets"]["dev"]["workspace"]["host"] == "databricks_dev_workspace_host"
    workflow = yaml.safe_load(view.read_text(".github/workflows/project_name-bundle-ci.yml"))
    assert workflow["env"] == {"ARM_CLIENT_SECRET": "${{ secrets.ARM_CLIENT_SECRET }}",
                               "DATABRICKS_TOKEN": "${{ secrets.DATABRICKS_TOKEN }}"}
    assert view.read_bytes("training/sample.parquet") == b"\0" * 64  # binary files are read as they are
    facts = collect_facts(view)
    assert [w.path for w in facts.ci.workflows] == [".github/workflows/project_name-bundle-ci.yml"]
    assert not any(n.kind == "invalid-ci" for n in facts.notes)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{cookiecutter.project_slug}}", "project_slug"),
        ("{{ cookiecutter.python_version }}", "python_version"),
        ("{{- cookiecutter.name | lower -}}", "name"),
        ("{{.input_project_name}}", "project_name"),
        ("{{ .input_x }}", "x"),
        ("{{template `catalog_name` .}}", "catalog_name"),
        ("{{`${{ secrets.TOKEN }}`}}", "${{ secrets.TOKEN }}"),
        ("{{ '${{' }} github.sha }}", "${{ github.sha }}"),
        ("${{ github.sha }}", "${{ github.sha }}"),
        ("name = {{ cookiecutter.module_name|tojson }}", 'name = "module_name"'),
        ("a{# comment #}b", "ab"),
        ("x{% if a %}y{% else %}z{% endif %}", "xy"),
        ("{{ unclosed", "{{ unclosed"),
    ],
)
def test_render_text(text: str, expected: str) -> None:
    assert render_text(text) == expected


def test_lines_holding_only_control_tags_go() -> None:
    text = "a: 1\n{% if x %}\nb: 2\n{%- endif %}\n  {{ if .x -}}\nc: 3\n  {{- end }}\n{% set y = 1 %}\n"
    assert render_text(text) == "a: 1\nb: 2\nc: 3\n"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("{}%#-`'\"$. \nabc|")), max_size=300))
def test_render_never_raises(text: str) -> None:
    rendered = render_text(text)
    assert "\0" not in rendered
    assert "/" not in render_path_component(text + "/x")


def test_pathological_input_is_fast() -> None:
    text = "{{" * 20000 + "{%" * 20000 + "{% raw %}" * 2000
    assert render_text(text).startswith("{{")
