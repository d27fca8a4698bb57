"""Azure Pipelines, with local templates and `extends:` followed."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Iterator

from mlops_audit.analyzers.ci.commands import classify_task
from mlops_audit.analyzers.ci.records import CICommand, CIJob, CIWorkflow
from mlops_audit.analyzers.ci.shared import (
    MAX_ITEMS,
    MAX_NESTING,
    bounded_list,
    dicts,
    gate,
    is_production,
    make_job,
    make_workflow,
    name_of,
    script_commands,
    strings,
)
from mlops_audit.analyzers.ci.yaml_lines import Map, key_line, value_loc
from mlops_audit.model import clip

if TYPE_CHECKING:  # `Files` imports this module's template helpers
    from mlops_audit.analyzers.ci.files import Files

AZURE_REASONS = {
    "schedule": {"schedule"}, "pullrequest": {"pull_request"}, "individualci": {"push", "tag"},
    "batchedci": {"push", "tag"}, "manual": {"manual"}, "resourcetrigger": {"workflow_run", "other"},
}
AZURE_REASON_RE = re.compile(
    r"\b(eq|ne|in|notin)\(\s*(?:variables\[['\"]Build\.Reason['\"]\]|variables\.Build\.Reason|"
    r"['\"]\$\(Build\.Reason\)['\"])\s*,([^)]*)\)",
    re.IGNORECASE,
)
AZURE_SCRIPT_KEYS = ("script", "bash", "pwsh", "powershell")
AZURE_TASK_SCRIPTS = ("script", "inlineScript", "arguments")


def parse_azure(path: str, doc: Map, files: Files) -> list[CIWorkflow]:
    triggers, schedules, filters = _azure_triggers(doc)
    if path in files.azure_templates():
        triggers = {"other"}
    context = _AzureContext(path, frozenset(triggers), files)
    uses: list[str] = []
    extends = doc.get("extends")
    body: dict[object, object] = doc
    body_path = path
    if isinstance(extends, dict) and isinstance(extends.get("template"), str):
        uses.append(extends["template"])
        target = azure_template_path(path, extends["template"])
        if target and files.mapping(target) is not None:
            body, body_path = files.mapping(target), target  # type: ignore[assignment]
    jobs = context.stages(body, body_path, 0)
    name = doc.get("name") if isinstance(doc.get("name"), str) else PurePosixPath(path).name
    return [make_workflow("azure", path, name, triggers, jobs, schedules=schedules, path_filters=filters, uses=uses)]


def _azure_triggers(doc: Map) -> tuple[set[str], list[str], list[str]]:
    triggers: set[str] = set()
    filters: list[str] = []
    for key, default in (("trigger", "push"), ("pr", "pull_request")):
        value = doc.get(key)
        if value == "none" or value is False:
            continue
        if isinstance(value, dict):
            tags = "tags" in value
            triggers |= {"tag"} if tags and "branches" not in value else {default} | ({"tag"} if tags else set())
            paths = value.get("paths")
            if isinstance(paths, dict):
                filters += strings(paths.get("include")) + ["!" + p for p in strings(paths.get("exclude"))]
        else:
            triggers.add(default)
    schedules = [item["cron"] for item in dicts(doc.get("schedules")) if isinstance(item.get("cron"), str)]
    if schedules:
        triggers.add("schedule")
    resources = doc.get("resources")
    if isinstance(resources, dict):
        if any(item.get("trigger") not in (None, False, "none") for item in dicts(resources.get("pipelines"))):
            triggers.add("workflow_run")
        if resources.get("webhooks") or any(item.get("trigger") for item in dicts(resources.get("repositories"))):
            triggers.add("other")
    return triggers, schedules, filters


def azure_template_path(including: str, ref: str) -> str | None:
    """A template reference resolved in the repository; None for `x.yml@other-repo` or expressions."""
    if "@" in ref or "$" in ref:
        return None
    if ref.startswith("/"):
        return ref.lstrip("/")
    parts: list[str] = []
    for part in (PurePosixPath(including).parent / ref).parts:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def template_refs(value: object, depth: int) -> Iterator[str]:
    if depth > 8:
        return
    if isinstance(value, dict):
        for key, item in list(value.items())[:MAX_ITEMS]:
            if key == "template" and isinstance(item, str):
                yield item
            else:
                yield from template_refs(item, depth + 1)
    elif isinstance(value, list):
        for item in value[:MAX_ITEMS]:
            yield from template_refs(item, depth + 1)


def _azure_condition(condition: object, triggers: frozenset[str]) -> frozenset[str]:
    if not isinstance(condition, str):
        return triggers
    allowed: set[str] | None = None
    excluded: set[str] = set()
    for operator, values in AZURE_REASON_RE.findall(condition):
        named = re.findall(r"['\"](\w+)['\"]", values)
        reasons = set().union(*(AZURE_REASONS.get(v.lower(), {"other"}) for v in named))
        if operator.lower() in ("eq", "in"):
            allowed = reasons if allowed is None else allowed | reasons
        else:
            excluded |= reasons
    result = set(triggers) if allowed is None else triggers & allowed
    return frozenset(result - excluded)


@dataclass(frozen=True, slots=True)
class _AzureContext:
    path: str
    triggers: frozenset[str]
    files: Files

    def stages(self, body: dict[object, object], path: str, depth: int) -> list[CIJob]:
        """Jobs of a pipeline body: `stages:`, or `jobs:`, or bare `steps:` (one implicit job)."""
        if isinstance(body.get("stages"), list):
            return self._stage_list(body["stages"], path, depth)
        if isinstance(body.get("jobs"), list):
            return self._job_list(body["jobs"], path, self.triggers, depth)
        if isinstance(body.get("steps"), list):
            commands, uses, manual = self._steps(body["steps"], path, path, depth)
            line = key_line(body, "steps")
            return [make_job("Job", path, line, self.triggers, commands, uses=uses, manual=manual)]
        return []

    def _stage_list(self, stages: list[object], path: str, depth: int) -> list[CIJob]:
        jobs: list[CIJob] = []
        gated_stages: set[str] = set()
        previous: str | None = None
        for stage in dicts(stages):
            nested = self._template(stage, path, "stages", depth)
            if nested is not None:
                jobs += nested
                continue
            name = str(stage.get("stage", ""))
            depends = strings(stage.get("dependsOn")) if "dependsOn" in stage else [previous] if previous else []
            triggers = _azure_condition(stage.get("condition"), self.triggers)
            stage_jobs = self._job_list(stage.get("jobs"), path, triggers, depth)
            if gated_stages.intersection(depends):
                stage_jobs = [replace(job, manual_approval=True) for job in stage_jobs]
            if any(job.manual_approval for job in stage_jobs):
                gated_stages.add(name)
            jobs += stage_jobs
            previous = name
        return jobs

    def _job_list(self, items: object, path: str, triggers: frozenset[str], depth: int) -> list[CIJob]:
        jobs: list[CIJob] = []
        for index, item in enumerate(bounded_list(items)):
            if not isinstance(item, dict):
                continue
            nested = self._template(item, path, "jobs", depth)
            if nested is not None:
                jobs += nested
                continue
            jobs.append(self._job(item, path, value_loc(items, index)[0], triggers, depth))
        return gate(jobs)

    def _job(self, item: dict[object, object], path: str, line: int | None, triggers: frozenset[str],
             depth: int) -> CIJob:
        name = str(item.get("deployment", item.get("job", "Job")))
        steps = item.get("steps") if "steps" in item else _strategy_steps(item.get("strategy"), 0)
        commands, uses, manual = self._steps(steps, path, path, depth)
        environment = name_of(item.get("environment"))
        manual |= is_production(environment)
        return make_job(name, path, line, _azure_condition(item.get("condition"), triggers), commands,
                        environment=environment, uses=uses, needs=strings(item.get("dependsOn")), manual=manual)

    def _steps(
        self, steps: object, path: str, job_path: str, depth: int
    ) -> tuple[list[CICommand], list[str], bool]:
        """(commands, uses, waits for approval) of a step list written in `path` for a job of `job_path`."""
        commands: list[CICommand] = []
        uses: list[str] = []
        manual = False
        own = None if path == job_path else path
        for step in dicts(steps):
            ref = step.get("template")
            if isinstance(ref, str):
                uses.append(ref)
                target = azure_template_path(path, ref)
                doc = self.files.mapping(target) if target and depth < MAX_NESTING else None
                if doc is not None:
                    inner = self._steps(doc.get("steps"), target, job_path, depth + 1)  # type: ignore[arg-type]
                    commands += inner[0]
                    uses += inner[1]
                    manual |= inner[2]
                continue
            for key in AZURE_SCRIPT_KEYS:
                if key in step:
                    commands += script_commands(step[key], value_loc(step, key), own)
            task = step.get("task")
            if isinstance(task, str):
                uses.append(task)
                manual |= task.lower().startswith("manualvalidation")
                commands += self._task(task, step, own)
        return commands, uses, manual

    def _task(self, task: str, step: dict[object, object], own: str | None) -> list[CICommand]:
        inputs = step.get("inputs") if isinstance(step.get("inputs"), dict) else {}
        commands: list[CICommand] = []
        for key in AZURE_TASK_SCRIPTS:
            if isinstance(inputs.get(key), str) and (key != "arguments" or task.lower().startswith("python")):
                commands += script_commands(inputs[key], value_loc(inputs, key), own)
        for key in ("scriptPath", "scriptLocation"):
            script = inputs.get(key)
            if isinstance(script, str) and script.endswith((".py", ".sh", ".ps1")):
                prefix = "python " if script.endswith(".py") else ""
                commands += script_commands(prefix + script, value_loc(inputs, key), own)
        kinds = classify_task(task, inputs)
        if kinds:
            commands.append(CICommand(clip(f"task: {task}"), value_loc(step, "task")[0], kinds, own))
        return commands

    def _template(self, item: dict[object, object], path: str, key: str, depth: int) -> list[CIJob] | None:
        """The jobs of a `- template:` entry (resolved when local), or None when the item is no template."""
        ref = item.get("template")
        if not isinstance(ref, str):
            return None
        target = azure_template_path(path, ref)
        doc = self.files.mapping(target) if target and depth < MAX_NESTING else None
        if doc is None or not isinstance(doc.get(key), list):
            return []
        if key == "stages":
            return self._stage_list(doc[key], target, depth + 1)  # type: ignore[arg-type]
        return self._job_list(doc[key], target, self.triggers, depth + 1)  # type: ignore[arg-type]


def _strategy_steps(strategy: object, depth: int) -> list[object]:
    """Steps of a deployment job's `strategy:` (runOnce / rolling / canary hooks), in order."""
    if depth > 4:
        return []
    if isinstance(strategy, list):
        return [s for item in strategy[:MAX_ITEMS] for s in _strategy_steps(item, depth + 1)]
    if not isinstance(strategy, dict):
        return []
    steps: list[object] = []
    for key, value in strategy.items():
        steps += value[:MAX_ITEMS] if key == "steps" and isinstance(value, list) else _strategy_steps(value, depth + 1)
    return steps
