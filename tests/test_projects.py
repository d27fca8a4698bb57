"""Monorepos: ML project roots are found from paths, each project is assessed, the verdict names its project."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_audit.analyzers import ci, stack
from mlops_audit.analyzers.ci import documents
from mlops_audit.audit import AuditOptions, run_audit
from mlops_audit.facts import collect_facts
from mlops_audit.inventory import build_inventory
from mlops_audit.model import Assessment, Evidence
from mlops_audit.pipeline import audit_inventory
from mlops_audit.projects import MAX_PROJECTS, find_project_roots, shared_paths
from mlops_audit.reporters import json_report
from mlops_audit.suppressions import ConfigSuppression
from mlops_audit.testing import make_repo, write_tree

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PIPELINE, NOTEBOOKS = "projects/churn-pipeline", "projects/churn-notebooks"
ROOT_WORKFLOW = (FIXTURES / "level1-dvc-pipeline/.github/workflows/retrain.yml").read_text(encoding="utf-8").replace(
    "\njobs:", f"\ndefaults:\n  run:\n    working-directory: {PIPELINE}\n\njobs:", 1
)


def roots(*paths: str) -> tuple[str, ...]:
    return find_project_roots(paths).roots


def test_markers_make_project_roots() -> None:
    assert roots(
        "a/pyproject.toml", "b/setup.py", "c/setup.cfg", "d/dvc.yaml", "e/MLproject", "f/feature_store.yaml",
        "g/databricks.yml", "h/prefect.yaml", "i/conf/base/catalog.yml", "README.md",
    ) == ("a", "b", "c", "d", "e", "f", "g", "h", "i")


def test_requirements_need_code_below_them() -> None:
    assert roots("svc/requirements.txt", "svc/src/app.py", "nb/requirements.txt", "nb/eda.ipynb",
                 "bare/requirements.txt", "bare/README.md") == ("nb", "svc")


def test_the_repository_root_tests_and_docs_hold_no_project() -> None:
    paths = ("pyproject.toml", "dvc.yaml", "tests/fixtures/app/pyproject.toml", "docs/requirements.txt",
             "docs/conf.py", "src/pkg/Tests/x/setup.py")
    assert roots(*paths) == ()


def test_examples_are_projects_and_nested_roots_collapse_to_the_outermost() -> None:
    paths = ("examples/mnist/requirements.txt", "examples/mnist/train.py", "examples/mnist/serving/setup.py",
             "ml/pyproject.toml", "ml/pipelines/a/dvc.yaml", "ml-tools/setup.py")
    assert roots(*paths) == ("examples/mnist", "ml", "ml-tools")


def test_roots_are_capped() -> None:
    found = find_project_roots(f"p{n:03d}/pyproject.toml" for n in range(MAX_PROJECTS + 7))
    assert len(found.roots) == MAX_PROJECTS and found.dropped == 7
    assert found.roots[-1] == f"p{MAX_PROJECTS - 1:03d}"


def test_shared_files_are_the_repository_wide_ones_outside_every_project() -> None:
    paths = [".github/workflows/ci.yml", ".gitlab-ci.yml", ".gitattributes", ".pre-commit-config.yaml",
             ".dvc/config", "requirements.txt", "pyproject.toml", "README.md", "scripts/run.py",
             "a/pyproject.toml", "a/.github/workflows/x.yml", "lib/requirements.txt"]
    assert shared_paths(paths, ["a"]) == (
        ".dvc/config", ".gitattributes", ".github/workflows/ci.yml", ".gitlab-ci.yml", ".pre-commit-config.yaml",
        "pyproject.toml", "requirements.txt",
    )


_segment = st.sampled_from(["a", "b", "tests", "docs", "conf", "base", "src", "examples", ""])
_name = st.sampled_from(["pyproject.toml", "dvc.yaml", "requirements.txt", "x.py", "n.ipynb", "setup.py", "c.yml"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.lists(_segment, max_size=4), _name).map(lambda t: "/".join([*t[0], t[1]]))))
def test_roots_are_distinct_folders_never_nested(paths: list[str]) -> None:
    found = find_project_roots(paths).roots
    assert list(found) == sorted(set(found)) and "" not in found
    for root in found:
        assert any(p.startswith(root + "/") for p in paths)
        assert not any(root.startswith(other + "/") for other in found)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=40), max_size=20))
def test_any_paths_never_crash(paths: list[str]) -> None:
    found = find_project_roots(paths)
    shared_paths(paths, found.roots)


def test_a_view_re_roots_a_project_and_keeps_shared_files(tmp_path: Path) -> None:
    make_repo(tmp_path, {
        "pyproject.toml": "[project]\nname = 'root'\n", ".github/workflows/ci.yml": "on: push\n",
        "a/pyproject.toml": "[project]\nname = 'a'\n", "a/tests/test_x.py": "def test_x(): pass\n",
        "examples/demo/requirements.txt": "numpy\n", "examples/demo/train.py": "print(1)\n",
    })
    inventory = build_inventory(tmp_path)
    shared = (".github/workflows/ci.yml", "pyproject.toml")
    view = inventory.subset("a", shared)
    assert [f.path for f in view.files] == [".github/workflows/ci.yml", "pyproject.toml", "tests/test_x.py"]
    assert view.read_text("pyproject.toml") == "[project]\nname = 'a'\n"  # the project's own wins
    assert view.get(".github/workflows/ci.yml").kind == "ci"
    assert (view.origin("pyproject.toml"), view.origin(".github/workflows/ci.yml")) == ("a/pyproject.toml",
                                                                                        ".github/workflows/ci.yml")
    assert view.origin("gone/old.pkl") == "a/gone/old.pkl"  # a file only in history is under the project
    demo = inventory.subset("examples/demo")
    assert [(f.path, f.roles) for f in demo.files] == [("requirements.txt", ()), ("train.py", ())]
    assert inventory.get("examples/demo/train.py").roles == ("example",)
    assert inventory.origin("a/pyproject.toml") == "a/pyproject.toml"


def test_views_parse_a_shared_yaml_file_and_search_its_contents_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_repo(tmp_path, {
        ".github/workflows/ci.yml": "on: push\njobs:\n  test:\n    steps:\n      - run: pytest\n",
        "pipeline.yaml": "# PIPELINE DEFINITION\nroot: {}\n",  # a compiled Kubeflow pipeline
        "a/pyproject.toml": "[project]\nname = 'a'\n", "a/train.py": "model.fit(x)\n",
        "b/pyproject.toml": "[project]\nname = 'b'\n", "b/train.py": "model.fit(x)\n",
    })
    parsed: list[str] = []
    searched: list[tuple[object, str]] = []
    load_yaml, content_match = documents.load_yaml, stack._content_match
    monkeypatch.setattr(documents, "load_yaml", lambda text: parsed.append(text) or load_yaml(text))
    monkeypatch.setattr(stack, "_content_match", lambda sig, text:
                        searched.append((sig, text)) or content_match(sig, text))
    inventory = build_inventory(tmp_path)
    shared = (".github/workflows/ci.yml", "pipeline.yaml")
    views = [inventory, inventory.subset("a", shared), inventory.subset("b", shared)]
    facts = [collect_facts(view) for view in views]
    assert parsed == ["on: push\njobs:\n  test:\n    steps:\n      - run: pytest\n"]
    assert searched and len(searched) == len(set(searched))  # each signature over each file once
    for each in facts:  # every view still has them, at its own paths
        assert [w.path for w in each.ci.workflows] == [".github/workflows/ci.yml"]
        kfp = next(tool for tool in each.stack.tools if tool.name == "kfp")
        assert [(e.path, e.line) for e in kfp.evidence] == [("pipeline.yaml", 1)]


REUSING = """on: push
jobs:
  shared:
    uses: ./.github/workflows/reusable.yml
  own:
    uses: ./a/ci/reusable.yml
"""
REUSABLE = "on: workflow_call\njobs:\n  test:\n    steps:\n      - run: pytest\n"


def test_views_analyse_a_shared_ci_file_once_unless_it_reads_other_files_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_repo(tmp_path, {
        ".github/workflows/ci.yml": REUSING, ".github/workflows/reusable.yml": REUSABLE,
        "a/ci/reusable.yml": REUSABLE.replace("pytest", "python train.py"),  # only at this path in the whole
        "a/pyproject.toml": "[project]\nname = 'a'\n", "a/train.py": "model.fit(x)\n",
        "b/pyproject.toml": "[project]\nname = 'b'\n", "b/train.py": "model.fit(x)\n",
    })
    analysed: list[str] = []
    analyze_file = ci._analyze_file
    monkeypatch.setattr(ci, "_analyze_file", lambda path, system, files: analysed.append(path) or analyze_file(
        path, system, files))
    inventory = build_inventory(tmp_path)
    shared = (".github/workflows/ci.yml", ".github/workflows/reusable.yml")
    views = [inventory, inventory.subset("a", shared), inventory.subset("b", shared)]
    workflows = [{w.path: w for w in collect_facts(view).ci.workflows} for view in views]
    # the whole reads a/ci/reusable.yml for ci.yml; neither project has it there, so ci.yml is analysed again once
    assert sorted(analysed) == [".github/workflows/ci.yml", ".github/workflows/ci.yml",
                                ".github/workflows/reusable.yml"]
    whole, a, b = (each[".github/workflows/ci.yml"] for each in workflows)
    assert {c.text for job in whole.jobs for c in job.commands} == {"pytest", "python train.py"}
    assert {c.text for job in a.jobs for c in job.commands} == {"pytest"}
    assert a == b


@pytest.fixture(scope="module")
def monorepo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Assessment]:
    """A Level-1 DVC project and a Level-0 notebook project, with the retraining workflow at the root."""
    root = tmp_path_factory.mktemp("mono") / "repo"
    shutil.copytree(FIXTURES / "level1-dvc-pipeline", root / PIPELINE, ignore=shutil.ignore_patterns(".github"))
    shutil.copytree(FIXTURES / "level0-notebook-churn", root / NOTEBOOKS)
    make_repo(root, {".github/workflows/retrain.yml": ROOT_WORKFLOW, "README.md": "# Churn models\n"}, commits=2)
    return root, run_audit(root, shown_root="mono")


def test_every_project_is_listed_with_its_level(monorepo: tuple[Path, Assessment]) -> None:
    _, assessment = monorepo
    assert [(p.root, p.level, p.applicable) for p in assessment.projects] == [(NOTEBOOKS, 0, True),
                                                                             (PIPELINE, 1, True)]
    notebooks = assessment.projects[0]
    assert 0 < notebooks.score < 1


def test_the_verdict_names_the_level_1_project(monorepo: tuple[Path, Assessment]) -> None:
    _, assessment = monorepo
    assert (assessment.project, assessment.level, assessment.root) == (PIPELINE, 1, "mono")
    assert assessment.score == assessment.projects[1].score
    # The notebook project's problems are not the verdict's.
    paths = {e.path for f in assessment.findings for e in f.evidence}
    assert not any(path.startswith(NOTEBOOKS) for path in paths)


def test_the_verdict_matches_the_project_audited_alone(monorepo: tuple[Path, Assessment], tmp_path: Path) -> None:
    root, assessment = monorepo
    alone = tmp_path / "alone"
    shutil.copytree(root / PIPELINE, alone)
    make_repo(alone, {".github/workflows/retrain.yml": ROOT_WORKFLOW}, commits=2)
    single = run_audit(alone)
    assert single.projects == () and single.project is None
    assert {f.rule.id: f.outcome for f in assessment.findings} == {f.rule.id: f.outcome for f in single.findings}
    for moved, original in zip(assessment.findings, single.findings):
        for there, here in zip(moved.evidence, original.evidence):
            if here.path.startswith(".github/"):
                assert there.path == here.path
            else:
                assert there.path == f"{PIPELINE}/{here.path}"
            # Evidence that opens in the project opens from the repository root.
            assert (root / there.path).is_file() == (alone / here.path).is_file()


def test_the_monorepo_json_report_is_valid(monorepo: tuple[Path, Assessment]) -> None:
    _, assessment = monorepo
    document = json.loads(json_report.render(assessment))
    schema = json.loads(json_report.schema_path().read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(document)
    assert document["project"] == PIPELINE
    assert [(p["root"], p["level"]) for p in document["projects"]] == [(NOTEBOOKS, 0), (PIPELINE, 1)]


def test_a_single_project_repository_is_unchanged(tmp_path: Path) -> None:
    root = tmp_path / "single"
    shutil.copytree(FIXTURES / "level1-dvc-pipeline", root)
    write_tree(root, {"tools/lint/pyproject.toml": "[project]\nname = 'lint'\n"})  # one root below: no monorepo
    make_repo(root, {})
    assessment = run_audit(root)
    assert assessment.projects == () and assessment.project is None
    assert assessment == audit_inventory(build_inventory(root), AuditOptions(), str(root))


def test_the_whole_stays_the_verdict_when_no_project_reaches_further(tmp_path: Path) -> None:
    make_repo(tmp_path, {
        "a/requirements.txt": "scikit-learn\n", "a/train.py": "from sklearn.linear_model import LinearRegression\n"
        "LinearRegression().fit([[0]], [0])\n",
        "b/pyproject.toml": "[project]\nname = 'b'\n", "b/b.py": "print('no ML here')\n",
    })
    assessment = run_audit(tmp_path)
    assert assessment.project is None
    assert [(p.root, p.applicable) for p in assessment.projects] == [("a", True), ("b", False)]


def test_a_configured_suppression_of_a_project_path_applies_to_the_project(
    monorepo: tuple[Path, Assessment],
) -> None:
    root, _ = monorepo
    source = Evidence(".mlops-audit.yml", 4)
    entry = ConfigSuppression("L1-PIPE-04", "the base image is pinned by the platform", (f"{PIPELINE}/Dockerfile",),
                              source)
    assessment = run_audit(root, AuditOptions(suppress=(entry,)))
    finding = next(f for f in assessment.findings if f.rule.id == "L1-PIPE-04")
    assert finding.evidence[0].path == f"{PIPELINE}/Dockerfile"
    assert finding.suppression is not None and finding.suppression.source == source
