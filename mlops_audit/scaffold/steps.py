"""The remediation steps as data: each rule's `scaffold:` name → the files to create, the codemods to run, the
steps it needs first, and the rules it makes pass.

Paths and package names may use `{package_dir}`, `{package}` and `{pipeline_path}` (from the stack choice), and
`@orchestrator`, `@tracker`, `@validation` (the distribution of the chosen tool). A condition (`when`) is a tuple
of (stack dimension, allowed values) pairs that must all hold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mlops_audit.facts import Facts
from mlops_audit.scaffold.stack_choice import StackChoice

Condition = tuple[tuple[str, tuple[str, ...]], ...]
ALWAYS: Condition = ()

# How an existing file at the target path is treated.
CREATE = "create"  # create when missing; an existing, different file is left alone and the plan says what to add
KEEP = "keep"  # create when missing; an existing file already plays this part and is kept
LINES = "lines"  # append the template's missing lines (line-based formats: .gitignore, .gitattributes)

# Pinned, mutually compatible versions of what the generated code imports.
DISTRIBUTIONS = {
    "pandas": "pandas==2.2.3",
    "scikit-learn": "scikit-learn==1.5.2",
    "pyyaml": "pyyaml==6.0.2",
    "mlflow": "mlflow==2.17.2",
    "wandb": "wandb==0.18.5",
    "pandera": "pandera==0.20.4",
    "great_expectations": "great-expectations==1.2.4",
    "dvc": "dvc==3.55.2",
    "prefect": "prefect==3.1.0",
    "airflow": "apache-airflow==2.10.3",
    "kfp": "kfp==2.9.0",
    "zenml": "zenml==0.68.1",
    "evidently": "evidently==0.4.40",
    "pytest": "pytest==8.3.3",
    "nbmake": "nbmake==1.5.4",
}


def on(**allowed: str | tuple[str, ...]) -> Condition:
    """A stack condition: `on(orchestrator="dvc")`, `on(tracker=("mlflow",))`."""
    return tuple(sorted((key, (value,) if isinstance(value, str) else value) for key, value in allowed.items()))


def holds(condition: Condition, stack: StackChoice) -> bool:
    return all(getattr(stack, key) in values for key, values in condition)


@dataclass(frozen=True, slots=True)
class FileSpec:
    template: str  # under templates/
    path: str  # target, formatted with the stack
    mode: str = CREATE
    when: Condition = ALWAYS


@dataclass(frozen=True, slots=True)
class Need:
    """Another step this one's files rely on, unless the repository already has what it provides."""

    step: str
    unless: str | None = None  # a name in PREDICATES


@dataclass(frozen=True, slots=True)
class Codemod:
    name: str  # seeds, paths, notebooks
    trigger: str  # the rule whose failure calls for it


@dataclass(frozen=True, slots=True)
class Step:
    name: str  # the `scaffold:` name rules use
    title: str
    files: tuple[FileSpec, ...] = ()
    needs: tuple[Need, ...] = ()
    fixes: tuple[tuple[Condition, tuple[str, ...]], ...] = ()  # rules it makes pass, under stack conditions
    uses: tuple[str, ...] = ()  # stack dimensions it fits to (their choice is reported with the step)
    packages: tuple[str, ...] = ()  # DISTRIBUTIONS keys, or @orchestrator / @tracker / @validation
    params: tuple[str, ...] = ()  # top-level params.yaml keys its files read
    codemods: tuple[Codemod, ...] = ()
    existing: str | None = None  # a name in PREDICATES: what already plays this step's part
    manual: str = ""  # what only a person can do, always shown

    def rules_fixed(self, stack: StackChoice) -> tuple[str, ...]:
        return tuple(sorted({rule for condition, rules in self.fixes if holds(condition, stack) for rule in rules}))

    def planned_files(self, stack: StackChoice) -> tuple[FileSpec, ...]:
        return tuple(spec for spec in self.files if holds(spec.when, stack))


def _gh_or_gitlab(name: str) -> tuple[FileSpec, FileSpec]:
    return (
        FileSpec(f"ci/github/{name}.yml.j2", f".github/workflows/{name}.yml", when=on(ci="github")),
        FileSpec(f"ci/gitlab/{name}.yml.j2", f".gitlab/ci/{name}.yml", when=on(ci="gitlab")),
    )


RUNS_PIPELINE = on(orchestrator=("dvc", "prefect", "kfp", "zenml"))  # CI can start a run (Airflow schedules its own)

STEPS: tuple[Step, ...] = (
    Step(
        "gitignore",
        "Keep caches, secrets, data and models out of git",
        files=(FileSpec("gitignore/gitignore.j2", ".gitignore", LINES),
               FileSpec("gitignore/gitattributes.j2", ".gitattributes", LINES)),
        manual="Untrack what is already committed: `git rm --cached <file>` for secrets, caches, data and models "
               "(then `dvc add` data and models); rewrite history with `git filter-repo` when large blobs remain.",
    ),
    Step(
        "precommit",
        "Pre-commit hooks: ruff, nbstripout, large files, gitleaks",
        files=(FileSpec("precommit/pre-commit-config.yaml.j2", ".pre-commit-config.yaml"),),
        fixes=((ALWAYS, ("L0-CODE-01", "L0-VCS-04", "ANY-SEC-03")),),
        manual="Run `pip install pre-commit && pre-commit install`, then `pre-commit run --all-files` once.",
    ),
    Step(
        "pin-dependencies",
        "Declare and pin the environment",
        files=(FileSpec("environment/python-version.j2", ".python-version", KEEP),),
        manual="Lock every dependency: move the loose requirements to `requirements.in`, run `pip install "
               "pip-tools && pip-compile requirements.in -o requirements.txt` (or `uv pip compile`), commit both; "
               "replace `!pip install` notebook cells with entries in the requirements.",
    ),
    Step(
        "params",
        "Externalised parameters (params.yaml) and a loader",
        files=(FileSpec("params/parameters.py.j2", "{package_dir}/parameters.py", KEEP),),
        fixes=((ALWAYS, ("L1-CODE-04",)),),
        uses=("package",),
        packages=("pyyaml",),
        params=("seed",),
        codemods=(Codemod("seeds", "L1-ENV-04"), Codemod("paths", "L0-NB-05")),
    ),
    Step(
        "tracking",
        "Experiment tracking helper",
        files=(FileSpec("tracking/tracking_mlflow.py.j2", "{package_dir}/tracking.py", KEEP, on(tracker="mlflow")),
               FileSpec("tracking/tracking_wandb.py.j2", "{package_dir}/tracking.py", KEEP, on(tracker="wandb"))),
        needs=(Need("params"),),
        fixes=((ALWAYS, ("L1-EXP-01", "L1-EXP-02")),),
        uses=("tracker",),
        packages=("@tracker",),
        params=("tracking",),
        manual="Point the tracker at a shared server: set MLFLOW_TRACKING_URI (or WANDB_API_KEY) in CI secrets.",
    ),
    Step(
        "data-validation",
        "Data schema and validation step",
        files=(
            FileSpec("validation/schema_pandera.py.j2", "{package_dir}/schema.py", KEEP, on(validation="pandera")),
            FileSpec("validation/schema_gx.py.j2", "{package_dir}/schema.py", KEEP, on(validation="great_expectations")),
            FileSpec("validation/validate.py.j2", "{package_dir}/validate.py", KEEP),
            FileSpec("validation/test_schema.py.j2", "tests/data/test_schema.py", KEEP),
        ),
        needs=(Need("params"),),
        fixes=((ALWAYS, ("L1-DV-01",)),),
        uses=("validation",),
        packages=("@validation", "pandas"),
        params=("paths", "data"),
        manual="Describe your columns in the schema (types, ranges, allowed values): the generated one checks only "
               "the target and that the table is not empty.",
    ),
    Step(
        "eval-gate",
        "Evaluation gate: fail the run when a metric is under its threshold",
        files=(FileSpec("gate/gate.py.j2", "{package_dir}/gate.py", KEEP),),
        needs=(Need("params"),),
        fixes=((ALWAYS, ("L1-MV-02",)),),
        params=("paths", "thresholds"),
    ),
    Step(
        "package",
        "Modular, importable package: ingest, features, train, evaluate",
        files=(
            FileSpec("package/init.py.j2", "{package_dir}/__init__.py", KEEP),
            FileSpec("package/ingest.py.j2", "{package_dir}/ingest.py", KEEP),
            FileSpec("package/features.py.j2", "{package_dir}/features.py", KEEP),
            FileSpec("package/train.py.j2", "{package_dir}/train.py", KEEP),
            FileSpec("package/evaluate.py.j2", "{package_dir}/evaluate.py", KEEP),
            FileSpec("package/pyproject.toml.j2", "pyproject.toml", KEEP),
        ),
        needs=(Need("params"), Need("tracking"), Need("eval-gate")),
        fixes=((ALWAYS, ("L0-NB-01", "L1-CODE-02", "L1-CODE-03", "L1-ENV-04", "L1-EXP-01", "L1-MV-01")),),
        uses=("package", "tracker"),
        packages=("pandas", "scikit-learn", "pyyaml", "@tracker"),
        params=("seed", "paths", "data", "train"),
        codemods=(Codemod("notebooks", "L0-NB-01"),),
        manual="Install the package for development: `pip install -e .`; set `data.target` in params.yaml.",
    ),
    Step(
        "promotion",
        "Champion/challenger promotion with registry aliases",
        files=(FileSpec("promotion/promote_mlflow.py.j2", "{package_dir}/promote.py", KEEP, on(tracker="mlflow")),
               FileSpec("promotion/promote_wandb.py.j2", "{package_dir}/promote.py", KEEP, on(tracker="wandb"))),
        needs=(Need("params"), Need("tracking")),
        fixes=((on(tracker="mlflow"), ("L1-REG-03", "L2-MV-03")),),
        uses=("tracker",),
        packages=("@tracker",),
        params=("paths", "registry"),
    ),
    Step(
        "registry",
        "Register trained models in the model registry",
        files=(FileSpec("registry/register_mlflow.py.j2", "{package_dir}/register.py", KEEP, on(tracker="mlflow")),
               FileSpec("registry/register_wandb.py.j2", "{package_dir}/register.py", KEEP, on(tracker="wandb"))),
        needs=(Need("params"), Need("tracking"), Need("promotion")),
        fixes=((ALWAYS, ("L1-REG-02",)),),
        uses=("tracker",),
        packages=("@tracker",),
        params=("paths", "registry"),
        manual="Stop handing off model files: `git rm --cached` committed models and load them from the registry.",
    ),
    Step(
        "pipeline",
        "Pipeline: ingest → validate → features → train → evaluate → register",
        files=(
            FileSpec("pipeline/dvc.yaml.j2", "dvc.yaml", when=on(orchestrator="dvc")),
            FileSpec("pipeline/prefect_flow.py.j2", "{pipeline_path}", when=on(orchestrator="prefect")),
            FileSpec("pipeline/airflow_dag.py.j2", "{pipeline_path}", when=on(orchestrator="airflow")),
            FileSpec("pipeline/kfp_pipeline.py.j2", "{pipeline_path}", when=on(orchestrator="kfp")),
            FileSpec("pipeline/zenml_pipeline.py.j2", "{pipeline_path}", when=on(orchestrator="zenml")),
        ),
        needs=(Need("package"), Need("data-validation"), Need("registry")),
        fixes=(
            (ALWAYS, ("L1-PIPE-01", "L1-PIPE-02", "L1-REPRO-01")),
            (on(orchestrator="dvc"), ("L1-DATA-02", "L1-DV-02")),
            (on(orchestrator=("kfp", "zenml")), ("L1-EXP-04",)),
        ),
        uses=("orchestrator",),
        packages=("@orchestrator",),
        manual="With DVC: `dvc init`, `dvc remote add -d storage s3://<bucket>/dvc`, then `dvc repro` and commit "
               "dvc.lock after each run (the run record).",
    ),
    Step(
        "tests",
        "Tests: unit, data and model smoke tests",
        files=(FileSpec("tests/test_features.py.j2", "tests/unit/test_features.py", KEEP),
               FileSpec("tests/test_train_smoke.py.j2", "tests/model/test_train_smoke.py", KEEP)),
        needs=(Need("package"),),
        fixes=((ALWAYS, ("L0-TEST-01", "L1-DV-04")),),
        packages=("pytest",),
    ),
    Step(
        "dockerfile",
        "Container image on a pinned base",
        files=(FileSpec("docker/Dockerfile.j2", "Dockerfile"), FileSpec("docker/dockerignore.j2", ".dockerignore", LINES)),
        fixes=((ALWAYS, ("L1-ENV-03",)),),
        uses=("orchestrator",),
    ),
    Step(
        "model-card",
        "Model card",
        files=(FileSpec("docs/MODEL_CARD.md.j2", "MODEL_CARD.md"),),
        fixes=((ALWAYS, ("L1-DOC-02",)),),
        manual="Fill in the model card's intended use, data and limitations.",
    ),
    Step(
        "ct-workflow",
        "Continuous training: scheduled and data-triggered runs",
        files=_gh_or_gitlab("ct"),
        needs=(Need("pipeline", unless="has_pipeline"),),
        fixes=((on(orchestrator=("dvc", "prefect", "kfp", "zenml"), ci="github"), ("L1-CT-01", "L1-CT-02")),
               (on(orchestrator=("dvc", "prefect", "kfp", "zenml"), ci="gitlab"), ("L1-CT-01",))),
        uses=("ci", "orchestrator"),
        existing="scheduled_training",
        manual="Store the credentials the workflow reads (tracker, data remote) as CI secrets. With a training "
               "workflow of your own, add a data trigger to its `on:` instead: `push: paths: [\"data/**\"]`.",
    ),
    Step(
        "ci-workflow",
        "CI on every change: lint, tests, image build",
        files=_gh_or_gitlab("ci"),
        needs=(Need("tests", unless="has_tests"), Need("dockerfile", unless="has_dockerfile")),
        fixes=((ALWAYS, ("L2-CI-01", "L2-CI-02", "L1-NB-08")), (on(orchestrator="dvc", ci="github"), ("L2-CI-05",))),
        uses=("ci",),
        existing="ci_tests",
        manual="Make the notebooks job pass (or drop it) before requiring CI in branch protection.",
    ),
    Step(
        "cd-workflow",
        "CD: staging, then production after approval",
        files=_gh_or_gitlab("cd"),
        needs=(Need("dockerfile", unless="has_dockerfile"),),
        fixes=((ALWAYS, ("L2-CI-03", "L2-DEP-03")),),
        uses=("ci", "orchestrator"),
        existing="ci_deploys",
        manual="Create the `staging` and `production` environments and require reviewers on `production` "
               "(GitHub: Settings → Environments); store deployment credentials as environment secrets.",
    ),
    Step(
        "drift-monitor",
        "Scheduled drift monitoring (Evidently) that triggers retraining",
        files=(FileSpec("monitoring/drift.py.j2", "{package_dir}/drift.py", KEEP), *_gh_or_gitlab("monitor")),
        needs=(Need("params"),),
        fixes=((ALWAYS, ("L2-MON-02",)), (RUNS_PIPELINE, ("L1-CT-03",))),
        uses=("ci", "orchestrator"),
        packages=("evidently", "pandas"),
        params=("monitoring", "data"),
        existing="drift_job",
        manual="Keep a reference sample (the training features) and land fresh data where `monitoring.current` "
               "points.",
    ),
    Step("dependencies", "Requirements of the generated code", fixes=((ALWAYS, ("L0-ENV-01",)),)),
    Step("gitlab-include", "Include the generated GitLab CI files"),
)

STEP_ORDER = {step.name: index for index, step in enumerate(STEPS)}
BY_NAME = {step.name: step for step in STEPS}
CI_STEPS = frozenset({"ct-workflow", "ci-workflow", "cd-workflow", "drift-monitor"})


def _has_tests(facts: Facts) -> str | None:
    return ", ".join(facts.environment.test_files[:3]) or None


def _has_dockerfile(facts: Facts) -> str | None:
    return ", ".join(sorted(d.path for d in facts.environment.dockerfiles)) or None


def _has_pipeline(facts: Facts) -> str | None:
    return ", ".join(tool.name for tool in facts.stack.in_category("orchestrator")) or None


def _jobs(facts: Facts, kind: str, triggers: frozenset[str]) -> str | None:
    paths = sorted(
        {
            job.path
            for workflow in facts.ci.workflows
            for job in workflow.jobs
            if kind in job.kinds and triggers & set(job.triggers)
        }
    )
    return ", ".join(paths) or None


def _scheduled_training(facts: Facts) -> str | None:
    return _jobs(facts, "train", frozenset({"schedule"}))


def _ci_tests(facts: Facts) -> str | None:
    return _jobs(facts, "test", frozenset({"pull_request", "push"}))


def _ci_deploys(facts: Facts) -> str | None:
    paths = {job.path for workflow in facts.ci.workflows for job in workflow.jobs if job.environment}
    return ", ".join(sorted(paths)) or _jobs(facts, "deploy", frozenset({"push", "tag", "release"}))


def _drift_job(facts: Facts) -> str | None:
    paths = sorted(
        {
            job.path
            for workflow in facts.ci.workflows
            for job in workflow.jobs
            if any("drift" in c.text.lower() or "monitor" in c.text.lower() for c in job.commands)
        }
    )
    return ", ".join(paths) or None


PREDICATES: dict[str, Callable[[Facts], str | None]] = {
    "has_tests": _has_tests,
    "has_dockerfile": _has_dockerfile,
    "has_pipeline": _has_pipeline,
    "scheduled_training": _scheduled_training,
    "ci_tests": _ci_tests,
    "ci_deploys": _ci_deploys,
    "drift_job": _drift_job,
}


def distribution(name: str, stack: StackChoice) -> str:
    """The pinned requirement for a package entry (`@tracker` → the chosen tracker's)."""
    key = getattr(stack, name[1:]) if name.startswith("@") else name
    if key == "pandas" and stack.validation == "great_expectations":
        return "pandas==2.1.4"  # great-expectations 1.2 requires pandas<2.2
    return DISTRIBUTIONS[key]
