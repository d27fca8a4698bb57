"""What the CI analyzer reports: workflows, their jobs and the classified commands the jobs run."""

from __future__ import annotations

from dataclasses import dataclass

from mlops_audit.analyzers.ci.schedules import ScheduledRun


@dataclass(frozen=True, slots=True)
class CICommand:
    text: str  # the command, clipped to 200 characters
    line: int | None
    kinds: tuple[str, ...]
    path: str | None = None  # the file holding the command when it is not the job's own (templates, includes)


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
    path_filters: tuple[str, ...]  # `paths:` filters on push / pull request triggers ("!x" for ignored paths)
    jobs: tuple[CIJob, ...]
    error: str | None = None  # "YAML does not parse: ..." when unreadable
    uses: tuple[str, ...] = ()  # workflow-level references: GitLab `include:`, CircleCI orbs, Azure `extends:`


@dataclass(frozen=True, slots=True)
class CIFacts:
    workflows: tuple[CIWorkflow, ...] = ()
    schedules: tuple[ScheduledRun, ...] = ()  # schedules in orchestrator and infrastructure configuration
