"""Google Cloud Build (`cloudbuild*.yaml`): the build steps as one job."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from mlops_audit.analyzers.ci.commands import classify_command
from mlops_audit.analyzers.ci.files import Files
from mlops_audit.analyzers.ci.records import CICommand, CIWorkflow
from mlops_audit.analyzers.ci.shared import EXTERNAL, dicts, make_job, make_workflow, script_commands, strings
from mlops_audit.analyzers.ci.yaml_lines import Map, key_line, start_line, value_loc
from mlops_audit.model import clip


def parse_cloudbuild(path: str, doc: Map, files: Files) -> list[CIWorkflow]:
    commands: list[CICommand] = []
    uses: list[str] = []
    for step in dicts(doc.get("steps")):
        builder = step.get("name")
        if isinstance(builder, str):
            uses.append(builder)
        if "script" in step:
            commands += script_commands(step["script"], value_loc(step, "script"))
            continue
        raw_args = step.get("args")
        args = [str(a) for a in raw_args if isinstance(a, (str, int, float))] if isinstance(
            raw_args, list
        ) else strings(raw_args)
        program = step.get("entrypoint") if isinstance(step.get("entrypoint"), str) else builder
        if isinstance(program, str):
            text = " ".join([program, *(_quote(a) for a in args)])
            commands.append(CICommand(clip(text), start_line(step), classify_command(text)))
    images = strings(doc.get("images"))
    if images:
        commands.append(CICommand(clip("images: " + " ".join(images)), key_line(doc, "images"), ("publish",)))
    name = PurePosixPath(path).stem
    job = make_job(name, path, key_line(doc, "steps"), EXTERNAL, commands, uses=uses)
    return [make_workflow("cloudbuild", path, PurePosixPath(path).name, EXTERNAL, [job])]


def _quote(arg: str) -> str:
    return arg if re.fullmatch(r"[\w@%+=:,./${}\-]+", arg) else "'" + arg.replace("'", "'\"'\"'") + "'"
