"""Facts from CI configuration: GitHub Actions, GitLab CI, Azure Pipelines, Jenkins, CircleCI, Bitbucket, Cloud Build,
CodeBuild. Which files are CI is decided by path and, for YAML kept elsewhere, by content (see `discovery`).

Command kinds (a command may have several): "test" (pytest, unittest, tox/nox test sessions, make test),
"data_test" (tests over data: pandera/GX/soda/`great_expectations checkpoint`, tests under tests/data),
"notebook_test" (nbmake, nbval, papermill, nbconvert --execute), "lint" (ruff, flake8, black, mypy, pre-commit),
"train" (python train*.py, -m pkg.train, dvc repro/exp run, kedro run, mlflow run, zenml/prefect/kfp pipeline runs,
make train, sagemaker/vertex/azure ml pipeline starts, anyscale/ray job submissions), "evaluate", "build" (docker
build/buildx, pip wheel, python -m build, kfp compile, gcloud builds, cdk synth), "publish" (docker push, twine upload, image registry pushes),
"deploy" (kubectl apply, helm upgrade, terraform apply, gcloud run deploy, serverless deploy, sam deploy,
az ml online-deployment, sagemaker endpoint updates, `deploy` scripts), "infra" (terraform, pulumi, cdk).
Triggers: "push", "pull_request", "schedule", "manual", "tag", "release", "workflow_run", "other", and "external"
for Cloud Build and CodeBuild files, whose triggers (Cloud Build triggers, CodePipeline source actions) are
configured outside the repository and run them on repository changes.

A job's `manual_approval` is true when the job itself waits for a person (GitLab `when: manual`, an Azure
ManualValidation task, a Jenkins `input` step, a CircleCI `type: approval` job, a Bitbucket `trigger: manual`
step, a GitHub or Azure environment named production/prod, whose protection rules live outside the
repository) or when it needs, directly or transitively, a job that does. Commands a job runs through local
reusable workflows, templates or includes carry the `path` of the file they are written in.

`schedules` lists the schedules kept outside CI, in orchestrator and infrastructure configuration (see `schedules`).
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Callable

from mlops_audit.analyzers.ci.azure import parse_azure
from mlops_audit.analyzers.ci.bitbucket import parse_bitbucket
from mlops_audit.analyzers.ci.circleci import parse_circleci
from mlops_audit.analyzers.ci.cloudbuild import parse_cloudbuild
from mlops_audit.analyzers.ci.codebuild import parse_codebuild
from mlops_audit.analyzers.ci.files import Files
from mlops_audit.analyzers.ci.github import parse_github
from mlops_audit.analyzers.ci.gitlab import parse_gitlab
from mlops_audit.analyzers.ci.jenkins import parse_jenkins
from mlops_audit.analyzers.ci.records import CICommand, CIFacts, CIJob, CIWorkflow
from mlops_audit.analyzers.ci.schedules import ScheduledRun, find_schedules
from mlops_audit.analyzers.ci.yaml_lines import Map
from mlops_audit.inventory import Inventory

__all__ = ["CICommand", "CIFacts", "CIJob", "CIWorkflow", "ScheduledRun", "analyze_ci"]

WORKFLOWS = "ci workflows"  # an inventory's shared table: (path, path in the repository, system) -> (reads, workflows)


def analyze_ci(inventory: Inventory) -> CIFacts:
    """Every CI file of the inventory as workflows of jobs and classified commands. Never raises."""
    files = Files(inventory)
    workflows: list[CIWorkflow] = []
    for path, system in files.systems().items():
        try:
            workflows.extend(_shared_analysis(path, system, files))
        except Exception as error:  # a reading bug must cost one file, visibly, not the audit
            workflows.append(_failed(system, path, f"could not be analysed ({error!r:.120})"))
    return CIFacts(tuple(sorted(workflows, key=lambda w: (w.path, w.name))), find_schedules(inventory))


def _shared_analysis(path: str, system: str, files: Files) -> list[CIWorkflow]:
    """The workflows of one CI file, analysed once for the inventory and every view made from it that has the file
    and reads the same files for it (a monorepo's projects share its root CI)."""
    known = files.inventory.shared(WORKFLOWS)
    key = (path, files.inventory.origin(path), system)
    if key in known and files.reads_alike(known[key][0]):
        return known[key][1]  # type: ignore[no-any-return]
    with files.recording() as reads:
        workflows = _analyze_file(path, system, files)
    known[key] = (reads, workflows)
    return workflows


def _analyze_file(path: str, system: str, files: Files) -> list[CIWorkflow]:
    if system == "jenkins":
        text = files.inventory.read_text(path)
        return [parse_jenkins(path, text) if text is not None else _failed(system, path, "cannot be read as text")]
    doc, error = files.load(path)
    if doc is None:
        return [_failed(system, path, error or "cannot be read")]
    return PARSERS[system](path, doc, files)


def _failed(system: str, path: str, error: str) -> CIWorkflow:
    return CIWorkflow(system, path, PurePosixPath(path).name, (), (), (), (), error=error)


PARSERS: dict[str, Callable[[str, Map, Files], list[CIWorkflow]]] = {
    "github": parse_github,
    "gitlab": parse_gitlab,
    "azure": parse_azure,
    "circleci": parse_circleci,
    "bitbucket": parse_bitbucket,
    "cloudbuild": parse_cloudbuild,
    "codebuild": parse_codebuild,
}
