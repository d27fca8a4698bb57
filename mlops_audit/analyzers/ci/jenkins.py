"""Jenkins (declarative or scripted Jenkinsfile, read as text)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Callable

from mlops_audit.analyzers.ci.commands import classify_command, split_script
from mlops_audit.analyzers.ci.records import CICommand, CIJob, CIWorkflow
from mlops_audit.analyzers.ci.shared import MAX_ITEMS, make_job, make_workflow
from mlops_audit.model import clip

JENKINS_STAGE_RE = re.compile(r"\bstage\s*\(\s*(?=['\"])")
JENKINS_STEP_RE = re.compile(r"\b(?:sh|bat|powershell|pwsh)\s*(?:\(\s*(?:[^()'\"]*?\bscript\s*:\s*)?)?(?=['\"])")
JENKINS_CRON_RE = re.compile(r"\b(?:cron|parameterizedCron)\s*\(?\s*(?=['\"])")
JENKINS_INPUT_RE = re.compile(r"\binput\s*(?:\(|\{|message\s*:|['\"])")
JENKINS_WHEN_RE = re.compile(r"\bwhen\s*\{")


def _mask_groovy(text: str) -> tuple[str, str]:
    """(text without comments, text without comments or string contents), both as long as `text`."""
    plain, code = list(text), list(text)
    index = 0
    while index < len(text):
        if text.startswith("//", index):
            end = text.find("\n", index)
            end = len(text) if end < 0 else end
            _blank(plain, index, end)
            _blank(code, index, end)
            index = end
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            end = len(text) if end < 0 else end + 2
            _blank(plain, index, end)
            _blank(code, index, end)
            index = end
        elif text[index] in "'\"":
            _, end = _groovy_string(text, index)
            delimiter = 3 if text.startswith(text[index] * 3, index) else 1
            _blank(code, index + delimiter, max(index + delimiter, end - delimiter))
            index = end
        else:
            index += 1
    return "".join(plain), "".join(code)


def _blank(chars: list[str], start: int, end: int) -> None:
    for index in range(start, min(end, len(chars))):
        if chars[index] != "\n":
            chars[index] = " "


def _groovy_string(text: str, start: int) -> tuple[str, int]:
    """(content, index after the closing quote) of the string literal opening at `start`."""
    quote = text[start] * 3 if text.startswith(text[start] * 3, start) else text[start]
    index = start + len(quote)
    content: list[str] = []
    while index < len(text):
        if text.startswith(quote, index):
            return "".join(content), index + len(quote)
        if text[index] == "\\" and index + 1 < len(text):
            content.append(text[index + 1] if text[index + 1] in "'\"\\$" else text[index : index + 2])
            index += 2
            continue
        if len(quote) == 1 and text[index] == "\n":
            break
        content.append(text[index])
        index += 1
    return "".join(content), index


def _block_end(code: str, open_index: int) -> int:
    depth = 0
    for index in range(open_index, len(code)):
        if code[index] == "{":
            depth += 1
        elif code[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return len(code)


@dataclass(frozen=True, slots=True)
class _Stage:
    name: str
    line: int
    start: int
    end: int


def parse_jenkins(path: str, text: str) -> CIWorkflow:
    plain, code = _mask_groovy(text)
    line_of = _line_index(text)
    schedules = []
    for match in JENKINS_CRON_RE.finditer(code):
        spec = _groovy_string(plain, match.end())[0]
        schedules += [line.split("%", 1)[0].strip() for line in spec.splitlines() if line.strip()]
    triggers = {"push"} | ({"schedule"} if schedules else set())
    triggers |= {"pull_request"} if "changeRequest" in code else set()
    triggers |= {"workflow_run"} if re.search(r"\bupstream\s*\(", code) else set()
    stages = _jenkins_stages(plain, code, line_of)
    steps = [(m.end(), _groovy_string(plain, m.end())[0]) for m in JENKINS_STEP_RE.finditer(code)][:MAX_ITEMS]
    inputs = [m.start() for m in JENKINS_INPUT_RE.finditer(code)][:MAX_ITEMS]
    step_stage = [_innermost(stages, offset) for offset, _ in steps]
    gated = {_innermost(stages, offset) for offset in inputs}
    jobs: list[CIJob] = []
    for index, stage in enumerate(stages):
        commands = [
            CICommand(clip(command), line, classify_command(command))
            for (offset, content), owner in zip(steps, step_stage) if owner == index
            for command, line in split_script(content, line_of(offset), True)
        ]
        nested = [s for s in stages if s is not stage and stage.start <= s.start < stage.end]
        if nested and not commands:
            continue
        own_code = _blank_ranges(code, stage.start, stage.end, nested)
        own_text = _blank_ranges(plain, stage.start, stage.end, nested)
        jobs.append(make_job(stage.name, path, stage.line, _jenkins_when(own_code, own_text, triggers), commands,
                             needs=[jobs[-1].name] if jobs else [], manual=index in gated))
    if not stages and steps:
        commands = [CICommand(clip(c), line, classify_command(c)) for offset, content in steps
                    for c, line in split_script(content, line_of(offset), True)]
        jobs.append(make_job(PurePosixPath(path).name, path, 1, triggers, commands, manual=bool(inputs)))
    return make_workflow("jenkins", path, PurePosixPath(path).name, triggers, jobs, schedules=schedules)


def _line_index(text: str) -> Callable[[int], int]:
    starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line_of(offset: int) -> int:
        low, high = 0, len(starts) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if starts[middle] <= offset:
                low = middle
            else:
                high = middle - 1
        return low + 1

    return line_of


def _innermost(stages: list[_Stage], offset: int) -> int | None:
    """The index of the innermost stage whose body holds `offset` (nested stages start later)."""
    found = None
    for index, stage in enumerate(stages):
        if stage.start <= offset < stage.end and (found is None or stage.start > stages[found].start):
            found = index
    return found


def _blank_ranges(code: str, start: int, end: int, nested: list[_Stage]) -> str:
    """`code[start:end]` with the nested stages' bodies blanked out."""
    chars = list(code[start:end])
    for stage in nested:
        _blank(chars, stage.start - start, stage.end - start)
    return "".join(chars)


def _jenkins_stages(plain: str, code: str, line_of: Callable[[int], int]) -> list[_Stage]:
    stages = []
    for match in JENKINS_STAGE_RE.finditer(code):
        name, after = _groovy_string(plain, match.end())
        brace = code.find("{", after)
        if brace < 0 or code[after:brace].strip() not in (")", ""):
            continue
        stages.append(_Stage(clip(name, 100) or "stage", line_of(match.start()), brace, _block_end(code, brace)))
    return stages[:MAX_ITEMS]


def _jenkins_when(own_code: str, own_text: str, triggers: set[str]) -> set[str]:
    """A stage's triggers narrowed by its `when { }` block (found in code, read with its strings)."""
    match = JENKINS_WHEN_RE.search(own_code)
    if match is None:
        return triggers
    block = own_text[match.end() - 1 : _block_end(own_code, match.end() - 1)]
    if re.search(r"\bnot\b", block):
        return triggers
    if "TimerTrigger" in block:
        return triggers & {"schedule"}
    if "changeRequest" in block:
        return triggers & {"pull_request"}
    if "buildingTag" in block or re.search(r"\btag\b", block):
        return triggers & {"push", "tag"}
    if re.search(r"\bbranch\b", block):
        return triggers - {"pull_request"}
    return triggers
