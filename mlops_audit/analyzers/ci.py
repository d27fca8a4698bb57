"""Facts from CI configuration: GitHub Actions, GitLab CI, Azure Pipelines, Jenkins, CircleCI, Bitbucket, Cloud Build.

Command kinds (a command may have several): "test" (pytest, unittest, tox/nox test sessions, make test),
"data_test" (tests over data: pandera/GX/soda/`great_expectations checkpoint`, tests under tests/data),
"notebook_test" (nbmake, nbval, papermill, nbconvert --execute), "lint" (ruff, flake8, black, mypy, pre-commit),
"train" (python train*.py, -m pkg.train, dvc repro/exp run, kedro run, mlflow run, zenml/prefect/kfp pipeline runs,
make train, sagemaker/vertex/azure ml pipeline starts), "evaluate", "build" (docker build/buildx, pip wheel,
python -m build, kfp compile, gcloud builds), "publish" (docker push, twine upload, image registry pushes),
"deploy" (kubectl apply, helm upgrade, terraform apply, gcloud run deploy, serverless deploy, sam deploy,
az ml online-deployment, sagemaker endpoint updates, `deploy` scripts), "infra" (terraform, pulumi, cdk).
Triggers: "push", "pull_request", "schedule", "manual", "tag", "release", "workflow_run", "other".
"""

from __future__ import annotations

from dataclasses import dataclass

from mlops_audit.inventory import Inventory


@dataclass(frozen=True, slots=True)
class CICommand:
    text: str  # the command, clipped to 200 characters
    line: int | None
    kinds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CIJob:
    name: str
    path: str
    line: int | None
    triggers: tuple[str, ...]  # the workflow's triggers that can run this job (narrowed by job conditions)
    commands: tuple[CICommand, ...]
    kinds: tuple[str, ...]  # union of the commands' kinds, sorted
    environment: str | None = None  # deployment environment name ("staging", "production")
    uses: tuple[str, ...] = ()  # actions / orbs / templates / reusable workflows referenced
    needs: tuple[str, ...] = ()  # jobs this one waits for
    manual_approval: bool = False  # `when: manual`, ManualValidation task, `input` step, environment approval


@dataclass(frozen=True, slots=True)
class CIWorkflow:
    system: str  # "github", "gitlab", "azure", "jenkins", "circleci", "bitbucket", "cloudbuild", "codebuild"
    path: str
    name: str
    triggers: tuple[str, ...]
    schedules: tuple[str, ...]  # cron expressions
    path_filters: tuple[str, ...]  # `paths:` filters on push / pull request triggers
    jobs: tuple[CIJob, ...]
    error: str | None = None  # "YAML does not parse: ..." when unreadable


@dataclass(frozen=True, slots=True)
class CIFacts:
    workflows: tuple[CIWorkflow, ...] = ()


def analyze_ci(inventory: Inventory) -> CIFacts:
    raise NotImplementedError
