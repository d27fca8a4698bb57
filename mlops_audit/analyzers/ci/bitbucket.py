"""Bitbucket Pipelines (`bitbucket-pipelines.yml`): one job per step."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Iterator

from mlops_audit.analyzers.ci.files import Files
from mlops_audit.analyzers.ci.records import CICommand, CIJob, CIWorkflow
from mlops_audit.analyzers.ci.shared import (
    bounded_list,
    dicts,
    make_job,
    make_workflow,
    name_of,
    script_commands,
    uses_command,
)
from mlops_audit.analyzers.ci.yaml_lines import Map, start_line, value_loc

BITBUCKET_SECTIONS = {"default": "push", "branches": "push", "pull-requests": "pull_request", "tags": "tag",
                      "custom": "manual"}


def parse_bitbucket(path: str, doc: Map, files: Files) -> list[CIWorkflow]:
    pipelines = doc.get("pipelines")
    jobs: list[CIJob] = []
    triggers: set[str] = set()
    for section, trigger in BITBUCKET_SECTIONS.items():
        value = pipelines.get(section) if isinstance(pipelines, dict) else None
        groups = {"": value} if section == "default" else value if isinstance(value, dict) else {}
        for pattern, items in groups.items():
            if not isinstance(items, list):
                continue
            triggers.add(trigger)
            label = section if section == "default" else f"{section}/{pattern}"
            jobs += _bitbucket_steps(items, label, path, trigger)
    return [make_workflow("bitbucket", path, PurePosixPath(path).name, triggers, jobs)]


def _bitbucket_steps(items: list[object], label: str, path: str, trigger: str) -> list[CIJob]:
    """One job per step; each step (or parallel group) waits for the one before it."""
    jobs: list[CIJob] = []
    previous: list[str] = []
    for group, stage in _bitbucket_groups(items, None):
        names = []
        for step, line in group:
            step_name = step.get("name") if isinstance(step.get("name"), str) else f"step {len(jobs) + 1}"
            name = f"{label}: {step_name}"
            commands, uses = _bitbucket_script(step)
            manual = "manual" in (step.get("trigger"), stage.get("trigger"))
            environment = name_of(step.get("deployment")) or name_of(stage.get("deployment"))
            jobs.append(make_job(name, path, line, {trigger}, commands, environment=environment, uses=uses,
                                 needs=previous, manual=manual))
            names.append(name)
        previous = names
    return jobs


def _bitbucket_script(step: dict[object, object]) -> tuple[list[CICommand], list[str]]:
    commands: list[CICommand] = []
    uses: list[str] = []
    for key in ("script", "after-script"):
        script = step.get(key)
        for index, entry in enumerate(bounded_list(script)):
            if isinstance(entry, dict) and isinstance(entry.get("pipe"), str):
                uses.append(entry["pipe"])
                commands += uses_command(entry["pipe"], entry.get("variables"), value_loc(script, index)[0])
            else:
                commands += script_commands(entry, value_loc(script, index))
    return commands, uses


StepGroup = list[tuple[dict[object, object], "int | None"]]


def _bitbucket_groups(
    items: object, stage: dict[object, object] | None
) -> Iterator[tuple[StepGroup, dict[object, object]]]:
    """Steps in order as groups (one step, or a parallel group), each with its enclosing stage (or {})."""
    for index, item in enumerate(bounded_list(items)):
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("step"), dict):
            yield [(item["step"], value_loc(items, index)[0])], stage or {}
        elif "parallel" in item:
            parallel = item["parallel"]
            steps = parallel.get("steps") if isinstance(parallel, dict) else parallel
            group = [(s["step"], start_line(s)) for s in dicts(steps) if isinstance(s.get("step"), dict)]
            if group:
                yield group, stage or {}
        elif isinstance(item.get("stage"), dict) and stage is None:
            yield from _bitbucket_groups(item["stage"].get("steps"), item["stage"])
