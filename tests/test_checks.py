"""Built-in checks, each run on facts records written by hand."""

from __future__ import annotations

import re
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_audit.analyzers.ci import CICommand, CIFacts, CIJob, CIWorkflow
from mlops_audit.analyzers.code import CallRef, CodeFacts, ImportRef, LiteralRef
from mlops_audit.analyzers.data_versioning import ArtifactFile, DataFacts, DvcStage
from mlops_audit.analyzers.environment import EnvironmentFacts, Manifest, Requirement
from mlops_audit.analyzers.notebooks import Notebook, NotebookFacts
from mlops_audit.analyzers.python_code import PythonFacts, PythonFile
from mlops_audit.checks import BUILTINS
from mlops_audit.engine import judge
from mlops_audit.facts import Facts, collect_facts
from mlops_audit.inventory import RepoFile, build_inventory
from mlops_audit.packs import load_rules
from mlops_audit.pipeline import is_ml_project
from mlops_audit.testing import make_facts, write_tree


def run(name: str, facts: Facts, **params: Any) -> tuple[bool | None, list[str], str]:
    verdict = BUILTINS[name](facts, params)
    return verdict.value, sorted({e.path for e in verdict.evidence}), verdict.detail


def py(path: str, roles: tuple[str, ...] = (), notebook_like: bool = False, **code: Any) -> PythonFile:
    return PythonFile(path, roles, CodeFacts(**code), notebook_like)


def notebook(path: str, counts: tuple[int | None, ...] = (1, 2), **fields: Any) -> Notebook:
    values: dict[str, Any] = dict(
        path=path, roles=(), nbformat=4, cells=len(counts), code_cells=len(counts), markdown_cells=0,
        execution_counts=counts, executed=any(c is not None for c in counts), out_of_order_cell=None,
        unexecuted_cells=(), cells_with_outputs=0, output_bytes=0, installs=(), code=CodeFacts(),
    )
    values.update(fields)
    return Notebook(**values)


def job(name: str, kinds: tuple[str, ...] = (), triggers: tuple[str, ...] = ("push",), **fields: Any) -> CIJob:
    commands = tuple(CICommand(text, 10, kinds) for text in fields.pop("commands", ()))
    return CIJob(name, ".github/workflows/ci.yml", 5, triggers, commands, kinds, **fields)


def ci(*jobs: CIJob, path_filters: tuple[str, ...] = ()) -> CIFacts:
    triggers = tuple(sorted({t for j in jobs for t in j.triggers}))
    return CIFacts((CIWorkflow("github", ".github/workflows/ci.yml", "ci", triggers, (), path_filters, jobs),))


def stage(name: str, cmd: str, deps: tuple[str, ...] = (), outs: tuple[str, ...] = ()) -> DvcStage:
    return DvcStage(name, "dvc.yaml", 2, (cmd,), deps, outs, (), ())


def test_every_builtin_has_a_docstring() -> None:
    assert all(check.__doc__ for check in BUILTINS.values())


def test_code_sites_separates_python_from_notebooks() -> None:
    fit = CallRef("model.fit", 4, snippet="model.fit(X, y)")
    facts = make_facts(
        python=PythonFacts((py("src/util.py"), py("tests/test_train.py", ("test",), fit_calls=(fit,)))),
        notebooks=NotebookFacts((notebook("train.ipynb", code=CodeFacts(fit_calls=(replace(fit, cell=3),))),)),
    )
    assert run("code_sites", facts, sites=["fit_calls"], **{"in": ["python"]})[0] is False
    assert run("code_sites", facts, sites="fit_calls") == (True, ["train.ipynb"], "train.ipynb")
    assert run("code_sites", facts, sites=["fit_calls"], roles="test", **{"in": ["python"]})[1] == ["tests/test_train.py"]


def test_code_sites_reports_absolute_paths_with_their_place() -> None:
    literal = LiteralRef("/Users/ana/data.csv", 7)
    facts = make_facts(python=PythonFacts((py("src/load.py", absolute_paths=(literal,)),)))
    verdict = BUILTINS["code_sites"](facts, {"sites": ["absolute_paths"]})
    assert verdict.value and verdict.evidence[0].line == 7 and verdict.evidence[0].snippet == "/Users/ana/data.csv"


def test_unsafe_deserialization() -> None:
    safe = (
        CallRef("torch.load", 1, literals=(("weights_only", "True"),)),
        CallRef("yaml.load", 2, keywords=("Loader",)),
        CallRef("joblib.load", 3),
    )
    facts = make_facts(python=PythonFacts((py("src/serve.py", calls=safe),)))
    assert run("unsafe_deserialization", facts)[0] is False
    assert run("unsafe_deserialization", facts, include_pickle=True)[0] is True
    unsafe = (CallRef("torch.load", 1), CallRef("x.from_pretrained", 2, literals=(("trust_remote_code", "True"),)))
    facts = make_facts(python=PythonFacts((py("src/serve.py", calls=unsafe),)))
    assert BUILTINS["unsafe_deserialization"](facts, {}).evidence[0].line == 1


def test_step_modules_counts_roles_from_paths_and_functions() -> None:
    files = (
        py("src/data/make_dataset.py", functions=("main",)),
        py("src/features/build_features.py", functions=("build",)),
        py("src/models/train_model.py", has_main_guard=True),
        py("src/pipeline.py", functions=("evaluate_model",)),
        py("src/empty_predict.py"),  # a stub without functions does not count
        py("tests/test_predict.py", ("test",), functions=("test_predict",)),
    )
    facts = make_facts(python=PythonFacts(files))
    value, paths, detail = run("step_modules", facts, min_roles=3, require=["train"])
    assert value is True and detail == "evaluate, ingest, prepare, train"
    assert "src/pipeline.py" in paths and "src/empty_predict.py" not in paths
    assert run("step_modules", facts, min_roles=5)[0] is False


def test_step_modules_ignores_notebook_exports_and_requires_training() -> None:
    files = (py("analysis.py", notebook_like=True, functions=("train",)), py("src/prepare.py", functions=("main",)))
    value, _, detail = run("step_modules", make_facts(python=PythonFacts(files)), min_roles=1, require=["train"])
    assert value is False and detail == "prepare"


def test_step_modules_counts_a_training_component_of_a_pipeline_module() -> None:
    # A SageMaker project: preprocessing and evaluation scripts, training is a built-in algorithm's TrainingStep.
    training = CallRef("sagemaker.workflow.steps.TrainingStep", 227, snippet="TrainingStep(name='TrainAbaloneModel')")
    files = (
        py("pipelines/abalone/preprocess.py", has_main_guard=True),
        py("pipelines/abalone/evaluate.py", has_main_guard=True),
        py("pipelines/abalone/pipeline.py", functions=("get_pipeline",), calls=(training,)),
        py("notebooks/explore.py", notebook_like=True, functions=("f",), calls=(training,)),
    )
    verdict = BUILTINS["step_modules"](make_facts(python=PythonFacts(files)), {"min_roles": 3, "require": ["train"]})
    assert verdict.value is True and verdict.detail == "evaluate, prepare, train"
    assert any(e.path == "pipelines/abalone/pipeline.py" and e.line == 227 for e in verdict.evidence)
    assert all(e.path != "notebooks/explore.py" for e in verdict.evidence)


def test_step_modules_gate_role_is_opt_in() -> None:
    files = (py("src/evaluate.py", functions=("evaluate", "check_thresholds")), py("src/api_gateway.py", functions=("f",)))
    facts = make_facts(python=PythonFacts(files))
    assert run("step_modules", facts, steps=["gate"]) == (True, ["src/evaluate.py"], "gate")
    assert run("step_modules", facts)[2] == "evaluate"


def test_tested_modules_follows_imports_to_project_feature_modules() -> None:
    files = (
        py("src/churn/features.py", functions=("add_ratio",)),
        py("tests/test_features.py", ("test",), imports=(ImportRef("churn.features.add_ratio", "add_ratio", 1),)),
        py("tests/test_sklearn.py", ("test",), imports=(ImportRef("sklearn.preprocessing", "preprocessing", 1),)),
    )
    assert run("tested_modules", make_facts(python=PythonFacts(files))) == (True, ["tests/test_features.py"],
                                                                            "tests/test_features.py")
    assert run("tested_modules", make_facts(python=PythonFacts(files[1:])))[0] is False


def test_pipeline_roles_from_dvc_stages() -> None:
    stages = (
        stage("validate", "python src/validate.py data/train.csv", outs=("data/valid",)),
        stage("train", "python src/train.py", deps=("data/valid",), outs=("model.pkl",)),
        stage("evaluate", "python src/evaluate.py", deps=("model.pkl",)),
        stage("register", "python src/register.py"),
    )
    value, paths, detail = run("pipeline_roles", make_facts(data=DataFacts(stages=stages)), min_roles=4)
    assert value is True and paths == ["dvc.yaml"] and detail == "evaluate, register, train, validate_data"
    value, _, detail = run("pipeline_roles", make_facts(data=DataFacts(stages=stages[1:2])), min_roles=2)
    assert value is False and detail == "train"


def test_pipeline_roles_from_decorated_steps_and_components() -> None:
    code = CodeFacts(
        decorators=(),
        calls=(
            CallRef("tfx.v1.components.ExampleValidator", 3),
            CallRef("tfx.v1.components.Trainer", 4),
            CallRef("airflow.operators.python.PythonOperator", 5, literals=(("task_id", "'evaluate_model'"),)),
        ),
    )
    facts = make_facts(python=PythonFacts((PythonFile("pipelines/p.py", (), code),)))
    assert run("pipeline_roles", facts, require=["validate_data", "train", "evaluate"])[0] is True


def test_dvc_validation_upstream_follows_outputs_transitively() -> None:
    validate = stage("check_data", "python src/check_data.py", outs=("data/checked",))
    prepare = stage("prepare", "python src/prepare.py", deps=("data/checked/part.csv",), outs=("data/prepared",))
    train = stage("train", "python src/train.py", deps=("data/prepared",))
    assert run("dvc_validation_upstream", make_facts(data=DataFacts(stages=(validate, prepare, train))))[0] is True
    unrelated = stage("train", "python src/train.py data/train.csv", deps=("data/raw",))
    assert run("dvc_validation_upstream", make_facts(data=DataFacts(stages=(validate, unrelated))))[0] is False
    chained = stage("train", "python src/validate.py && python src/train.py")
    assert run("dvc_validation_upstream", make_facts(data=DataFacts(stages=(chained,))))[0] is True


def test_dependencies_pinned() -> None:
    requirements = tuple(
        Requirement(name, spec, spec.startswith("=="), "requirements.txt", i)
        for i, (name, spec) in enumerate([("pandas", "==2.2.2"), ("numpy", "==1.26.4"), ("mlflow", ">=2")], 1)
    )
    environment = EnvironmentFacts(manifests=(Manifest("requirements.txt", "requirements", requirements),))
    value, _, detail = run("dependencies_pinned", make_facts(environment=environment))
    assert value is False and detail == "2 of 3 requirements pinned (67%)"
    assert run("dependencies_pinned", make_facts(environment=environment), min_ratio=0.6)[0] is True
    locked = replace(environment, lock_files=("uv.lock",))
    assert run("dependencies_pinned", make_facts(environment=locked))[:2] == (True, ["uv.lock"])
    assert run("dependencies_pinned", make_facts())[::2] == (False, "no requirements declared")


def test_notebook_hidden_state() -> None:
    clean = notebook("a.ipynb", (1, 2, 3))
    gap = notebook("b.ipynb", (1, 2, 7))
    skipped = notebook("c.ipynb", (1, None, 2), unexecuted_cells=(2,))
    assert run("notebook_hidden_state", make_facts(notebooks=NotebookFacts((clean,))))[0] is False
    value, paths, _ = run("notebook_hidden_state", make_facts(notebooks=NotebookFacts((clean, gap, skipped))))
    assert value is True and paths == ["b.ipynb", "c.ipynb"]


def test_notebook_installs_and_late_imports() -> None:
    code = CodeFacts(imports=(ImportRef("pandas", "pd", 1, 1), ImportRef("sklearn.metrics", "metrics", 1, 4)))
    nb = notebook("eda.ipynb", installs=(LiteralRef("!pip install xgboost", 1, 2),), code=code)
    facts = make_facts(notebooks=NotebookFacts((nb,)))
    assert BUILTINS["notebook_installs"](facts, {}).evidence[0].cell == 2
    late = BUILTINS["notebook_late_imports"](facts, {})
    assert late.value and [e.cell for e in late.evidence] == [4]
    tidy = notebook("ok.ipynb", code=CodeFacts(imports=(ImportRef("pandas", "pd", 1, 1), ImportRef("numpy", "np", 2, 1))))
    assert run("notebook_late_imports", make_facts(notebooks=NotebookFacts((tidy,))))[0] is False


def test_notebook_narrative() -> None:
    terse = notebook("terse.ipynb", (1, 2, 3, 4, 5, 6), markdown_cells=1)
    told = notebook("told.ipynb", (1, 2, 3, 4, 5, 6), markdown_cells=3)
    small = notebook("small.ipynb", (1, 2))
    value, paths, _ = run("notebook_narrative", make_facts(notebooks=NotebookFacts((terse, told, small))))
    assert value is True and paths == ["terse.ipynb"]


def test_committed_artifacts_skips_lfs_dvc_small_and_test_files() -> None:
    artifacts = (
        ArtifactFile("models/model.pkl", 12_000_000, "model", True, False, False),
        ArtifactFile("models/big.pt", 90_000_000, "model", True, True, False),
        ArtifactFile("data/raw.csv", 20_000_000, "data", False, False, True),
        ArtifactFile("tests/fixtures/tiny.pkl", 2_000, "model", True, False, False),
        ArtifactFile("data/small.csv", 3_000, "data", True, False, False),
    )
    files = (RepoFile("tests/fixtures/tiny.pkl", 2_000, "model", ("test",), True),)
    facts = make_facts(files=files, data=DataFacts(artifacts=artifacts))
    assert run("committed_artifacts", facts, kind="model") == (True, ["models/model.pkl"], "models/model.pkl (12.0 MB)")
    assert run("committed_artifacts", facts, kind="data", min_size=10_000_000)[0] is False
    assert run("committed_artifacts", facts, kind="model", roles="any")[1] == ["models/model.pkl", "tests/fixtures/tiny.pkl"]


def test_ci_steps_matches_commands_uses_and_triggers() -> None:
    facts = make_facts(ci=ci(
        job("report", ("evaluate",), ("pull_request",), commands=("dvc metrics diff main --md",),
            uses=("iterative/setup-cml@v2",)),
        job("nightly", ("train",), ("schedule",), commands=("dvc repro",)),
    ))
    assert run("ci_steps", facts, command="dvc metrics diff", triggers=["pull_request"])[0] is True
    assert run("ci_steps", facts, uses="iterative/setup-cml")[0] is True
    assert run("ci_steps", facts, command="dvc repro", triggers=["pull_request", "push"])[0] is False
    assert run("ci_steps", facts, command="dvc", kinds=["train"])[2] == "dvc repro"


def test_ci_deploys_recognises_commands_kinds_and_environments() -> None:
    facts = make_facts(ci=ci(
        job("docs", (), ("push",), environment="github-pages"),
        job("flows", (), ("push",), commands=("prefect --no-prompt deploy --all",)),
        job("serve", ("deploy",), ("workflow_dispatch", "manual")),
    ))
    value, _, detail = run("ci_deploys", facts, triggers=["push"])
    assert value is True and detail == "prefect --no-prompt deploy --all"
    assert run("ci_deploys", facts, triggers=["manual"])[2] == "serve: deploys"
    assert run("ci_deploys", make_facts(ci=ci(job("docs", environment="github-pages"))))[0] is False
    pages = job("pages", ("build", "deploy"), ("release",), environment="github-pages")
    assert run("ci_deploys", make_facts(ci=ci(pages)))[0] is False  # docs deployed to Pages


def test_ci_deploys_counts_a_sagemaker_project_pipeline_upsert() -> None:
    command = "run-pipeline --module-name pipelines.abalone.pipeline --role-arn ${ROLE} --kwargs '{}'"
    facts = make_facts(ci=ci(job("Build", (), ("push",), commands=(command,))))
    assert run("ci_deploys", facts, triggers=["push"]) == (True, [".github/workflows/ci.yml"], command)


def test_ci_promotion_chain() -> None:
    staging = job("deploy-staging", ("deploy",), environment="staging")
    test = job("integration", ("test",), needs=("deploy-staging",))
    production = job("deploy-prod", ("deploy",), environment="production", needs=("integration",))
    assert run("ci_promotion_chain", make_facts(ci=ci(staging, test, production)))[0] is True
    assert run("ci_promotion_chain", make_facts(ci=ci(staging, replace(production, needs=()))))[0] is False
    approved = job("release", ("deploy",), manual_approval=True)
    assert run("ci_promotion_chain", make_facts(ci=ci(approved)))[0] is True


@pytest.mark.parametrize(
    ("filters", "triggers", "expected"),
    [
        (("data/**", "dvc.lock"), ("push",), True),
        (("*.dvc",), ("push",), True),
        (("src/**",), ("push",), False),
        ((), ("workflow_run",), True),
        (("data/**",), ("schedule",), False),
    ],
)
def test_ci_data_triggered_training(filters: tuple[str, ...], triggers: tuple[str, ...], expected: bool) -> None:
    facts = make_facts(ci=ci(job("retrain", ("train",), triggers), path_filters=filters))
    assert run("ci_data_triggered_training", facts)[0] is expected


def test_checks_accept_empty_facts() -> None:
    facts = make_facts()
    for name, check in BUILTINS.items():
        assert check(facts, {}).value is False, name


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=40), number=st.integers(min_value=-3, max_value=10))
def test_checks_never_raise_on_arbitrary_names(text: str, number: int) -> None:
    call = CallRef(text, number, literals=(("task_id", text),), snippet=text)
    code = CodeFacts(calls=(call,), functions=(text,), imports=(ImportRef(text or "x", "x", 1),))
    facts = make_facts(
        python=PythonFacts((PythonFile(text or "a.py", (), code), PythonFile("tests/t.py", ("test",), code))),
        notebooks=NotebookFacts((notebook(text, (number, None, number), code=code, unexecuted_cells=(number,)),)),
        data=DataFacts(stages=(stage(text, text, deps=(text,), outs=(text,)), stage("train", text, deps=(text,)))),
        ci=ci(job(text, (text, "train"), (text,), commands=(text,), environment=text, needs=(text,)), path_filters=(text,)),
    )
    params = {"command": re.escape(text) or "x", "steps": ["gate", "prepare"], "sites": ["fit_calls"]}
    for check in BUILTINS.values():
        assert check(facts, params).value in (True, False)


# --- calibration fixes, on small realistic file trees ------------------------------------------------------------

PACK_RULES = {rule.id: rule for rule in load_rules([], BUILTINS)}


def tree_facts(root: Path, files: dict[str, str]) -> Facts:
    write_tree(root, {name: textwrap.dedent(text) for name, text in files.items()})
    return collect_facts(build_inventory(root))


def outcome(rule_id: str, facts: Facts) -> str:
    return judge([PACK_RULES[rule_id]], facts, BUILTINS)[0].outcome.value


EVALUATE_AGAINST_PRODUCTION = """
    from azureml.core import Model, Run
    from util.model_helper import get_model

    run = Run.get_context()
    model = get_model(model_name="diabetes_model.pkl", tag_name="experiment_name")
    production_model_mse = float(model.tags["mse"])
    new_model_mse = float(run.parent.get_metrics().get("mse"))
    if new_model_mse < production_model_mse:
        print("New trained model performs better, thus it should be registered")
    else:
        run.parent.cancel()
"""
REGISTER = """
    from azureml.core import Model

    Model.register(workspace=ws, model_path="outputs/model.pkl", model_name="diabetes_model.pkl")
"""


def test_champion_comparison_in_plain_code_gates_promotion(tmp_path: Path) -> None:
    facts = tree_facts(
        tmp_path,
        {"diabetes/evaluate/evaluate_model.py": EVALUATE_AGAINST_PRODUCTION, "diabetes/register/register_model.py": REGISTER},
    )
    assert outcome("L2-MV-03", facts) == "pass"
    value, paths, _ = run("champion_comparison", facts)
    assert value and paths == ["diabetes/evaluate/evaluate_model.py"]


def test_champion_challenger_function_with_upload_passes(tmp_path: Path) -> None:
    facts = tree_facts(
        tmp_path,
        {
            "components/upload_model.py": """
                from google.cloud import aiplatform

                def compare_models(champion_metrics, challenger_metrics, metric, lower_is_better):
                    m_champ = champion_metrics[metric]
                    m_chall = challenger_metrics[metric]
                    return (m_chall < m_champ) if lower_is_better else (m_chall > m_champ)

                def upload(challenger_wins, parent):
                    if challenger_wins:
                        aiplatform.Model.upload(display_name="model", parent_model=parent)
            """,
        },
    )
    assert outcome("L2-MV-03", facts) == "pass"


def test_comparison_without_promotion_is_partial(tmp_path: Path) -> None:
    facts = tree_facts(tmp_path, {"diabetes/evaluate/evaluate_model.py": EVALUATE_AGAINST_PRODUCTION})
    assert outcome("L2-MV-03", facts) == "partial"


def test_best_checkpoint_and_notebook_comparisons_are_no_champion_gate(tmp_path: Path) -> None:
    cell = (
        "from mlflow.tracking import MlflowClient\\nclient = MlflowClient()\\n"
        "latest = client.get_latest_versions('nyc', stages=['Production'])\\n"
        "client.transition_model_version_stage('nyc', 4, 'Production')"
    )
    facts = tree_facts(
        tmp_path,
        {
            "train.py": """
                import torch
                best_val_loss = 1e9
                losses = {"val": 0.5}
                if losses["val"] < best_val_loss:
                    best_val_loss = losses["val"]
                    torch.save({"model": 1}, "ckpt.pt")
            """,
            "notebooks/model-registry.ipynb": (
                '{"cells": [{"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], '
                f'"source": ["{cell}"]}}], "metadata": {{}}, "nbformat": 4, "nbformat_minor": 4}}'
            ),
        },
    )
    assert run("champion_comparison", facts)[0] is False
    assert outcome("L2-MV-03", facts) == "partial"  # the production model is looked up, by hand


DEPLOY_ON_DISPATCH = """
    name: DeploySageMakerModel
    on: workflow_dispatch
    jobs:
      StagingDeploy:
        runs-on: ubuntu-latest
        steps:
          - uses: actions/checkout@v3
          - run: aws cloudformation deploy --template-file endpoint-config-template.yml --stack-name staging
"""


def test_deploy_workflow_dispatched_by_repository_code_is_automatic(tmp_path: Path) -> None:
    lambda_code = """
        from github import Github

        def lambda_handler(event, context):
            repo = Github("token").get_repo("acme/churn")
            workflow = repo.get_workflow("deploy.yml")
            workflow.create_dispatch("main")
    """
    manual = tree_facts(tmp_path / "manual", {".github/workflows/deploy.yml": DEPLOY_ON_DISPATCH})
    dispatched = tree_facts(
        tmp_path / "dispatched",
        {".github/workflows/deploy.yml": DEPLOY_ON_DISPATCH, "lambda_functions/trigger/lambda_function.py": lambda_code},
    )
    assert outcome("L2-CI-03", manual) == "partial"
    assert outcome("L2-CI-03", dispatched) == "pass"


def test_pipeline_upserted_on_push_counts_as_built(tmp_path: Path) -> None:
    facts = tree_facts(
        tmp_path,
        {
            "seedcode/.github/workflows/build.yml": """
                on:
                  push:
                    branches: [main]
                jobs:
                  Build:
                    runs-on: ubuntu-latest
                    steps:
                      - run: pip install .
                      - run: run-pipeline --module-name pipelines.abalone.pipeline --role-arn $ROLE
            """,
        },
    )
    assert outcome("L2-CI-02", facts) == "pass"


CDK_DEPLOY_PIPELINE = """
    from aws_cdk import aws_codebuild as codebuild
    from aws_cdk import aws_codepipeline as codepipeline
    from aws_cdk import aws_codepipeline_actions as codepipeline_actions

    pipeline = codepipeline.Pipeline(self, "Pipeline")
    pipeline.add_stage(
        stage_name="DeployStaging",
        actions=[
            codepipeline_actions.CloudFormationCreateUpdateStackAction(action_name="Deploy_Staging", run_order=1),
            codepipeline_actions.ManualApprovalAction(action_name="Approve_Staging", run_order=2),
        ],
    )
    pipeline.add_stage(
        stage_name="DeployProd",
        actions=[codepipeline_actions.CloudFormationCreateUpdateStackAction(action_name="Deploy_Prod")],
    )
"""


def test_cdk_codepipeline_with_approval_is_cd_with_a_promotion_gate(tmp_path: Path) -> None:
    facts = tree_facts(
        tmp_path,
        {
            "infra/deploy_pipeline_construct.py": CDK_DEPLOY_PIPELINE,
            "deployment_pipeline/buildspec.yml": """
                version: 0.2
                phases:
                  build:
                    commands:
                      - npx cdk synth -o dist --path-metadata false
            """,
        },
    )
    assert outcome("L2-CI-03", facts) == "pass"
    assert outcome("L2-DEP-03", facts) == "pass"
    assert outcome("L2-CI-02", facts) == "pass"


def test_anyscale_job_submitted_from_ci_is_a_pipeline(tmp_path: Path) -> None:
    facts = tree_facts(
        tmp_path,
        {
            ".github/workflows/workloads.yaml": """
                on:
                  pull_request:
                    branches: [main]
                jobs:
                  workloads:
                    runs-on: ubuntu-latest
                    steps:
                      - run: python3 -m pip install anyscale==0.5.131
                      - run: anyscale jobs submit deploy/jobs/workloads.yaml --wait
            """,
        },
    )
    assert outcome("L1-PIPE-01", facts) == "pass"


def test_sagemaker_step_functions_in_a_notebook_are_pipeline_steps(tmp_path: Path) -> None:
    source = [
        "from sagemaker.workflow.function_step import step\\n",
        "@step(name='data-preprocessing')\\ndef preprocess(df):\\n    return df\\n",
        "@step(name='model-training')\\ndef train(df):\\n    return 1\\n",
        "@step(name='model-evaluation')\\ndef evaluate(model):\\n    return 0.9\\n",
    ]
    cells = ", ".join(
        '{"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": ["' + s + '"]}'
        for s in source
    )
    facts = tree_facts(
        tmp_path,
        {"labs/pipeline.ipynb": '{"cells": [' + cells + '], "metadata": {}, "nbformat": 4, "nbformat_minor": 4}'},
    )
    value, paths, detail = run("step_modules", facts, min_roles=3, require=["train"])
    assert value and paths == ["labs/pipeline.ipynb"] and detail == "evaluate, prepare, train"


def test_kedro_project_training_with_numpy_is_an_ml_project(tmp_path: Path) -> None:
    facts = tree_facts(
        tmp_path,
        {
            "src/iris/pipelines/data_science/pipeline.py": """
                from kedro.pipeline import Pipeline, node
                from .nodes import predict, train_model

                def create_pipeline(**kwargs):
                    return Pipeline([
                        node(train_model, ["train_x", "train_y", "parameters"], "model", name="train"),
                        node(predict, dict(model="model", test_x="test_x"), "predictions", name="predict"),
                    ])
            """,
            "src/iris/pipelines/data_science/nodes.py": """
                import numpy as np

                def train_model(train_x, train_y, parameters):
                    return np.zeros((train_x.shape[1], 3))
            """,
        },
    )
    assert is_ml_project(facts)


def test_template_testing_its_output_with_mlflow_is_not_an_ml_project(tmp_path: Path) -> None:
    facts = tree_facts(
        tmp_path,
        {
            "tests/test_mlp.py": """
                import mlflow

                def test_generated_project(tmp_path):
                    assert mlflow.get_tracking_uri()
            """,
            "requirements-dev.txt": "mlflow==2.9.2\npytest==7.4.0\n",
            "library/template.py": "def render(name):\n    return name\n",
        },
    )
    assert not is_ml_project(facts)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {
                "resources/model-workflow-resource.yml": """
                    resources:
                      jobs:
                        model_training_job:
                          name: ${bundle.target}-model-training-job
                          schedule:
                            quartz_cron_expression: "0 0 9 * * ?"
                            timezone_id: UTC
                          tasks:
                            - task_key: Train
                              notebook_task:
                                notebook_path: ../training/notebooks/Train.py
                """,
            },
            "pass",
        ),
        (
            {
                "prefect.yaml": """
                    deployments:
                      - name: weekly-retrain
                        entrypoint: flows/training.py:training
                        schedules:
                          - cron: "0 3 * * 1"
                """,
            },
            "pass",
        ),
        (
            {
                "orchestration/deploy_prefect.py": """
                    from datetime import timedelta
                    from prefect.deployments import DeploymentSpec
                    from prefect.orion.schemas.schedules import IntervalSchedule

                    DeploymentSpec(flow_location="./train.py", name="model_training",
                                   schedule=IntervalSchedule(interval=timedelta(minutes=5)))
                """,
            },
            "pass",
        ),
        (
            {
                "dags/train.py": """
                    from airflow import DAG

                    with DAG("demo_mlflow", schedule_interval=None) as dag:
                        pass
                """,
            },
            "fail",
        ),
    ],
    ids=["databricks-bundle", "prefect-yaml", "prefect-deployment-spec", "airflow-manual-only"],
)
def test_orchestrator_schedules_start_training(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    assert outcome("L1-CT-01", tree_facts(tmp_path, files)) == expected
