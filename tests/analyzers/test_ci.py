"""CI analyzer: real configuration files of each CI system, read into workflows, jobs and classified commands."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mlops_audit.analyzers.ci import CIFacts, CIJob, CIWorkflow, analyze_ci
from mlops_audit.analyzers.ci.commands import classify_command, classify_uses, split_script
from mlops_audit.inventory import build_inventory

KINDS = {"test", "data_test", "notebook_test", "lint", "train", "evaluate", "build", "publish", "deploy", "infra"}
TRIGGERS = {"push", "pull_request", "schedule", "manual", "tag", "release", "workflow_run", "other", "external"}


def analyze(root: Path, files: dict[str, str]) -> CIFacts:
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return analyze_ci(build_inventory(root))


def workflow(facts: CIFacts, path: str, name: str | None = None) -> CIWorkflow:
    found = [w for w in facts.workflows if w.path == path and (name is None or w.name == name)]
    assert len(found) == 1, [(w.path, w.name) for w in facts.workflows]
    return found[0]


def job(flow: CIWorkflow, name: str) -> CIJob:
    found = [j for j in flow.jobs if j.name == name]
    assert len(found) == 1, [j.name for j in flow.jobs]
    return found[0]


def texts(found: CIJob) -> list[str]:
    return [command.text for command in found.commands]


# --- GitHub Actions ---------------------------------------------------------------------------------------

ML_PIPELINE = """
name: ML pipeline
on:
  push:
    branches: [main]
    paths:
      - "src/**"
      - params.yaml
    paths-ignore: ["docs/**"]
  pull_request:
    branches: [main]
  schedule:
    - cron: "0 4 * * 1"
  workflow_dispatch:
jobs:
  lint-and-test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install
        run: pip install -r requirements.txt
      - name: Checks
        run: |
          ruff check .
          # unit tests, then data tests
          pytest tests/unit \\
            --cov=src
          pytest tests/data
  train:
    needs: lint-and-test
    if: github.event_name == 'schedule' || github.event_name == 'workflow_dispatch'
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: iterative/setup-dvc@v1
      - run: dvc pull && dvc repro
      - run: python src/evaluate.py --metrics metrics.json
  deploy-staging:
    needs: train
    runs-on: ubuntu-latest
    environment: staging
    steps:
      - uses: docker/build-push-action@v5
        with:
          push: true
          tags: ghcr.io/acme/model:${{ github.sha }}
      - run: helm upgrade --install model charts/model -f values-staging.yaml
  deploy-production:
    needs: deploy-staging
    runs-on: ubuntu-latest
    environment:
      name: production
      url: https://model.acme.example
    steps:
      - uses: google-github-actions/deploy-cloudrun@v2
        with:
          service: model
"""


def test_github_workflow_triggers_paths_and_schedules(tmp_path: Path) -> None:
    flow = workflow(analyze(tmp_path, {".github/workflows/ml.yml": ML_PIPELINE}), ".github/workflows/ml.yml")
    assert flow.system == "github" and flow.name == "ML pipeline" and flow.error is None
    assert flow.triggers == ("manual", "pull_request", "push", "schedule")
    assert flow.schedules == ("0 4 * * 1",)
    assert flow.path_filters == ("!docs/**", "params.yaml", "src/**")
    assert [j.name for j in flow.jobs] == ["lint-and-test", "train", "deploy-staging", "deploy-production"]


def test_github_steps_become_classified_commands_with_lines(tmp_path: Path) -> None:
    flow = workflow(analyze(tmp_path, {".github/workflows/ml.yml": ML_PIPELINE}), ".github/workflows/ml.yml")
    checks = job(flow, "lint-and-test")
    assert checks.line == 15
    assert [(c.text, c.line, c.kinds) for c in checks.commands] == [
        ("pip install -r requirements.txt", 23, ()),
        ("ruff check .", 26, ("lint",)),
        ("pytest tests/unit --cov=src", 28, ("test",)),
        ("pytest tests/data", 30, ("data_test", "test")),
    ]
    assert checks.kinds == ("data_test", "lint", "test")
    assert checks.uses == ("actions/checkout@v4", "actions/setup-python@v5")


def test_github_if_condition_and_needs_narrow_triggers(tmp_path: Path) -> None:
    flow = workflow(analyze(tmp_path, {".github/workflows/ml.yml": ML_PIPELINE}), ".github/workflows/ml.yml")
    assert job(flow, "lint-and-test").triggers == flow.triggers
    train = job(flow, "train")
    assert train.triggers == ("manual", "schedule")
    assert train.kinds == ("evaluate", "train")
    # deploy jobs need train, so they run only when train does
    assert job(flow, "deploy-production").triggers == ("manual", "schedule")


def test_github_environments_staging_then_production(tmp_path: Path) -> None:
    flow = workflow(analyze(tmp_path, {".github/workflows/ml.yml": ML_PIPELINE}), ".github/workflows/ml.yml")
    staging, production = job(flow, "deploy-staging"), job(flow, "deploy-production")
    assert (staging.environment, staging.manual_approval) == ("staging", False)
    assert staging.kinds == ("build", "deploy", "publish")
    assert (production.environment, production.manual_approval) == ("production", True)
    assert production.needs == ("deploy-staging",)
    assert production.kinds == ("deploy",)


def test_github_on_key_read_as_boolean_true_by_pyyaml(tmp_path: Path) -> None:
    text = """
    on: [push, pull_request]
    jobs:
      test:
        runs-on: ubuntu-latest
        steps:
          - run: python -m pytest
    """
    assert True in yaml.safe_load(textwrap.dedent(text))  # the gotcha itself
    flow = workflow(analyze(tmp_path, {".github/workflows/ci.yaml": text}), ".github/workflows/ci.yaml")
    assert flow.triggers == ("pull_request", "push")
    assert job(flow, "test").kinds == ("test",)


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        ("push", ("push",)),
        ("\n  push:\n    tags: ['v*']", ("tag",)),
        ("\n  release:\n    types: [published]", ("release",)),
        ("\n  repository_dispatch:\n    types: [retrain]", ("manual", "other")),
        ("\n  workflow_run:\n    workflows: [CI]\n    types: [completed]", ("workflow_run",)),
        ("\n  pull_request_target:\n  issues:", ("other", "pull_request")),
    ],
)
def test_github_trigger_forms(tmp_path: Path, on: str, expected: tuple[str, ...]) -> None:
    text = f"on: {on}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n"
    facts = analyze(tmp_path, {".github/workflows/w.yml": text})
    assert workflow(facts, ".github/workflows/w.yml").triggers == expected


def test_scheduled_training_versus_scheduled_tests(tmp_path: Path) -> None:
    facts = analyze(tmp_path, {
        ".github/workflows/retrain.yml": """
            name: Weekly retraining
            on:
              schedule:
                - cron: "30 2 * * 0"
            jobs:
              retrain:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                  - run: |
                      pip install -e .
                      python -m src.pipelines.training_pipeline --config configs/prod.yaml
            """,
        ".github/workflows/nightly.yml": """
            name: Nightly tests
            on:
              schedule:
                - cron: "0 0 * * *"
            jobs:
              tests:
                runs-on: ubuntu-latest
                steps:
                  - run: pip install -r requirements-dev.txt
                  - run: pytest -m "not slow" --learning-rate-schedule cosine
            """,
    })

    def scheduled_kinds(path: str) -> set[str]:
        return {k for j in workflow(facts, path).jobs if "schedule" in j.triggers for k in j.kinds}

    assert scheduled_kinds(".github/workflows/retrain.yml") == {"train"}
    assert scheduled_kinds(".github/workflows/nightly.yml") == {"test"}
    assert workflow(facts, ".github/workflows/retrain.yml").schedules == ("30 2 * * 0",)


def test_github_reusable_workflows_local_resolved_external_recorded(tmp_path: Path) -> None:
    facts = analyze(tmp_path, {
        ".github/workflows/release.yml": """
            on:
              push:
                tags: ["v*"]
            jobs:
              train:
                uses: ./.github/workflows/train.yml
                with:
                  epochs: 10
              scan:
                uses: acme/shared/.github/workflows/scan.yml@v1
              approve:
                runs-on: ubuntu-latest
                steps:
                  - uses: trstringer/manual-approval@v1
                    with:
                      approvers: ml-leads
              publish:
                needs: [approve]
                runs-on: ubuntu-latest
                steps:
                  - run: docker push ghcr.io/acme/model:latest
            """,
        ".github/workflows/train.yml": """
            on:
              workflow_call:
                inputs:
                  epochs:
                    type: number
            jobs:
              fit:
                runs-on: ubuntu-latest
                steps:
                  - run: python train.py --epochs ${{ inputs.epochs }}
            """,
    })
    release = workflow(facts, ".github/workflows/release.yml")
    assert release.triggers == ("tag",)
    train = job(release, "train")
    assert train.kinds == ("train",)
    assert train.uses == ("./.github/workflows/train.yml",)
    assert (train.commands[0].path, train.commands[0].line) == (".github/workflows/train.yml", 10)
    assert job(release, "scan").uses == ("acme/shared/.github/workflows/scan.yml@v1",)
    assert job(release, "scan").commands == ()
    assert job(release, "approve").manual_approval
    assert job(release, "publish").manual_approval  # gated by the approval job it needs
    assert workflow(facts, ".github/workflows/train.yml").triggers == ("other",)


def test_github_reusable_workflow_calling_itself_terminates(tmp_path: Path) -> None:
    text = "on: workflow_call\njobs:\n  again:\n    uses: ./.github/workflows/loop.yml\n"
    flow = workflow(analyze(tmp_path, {".github/workflows/loop.yml": text}), ".github/workflows/loop.yml")
    assert job(flow, "again").commands == ()


# --- errors -----------------------------------------------------------------------------------------------


def test_unparsable_yaml_gives_an_error_and_no_jobs(tmp_path: Path) -> None:
    facts = analyze(tmp_path, {
        ".github/workflows/broken.yml": "on: push\njobs:\n  test:\n    steps: [\n      - run: pytest\n",
        ".github/workflows/ok.yml": "on: push\njobs:\n  t:\n    steps:\n      - run: pytest\n",
    })
    broken = workflow(facts, ".github/workflows/broken.yml")
    assert broken.error is not None and broken.error.startswith("YAML does not parse")
    assert broken.jobs == () and broken.triggers == ()
    assert workflow(facts, ".github/workflows/ok.yml").error is None


def test_workflow_that_is_a_list_or_empty_is_an_error(tmp_path: Path) -> None:
    facts = analyze(tmp_path, {
        ".github/workflows/list.yml": "- on: push\n- jobs: {}\n",
        ".gitlab-ci.yml": "# nothing yet\n",
    })
    assert workflow(facts, ".github/workflows/list.yml").error == "YAML top level is a list, not a mapping"
    assert workflow(facts, ".gitlab-ci.yml").error == "YAML file is empty"


def test_hostile_yaml_tags_are_read_as_plain_data(tmp_path: Path) -> None:
    text = """
    on: push
    jobs:
      x: !!python/object/apply:os.system ["echo owned"]
      y:
        steps:
          - run: !Sub "pytest"
    """
    flow = workflow(analyze(tmp_path, {".github/workflows/t.yml": text}), ".github/workflows/t.yml")
    assert flow.error is None
    assert job(flow, "y").kinds == ("test",)


# --- GitLab CI --------------------------------------------------------------------------------------------

GITLAB = """
include:
  - template: Security/SAST.gitlab-ci.yml
  - local: ci/deploy.gitlab-ci.yml
stages: [test, train, deploy]
default:
  before_script:
    - pip install -r requirements.txt
.python:
  image: python:3.11
  script:
    - pytest tests/
.setup:
  script:
    - dvc pull
unit-tests:
  extends: .python
  stage: test
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
train-model:
  stage: train
  script:
    - !reference [.setup, script]
    - >
      python -m src.train
      --config configs/train.yaml
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"
nightly-lint:
  stage: test
  only: [schedules]
  script: ruff check .
"""
GITLAB_DEPLOY = """
deploy-production:
  stage: deploy
  inherit:
    default: false
  environment:
    name: production
    url: https://model.example.com
  script:
    - kubectl apply -f k8s/
  when: manual
  needs: [train-model]
"""


def test_gitlab_rules_extends_references_and_includes(tmp_path: Path) -> None:
    facts = analyze(tmp_path, {".gitlab-ci.yml": GITLAB, "ci/deploy.gitlab-ci.yml": GITLAB_DEPLOY})
    flow = workflow(facts, ".gitlab-ci.yml")
    assert flow.system == "gitlab"
    assert flow.triggers == ("pull_request", "push", "schedule")
    assert flow.schedules == ()  # GitLab schedules are set in the UI
    assert flow.uses == ("template: Security/SAST.gitlab-ci.yml", "local: ci/deploy.gitlab-ci.yml")
    assert [j.name for j in flow.jobs] == ["deploy-production", "unit-tests", "train-model", "nightly-lint"]

    tests = job(flow, "unit-tests")
    assert tests.triggers == ("pull_request", "push", "schedule")
    assert texts(tests) == ["pip install -r requirements.txt", "pytest tests/"]
    assert [c.line for c in tests.commands] == [7, 11]
    assert tests.uses == (".python",)

    train = job(flow, "train-model")
    assert train.triggers == ("schedule",)
    assert texts(train)[1:] == ["dvc pull", "python -m src.train --config configs/train.yaml"]
    assert train.kinds == ("train",)
    assert job(flow, "nightly-lint").triggers == ("schedule",)


def test_gitlab_manual_production_deploy_from_include(tmp_path: Path) -> None:
    facts = analyze(tmp_path, {".gitlab-ci.yml": GITLAB, "ci/deploy.gitlab-ci.yml": GITLAB_DEPLOY})
    deploy = job(workflow(facts, ".gitlab-ci.yml"), "deploy-production")
    assert (deploy.path, deploy.line) == ("ci/deploy.gitlab-ci.yml", 1)
    assert deploy.environment == "production" and deploy.manual_approval
    assert deploy.needs == ("train-model",)
    assert texts(deploy) == ["kubectl apply -f k8s/"]  # default before_script not inherited
    assert deploy.kinds == ("deploy",)


def test_gitlab_never_rules_and_manual_rules(tmp_path: Path) -> None:
    text = """
    retrain:
      script: [make train]
      rules:
        - if: $CI_PIPELINE_SOURCE == "merge_request_event"
          when: never
        - if: $CI_PIPELINE_SOURCE == "schedule"
        - when: manual
    """
    flow = workflow(analyze(tmp_path, {".gitlab-ci.yml": text}), ".gitlab-ci.yml")
    retrain = job(flow, "retrain")
    assert retrain.triggers == ("push", "schedule")
    assert retrain.manual_approval and retrain.kinds == ("train",)


# --- Azure Pipelines --------------------------------------------------------------------------------------

AZURE = """
trigger:
  branches:
    include: [main]
  paths:
    include: [src/*]
pr: none
schedules:
  - cron: "0 6 * * 1-5"
    displayName: Weekday retraining
    branches:
      include: [main]
    always: true
stages:
  - stage: Build
    jobs:
      - job: Test
        pool:
          vmImage: ubuntu-latest
        steps:
          - task: UsePythonVersion@0
            inputs:
              versionSpec: "3.11"
          - script: |
              python -m pip install -r requirements.txt
              python -m pytest tests --junitxml=junit.xml
            displayName: Unit tests
          - template: templates/train-steps.yml
      - job: Image
        dependsOn: Test
        steps:
          - task: Docker@2
            inputs:
              command: buildAndPush
              repository: model
  - stage: Approve
    jobs:
      - job: WaitForReview
        pool: server
        steps:
          - task: ManualValidation@0
            inputs:
              notifyUsers: ml-leads@example.com
  - stage: Production
    jobs:
      - deployment: DeployModel
        environment: production
        strategy:
          runOnce:
            deploy:
              steps:
                - bash: az ml online-deployment create -f deployment.yml
                - task: AzureCLI@2
                  inputs:
                    scriptType: bash
                    inlineScript: az ml online-endpoint update -n model
"""
AZURE_STEPS = """
parameters:
  - name: epochs
    default: 10
steps:
  - script: python train.py --epochs ${{ parameters.epochs }}
    condition: eq(variables['Build.Reason'], 'Schedule')
"""


def test_azure_pipeline_stages_templates_and_approvals(tmp_path: Path) -> None:
    facts = analyze(tmp_path, {
        ".azure-pipelines/ci.yml": AZURE,
        ".azure-pipelines/templates/train-steps.yml": AZURE_STEPS,
    })
    flow = workflow(facts, ".azure-pipelines/ci.yml")
    assert flow.triggers == ("push", "schedule")
    assert flow.schedules == ("0 6 * * 1-5",)
    assert flow.path_filters == ("src/*",)
    assert [j.name for j in flow.jobs] == ["Test", "Image", "WaitForReview", "DeployModel"]
    test = job(flow, "Test")
    assert test.kinds == ("test", "train")
    assert test.commands[-1].path == ".azure-pipelines/templates/train-steps.yml"
    assert "templates/train-steps.yml" in test.uses and "UsePythonVersion@0" in test.uses
    assert job(flow, "Image").kinds == ("build", "publish") and job(flow, "Image").needs == ("Test",)
    assert job(flow, "WaitForReview").manual_approval
    deploy = job(flow, "DeployModel")
    assert deploy.environment == "production" and deploy.manual_approval
    assert deploy.kinds == ("deploy",) and len(deploy.commands) == 2
    template = workflow(facts, ".azure-pipelines/templates/train-steps.yml")
    assert template.triggers == ("other",)


def test_azure_trigger_none_and_default_pr(tmp_path: Path) -> None:
    text = "trigger: none\nsteps:\n  - script: flake8 src\n"
    flow = workflow(analyze(tmp_path, {"azure-pipelines.yml": text}), "azure-pipelines.yml")
    assert flow.triggers == ("pull_request",)
    assert job(flow, "Job").kinds == ("lint",)


# --- Jenkins ----------------------------------------------------------------------------------------------

JENKINSFILE = """
pipeline {
    agent { docker { image 'python:3.11' } }
    triggers {
        cron('H 2 * * 1-5')
    }
    stages {
        stage('Test') {
            steps {
                sh 'pip install -r requirements.txt'
                sh "pytest tests/ --junitxml=report.xml"
                // sh 'python deploy.py'   (commented out)
            }
        }
        stage('Train') {
            when { triggeredBy 'TimerTrigger' }
            steps {
                sh '''
                    dvc pull
                    python src/train.py \\
                        --epochs 20
                '''
            }
        }
        stage('Approve') {
            steps {
                input message: 'Deploy to production?'
            }
        }
        stage('Deploy') {
            steps {
                sh(script: "helm upgrade --install model ./chart", returnStatus: true)
                bat 'echo done'
            }
        }
    }
}
"""


def test_jenkinsfile_cron_stages_and_input(tmp_path: Path) -> None:
    flow = workflow(analyze(tmp_path, {"Jenkinsfile": JENKINSFILE}), "Jenkinsfile")
    assert flow.system == "jenkins"
    assert flow.triggers == ("push", "schedule") and flow.schedules == ("H 2 * * 1-5",)
    assert [j.name for j in flow.jobs] == ["Test", "Train", "Approve", "Deploy"]
    test = job(flow, "Test")
    assert test.line == 7 and test.kinds == ("test",)
    assert [(c.text, c.line) for c in test.commands] == [
        ("pip install -r requirements.txt", 9), ("pytest tests/ --junitxml=report.xml", 10)]
    train = job(flow, "Train")
    assert train.triggers == ("schedule",)
    assert [(c.text, c.line) for c in train.commands] == [
        ("dvc pull", 18), ("python src/train.py --epochs 20", 19)]
    assert job(flow, "Approve").manual_approval
    deploy = job(flow, "Deploy")
    assert deploy.manual_approval and deploy.needs == ("Approve",)
    assert deploy.kinds == ("deploy",)


def test_jenkinsfile_poll_scm_is_a_push_trigger(tmp_path: Path) -> None:
    text = "pipeline { triggers { pollSCM('H/5 * * * *') }\n stages { stage('t') { steps { sh 'tox' } } } }\n"
    flow = workflow(analyze(tmp_path, {"ci/build.Jenkinsfile": text}), "ci/build.Jenkinsfile")
    assert flow.triggers == ("push",) and flow.schedules == ()
    assert job(flow, "t").kinds == ("test",)


# --- CircleCI ---------------------------------------------------------------------------------------------

CIRCLECI = """
version: 2.1
orbs:
  python: circleci/python@2.1
  aws-ecr: circleci/aws-ecr@9.0
commands:
  fetch-data:
    steps:
      - run: dvc pull
jobs:
  test:
    docker:
      - image: cimg/python:3.11
    steps:
      - checkout
      - python/install-packages:
          pkg-manager: pip
      - run:
          name: Tests
          command: pytest --nbmake notebooks/
  train:
    docker:
      - image: cimg/python:3.11
    steps:
      - checkout
      - fetch-data
      - run: python -m src.train
  deploy:
    docker:
      - image: cimg/base:stable
    steps:
      - run: ./scripts/deploy.sh production
workflows:
  build-and-deploy:
    jobs:
      - test
      - aws-ecr/build_and_push_image:
          requires: [test]
      - hold:
          type: approval
          requires: [test]
      - deploy:
          requires: [hold]
  nightly:
    triggers:
      - schedule:
          cron: "0 1 * * *"
          filters:
            branches:
              only: [main]
    jobs:
      - train
"""


def test_circleci_workflows_orbs_schedules_and_approval(tmp_path: Path) -> None:
    facts = analyze(tmp_path, {".circleci/config.yml": CIRCLECI})
    main = workflow(facts, ".circleci/config.yml", "build-and-deploy")
    nightly = workflow(facts, ".circleci/config.yml", "nightly")
    assert main.uses == ("python: circleci/python@2.1", "aws-ecr: circleci/aws-ecr@9.0")
    assert main.triggers == ("push",)
    assert job(main, "test").kinds == ("notebook_test",)
    assert job(main, "test").uses == ("python/install-packages",)
    assert job(main, "aws-ecr/build_and_push_image").kinds == ("build", "publish")
    assert job(main, "hold").manual_approval
    deploy = job(main, "deploy")
    assert deploy.manual_approval and deploy.kinds == ("deploy",) and deploy.needs == ("hold",)
    assert nightly.triggers == ("schedule",) and nightly.schedules == ("0 1 * * *",)
    train = job(nightly, "train")
    assert texts(train) == ["dvc pull", "python -m src.train"] and train.kinds == ("train",)


# --- Bitbucket --------------------------------------------------------------------------------------------

BITBUCKET = """
image: python:3.11
definitions:
  steps:
    - step: &test
        name: Test
        script:
          - pip install -r requirements.txt
          - pytest
pipelines:
  default:
    - step: *test
  pull-requests:
    "**":
      - step: *test
  branches:
    main:
      - step: *test
      - step:
          name: Deploy to production
          deployment: production
          trigger: manual
          script:
            - pipe: atlassian/aws-ecs-deploy:1.12.0
              variables:
                CLUSTER_NAME: ml
  custom:
    retrain:
      - step:
          name: Retrain
          script:
            - python train.py
"""


def test_bitbucket_sections_deployments_and_pipes(tmp_path: Path) -> None:
    flow = workflow(analyze(tmp_path, {"bitbucket-pipelines.yml": BITBUCKET}), "bitbucket-pipelines.yml")
    assert flow.triggers == ("manual", "pull_request", "push")
    assert [j.name for j in flow.jobs] == [
        "default: Test", "branches/main: Test", "branches/main: Deploy to production",
        "pull-requests/**: Test", "custom/retrain: Retrain"]
    assert job(flow, "pull-requests/**: Test").triggers == ("pull_request",)
    deploy = job(flow, "branches/main: Deploy to production")
    assert deploy.environment == "production" and deploy.manual_approval
    assert deploy.needs == ("branches/main: Test",)
    assert deploy.uses == ("atlassian/aws-ecs-deploy:1.12.0",) and deploy.kinds == ("deploy",)
    retrain = job(flow, "custom/retrain: Retrain")
    assert retrain.triggers == ("manual",) and retrain.kinds == ("train",)


# --- Cloud Build and CodeBuild ----------------------------------------------------------------------------


def test_cloudbuild_builders_and_images(tmp_path: Path) -> None:
    text = """
    steps:
      - name: python:3.11
        entrypoint: bash
        args: ["-c", "pip install -r requirements.txt && python -m pytest src/tests"]
      - name: gcr.io/cloud-builders/docker
        args: ["build", "-t", "gcr.io/$PROJECT_ID/trainer:$SHORT_SHA", "."]
      - name: gcr.io/google.com/cloudsdktool/cloud-sdk
        entrypoint: gcloud
        args: ["run", "deploy", "model", "--image", "gcr.io/$PROJECT_ID/trainer:$SHORT_SHA"]
    images:
      - gcr.io/$PROJECT_ID/trainer:$SHORT_SHA
    """
    flow = workflow(analyze(tmp_path, {"cloudbuild.yaml": text}), "cloudbuild.yaml")
    assert flow.system == "cloudbuild" and flow.triggers == ("external",)
    (only,) = flow.jobs
    assert [c.kinds for c in only.commands] == [("test",), ("build",), ("deploy",), ("publish",)]
    assert only.commands[1].text == "gcr.io/cloud-builders/docker build -t gcr.io/$PROJECT_ID/trainer:$SHORT_SHA ."
    assert [c.line for c in only.commands] == [2, 5, 7, 10]
    assert "gcr.io/cloud-builders/docker" in only.uses


def test_codebuild_buildspec_phases(tmp_path: Path) -> None:
    text = """
    version: 0.2
    phases:
      install:
        commands:
          - pip install -r requirements.txt
      build:
        commands:
          - pytest tests
          - aws sagemaker start-pipeline-execution --pipeline-name training
      post_build:
        commands:
          - aws sagemaker update-endpoint --endpoint-name model --endpoint-config-name new
    """
    flow = workflow(analyze(tmp_path, {"buildspec.yml": text}), "buildspec.yml")
    assert flow.system == "codebuild" and flow.triggers == ("external",)
    assert flow.jobs[0].kinds == ("deploy", "test", "train")
    assert [c.line for c in flow.jobs[0].commands] == [5, 8, 9, 12]


# --- command classification -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "kinds"),
    [
        ("pytest tests/", ("test",)),
        ("python build/utils.py --mode deploy-model --project p", ("deploy",)),
        ("python build/utils.py --mode create-endpoint", ()),
        ("python cli.py train --epochs 3", ("train",)),
        ("python run.py data/train.csv", ()),
        ("python -m pytest tests/test_train.py", ("test",)),
        ("pytest tests/data", ("data_test", "test")),
        ("great_expectations checkpoint run orders", ("data_test", "test")),
        ("soda scan -d warehouse checks.yml", ("data_test", "test")),
        ("pytest --nbmake notebooks/", ("notebook_test",)),
        ("jupyter nbconvert --to notebook --execute eda.ipynb", ("notebook_test",)),
        ("python -m src.train", ("train",)),
        ("python src/models/train_model.py", ("train",)),
        ("uv run python pipelines/run_pipeline.py", ("train",)),
        ("dvc exp run -S train.lr=0.1", ("train",)),
        ("kedro run --env prod", ("train",)),
        ("mlflow run . -P alpha=0.5", ("train",)),
        ("make train", ("train",)),
        ("zenml pipeline run training_pipeline", ("train",)),
        ("gcloud ai custom-jobs create --region=us-central1", ("train",)),
        ("az ml job create --file pipeline.yml", ("train",)),
        ("python evaluate.py", ("evaluate",)),
        ("docker buildx build --platform linux/amd64 -t model .", ("build",)),
        ("python -m build", ("build",)),
        ("kfp dsl compile --py pipeline.py --output pipeline.yaml", ("build",)),
        ("docker push ghcr.io/acme/model", ("publish",)),
        ("twine upload dist/*", ("publish",)),
        ("kubectl apply -k overlays/prod", ("deploy",)),
        ("terraform apply -auto-approve", ("deploy", "infra")),
        ("terraform plan", ("infra",)),
        ("aws sagemaker create-endpoint --endpoint-name m", ("deploy",)),
        ("pre-commit run --all-files", ("lint",)),
        ("mlflow models serve -m models:/churn/1", ()),
        ("pip install torch scikit-learn pandera", ()),
        ("echo train the model", ()),
        ("python -c 'import train'", ()),
        ("docker run --rm trainer:latest python train.py", ("train",)),
        ("bash -c 'ruff check . && mypy src'", ("lint",)),
    ],
)
def test_classify_command(command: str, kinds: tuple[str, ...]) -> None:
    assert classify_command(command) == kinds


def test_classify_uses() -> None:
    assert classify_uses("docker/build-push-action@v6", {"push": True}) == ("build", "publish")
    assert classify_uses("docker/build-push-action@v6", {"push": False}) == ("build",)
    assert classify_uses("google-github-actions/deploy-cloudrun@v2") == ("deploy",)
    assert classify_uses("iterative/setup-cml@v2") == ()
    assert classify_uses("./.github/actions/deploy") == ()


def test_split_script_joins_continuations_and_skips_heredocs() -> None:
    script = "set -e\npython train.py \\\n  --epochs 3\ncat <<EOF > params.yaml\nlr: 0.1\nEOF\n\npytest\n"
    assert split_script(script, 10) == [
        ("set -e", 10), ("python train.py --epochs 3", 11), ("cat <<EOF > params.yaml", 13), ("pytest", 17)]
    assert split_script("echo << pipeline.parameters.tag >>\nmake test", 1) == [
        ("echo << pipeline.parameters.tag >>", 1), ("make test", 2)]


# --- properties -------------------------------------------------------------------------------------------

CI_PATHS = [".github/workflows/x.yml", ".gitlab-ci.yml", "azure-pipelines.yml", ".circleci/config.yml",
            "bitbucket-pipelines.yml", "cloudbuild.yaml", "buildspec.yml", "Jenkinsfile"]
YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from(
        ["pytest", "python train.py", "manual", "production", "schedule", "./.github/workflows/x.yml",
         "$CI_PIPELINE_SOURCE == \"schedule\"", "steps", "script", "run", ".hidden", "on", "never"]
    ) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["on", "jobs", "steps", "run", "uses", "script", "stages", "jobs", "stage", "job",
                         "deployment", "environment", "needs", "rules", "if", "when", "extends", "include",
                         "pipelines", "default", "branches", "step", "workflows", "triggers", "schedule",
                         "phases", "commands", "args", "name", "template", "strategy", "requires", "type",
                         "trigger", "pr", "schedules", "cron", "only", "except", "parallel", "x"]),
        children, max_size=5),
    max_leaves=25,
)


def check(facts: CIFacts) -> None:
    for flow in facts.workflows:
        assert not (flow.error or "").startswith("could not be analysed"), flow.error
        assert set(flow.triggers) <= TRIGGERS
        for found in flow.jobs:
            assert set(found.triggers) <= TRIGGERS and set(found.kinds) <= KINDS
            assert found.kinds == tuple(sorted(found.kinds))


GROOVYISH = st.lists(
    st.sampled_from(["stage('a') {", "steps {", "sh '", "'''", '"', "}", "input ", "cron('", "//", "/*", "\n",
                     "when { not {", "x"]),
    max_size=40,
).map("".join)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=400) | GROOVYISH, path=st.sampled_from([".github/workflows/x.yml", "Jenkinsfile"]))
def test_arbitrary_text_as_workflow_never_raises(tmp_path: Path, text: str, path: str) -> None:
    for old in tmp_path.rglob("*"):
        if old.is_file():
            old.unlink()
    target = tmp_path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8", errors="surrogatepass")
    facts = analyze_ci(build_inventory(tmp_path))
    assert [w.path for w in facts.workflows] == [path]
    check(facts)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=YAML_VALUES, path=st.sampled_from(CI_PATHS))
@example(document={"on": {"on": None, "needs": [None]}}, path=".gitlab-ci.yml")  # a `needs` item that is no job
def test_arbitrary_yaml_structures_never_raise(tmp_path: Path, document: object, path: str) -> None:
    for old in tmp_path.rglob("*"):
        if old.is_file():
            old.unlink()
    target = tmp_path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(document), encoding="utf-8")
    check(analyze_ci(build_inventory(tmp_path)))


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200))
def test_classify_command_is_total(text: str) -> None:
    kinds = classify_command(text)
    assert set(kinds) <= KINDS and kinds == tuple(sorted(set(kinds)))


def test_alias_bombs_and_self_referring_aliases_are_refused(tmp_path: Path) -> None:
    bomb = "a: &a [pytest, pytest, pytest, pytest, pytest, pytest, pytest, pytest, pytest, pytest]\n"
    for level in "bcdefgh":
        previous = chr(ord(level) - 1)
        bomb += f"{level}: &{level} [{', '.join(['*' + previous] * 10)}]\n"
    facts = analyze(tmp_path, {
        ".gitlab-ci.yml": bomb + "job:\n  script: *h\n",
        ".github/workflows/loop.yml": "on: push\njobs: &j\n  again: *j\n",
    })
    assert "too many nodes" in (workflow(facts, ".gitlab-ci.yml").error or "")
    assert "too many nodes" in (workflow(facts, ".github/workflows/loop.yml").error or "")


# --- CI found where it lives: by content outside the conventional paths --------------------------------------

VERTEX_DEPLOYMENT = """
steps:
- name: 'gcr.io/cloud-builders/git'
  args: ['clone', '--single-branch', '--branch', '$_BRANCH', '$_REPO_URL', '--depth', '1', '.']
  id: 'Clone Repository'
- name: '$_CICD_IMAGE_URI'
  entrypoint: 'pytest'
  args: ['src/tests/model_tests.py', '-s']
  dir: 'mlops-with-vertex-ai'
  id: 'Unit Test Model'
  waitFor: ['Clone Repository']
- name: 'gcr.io/cloud-builders/docker'
  args: ['build', '-t', '$_TFX_IMAGE_URI', '.']
  id: 'Build TFX Image'
- name: 'gcr.io/cloud-builders/gsutil'
  args: ['cp', '$_PIPELINE_NAME.json', '$_PIPELINES_STORE']
  id: 'Upload Pipeline to GCS'
"""


def test_cloudbuild_config_found_by_content_in_any_folder(tmp_path: Path) -> None:
    facts = analyze(tmp_path, {"deployment/pipeline-deployment.yaml": VERTEX_DEPLOYMENT})
    flow = workflow(facts, "deployment/pipeline-deployment.yaml")
    assert flow.system == "cloudbuild" and flow.triggers == ("external",)
    (only,) = flow.jobs
    assert {"test", "build"} <= set(only.kinds)
    assert "pytest src/tests/model_tests.py -s" in texts(only)


def test_cloudbuild_folder_name_does_not_make_a_codebuild_file(tmp_path: Path) -> None:
    release = """
    steps:
      - id: build-container-images
        name: gcr.io/cloud-builders/docker
        entrypoint: sh
        args: [-c, "docker build -t training:latest . && docker push $_REGISTRY/training:$TAG_NAME"]
    timeout: 1800s
    """
    flow = workflow(analyze(tmp_path, {"cloudbuild/release.yaml": release}), "cloudbuild/release.yaml")
    assert flow.system == "cloudbuild"
    assert {"build", "publish"} <= set(flow.jobs[0].kinds)


def test_yaml_with_steps_of_other_tools_is_not_cloudbuild(tmp_path: Path) -> None:
    drone = """
    kind: pipeline
    steps:
      - name: test
        image: python:3.11
        commands: [pytest]
    """
    composite = """
    steps:
      - name: Install
        run: pip install -r requirements.txt
    """
    recipe = """
    steps:
      - name: ingest
        description: read the raw table
    """
    facts = analyze(tmp_path, {"ci/drone.yaml": drone, "snippets/steps.yaml": composite, "conf/recipe.yaml": recipe})
    assert facts.workflows == ()


MLOPSPYTHON_PR = """
resources:
  containers:
  - container: mlops
    image: mcr.microsoft.com/mlops/python:latest
trigger: none
pr:
  branches:
    include:
    - master
pool:
  vmImage: 'ubuntu-latest'
container: mlops
steps:
- template: code-quality-template.yml
"""

MLOPSPYTHON_QUALITY = """
steps:
- script: flake8 --output-file=$(Build.BinariesDirectory)/lint-testresults.xml --format junit-xml
  displayName: 'Run lint tests'
- script: python -m pytest . --cov=diabetes_regression --cov-report=html
  displayName: 'Unit test run'
"""


def test_azure_pipelines_found_in_a_pipelines_folder_with_their_templates(tmp_path: Path) -> None:
    facts = analyze(
        tmp_path, {".pipelines/pr.yml": MLOPSPYTHON_PR, ".pipelines/code-quality-template.yml": MLOPSPYTHON_QUALITY}
    )
    pr = workflow(facts, ".pipelines/pr.yml")
    assert pr.system == "azure" and pr.triggers == ("pull_request",)
    assert any("test" in j.kinds and "pull_request" in j.triggers for j in pr.jobs)
    template = workflow(facts, ".pipelines/code-quality-template.yml")
    assert template.system == "azure" and template.triggers == ("other",)


def test_azure_ml_pipeline_job_in_a_pipelines_folder_is_not_ci(tmp_path: Path) -> None:
    aml_job = """
    $schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
    type: pipeline
    jobs:
      train_model:
        type: command
        command: python train.py --training_data ${{inputs.training_data}}
    """
    kfp_spec = """
    pipelineInfo:
      name: training
    deploymentSpec:
      executors: {}
    """
    facts = analyze(tmp_path, {"mlops/pipelines/pipeline.yml": aml_job, "pipelines/training.yaml": kfp_spec})
    assert facts.workflows == ()


def test_github_workflows_of_a_sub_project(tmp_path: Path) -> None:
    build = """
    name: Build
    on:
      push:
        branches: [main]
    jobs:
      build:
        runs-on: ubuntu-latest
        steps:
          - uses: actions/checkout@v4
          - run: pytest tests
    """
    flow = workflow(analyze(tmp_path, {"seedcode/.github/workflows/build.yml": build}), "seedcode/.github/workflows/build.yml")
    assert flow.system == "github" and flow.triggers == ("push",)
    assert "test" in flow.jobs[0].kinds


MARVEL_CD = """
name: CD
on:
  workflow_dispatch:
  push:
    branches:
      - 'main'
jobs:
  deploy:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        environment: [acc, prd]
    environment: ${{ matrix.environment }}
    steps:
      - uses: actions/checkout@v4
      - name: Deploy to Databricks
        env:
          DATABRICKS_BUNDLE_ENV: ${{ matrix.environment }}
        run: databricks bundle deploy --var="git_sha=${{ github.sha }}"
"""


def test_github_matrix_environments_become_one_job_each(tmp_path: Path) -> None:
    flow = workflow(analyze(tmp_path, {".github/workflows/cd.yml": MARVEL_CD}), ".github/workflows/cd.yml")
    assert [(j.name, j.environment, j.manual_approval) for j in flow.jobs] == [
        ("deploy (acc)", "acc", False),
        ("deploy (prd)", "prd", True),
    ]
    assert all(j.triggers == ("manual", "push") for j in flow.jobs)


def test_sequential_matrix_environments_need_the_previous_one(tmp_path: Path) -> None:
    text = MARVEL_CD.replace("      matrix:\n", "      max-parallel: 1\n      matrix:\n").replace(
        "[acc, prd]", "[staging]\n        include:\n          - environment: production"
    )
    flow = workflow(analyze(tmp_path, {".github/workflows/cd.yml": text}), ".github/workflows/cd.yml")
    assert [(j.name, j.needs) for j in flow.jobs] == [
        ("deploy (staging)", ()),
        ("deploy (production)", ("deploy (staging)",)),
    ]


# --- commands of cluster runners and the CDK ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "kinds"),
    [
        ("npx cdk synth -o dist --path-metadata false", ("build", "infra")),
        ("npx cdk deploy --all", ("deploy", "infra")),
        ("anyscale jobs submit deploy/jobs/workloads.yaml --wait", ("train",)),
        ("anyscale service rollout --service-config-file deploy/services/serve_model.yaml", ("deploy",)),
        ("ray job submit --address http://head:8265 -- python train.py", ("train",)),
        ("npx prettier --check .", ()),
    ],
)
def test_cdk_and_cluster_runner_commands(command: str, kinds: tuple[str, ...]) -> None:
    assert classify_command(command) == kinds


# --- schedules kept outside CI ----------------------------------------------------------------------------------


def test_orchestrator_and_infrastructure_schedules(tmp_path: Path) -> None:
    facts = analyze(
        tmp_path,
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
                    monitoring_job:
                      name: monitoring
                      trigger:
                        periodic:
                          interval: 1
                          unit: DAYS
                      tasks:
                        - task_key: refresh
                          notebook_task:
                            notebook_path: ../monitoring/refresh.py
            """,
            "prefect.yaml": """
                deployments:
                  - name: weekly-retrain
                    entrypoint: flows/training.py:training
                    schedules:
                      - cron: "0 3 * * 1"
                  - name: adhoc
                    entrypoint: flows/report.py:report
            """,
            "argo/retrain.yaml": """
                apiVersion: argoproj.io/v1alpha1
                kind: CronWorkflow
                metadata:
                  name: nightly-retrain
                spec:
                  schedule: "0 2 * * *"
                  workflowSpec:
                    entrypoint: train
            """,
            "template.yml": """
                Resources:
                  RetrainRule:
                    Type: AWS::Events::Rule
                    Properties:
                      ScheduleExpression: rate(7 days)
                      Targets:
                        - Id: pipeline
                          Arn: !Sub "arn:aws:sagemaker:${AWS::Region}:${AWS::AccountId}:pipeline/churn"
                  Bucket:
                    Type: AWS::S3::Bucket
            """,
            "broken/schedule.yml": "schedules: [unclosed\n",
        },
    )
    found = {(s.system, s.name): s for s in facts.schedules}
    assert sorted(found) == [
        ("argo", "nightly-retrain"),
        ("cloudformation", "RetrainRule"),
        ("databricks", "${bundle.target}-model-training-job"),
        ("databricks", "monitoring"),
        ("prefect", "weekly-retrain"),
    ]
    training = found[("databricks", "${bundle.target}-model-training-job")]
    assert (training.path, training.line, training.schedule, training.trains) == (
        "resources/model-workflow-resource.yml", 5, "0 0 9 * * ?", True
    )
    assert not found[("databricks", "monitoring")].trains
    assert found[("prefect", "weekly-retrain")].schedule == "0 3 * * 1"
    assert found[("cloudformation", "RetrainRule")].trains  # a SageMaker pipeline is the target
    assert found[("argo", "nightly-retrain")].trains


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_schedules_never_raise_on_arbitrary_yaml(tmp_path: Path, text: str) -> None:
    (tmp_path / "prefect.yaml").write_text("schedules:\n" + text, encoding="utf-8")
    (tmp_path / "resources").mkdir(exist_ok=True)
    (tmp_path / "resources" / "job.yml").write_text("resources:\n  jobs:\n" + text, encoding="utf-8")
    assert isinstance(analyze_ci(build_inventory(tmp_path)).schedules, tuple)
