"""CircleCI (`.circleci/config.yml`): workflows of jobs, reusable commands and orbs."""

from __future__ import annotations

import re

from mlops_audit.analyzers.ci.files import Files
from mlops_audit.analyzers.ci.records import CICommand, CIJob, CIWorkflow
from mlops_audit.analyzers.ci.shared import (
    MAX_NESTING,
    bounded_list,
    dicts,
    make_job,
    make_workflow,
    script_commands,
    strings,
    uses_command,
)
from mlops_audit.analyzers.ci.yaml_lines import Map, key_line, value_loc


def parse_circleci(path: str, doc: Map, files: Files) -> list[CIWorkflow]:
    orbs = doc.get("orbs")
    uses = [f"{k}: {v}" if isinstance(v, str) else str(k) for k, v in orbs.items()] if isinstance(orbs, dict) else []
    definitions = doc.get("jobs") if isinstance(doc.get("jobs"), dict) else {}
    workflows = doc.get("workflows")
    if not isinstance(workflows, dict) or not any(isinstance(w, dict) for w in workflows.values()):
        names = ["build"] if "build" in definitions else list(definitions)
        jobs = [_circleci_job(n, definitions, doc, path, {"push"}, [], None) for n in names]
        return [make_workflow("circleci", path, "default", {"push"}, jobs, uses=uses)]
    result = []
    for name, workflow in workflows.items():
        if not isinstance(workflow, dict):
            continue
        triggers, schedules = _circleci_triggers(workflow)
        jobs = []
        for index, entry in enumerate(bounded_list(workflow.get("jobs"))):
            ref, config = _single_entry(entry)
            if ref is None:
                continue
            config = config if isinstance(config, dict) else {}
            job_triggers = _circleci_filters(config.get("filters"), triggers)
            jobs.append(_circleci_job(ref, definitions, doc, path, job_triggers, strings(config.get("requires")),
                                      config, value_loc(workflow["jobs"], index)[0]))
        result.append(make_workflow("circleci", path, str(name), triggers, jobs, schedules=schedules, uses=uses))
    return result


def _single_entry(entry: object) -> tuple[str | None, object]:
    """`- name` or `- name: {config}` list entries (CircleCI jobs and steps) as (name, config)."""
    if isinstance(entry, str):
        return entry, None
    if isinstance(entry, dict) and len(entry) == 1:
        key, value = next(iter(entry.items()))
        return (key, value) if isinstance(key, str) else (None, None)
    return None, None


def _circleci_triggers(workflow: dict[object, object]) -> tuple[set[str], list[str]]:
    schedules = [
        item["schedule"]["cron"] for item in dicts(workflow.get("triggers"))
        if isinstance(item.get("schedule"), dict) and isinstance(item["schedule"].get("cron"), str)
    ]
    if schedules:
        return {"schedule"}, schedules
    when, unless = str(workflow.get("when", "")), str(workflow.get("unless", ""))
    if "scheduled_pipeline" in when and not re.search(r"\bnot\b", when):
        return {"schedule"}, []
    if "scheduled_pipeline" in unless:
        return {"push"}, []
    return {"push"} | ({"schedule"} if "scheduled_pipeline" in when else set()), []


def _circleci_filters(filters: object, triggers: set[str]) -> set[str]:
    if not isinstance(filters, dict) or "schedule" in triggers:
        return triggers
    result = set(triggers)
    if isinstance(filters.get("tags"), dict):
        result.add("tag")
    branches = filters.get("branches")
    if isinstance(branches, dict) and str(branches.get("ignore", "")).strip() in ("/.*/", "/.+/"):
        result.discard("push")
    return result


def _circleci_job(
    ref: str, definitions: dict[object, object], doc: Map, path: str, triggers: set[str], needs: list[str],
    config: dict[object, object] | None, entry_line: int | None = None,
) -> CIJob:
    config = config or {}
    name = config.get("name") if isinstance(config.get("name"), str) else ref
    if config.get("type") == "approval":
        return make_job(name, path, entry_line, triggers, [], needs=needs, manual=True)
    definition = definitions.get(ref)
    if not isinstance(definition, dict):
        commands = uses_command(ref, config, entry_line) if "/" in ref else []
        return make_job(name, path, entry_line, triggers, commands, uses=[ref] if "/" in ref else [], needs=needs)
    commands, uses = _circleci_steps(definition.get("steps"), doc, 0)
    return make_job(name, path, key_line(definitions, ref), triggers, commands, uses=uses, needs=needs)


def _circleci_steps(steps: object, doc: Map, depth: int) -> tuple[list[CICommand], list[str]]:
    commands: list[CICommand] = []
    uses: list[str] = []
    reusable = doc.get("commands") if isinstance(doc.get("commands"), dict) else {}
    for index, step in enumerate(bounded_list(steps)):
        key, value = _single_entry(step)
        if key == "run":
            if isinstance(value, dict):
                commands += script_commands(value.get("command"), value_loc(value, "command"))
            else:
                commands += script_commands(value, value_loc(step, "run"))
        elif key in ("when", "unless") and isinstance(value, dict) and depth < MAX_NESTING:
            inner = _circleci_steps(value.get("steps"), doc, depth + 1)
            commands, uses = commands + inner[0], uses + inner[1]
        elif isinstance(key, str) and key in reusable and isinstance(reusable[key], dict) and depth < MAX_NESTING:
            inner = _circleci_steps(reusable[key].get("steps"), doc, depth + 1)
            commands, uses = commands + inner[0], uses + inner[1]
        elif isinstance(key, str) and "/" in key:
            uses.append(key)
            commands += uses_command(key, value, value_loc(steps, index)[0])
    return commands, uses
