"""Every template renders for every stack choice into a valid file: YAML that parses, Python that compiles and
imports nothing it does not use, CI files with the keys their system requires."""

from __future__ import annotations

import ast
import importlib.util
import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlops_audit.checks import BUILTINS
from mlops_audit.packs import load_rules
from mlops_audit.scaffold.context import build_context
from mlops_audit.scaffold.stack_choice import DEFAULT_PIPELINES, StackChoice
from mlops_audit.scaffold.steps import BY_NAME, STEP_ORDER, STEPS, distribution
from mlops_audit.scaffold.templates import TEMPLATES_DIR, render, template_names
from mlops_audit.testing import make_facts

ORCHESTRATORS = ("dvc", "prefect", "airflow", "kfp", "zenml")
STACKS = [
    StackChoice(orchestrator, ci, tracker, validation, "churn", "src/churn", DEFAULT_PIPELINES[orchestrator], ())
    for orchestrator, ci, tracker, validation in itertools.product(
        ORCHESTRATORS, ("github", "gitlab"), ("mlflow", "wandb"), ("pandera", "great_expectations")
    )
]


def stack_id(stack: StackChoice) -> str:
    return f"{stack.orchestrator}-{stack.ci}-{stack.tracker}-{stack.validation}"


def rendered(stack: StackChoice, with_notebooks: bool = True) -> dict[str, str]:
    """Every file the scaffold can write for this stack, by repository path."""
    facts = make_facts()
    context = build_context(stack, facts, {"requirements.txt", "pyproject.toml"}, {"churn_csv": "data/churn.csv"}, "main")
    if with_notebooks:
        context["notebook_dirs"] = ["notebooks"]
    found = {"params.yaml": render("params/params.yaml.j2", context)}
    for step in STEPS:
        for spec in step.planned_files(stack):
            path = spec.path.format(package_dir=stack.package_dir, package=stack.package,
                                    pipeline_path=stack.pipeline_path)
            found[path] = render(spec.template, context)
    return found


def unused_imports(source: str) -> list[str]:
    """Names a module imports and never reads (a pyflakes-like check without the dependency)."""
    tree = ast.parse(source)
    imported = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and not (
            isinstance(node, ast.ImportFrom) and node.module == "__future__"
        ):
            for alias in node.names:
                imported[(alias.asname or alias.name).split(".")[0]] = node.lineno
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    read |= {n.value.id for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
    return sorted(name for name in imported if name not in read)


@pytest.mark.parametrize("stack", STACKS, ids=stack_id)
def test_every_file_is_valid_for_the_stack(stack: StackChoice) -> None:
    files = rendered(stack)
    for path, text in files.items():
        assert text.endswith("\n") and "\n\n\n\n" not in text, path
        if path.endswith(".py"):
            compile(text, path, "exec")
            assert unused_imports(text) == [], path
            assert max(len(line) for line in text.splitlines()) <= 120, path
        elif path.endswith((".yml", ".yaml")):
            assert isinstance(yaml.safe_load(text), dict), path
    assert "{{" not in "".join(t for p, t in files.items() if ".github/" not in p), "unrendered expression"


@pytest.mark.parametrize("stack", [s for s in STACKS if s.ci == "github"], ids=stack_id)
def test_github_workflows_have_triggers_and_jobs_with_steps(stack: StackChoice) -> None:
    workflows = {p: yaml.safe_load(t) for p, t in rendered(stack).items() if p.startswith(".github/workflows/")}
    assert set(workflows) == {f".github/workflows/{n}.yml" for n in ("ci", "cd", "ct", "monitor")}
    for path, workflow in workflows.items():
        assert True in workflow or "on" in workflow, path  # YAML 1.1 reads the key `on` as true
        for name, job in workflow["jobs"].items():
            assert job["runs-on"] == "ubuntu-latest" and job["steps"], f"{path}: {name}"
    cd = workflows[".github/workflows/cd.yml"]["jobs"]
    assert cd["deploy-staging"]["environment"] == "staging"
    assert cd["deploy-production"]["environment"] == "production"
    assert cd["deploy-production"]["needs"] == "deploy-staging"
    ct = workflows[".github/workflows/ct.yml"][True]
    assert ct["schedule"] and "workflow_dispatch" in ct


@pytest.mark.parametrize("stack", [s for s in STACKS if s.ci == "gitlab"], ids=stack_id)
def test_gitlab_jobs_have_scripts(stack: StackChoice) -> None:
    files = {p: yaml.safe_load(t) for p, t in rendered(stack).items() if p.startswith(".gitlab/ci/")}
    assert set(files) == {f".gitlab/ci/{n}.yml" for n in ("ci", "cd", "ct", "monitor")}
    for path, jobs in files.items():
        for name, job in jobs.items():
            assert job["script"] and job["stage"] in ("build", "test", "deploy"), f"{path}: {name}"
    cd = files[".gitlab/ci/cd.yml"]
    assert cd["deploy-production"]["needs"] == ["deploy-staging"]
    assert cd["deploy-production"]["rules"][0]["when"] == "manual"


PIPELINE_BODIES = {"prefect": "def training", "airflow": "(\n        ingest_data()", "kfp": "def training_pipeline",
                   "zenml": "def training"}
CALLS = ("ingest_data(", "validate_data(", "build_features(", "train_model(", "evaluate_model(", "register_", "promote")


def test_pipelines_wire_every_step_in_order() -> None:
    for stack in STACKS[:: len(STACKS) // len(ORCHESTRATORS)]:
        if stack.orchestrator == "dvc":
            continue
        text = rendered(stack)[stack.pipeline_path]
        body = text[text.index(PIPELINE_BODIES[stack.orchestrator]) :]
        positions = [body.find(call) for call in CALLS]
        assert all(p >= 0 for p in positions) and positions == sorted(positions), stack.orchestrator
    stages = yaml.safe_load(rendered(STACKS[0])["dvc.yaml"])["stages"]
    assert list(stages) == ["ingest", "validate", "features", "train", "evaluate", "register", "promote"]


def test_training_is_seeded_and_the_gate_reads_thresholds() -> None:
    files = rendered(STACKS[0])
    assert "random_state=params[\"seed\"]" in files["src/churn/train.py"]
    assert "sys.exit(" in files["src/churn/evaluate.py"] and "failures(" in files["src/churn/evaluate.py"]
    params = yaml.safe_load(files["params.yaml"])
    assert params["thresholds"] and params["paths"]["churn_csv"] == "data/churn.csv"
    assert "set_registered_model_alias" in files["src/churn/promote.py"]
    assert "get_model_version_by_alias" in files["src/churn/promote.py"]


def test_precommit_pins_real_revisions_of_each_hook() -> None:
    config = yaml.safe_load(rendered(STACKS[0])[".pre-commit-config.yaml"])
    hooks = {hook["id"]: repo["rev"] for repo in config["repos"] for hook in repo["hooks"]}
    assert {"ruff", "nbstripout", "check-added-large-files", "gitleaks"} <= set(hooks)
    assert all(rev and rev[0].isdigit() or rev.startswith("v") for rev in hooks.values())


def test_dockerfile_base_image_is_pinned() -> None:
    first = rendered(STACKS[0])["Dockerfile"].split("FROM ", 1)[1].split()[0]
    name, _, tag = first.partition(":")
    assert name == "python" and tag and tag != "latest"


def test_every_template_is_used_and_every_scaffold_name_has_a_step() -> None:
    used = {spec.template for step in STEPS for spec in step.files} | {"params/params.yaml.j2"}
    assert set(template_names()) == used
    assert all((TEMPLATES_DIR / name).is_file() for name in used)
    names = {rule.scaffold for rule in load_rules([], BUILTINS) if rule.scaffold}
    assert names <= set(BY_NAME)


def test_steps_come_after_the_steps_they_need_and_packages_are_pinned() -> None:
    for step in STEPS:
        assert all(STEP_ORDER[need.step] < STEP_ORDER[step.name] for need in step.needs), step.name
        for stack in STACKS:
            assert all("==" in distribution(p, stack) for p in step.packages)


@pytest.mark.skipif(
    importlib.util.find_spec("ruff") is None and os.environ.get("CI") != "true", reason="ruff is not installed"
)
def test_generated_python_passes_ruff(tmp_path: Path) -> None:
    for stack in STACKS[:: 4]:
        root = tmp_path / stack_id(stack)
        for path, text in rendered(stack).items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text, encoding="utf-8")
        command = [sys.executable, "-m", "ruff", "check", "--no-cache", "."]
        result = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout


def test_awkward_paths_from_the_repository_stay_valid() -> None:
    stack = StackChoice("dvc", "github", "mlflow", "pandera", "churn", "src/churn", "dvc.yaml", ())
    extra = {"odd": "data/my data: v1 #2.csv"}
    context = build_context(stack, make_facts(), set(), extra, "main")
    context["paths"]["raw"] = "data/it's: raw.csv"
    params = yaml.safe_load(render("params/params.yaml.j2", context))
    assert params["paths"]["odd"] == "data/my data: v1 #2.csv"
    stages = yaml.safe_load(render("pipeline/dvc.yaml.j2", context))["stages"]
    assert "data/it's: raw.csv" in stages["ingest"]["deps"]
    kfp = render("pipeline/kfp_pipeline.py.j2", {**context, "orchestrator": "kfp"})
    compile(kfp, "kfp.py", "exec")
