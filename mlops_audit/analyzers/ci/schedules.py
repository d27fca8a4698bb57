"""Schedules kept in orchestrator and infrastructure configuration rather than in CI: Prefect deployments
(`prefect.yaml`), Databricks bundle jobs (`quartz_cron_expression`, periodic triggers), Argo `CronWorkflow`s,
Kubernetes `CronJob`s, Azure ML schedules, and CloudFormation EventBridge rules or EventBridge Scheduler schedules.

Each becomes a `ScheduledRun`; `trains` says whether what it starts trains a model, as far as names tell: the
deployment, job, task, entrypoint or command names mention training, or the target is a SageMaker pipeline.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from mlops_audit.analyzers.ci.documents import load_document
from mlops_audit.analyzers.ci.yaml_lines import Map, key_line
from mlops_audit.inventory import Inventory
from mlops_audit.model import clip

HINT = re.compile(
    r"quartz_cron_expression|^\s*schedules?\s*:|\bcron\s*:|CronWorkflow|CronJob|ScheduleExpression|periodic\s*:",
    re.MULTILINE,
)
TRAINS = re.compile(r"(?:^|[^a-z])(train|retrain|fit(?:[^a-z]|$)|tun(?:e|ing))|sagemaker.*pipeline|pipeline/")
MAX_TEXT = 4000  # characters of a scheduled entry's names kept to judge it


@dataclass(frozen=True, slots=True)
class ScheduledRun:
    system: str  # "prefect", "databricks", "argo", "kubernetes", "azureml", "cloudformation"
    path: str
    line: int | None
    name: str  # the deployment, job, workflow or resource scheduled
    schedule: str  # the cron or rate expression as written ("" when the schedule is given otherwise)
    trains: bool


def find_schedules(inventory: Inventory) -> tuple[ScheduledRun, ...]:
    """Every schedule of the YAML files; files that do not parse are skipped (the CI reader reports CI files)."""
    found: list[ScheduledRun] = []
    for file in inventory.of_kind("yaml"):
        text = inventory.read_text(file.path)
        if text is None or not HINT.search(text):
            continue
        doc, _ = load_document(inventory, file.path)
        if doc is not None:
            found.extend(_schedules(file.path, doc))
    return tuple(sorted(found, key=lambda s: (s.path, s.line or 0, s.name)))


def _schedules(path: str, doc: Map) -> Iterator[ScheduledRun]:
    if PurePosixPath(path).name in ("prefect.yaml", "prefect.yml"):
        yield from _prefect(path, doc)
    resources = doc.get("resources")
    if isinstance(resources, dict):
        yield from _databricks(path, resources)
    kind = doc.get("kind")
    if kind in ("CronWorkflow", "CronJob"):
        yield from _kubernetes(path, doc, "argo" if kind == "CronWorkflow" else "kubernetes")
    if isinstance(doc.get("Resources"), dict):
        yield from _cloudformation(path, doc["Resources"])
    if doc.get("type") == "schedule" or "schedule" in str(doc.get("$schema", "")).lower():
        yield from _azureml(path, doc)


def _run(system: str, path: str, line: int | None, name: str, schedule: object, target: object) -> ScheduledRun:
    names = f"{name} {_words(target)}"[:MAX_TEXT].lower()
    return ScheduledRun(system, path, line, clip(name), clip(_text(schedule)), bool(TRAINS.search(names)))


def _prefect(path: str, doc: Map) -> Iterator[ScheduledRun]:
    deployments = doc.get("deployments")
    for item in deployments if isinstance(deployments, list) else ():
        if not isinstance(item, dict):
            continue
        schedules = item.get("schedules") or item.get("schedule")
        if schedules:
            name = str(item.get("name", ""))
            target = [item.get("entrypoint"), item.get("flow_name")]
            yield _run("prefect", path, key_line(item, "schedules") or key_line(item, "schedule"), name,
                       _cron(schedules), target)


def _databricks(path: str, resources: Map) -> Iterator[ScheduledRun]:
    jobs = resources.get("jobs")
    for key, job in jobs.items() if isinstance(jobs, dict) else ():
        if not isinstance(job, dict):
            continue
        schedule = job.get("schedule")
        trigger = job.get("trigger")
        if isinstance(schedule, dict) or (isinstance(trigger, dict) and "periodic" in trigger):
            line = key_line(job, "schedule") or key_line(job, "trigger")
            expression = schedule.get("quartz_cron_expression", "") if isinstance(schedule, dict) else trigger
            yield _run("databricks", path, line, str(job.get("name", key)), expression, [key, job.get("tasks")])


def _kubernetes(path: str, doc: Map, system: str) -> Iterator[ScheduledRun]:
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        return
    metadata = doc.get("metadata")
    name = str(metadata.get("name", "")) if isinstance(metadata, dict) else ""
    target = spec.get("workflowSpec") or spec.get("jobTemplate")
    yield _run(system, path, key_line(spec, "schedule"), name, spec.get("schedule") or spec.get("schedules"), target)


def _cloudformation(path: str, resources: Map) -> Iterator[ScheduledRun]:
    for key, resource in resources.items():
        if not isinstance(resource, dict) or resource.get("Type") not in ("AWS::Events::Rule", "AWS::Scheduler::Schedule"):
            continue
        properties = resource.get("Properties")
        if isinstance(properties, dict) and properties.get("ScheduleExpression"):
            target = [properties.get("Targets"), properties.get("Target")]
            yield _run("cloudformation", path, key_line(properties, "ScheduleExpression"), str(key),
                       properties["ScheduleExpression"], target)


def _azureml(path: str, doc: Map) -> Iterator[ScheduledRun]:
    trigger = doc.get("trigger")
    if isinstance(trigger, dict):
        target = doc.get("create_job")
        yield _run("azureml", path, key_line(doc, "trigger"), str(doc.get("name", "")),
                   trigger.get("expression") or trigger.get("frequency", ""), target)


def _cron(schedules: object) -> str:
    """The first cron, interval or rrule of Prefect's `schedules` list (or its older `schedule` mapping)."""
    items = schedules if isinstance(schedules, list) else [schedules]
    for item in items:
        if isinstance(item, dict):
            for key in ("cron", "interval", "rrule"):
                if item.get(key) is not None:
                    return _text(item[key])
    return ""


def _text(value: object) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _words(value: object) -> str:
    """The strings and keys a configuration value holds, joined (bounded)."""
    parts: list[str] = []
    pending = [value]
    while pending and len(parts) < 400:
        item = pending.pop()
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, dict):
            parts.extend(str(k) for k in item)
            pending.extend(item.values())
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
    return " ".join(parts)
