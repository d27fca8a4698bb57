"""Stack detection: tools recognised from code facts, files, manifests and CI, with strength and evidence."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_audit.analyzers import stack
from mlops_audit.analyzers.ci import CICommand, CIFacts, CIJob, CIWorkflow
from mlops_audit.analyzers.code import CallRef, ClassRef, CodeFacts, DecoratorRef, ImportRef
from mlops_audit.analyzers.environment import (
    BaseImage,
    Dockerfile,
    EnvironmentFacts,
    Manifest,
    Requirement,
    Target,
)
from mlops_audit.analyzers.notebooks import Notebook, NotebookFacts
from mlops_audit.analyzers.python_code import PythonFacts, PythonFile
from mlops_audit.analyzers.reachability import Reachability
from mlops_audit.analyzers.stack import (
    CATEGORIES,
    StackFacts,
    detect_stack,
    load_signatures,
    parse_signatures,
)
from mlops_audit.inventory import build_inventory, roles_of
from mlops_audit.model import DetectedTool, Evidence

Call = str | tuple[str, tuple[str, ...]]  # a resolved call name, or (name, keywords passed)


def code(
    imports: tuple[str, ...] = (),
    calls: tuple[Call, ...] = (),
    decorators: tuple[str, ...] = (),
    classes: tuple[tuple[str, tuple[str, ...]], ...] = (),
    cell: int | None = None,
) -> CodeFacts:
    """Code facts as the code analyzers record them: imports first, then calls, decorators and classes."""
    import_refs = tuple(ImportRef(m, m.rsplit(".", 1)[-1], line, cell) for line, m in enumerate(imports, 1))
    call_refs = []
    for line, call in enumerate(calls, 20):
        name, keywords = (call, ()) if isinstance(call, str) else call
        call_refs.append(CallRef(name, line, cell, keywords=keywords, snippet=f"{name}(...)"))
    decorator_refs = tuple(DecoratorRef(name, "fn", line, cell) for line, name in enumerate(decorators, 40))
    class_refs = tuple(ClassRef(name, bases, line, cell) for line, (name, bases) in enumerate(classes, 60))
    return CodeFacts(imports=import_refs, calls=tuple(call_refs), decorators=decorator_refs, classes=class_refs)


def source(path: str, **facts: object) -> PythonFile:
    return PythonFile(path=path, roles=roles_of(path), code=code(**facts))  # type: ignore[arg-type]


def notebook(path: str, facts: CodeFacts) -> Notebook:
    return Notebook(
        path=path, roles=roles_of(path), nbformat=4, cells=3, code_cells=3, markdown_cells=0,
        execution_counts=(1, 2, 3), executed=True, out_of_order_cell=None, unexecuted_cells=(),
        cells_with_outputs=0, output_bytes=0, installs=(), code=facts,
    )


def requirements(*names: str, path: str = "requirements.txt") -> Manifest:
    reqs = tuple(Requirement(name, "==1.0", True, path, line) for line, name in enumerate(names, 1))
    return Manifest(path=path, kind="requirements", requirements=reqs)


def workflow(path: str, commands: tuple[str, ...] = (), uses: tuple[str, ...] = ()) -> CIWorkflow:
    job = CIJob(
        name="build", path=path, line=5, triggers=("push",), uses=uses, kinds=(),
        commands=tuple(CICommand(text, line, ()) for line, text in enumerate(commands, 10)),
    )
    return CIWorkflow(system="github", path=path, name="ci", triggers=("push",), schedules=(), path_filters=(),
                      jobs=(job,))


def run(
    root: Path,
    files: dict[str, str] | None = None,
    sources: tuple[PythonFile, ...] = (),
    notebooks: tuple[Notebook, ...] = (),
    environment: EnvironmentFacts | None = None,
    ci: CIFacts | None = None,
    reachability: Reachability = Reachability(),
) -> StackFacts:
    for rel, text in (files or {}).items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return detect_stack(
        build_inventory(root), PythonFacts(files=sources), NotebookFacts(notebooks=notebooks),
        environment or EnvironmentFacts(), ci or CIFacts(), reachability,
    )


def tools(facts: StackFacts) -> dict[str, DetectedTool]:
    return {tool.name: tool for tool in facts.tools}


# --- the signatures file ------------------------------------------------------------------------------------


def test_every_signature_parses_with_known_categories() -> None:
    loaded = load_signatures()
    raw = yaml.safe_load(Path(__file__).parents[2].joinpath("mlops_audit/analyzers/signatures.yaml").read_text())
    assert [entry["name"] for entry in raw] == [tool.name for tool in loaded]
    for tool in loaded:
        assert tool.title
        for signature in tool.signatures:
            assert signature.categories and set(signature.categories) <= set(CATEGORIES)
    covered = {category for tool in loaded for signature in tool.signatures for category in signature.categories}
    assert covered == set(CATEGORIES)


def test_signatures_cover_the_tools_rules_name() -> None:
    names = {tool.name for tool in load_signatures()}
    expected = {
        "mlflow", "wandb", "airflow", "prefect", "kfp", "vertex-pipelines", "sagemaker-pipelines",
        "azureml-pipelines", "zenml", "dagster", "metaflow", "kedro", "tfx", "flyte", "dvc", "mlflow-projects",
        "argo", "databricks-bundles", "luigi", "snakemake", "sagemaker-registry", "sagemaker-endpoint",
        "sagemaker-feature-store", "sagemaker-model-monitor", "feast", "great-expectations", "evidently",
        "optuna", "shap", "fairlearn", "gitleaks", "terraform", "kserve", "kserve-canary", "git-lfs",
    }
    assert expected <= names


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": "x", "title": "X", "categories": ["tracker"], "imports": ["x"], "import": ["y"]}, "'x'.*import"),
        ({"name": "x", "title": "X", "categories": ["telemetry"], "imports": ["x"]}, "'x'.*telemetry"),
        ({"name": "x", "title": "X", "categories": ["tracker"], "commands": ["(unclosed"]}, "'x'.*regex"),
        ({"name": "x", "title": "X", "categories": ["tracker"], "calls": ["*.log"]}, "'x'.*within"),
        ({"name": "x", "title": "X", "categories": ["tracker"]}, "'x'.*no signals"),
        ({"name": "X Tool", "title": "X", "categories": ["tracker"], "imports": ["x"]}, "lowercase"),
        ({"name": "x", "title": "X", "categories": ["tracker"], "imports": ["x"],
          "facets": [{"categories": ["registry"], "call": ["x.register"]}]}, "'x' facet 1.*call"),
        ({"name": "x", "title": "X", "categories": ["tracker"], "file_contents": [{"glob": "*.yaml"}]}, "'x'"),
        ({"name": "x", "title": "X", "categories": ["tracker"], "keywords": ["x.log"]}, "'x'.*keyword"),
    ],
)
def test_malformed_signatures_fail_loudly_naming_the_tool(entry: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_signatures([entry])


def test_duplicate_tool_names_are_rejected() -> None:
    entry = {"name": "x", "title": "X", "categories": ["tracker"], "imports": ["x"]}
    with pytest.raises(ValueError, match="duplicate"):
        parse_signatures([entry, entry])


# --- one realistic scenario per category --------------------------------------------------------------------


def test_ml_framework_scikit_learn_training_script(tmp_path: Path) -> None:
    train = source(
        "src/train.py",
        imports=("sklearn.ensemble.RandomForestClassifier", "sklearn.model_selection.train_test_split"),
        calls=("sklearn.model_selection.train_test_split", "sklearn.ensemble.RandomForestClassifier", "model.fit"),
    )
    found = tools(run(tmp_path, sources=(train,)))
    sklearn = found["scikit-learn"]
    assert (sklearn.categories, sklearn.strength) == (("ml_framework",), "used")
    assert sklearn.evidence[0] == Evidence("src/train.py", 20, None, "sklearn.model_selection.train_test_split(...)")
    assert "sklearn-search" not in found


def test_orchestrator_airflow_dag_and_metaflow_flow(tmp_path: Path) -> None:
    dag = source(
        "dags/train_dag.py",
        imports=("airflow.DAG", "airflow.operators.python.PythonOperator"),
        calls=("airflow.DAG", "airflow.operators.python.PythonOperator"),
    )
    flow = source("flows/train_flow.py", imports=("metaflow.FlowSpec", "metaflow.step"),
                  classes=(("TrainFlow", ("metaflow.FlowSpec",)),), decorators=("metaflow.step",))
    facts = run(tmp_path, sources=(dag, flow))
    assert {tool.name for tool in facts.in_category("orchestrator")} == {"airflow", "metaflow"}
    assert tools(facts)["metaflow"].evidence == (Evidence("flows/train_flow.py", 40, None, "@metaflow.step"),)


def test_tracker_mlflow_logging_is_not_a_registry(tmp_path: Path) -> None:
    train = source("src/train.py", imports=("mlflow",),
                   calls=("mlflow.set_experiment", "mlflow.start_run", "mlflow.log_metric"))
    facts = run(tmp_path, sources=(train,))
    assert tools(facts)["mlflow"].categories == ("tracker",)
    assert facts.in_category("registry") == ()


def test_registry_mlflow_client_stage_transition_and_sagemaker_model_package(tmp_path: Path) -> None:
    promote = source(
        "src/promote.py",
        imports=("mlflow.tracking.MlflowClient",),
        calls=("mlflow.tracking.MlflowClient", "client.transition_model_version_stage"),
    )
    pipeline = source(
        "pipelines/abalone/pipeline.py",
        imports=("sagemaker.workflow.pipeline.Pipeline", "sagemaker.model.Model"),
        calls=("sagemaker.workflow.pipeline.Pipeline", "sagemaker.model.Model",
               ("model.register", ("model_package_group_name", "approval_status"))),
    )
    found = tools(run(tmp_path, sources=(promote, pipeline)))
    assert found["mlflow"].categories == ("tracker", "registry")
    assert found["sagemaker-registry"].categories == ("registry",)
    assert found["sagemaker-registry"].evidence[0].path == "pipelines/abalone/pipeline.py"
    assert found["sagemaker-pipelines"].strength == "used"


def test_method_signatures_need_the_tool_imported(tmp_path: Path) -> None:
    unrelated = source("src/db.py", imports=("sqlalchemy",), calls=("sqlalchemy.create_engine", "repo.push_to_hub",
                                                                    "client.transition_model_version_stage"))
    found = tools(run(tmp_path, sources=(unrelated,)))
    assert "huggingface-hub" not in found and "mlflow" not in found


def test_data_versioning_dvc_tracked_data_and_git_lfs(tmp_path: Path) -> None:
    files = {
        ".dvc/config": "[core]\n    remote = storage\n['remote \"storage\"']\n    url = s3://bucket/dvc\n",
        "data/raw.csv.dvc": "outs:\n- md5: 1a2b3c\n  size: 1024\n  path: raw.csv\n",
        ".gitattributes": "*.txt text\n*.parquet filter=lfs diff=lfs merge=lfs -text\n",
    }
    found = tools(run(tmp_path, files))
    assert found["dvc"].categories == ("data_versioning",)
    assert {e.path for e in found["dvc"].evidence} == {".dvc/config", "data/raw.csv.dvc"}
    assert found["git-lfs"].evidence == (
        Evidence(".gitattributes", 2, None, "*.parquet filter=lfs diff=lfs merge=lfs -text"),
    )


def test_data_validation_pandera_schema(tmp_path: Path) -> None:
    schema = source("src/schemas.py", imports=("pandera",),
                    calls=("pandera.DataFrameSchema", "pandera.Column", "pandera.Check.ge"))
    found = tools(run(tmp_path, sources=(schema,)))
    assert found["pandera"].categories == ("data_validation",)
    assert found["pandera"].strength == "used"


def test_feature_store_feast_repository(tmp_path: Path) -> None:
    files = {"feature_repo/feature_store.yaml": "project: churn\nregistry: data/registry.db\nprovider: local\n"}
    definitions = source("feature_repo/features.py", imports=("feast.Entity", "feast.FeatureView"),
                         calls=("feast.Entity", "feast.FeatureView"))
    facts = run(tmp_path, files, sources=(definitions,))
    feast = tools(facts)["feast"]
    assert facts.in_category("feature_store") == (feast,)
    assert {e.path for e in feast.evidence} == {"feature_repo/feature_store.yaml", "feature_repo/features.py"}


def test_serving_fastapi_app_and_bentoml_service(tmp_path: Path) -> None:
    app = source("serving/app.py", imports=("fastapi.FastAPI",), calls=("fastapi.FastAPI", "app.post"))
    files = {"bentofile.yaml": 'service: "service:svc"\ninclude:\n  - "*.py"\n'}
    facts = run(tmp_path, files, sources=(app,))
    assert {tool.name for tool in facts.in_category("serving")} == {"bentoml", "fastapi"}
    assert tools(facts)["bentoml"].categories == ("serving",)


def test_monitoring_evidently_drift_report_is_not_a_data_test(tmp_path: Path) -> None:
    drift = source(
        "monitoring/drift.py",
        imports=("evidently.report.Report", "evidently.metric_preset.DataDriftPreset"),
        calls=("evidently.report.Report", "evidently.metric_preset.DataDriftPreset", "report.run"),
    )
    tests = source("monitoring/checks.py", imports=("evidently.test_suite.TestSuite",),
                   calls=("evidently.test_suite.TestSuite",))
    assert tools(run(tmp_path, sources=(drift,)))["evidently"].categories == ("monitoring",)
    both = tools(run(tmp_path, sources=(drift, tests)))["evidently"]
    assert both.categories == ("data_validation", "monitoring")


def test_hpo_optuna_study_and_grid_search(tmp_path: Path) -> None:
    tune = source(
        "src/tune.py",
        imports=("optuna", "sklearn.model_selection.GridSearchCV"),
        calls=("optuna.create_study", "study.optimize", "sklearn.model_selection.GridSearchCV"),
    )
    facts = run(tmp_path, sources=(tune,))
    assert {tool.name for tool in facts.in_category("hpo")} == {"optuna", "sklearn-search"}


def test_testing_pytest_config_and_ci_run(tmp_path: Path) -> None:
    files = {"pyproject.toml": '[project]\nname = "churn"\n\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'}
    ci = CIFacts(workflows=(workflow(".github/workflows/ci.yml", ("pip install pytest", "python -m pytest -q")),))
    pytest_tool = tools(run(tmp_path, files, ci=ci))["pytest"]
    assert pytest_tool.strength == "used"
    assert Evidence(".github/workflows/ci.yml", 11, None, "python -m pytest -q") in pytest_tool.evidence
    assert Evidence("pyproject.toml", 4, None, "[tool.pytest.ini_options]") in pytest_tool.evidence
    assert all(e.snippet != "pip install pytest" for e in pytest_tool.evidence)


def test_explainability_shap_and_fairness_fairlearn(tmp_path: Path) -> None:
    report = source(
        "src/explain.py",
        imports=("shap", "fairlearn.metrics.MetricFrame"),
        calls=("shap.TreeExplainer", "fairlearn.metrics.MetricFrame"),
    )
    facts = run(tmp_path, sources=(report,))
    assert [tool.name for tool in facts.in_category("explainability")] == ["shap"]
    assert [tool.name for tool in facts.in_category("fairness")] == ["fairlearn"]


def test_secret_scanning_precommit_hook_and_ci_action(tmp_path: Path) -> None:
    hooks = (Evidence(".pre-commit-config.yaml", 7, None, "gitleaks"), Evidence(".pre-commit-config.yaml", 3,
                                                                                  None, "check-yaml"))
    ci = CIFacts(workflows=(workflow(".github/workflows/secrets.yml", uses=("trufflesecurity/trufflehog@main",)),))
    facts = run(tmp_path, environment=EnvironmentFacts(precommit_hooks=hooks), ci=ci)
    found = tools(facts)
    assert {tool.name for tool in facts.in_category("secret_scanning")} == {"gitleaks", "trufflehog"}
    assert found["gitleaks"].evidence == (hooks[0],)
    assert found["trufflehog"].evidence == (
        Evidence(".github/workflows/secrets.yml", 5, None, "trufflesecurity/trufflehog@main"),
    )


def test_iac_terraform_files(tmp_path: Path) -> None:
    files = {"infra/main.tf": 'resource "google_storage_bucket" "data" {\n  name = "churn-data"\n}\n'}
    terraform = tools(run(tmp_path, files))["terraform"]
    assert (terraform.categories, terraform.strength, terraform.evidence) == (
        ("iac",), "used", (Evidence("infra/main.tf"),)
    )


def test_rollout_vertex_traffic_split(tmp_path: Path) -> None:
    deploy = source(
        "deploy/deploy.py",
        imports=("google.cloud.aiplatform",),
        calls=("google.cloud.aiplatform.Endpoint", ("model.deploy", ("endpoint", "traffic_split"))),
    )
    found = tools(run(tmp_path, sources=(deploy,)))
    assert found["vertex-traffic-split"].categories == ("rollout",)
    assert found["vertex-endpoint"].categories == ("serving",)


# --- collisions, strength, CI, file contents ----------------------------------------------------------------


def test_colliding_decorators_are_attributed_by_their_resolved_module(tmp_path: Path) -> None:
    sources = (
        source("flows/prefect_flow.py", imports=("prefect.flow", "prefect.task"),
               decorators=("prefect.task", "prefect.flow")),
        source("dags/airflow_dag.py", imports=("airflow.decorators.dag", "airflow.decorators.task"),
               decorators=("airflow.decorators.task", "airflow.decorators.dag")),
        source("wf/flyte_wf.py", imports=("flytekit.task", "flytekit.workflow"),
               decorators=("flytekit.task", "flytekit.workflow")),
        source("steps/zen.py", imports=("zenml.step", "zenml.pipeline"), decorators=("zenml.step", "zenml.pipeline")),
        source("kfp/pipe.py", imports=("kfp.dsl",), decorators=("kfp.dsl.component", "kfp.dsl.pipeline")),
    )
    found = tools(run(tmp_path, sources=sources))
    assert {name for name, tool in found.items() if "orchestrator" in tool.categories} == {
        "airflow", "flyte", "kfp", "prefect", "zenml"
    }
    assert {e.path for e in found["prefect"].evidence} == {"flows/prefect_flow.py"}
    assert {e.path for e in found["airflow"].evidence} == {"dags/airflow_dag.py"}
    assert {e.path for e in found["flyte"].evidence} == {"wf/flyte_wf.py"}
    assert found["prefect"].evidence[0].snippet == "@prefect.task"
    assert "metaflow" not in found and "azureml-pipelines" not in found


def test_manifest_only_and_import_only_are_declared_import_and_call_is_used(tmp_path: Path) -> None:
    environment = EnvironmentFacts(manifests=(requirements("mlflow", "wandb", "scikit-learn"),))
    sources = (
        source("src/log.py", imports=("wandb",)),
        source("src/train.py", imports=("sklearn.linear_model",), calls=("sklearn.linear_model.LogisticRegression",)),
    )
    facts = run(tmp_path, sources=sources, environment=environment)
    found = tools(facts)
    assert found["mlflow"].strength == "declared"
    assert found["mlflow"].evidence == (Evidence("requirements.txt", 1, None, "mlflow==1.0"),)
    assert found["wandb"].strength == "declared"
    assert Evidence("src/log.py", 1, None, "import wandb") in found["wandb"].evidence
    assert found["scikit-learn"].strength == "used"
    assert found["scikit-learn"].evidence[0].path == "src/train.py"  # usage before the manifest line
    assert found["mlflow"] not in facts.in_category("tracker")
    assert found["mlflow"] in facts.in_category("tracker", strength="declared")


def test_usage_only_in_examples_is_declared(tmp_path: Path) -> None:
    example = source("docs/examples/airflow_dag.py", imports=("airflow.DAG",), calls=("airflow.DAG",))
    assert tools(run(tmp_path, sources=(example,)))["airflow"].strength == "declared"
    real = source("dags/etl.py", imports=("airflow.DAG",), calls=("airflow.DAG",))
    assert tools(run(tmp_path, sources=(example, real)))["airflow"].strength == "used"


def test_unreached_side_code_is_declared_only_when_entrypoints_are_known(tmp_path: Path) -> None:
    scratch = source("notebooks/old_mlflow.py", imports=("mlflow",), calls=("mlflow.log_metric",))
    nb = notebook("experiments/tune.ipynb", code(imports=("optuna",), calls=("optuna.create_study",)))
    library = source("src/churn/tracking.py", imports=("wandb",), calls=("wandb.init",))
    known = Reachability(files=frozenset({"src/churn/train.py"}), known=True)
    found = tools(run(tmp_path, sources=(scratch, library), notebooks=(nb,), reachability=known))
    assert {name: found[name].strength for name in ("mlflow", "optuna", "wandb")} == {
        "mlflow": "declared", "optuna": "declared", "wandb": "used",  # an unreached library module may be run
    }
    unknown = tools(run(tmp_path, sources=(scratch, library), notebooks=(nb,)))
    assert unknown["mlflow"].strength == unknown["optuna"].strength == "used"
    reached = Reachability(files=frozenset({"notebooks/old_mlflow.py"}), known=True)
    assert tools(run(tmp_path, sources=(scratch,), reachability=reached))["mlflow"].strength == "used"


def test_unreached_tests_prove_only_testing_and_data_validation_tools(tmp_path: Path) -> None:
    test = source("tests/test_train.py", imports=("mlflow", "pandera", "hypothesis"),
                  calls=("mlflow.start_run", "pandera.DataFrameSchema", "hypothesis.given"))
    known = Reachability(files=frozenset({"src/train.py"}), known=True)
    found = tools(run(tmp_path, sources=(test,), reachability=known))
    assert found["mlflow"].strength == "declared"
    assert found["pandera"].strength == found["hypothesis"].strength == "used"


def test_dvc_repro_in_a_ci_workflow_is_a_pipeline(tmp_path: Path) -> None:
    ci = CIFacts(workflows=(workflow(".github/workflows/train.yml",
                                     ("pip install dvc[s3]", "dvc pull", "dvc repro", "cml comment create")),))
    dvc = tools(run(tmp_path, ci=ci))["dvc"]
    assert dvc.strength == "used"
    assert dvc.categories == ("orchestrator", "data_versioning")
    assert Evidence(".github/workflows/train.yml", 12, None, "dvc repro") in dvc.evidence
    assert all(e.snippet != "pip install dvc[s3]" for e in dvc.evidence)


def test_ci_commands_from_included_templates_point_at_the_template(tmp_path: Path) -> None:
    job = CIJob(name="train", path=".gitlab-ci.yml", line=3, triggers=("push",), kinds=("train",),
                commands=(CICommand("kedro run --pipeline training", 8, ("train",), path="ci/train.yml"),))
    gitlab = CIWorkflow(system="gitlab", path=".gitlab-ci.yml", name="ci", triggers=("push",), schedules=(),
                        path_filters=(), jobs=(job,), uses=("iterative/setup-dvc@v1",))
    found = tools(run(tmp_path, ci=CIFacts(workflows=(gitlab,))))
    assert found["kedro"].evidence == (Evidence("ci/train.yml", 8, None, "kedro run --pipeline training"),)
    assert found["dvc"].evidence == (Evidence(".gitlab-ci.yml", None, None, "iterative/setup-dvc@v1"),)


def test_commands_in_makefile_targets_scripts_and_dockerfiles(tmp_path: Path) -> None:
    environment = EnvironmentFacts(
        targets=(Target("train", "Makefile", 3, ("dvc repro train",)),),
        dockerfiles=(Dockerfile("Dockerfile", (BaseImage("nvcr.io/nvidia/tritonserver:24.01-py3", "Dockerfile", 1,
                                                         True),),
                                (Evidence("Dockerfile", 9, None, "mlflow models serve -m models:/churn@prod"),),
                                False),),
    )
    files = {"scripts/run.sh": "#!/bin/sh\n# kedro run is documented here\nset -e\nkedro run --env prod\n"}
    found = tools(run(tmp_path, files, environment=environment))
    assert "orchestrator" in found["dvc"].categories
    assert found["triton"].evidence == (Evidence("Dockerfile", 1, None, "nvcr.io/nvidia/tritonserver:24.01-py3"),)
    assert "serving" in found["mlflow"].categories
    assert found["kedro"].evidence == (Evidence("scripts/run.sh", 4, None, "kedro run --env prod"),)


ARGO_WORKFLOW = """\
apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata:
  name: retrain
spec:
  schedule: "0 3 * * 1"
  workflowSpec:
    entrypoint: train
"""

KSERVE = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: churn
spec:
  predictor:
    canaryTrafficPercent: 10
    model:
      modelFormat:
        name: sklearn
      storageUri: gs://models/churn/v2
"""

ARGO_ROLLOUT = """\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: api
spec:
  strategy:
    canary:
      steps:
        - setWeight: 20
"""


def test_kubernetes_manifests_are_recognised_by_their_contents(tmp_path: Path) -> None:
    files = {
        "k8s/retrain.yaml": ARGO_WORKFLOW,
        "k8s/isvc.yaml": KSERVE,
        "deploy/rollout.yml": ARGO_ROLLOUT,
        "README.md": "Apply `kind: InferenceService` with apiVersion: serving.kserve.io/v1beta1\n",
    }
    found = tools(run(tmp_path, files))
    assert found["argo"].evidence == (Evidence("k8s/retrain.yaml", 2, None, "kind: CronWorkflow"),)
    assert found["kserve"].evidence == (Evidence("k8s/isvc.yaml", 2, None, "kind: InferenceService"),)
    assert found["kserve-canary"].evidence == (Evidence("k8s/isvc.yaml", 7, None, "canaryTrafficPercent: 10"),)
    assert found["argo-rollouts"].categories == ("rollout",)
    assert {e.path for e in found["argo-rollouts"].evidence} == {"deploy/rollout.yml"}


def test_large_configuration_files_are_not_read(tmp_path: Path) -> None:
    files = {"k8s/huge.yaml": ARGO_WORKFLOW + "# padding\n" * 120_000}
    assert "argo" not in tools(run(tmp_path, files))


def test_kfp_compiled_pipeline_and_mlproject(tmp_path: Path) -> None:
    files = {
        "pipeline.yaml": "# PIPELINE DEFINITION\n# Name: churn\ncomponents: {}\n",
        "MLproject": "name: churn\nentry_points:\n  main:\n    command: python train.py\n",
    }
    found = tools(run(tmp_path, files))
    assert found["kfp"].evidence == (Evidence("pipeline.yaml", 1, None, "# PIPELINE DEFINITION"),)
    assert found["mlflow-projects"].categories == ("orchestrator",)


# --- evidence -----------------------------------------------------------------------------------------------


def test_evidence_is_capped_and_prefers_project_files(tmp_path: Path) -> None:
    paths = ["tests/test_model.py", "examples/demo.py", "src/a.py", "src/b.py", "src/c.py", "src/d.py", "src/e.py",
             "tests/test_data.py"]
    sources = tuple(source(p, imports=("torch",), calls=("torch.nn.Linear",)) for p in paths)
    facts = run(tmp_path, sources=sources,
                environment=EnvironmentFacts(manifests=(requirements("torch"),)))
    torch = tools(facts)["pytorch"]
    assert [e.path for e in torch.evidence] == ["src/a.py", "src/b.py", "src/c.py", "src/d.py", "src/e.py"]


def test_notebook_evidence_carries_the_cell(tmp_path: Path) -> None:
    cells = code(imports=("xgboost",), calls=("xgboost.XGBClassifier",), cell=2)
    found = tools(run(tmp_path, notebooks=(notebook("notebooks/train.ipynb", cells),)))
    assert found["xgboost"].evidence == (Evidence("notebooks/train.ipynb", 20, 2, "xgboost.XGBClassifier(...)"),)


def test_weak_tools_are_listed(tmp_path: Path) -> None:
    demo = source("app.py", imports=("gradio",), calls=("gradio.Interface",))
    board = source("train.py", imports=("torch.utils.tensorboard.SummaryWriter",),
                   calls=("torch.utils.tensorboard.SummaryWriter",))
    facts = run(tmp_path, sources=(demo, board))
    assert facts.weak == ("gradio", "tensorboard")


def test_output_is_deterministic_and_sorted(tmp_path: Path) -> None:
    sources = (source("b.py", imports=("optuna", "shap"), calls=("shap.Explainer", "optuna.create_study")),
               source("a.py", imports=("shap",), calls=("shap.Explainer",)))
    first = run(tmp_path, sources=sources)
    second = run(tmp_path, sources=tuple(reversed(sources)))
    assert first == second
    assert [tool.name for tool in first.tools] == sorted(tool.name for tool in first.tools)


# --- robustness ---------------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(text=st.text(), name=st.sampled_from(["workflow.yaml", ".gitattributes", "config.pbtxt", "x.tf", "s.sh"]))
def test_arbitrary_file_contents_never_raise(text: str, name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / name).write_text(text, encoding="utf-8", errors="surrogatepass")
        facts = detect_stack(build_inventory(root), PythonFacts(), NotebookFacts(), EnvironmentFacts(), CIFacts())
        assert all(tool.strength in ("used", "declared") for tool in facts.tools)


@settings(max_examples=60, deadline=None)
@given(
    modules=st.lists(st.from_regex(r"[a-z_*.]{0,20}", fullmatch=True), max_size=4),
    names=st.lists(st.text(max_size=30), max_size=6),
    command=st.text(max_size=200),
)
def test_arbitrary_names_and_commands_never_raise(modules: list[str], names: list[str], command: str) -> None:
    facts = CodeFacts(
        imports=tuple(ImportRef(m, "x", 1) for m in modules),
        calls=tuple(CallRef(n, 2, keywords=("traffic_split",)) for n in names),
        decorators=tuple(DecoratorRef(n, "f", 3) for n in names),
        classes=(ClassRef("C", tuple(names), 4),),
    )
    with tempfile.TemporaryDirectory() as folder:
        detect_stack(
            build_inventory(folder), PythonFacts(files=(PythonFile("m.py", (), facts),)), NotebookFacts(),
            EnvironmentFacts(targets=(Target("t", "Makefile", 1, (command,)),)),
            CIFacts(workflows=(workflow("ci.yml", (command,), (command,)),)),
        )


def test_the_cache_of_matched_names_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stack, "MAX_MATCHED_NAMES", 10)
    matcher = stack._Matcher(stack._index())
    expected = matcher.match("calls", "mlflow.log_metric")
    for number in range(50):
        matcher.match("calls", f"module_{number}.run")
        assert len(matcher.cache) <= 10
    assert matcher.match("calls", "mlflow.log_metric") == expected != stack.NO_MATCH


@pytest.mark.parametrize(("regex", "required"), [
    (r"^# PIPELINE DEFINITION", "# PIPELINE DEFINITION"),
    (r"^kind:\s*(Workflow|CronWorkflow)\s*$", "kind:"),
    (r"^\[tool\.dagster\]", "[tool.dagster]"),
    (r"^ab?c", "a"),  # the `b` may be absent
    (r"^a+b", "a"),
    (r"^x{2}y", ""),
    (r"^\d+ steps", ""),  # a class, not the letter d
    (r"^abc|def", ""),  # a match of the other alternative holds no "abc"
    (r'"pipelineSpec"\s*:', ""),  # not anchored: searched as it is
])
def test_the_text_a_line_anchored_content_pattern_starts_with(regex: str, required: str) -> None:
    assert stack.line_start_text(regex) == required


CONTENT_LINES = st.sampled_from([
    "kind: Workflow", "kind:CronWorkflow  ", "apiVersion: argoproj.io/v1alpha1", "# PIPELINE DEFINITION",
    "[tool.dagster]", "[tool.kedro]", "recipe: 'regression/v1'", "load_from:", '"pipelineSpec": {}', "kind: Pod",
    "  kind: Workflow", "name: train", "",
])


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(CONTENT_LINES, max_size=8))
def test_a_shipped_content_pattern_is_found_where_a_search_finds_it(lines: list[str]) -> None:
    text = "\n".join(lines)
    for tool in stack.load_signatures():
        for signature in tool.signatures:
            for content in signature.file_contents:
                for pattern, line_start in zip(content.patterns, content.line_starts, strict=True):
                    match = pattern.search(text)
                    assert stack._first_match(pattern, line_start, text) == (match.start() if match else -1)
