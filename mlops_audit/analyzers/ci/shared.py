"""What the CI systems share: bounds on hostile files, which system a file is for, job and workflow builders."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import PurePosixPath
from typing import Iterable

from mlops_audit.analyzers.ci.commands import classify_command, classify_uses, split_script
from mlops_audit.analyzers.ci.records import CICommand, CIJob, CIWorkflow
from mlops_audit.analyzers.ci.yaml_lines import Loc, value_loc
from mlops_audit.model import clip

MAX_ITEMS = 2000  # script lines / steps read per list: bounds the work on hostile files
MAX_NESTING = 6  # template / include / reusable workflow / extends levels followed
EXTERNAL = frozenset({"external"})  # started by triggers kept outside the repository (Cloud Build, CodePipeline)
PRODUCTION_RE = re.compile(r"(?:prod(?:uction)?|prd|live)(?:[^a-z0-9]|$)", re.IGNORECASE)


def system_of(path: str) -> str:
    name = PurePosixPath(path).name
    if path.startswith(".github/workflows/"):
        return "github"
    if name == ".gitlab-ci.yml":
        return "gitlab"
    if name.startswith("azure-pipelines") or path.startswith(".azure-pipelines/"):
        return "azure"
    if name == "Jenkinsfile" or name.endswith(".Jenkinsfile"):
        return "jenkins"
    if path.startswith(".circleci/"):
        return "circleci"
    if name == "bitbucket-pipelines.yml":
        return "bitbucket"
    if name.startswith("cloudbuild"):
        return "cloudbuild"
    return "codebuild"


def strings(value: object) -> list[str]:
    """A string or a list of strings, as a list (other items dropped)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value[:MAX_ITEMS] if isinstance(item, str)]
    return []


def name_of(value: object) -> str | None:
    """An environment given as a string or as a mapping with `name`."""
    if isinstance(value, dict):
        value = value.get("name")
    return value if isinstance(value, str) and value.strip() else None


def script_commands(value: object, loc: Loc, path: str | None = None, depth: int = 0) -> list[CICommand]:
    """Commands of a script: a (multi-line) string, or a list of them (nested lists flattened)."""
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, (int, float)):
        value = str(value)
    if isinstance(value, str):
        return [
            CICommand(clip(text), line, classify_command(text), path)
            for text, line in split_script(value, loc[0], loc[1])
        ]
    if isinstance(value, list) and depth < 3:
        commands: list[CICommand] = []
        for index, item in enumerate(value[:MAX_ITEMS]):
            commands.extend(script_commands(item, value_loc(value, index), path, depth + 1))
        return commands
    return []


def uses_command(ref: str, inputs: object, line: int | None, path: str | None = None) -> list[CICommand]:
    kinds = classify_uses(ref, inputs)
    return [CICommand(clip(f"uses: {ref}"), line, kinds, path)] if kinds else []


def make_job(
    name: str,
    path: str,
    line: int | None,
    triggers: set[str] | frozenset[str] | tuple[str, ...],
    commands: list[CICommand],
    *,
    environment: str | None = None,
    uses: list[str] | tuple[str, ...] = (),
    needs: list[str] | tuple[str, ...] = (),
    manual: bool = False,
) -> CIJob:
    kinds = sorted({kind for command in commands for kind in command.kinds})
    return CIJob(
        name=name,
        path=path,
        line=line,
        triggers=tuple(sorted(triggers)),
        commands=tuple(commands),
        kinds=tuple(kinds),
        environment=environment,
        uses=tuple(dict.fromkeys(uses)),
        needs=tuple(dict.fromkeys(needs)),
        manual_approval=manual,
    )


def is_production(environment: str | None) -> bool:
    """`production`, `prod`, `prod-eu`, `Production_US`, `prd`, `live`."""
    return environment is not None and bool(PRODUCTION_RE.match(environment.strip()))


def gate(jobs: list[CIJob]) -> list[CIJob]:
    """A job that needs (transitively) a job waiting for approval waits for that approval too."""
    gated = {job.name for job in jobs if job.manual_approval}
    changed = True
    while changed:
        changed = False
        for job in jobs:
            if job.name not in gated and gated.intersection(job.needs):
                gated.add(job.name)
                changed = True
    return [replace(job, manual_approval=True) if job.name in gated and not job.manual_approval else job
            for job in jobs]


def make_workflow(
    system: str,
    path: str,
    name: str,
    triggers: set[str] | frozenset[str],
    jobs: list[CIJob],
    *,
    schedules: Iterable[str] = (),
    path_filters: Iterable[str] = (),
    uses: Iterable[str] = (),
) -> CIWorkflow:
    return CIWorkflow(
        system=system,
        path=path,
        name=name,
        triggers=tuple(sorted(triggers)),
        schedules=tuple(sorted(set(schedules))),
        path_filters=tuple(sorted(set(path_filters))),
        jobs=tuple(gate(jobs)),
        uses=tuple(dict.fromkeys(uses)),
    )


def dicts(value: object) -> list[dict[object, object]]:
    return [item for item in value[:MAX_ITEMS] if isinstance(item, dict)] if isinstance(value, list) else []


def bounded_list(value: object) -> list[object]:
    return value[:MAX_ITEMS] if isinstance(value, list) else []
