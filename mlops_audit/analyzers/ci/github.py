"""GitHub Actions (`.github/workflows/*.yml`), with local reusable workflows followed."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import PurePosixPath

from mlops_audit.analyzers.ci.expressions import narrow
from mlops_audit.analyzers.ci.files import Files
from mlops_audit.analyzers.ci.records import CICommand, CIJob, CIWorkflow
from mlops_audit.analyzers.ci.shared import (
    MAX_ITEMS,
    MAX_NESTING,
    dicts,
    is_production,
    make_job,
    make_workflow,
    name_of,
    script_commands,
    strings,
    uses_command,
)
from mlops_audit.analyzers.ci.yaml_lines import Map, key_line, value_loc

MATRIX_REF = re.compile(r"^\$\{\{\s*matrix\.([A-Za-z_][\w-]*)\s*\}\}$")
APPROVAL_ACTIONS = re.compile(r"manual-approval|approval-action|wait-for-approval", re.IGNORECASE)
GITHUB_EVENTS: dict[str, frozenset[str]] = {
    "push": frozenset({"push"}),
    "pull_request": frozenset({"pull_request"}),
    "pull_request_target": frozenset({"pull_request"}),
    "merge_group": frozenset({"pull_request"}),
    "schedule": frozenset({"schedule"}),
    "workflow_dispatch": frozenset({"manual"}),
    "repository_dispatch": frozenset({"manual", "other"}),
    "release": frozenset({"release"}),
    "workflow_run": frozenset({"workflow_run"}),
}
GITHUB_EVENT_RE = re.compile(
    r"github\.event_name\s*(==|!=)\s*['\"]([\w-]+)['\"]|['\"]([\w-]+)['\"]\s*(==|!=)\s*github\.event_name"
)
GITHUB_BRANCH_RE = re.compile(
    r"github\.ref\s*==\s*['\"]refs/heads/|github\.ref_name\s*==|github\.head_ref\s*==|"
    r"startsWith\(\s*github\.ref\s*,\s*['\"]refs/heads/"
)
GITHUB_TAG_RE = re.compile(r"startsWith\(\s*github\.ref\s*,\s*['\"]refs/tags|github\.ref_type\s*==\s*['\"]tag")
GITHUB_ALWAYS_RE = re.compile(r"\b(always|failure|cancelled)\s*\(")


def _github_event(name: str) -> frozenset[str]:
    return frozenset({"push", "tag"}) if name == "push" else GITHUB_EVENTS.get(name, frozenset({"other"}))


def _github_atom(clause: str, triggers: frozenset[str]) -> frozenset[str] | None:
    if clause.startswith("!") and not clause.startswith("!="):
        return None
    match = GITHUB_EVENT_RE.search(clause)
    if match:
        event = match.group(2) or match.group(3)
        events = _github_event(event)
        return triggers & events if (match.group(1) or match.group(4)) == "==" else triggers - events
    if "github.event_name" in clause and "contains(" in clause:
        named = set().union(*(_github_event(e) for e in re.findall(r"['\"]([\w-]+)['\"]", clause)))
        return triggers & named if named else None
    if GITHUB_BRANCH_RE.search(clause):
        return triggers - {"pull_request"}
    if GITHUB_TAG_RE.search(clause):
        return triggers - {"pull_request", "schedule"}
    return None


def _github_on(on: object) -> tuple[set[str], list[str], list[str]]:
    """(triggers, cron schedules, path filters) of a workflow's `on:` (a string, list or mapping)."""
    if isinstance(on, str):
        events: dict[str, object] = {on: None}
    elif isinstance(on, list):
        events = {item: None for item in on if isinstance(item, str)}
    elif isinstance(on, dict):
        events = {str(key): value for key, value in on.items()}
    else:
        events = {}
    triggers: set[str] = set()
    schedules: list[str] = []
    filters: list[str] = []
    for event, value in events.items():
        config = value if isinstance(value, dict) else {}
        if event == "push":
            triggers |= _push_triggers(config)
        elif event == "schedule":
            triggers.add("schedule")
            schedules += [item["cron"] for item in dicts(value) if isinstance(item.get("cron"), str)]
        else:
            triggers |= GITHUB_EVENTS.get(event, {"other"})
        if event in ("push", "pull_request", "pull_request_target"):
            filters += strings(config.get("paths")) + ["!" + p for p in strings(config.get("paths-ignore"))]
    return triggers, schedules, filters


def _push_triggers(config: dict[object, object]) -> set[str]:
    tags = "tags" in config or "tags-ignore" in config
    branches = any(key in config for key in ("branches", "branches-ignore", "paths", "paths-ignore"))
    if tags and not branches:
        return {"tag"}
    return {"push", "tag"} if tags else {"push"}


def parse_github(path: str, doc: Map, files: Files) -> list[CIWorkflow]:
    on = doc.get("on", doc.get(True))
    triggers, schedules, filters = _github_on(on)
    name = doc.get("name") if isinstance(doc.get("name"), str) else PurePosixPath(path).name
    jobs = _github_jobs(path, doc, frozenset(triggers), files, (path,))
    return [make_workflow("github", path, name, triggers, jobs, schedules=schedules, path_filters=filters)]


def _github_jobs(
    path: str, doc: Map, triggers: frozenset[str], files: Files, stack: tuple[str, ...]
) -> list[CIJob]:
    jobs_map = doc.get("jobs")
    if not isinstance(jobs_map, dict):
        return []
    jobs: list[CIJob] = []
    conditions: dict[str, str] = {}
    for job_id, job in list(jobs_map.items())[:MAX_ITEMS]:
        if not isinstance(job, dict):
            continue
        name = str(job_id)
        condition = job.get("if")
        conditions[name] = str(condition) if condition is not None else ""
        job_triggers = triggers
        if isinstance(condition, str):
            job_triggers, _ = narrow(_unwrap_expression(condition), triggers, _github_atom)
        built = _github_job(name, job, key_line(jobs_map, job_id), path, job_triggers, files, stack)
        expanded = _matrix_jobs(built, job)
        conditions.update({one.name: conditions[name] for one in expanded})
        jobs += expanded
    return _github_needs_narrowing(jobs, conditions)


def _matrix_jobs(built: CIJob, job: dict[object, object]) -> list[CIJob]:
    """A job whose `environment` is `${{ matrix.<key> }}`, as one job per environment of the matrix (in order,
    each needing the one before when `max-parallel: 1` runs them one at a time)."""
    match = MATRIX_REF.match(built.environment.strip()) if built.environment else None
    strategy = job.get("strategy")
    matrix = strategy.get("matrix") if isinstance(strategy, dict) else None
    if match is None or not isinstance(matrix, dict):
        return [built]
    key = match.group(1)
    included = [item[key] for item in dicts(matrix.get("include")) if isinstance(item.get(key), str)]
    values = list(dict.fromkeys(v.strip() for v in [*strings(matrix.get(key)), *included] if v.strip()))
    if not values:
        return [built]
    sequential = isinstance(strategy, dict) and strategy.get("max-parallel") == 1
    expanded: list[CIJob] = []
    for value in values:
        needs = (*built.needs, expanded[-1].name) if sequential and expanded else built.needs
        manual = built.manual_approval or is_production(value)
        expanded.append(replace(built, name=f"{built.name} ({value})", environment=value, needs=needs,
                                manual_approval=manual))
    return expanded


def _unwrap_expression(condition: str) -> str:
    text = condition.strip()
    return text[3:-2] if text.startswith("${{") and text.endswith("}}") else text


def _github_job(
    name: str, job: dict[object, object], line: int | None, path: str, triggers: frozenset[str], files: Files,
    stack: tuple[str, ...],
) -> CIJob:
    commands: list[CICommand] = []
    uses: list[str] = []
    environment = name_of(job.get("environment"))
    manual = False
    steps = job.get("steps")
    for index, step in enumerate(steps[:MAX_ITEMS] if isinstance(steps, list) else []):
        if not isinstance(step, dict):
            continue
        if "run" in step:
            commands += script_commands(step["run"], value_loc(step, "run"))
        ref = step.get("uses")
        if isinstance(ref, str):
            uses.append(ref)
            commands += uses_command(ref, step.get("with"), value_loc(step, "uses")[0])
            manual |= bool(APPROVAL_ACTIONS.search(ref))
    called = job.get("uses")
    if isinstance(called, str):
        uses.append(called)
        inner = _reusable(called, triggers, files, stack)
        for inner_job in inner:
            commands += [c if c.path else replace(c, path=inner_job.path) for c in inner_job.commands]
            uses += inner_job.uses
            environment = environment or inner_job.environment
            manual |= inner_job.manual_approval
    manual |= is_production(environment)
    return make_job(name, path, line, triggers, commands, environment=environment, uses=uses,
                    needs=strings(job.get("needs")), manual=manual)


def _reusable(ref: str, triggers: frozenset[str], files: Files, stack: tuple[str, ...]) -> list[CIJob]:
    """The jobs of a local reusable workflow (`./.github/workflows/x.yml`), run under the caller's triggers."""
    if not ref.startswith("./") or len(stack) > MAX_NESTING:
        return []
    target = ref[2:].split("@", 1)[0]
    doc = files.mapping(target)
    if doc is None or target in stack:
        return []
    return _github_jobs(target, doc, triggers, files, (*stack, target))


def _github_needs_narrowing(jobs: list[CIJob], conditions: dict[str, str]) -> list[CIJob]:
    """A job runs only when the jobs it needs ran, unless its condition says `always()` / `failure()`."""
    by_name = {job.name: job for job in jobs}
    for _ in range(len(jobs)):
        changed = False
        for job in list(by_name.values()):
            if GITHUB_ALWAYS_RE.search(conditions.get(job.name, "")):
                continue
            allowed = set(job.triggers)
            for need in job.needs:
                if need in by_name:
                    allowed &= set(by_name[need].triggers)
            if allowed != set(job.triggers):
                by_name[job.name] = replace(job, triggers=tuple(sorted(allowed)))
                changed = True
        if not changed:
            break
    return [by_name[job.name] for job in jobs]
