"""AWS CodeBuild (`buildspec*.yml`): the phases' commands as one job."""

from __future__ import annotations

from pathlib import PurePosixPath

from mlops_audit.analyzers.ci.files import Files
from mlops_audit.analyzers.ci.records import CICommand, CIWorkflow
from mlops_audit.analyzers.ci.shared import EXTERNAL, make_job, make_workflow, script_commands
from mlops_audit.analyzers.ci.yaml_lines import Map, key_line, value_loc


def parse_codebuild(path: str, doc: Map, files: Files) -> list[CIWorkflow]:
    phases = doc.get("phases")
    commands: list[CICommand] = []
    for phase in ("install", "pre_build", "build", "post_build"):
        config = phases.get(phase) if isinstance(phases, dict) else None
        if isinstance(config, dict):
            for key in ("commands", "finally"):
                commands += script_commands(config.get(key), value_loc(config, key))
    job = make_job(PurePosixPath(path).stem, path, key_line(doc, "phases"), EXTERNAL, commands)
    return [make_workflow("codebuild", path, PurePosixPath(path).name, EXTERNAL, [job])]
