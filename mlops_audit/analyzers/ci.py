"""Facts from CI configuration: GitHub Actions, GitLab CI, Azure Pipelines, Jenkins, CircleCI, Bitbucket, Cloud Build.

Command kinds (a command may have several): "test" (pytest, unittest, tox/nox test sessions, make test),
"data_test" (tests over data: pandera/GX/soda/`great_expectations checkpoint`, tests under tests/data),
"notebook_test" (nbmake, nbval, papermill, nbconvert --execute), "lint" (ruff, flake8, black, mypy, pre-commit),
"train" (python train*.py, -m pkg.train, dvc repro/exp run, kedro run, mlflow run, zenml/prefect/kfp pipeline runs,
make train, sagemaker/vertex/azure ml pipeline starts), "evaluate", "build" (docker build/buildx, pip wheel,
python -m build, kfp compile, gcloud builds), "publish" (docker push, twine upload, image registry pushes),
"deploy" (kubectl apply, helm upgrade, terraform apply, gcloud run deploy, serverless deploy, sam deploy,
az ml online-deployment, sagemaker endpoint updates, `deploy` scripts), "infra" (terraform, pulumi, cdk).
Triggers: "push", "pull_request", "schedule", "manual", "tag", "release", "workflow_run", "other".

A job's `manual_approval` is true when the job itself waits for a person (GitLab `when: manual`, an Azure
ManualValidation task, a Jenkins `input` step, a CircleCI `type: approval` job, a Bitbucket `trigger: manual`
step, a GitHub or Azure environment named production/prod, whose protection rules live outside the
repository) or when it needs, directly or transitively, a job that does. Commands a job runs through local
reusable workflows, templates or includes carry the `path` of the file they are written in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Callable, Iterable, Iterator

import yaml

from mlops_audit.analyzers.ci_commands import classify_command, classify_task, classify_uses, split_script
from mlops_audit.inventory import Inventory
from mlops_audit.model import clip

__all__ = ["CICommand", "CIFacts", "CIJob", "CIWorkflow", "analyze_ci"]

MAX_ITEMS = 2000  # script lines / steps read per list: bounds the work on hostile files
MAX_EXPANDED_NODES = 200_000  # YAML nodes after alias expansion: stops "billion laughs" files
MAX_NESTING = 6  # template / include / reusable workflow / extends levels followed
PRODUCTION_RE = re.compile(r"(?:prod(?:uction)?|prd|live)(?:[^a-z0-9]|$)", re.IGNORECASE)
APPROVAL_ACTIONS = re.compile(r"manual-approval|approval-action|wait-for-approval", re.IGNORECASE)


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


def analyze_ci(inventory: Inventory) -> CIFacts:
    """Every CI file of the inventory as workflows of jobs and classified commands. Never raises."""
    files = _Files(inventory)
    workflows: list[CIWorkflow] = []
    for file in inventory.of_kind("ci"):
        try:
            workflows.extend(_analyze_file(file.path, files))
        except Exception as error:  # a reading bug must cost one file, visibly, not the audit
            workflows.append(_failed(system_of(file.path), file.path, f"could not be analysed ({error!r:.120})"))
    return CIFacts(tuple(sorted(workflows, key=lambda w: (w.path, w.name))))


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


def _analyze_file(path: str, files: _Files) -> list[CIWorkflow]:
    system = system_of(path)
    if system == "jenkins":
        text = files.inventory.read_text(path)
        return [_jenkins(path, text) if text is not None else _failed(system, path, "cannot be read as text")]
    doc, error = files.load(path)
    if doc is None:
        return [_failed(system, path, error or "cannot be read")]
    return PARSERS[system](path, doc, files)


def _failed(system: str, path: str, error: str) -> CIWorkflow:
    return CIWorkflow(system, path, PurePosixPath(path).name, (), (), (), (), error=error)


# --- YAML that remembers lines ---------------------------------------------------------------------------

Loc = tuple[int | None, bool]  # (1-based line where a value's text starts, whether it is a literal block)
NO_LOC: Loc = (None, False)


class _Map(dict):  # type: ignore[type-arg]
    """A YAML mapping that remembers the line of each key and where each value's text starts."""

    __slots__ = ("line", "key_lines", "value_locs")


class _Seq(list):  # type: ignore[type-arg]
    __slots__ = ("line", "item_locs")


class _Reference(tuple):  # type: ignore[type-arg]
    """GitLab's `!reference [.job, script]`."""


class _Loader(yaml.SafeLoader):
    """Safe loading plus lines; unknown tags (`!Ref`, `!!python/...`) load as plain values; dates stay text."""


def _loc(node: yaml.Node) -> Loc:
    literal = isinstance(node, yaml.ScalarNode) and node.style == "|"
    block = isinstance(node, yaml.ScalarNode) and node.style in ("|", ">")
    return node.start_mark.line + 1 + (1 if block else 0), literal


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Iterator[_Map]:
    data = _Map()
    data.line, data.key_lines, data.value_locs = node.start_mark.line + 1, {}, {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            continue
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = key_node.start_mark.line + 1
        data.value_locs[key] = _loc(value_node)


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> Iterator[_Seq]:
    data = _Seq()
    data.line, data.item_locs = node.start_mark.line + 1, []
    yield data
    for item in node.value:
        data.append(loader.construct_object(item, deep=True))
        data.item_locs.append(_loc(item))


def _construct_any(loader: _Loader, node: yaml.Node) -> object:
    if isinstance(node, yaml.MappingNode):
        return _construct_map(loader, node)
    if isinstance(node, yaml.SequenceNode):
        return _construct_seq(loader, node)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


def _construct_reference(loader: _Loader, node: yaml.Node) -> _Reference:
    if isinstance(node, yaml.SequenceNode):
        return _Reference(str(loader.construct_object(item, deep=True)) for item in node.value)
    return _Reference()


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:omap", _construct_any)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_str)
_Loader.add_constructor("!reference", _construct_reference)
_Loader.add_constructor(None, _construct_any)


def load_yaml(text: str) -> tuple[_Map | None, str | None]:
    """The document of a YAML file (GitLab's `spec:` header document skipped), or None and an error."""
    try:
        documents = _documents(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        return None, f"YAML does not parse: {problem}{where}"
    except (RecursionError, ValueError, TypeError, OverflowError) as error:
        return None, f"YAML does not parse: {type(error).__name__}"
    if documents is None:
        return None, "YAML aliases expand to too many nodes (or refer to themselves); not read"
    if len(documents) > 1 and isinstance(documents[0], dict) and set(documents[0]) == {"spec"}:
        documents = documents[1:]
    if not documents:
        return None, "YAML file is empty"
    if len(documents) > 1:
        return None, f"YAML file holds {len(documents)} documents; expected one"
    if not isinstance(documents[0], _Map):
        return None, f"YAML top level is a {_type_name(documents[0])}, not a mapping"
    return documents[0], None


def _documents(text: str) -> list[object] | None:
    """The non-empty documents of a YAML stream, or None when aliases would expand it beyond bounds."""
    loader = _Loader(text)
    try:
        nodes = []
        while loader.check_node():
            nodes.append(loader.get_node())
            if _expanded_size(nodes[-1], {}, set()) > MAX_EXPANDED_NODES:
                return None
        return [d for d in map(loader.construct_document, nodes) if d is not None]
    finally:
        loader.dispose()


def _expanded_size(node: yaml.Node, sizes: dict[int, int], open_nodes: set[int]) -> int:
    """Nodes in the document once aliases are expanded (a self-referring alias counts as unbounded)."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_nodes:
        return MAX_EXPANDED_NODES + 1
    open_nodes.add(key)
    children: list[yaml.Node] = []
    if isinstance(node, yaml.SequenceNode):
        children = node.value
    elif isinstance(node, yaml.MappingNode):
        children = [part for pair in node.value for part in pair]
    total = 1
    for child in children:
        total += _expanded_size(child, sizes, open_nodes)
        if total > MAX_EXPANDED_NODES:
            break
    open_nodes.discard(key)
    sizes[key] = total
    return total


def _type_name(value: object) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    return "number" if isinstance(value, (int, float)) else type(value).__name__


def _value_loc(container: object, key: object) -> Loc:
    if isinstance(container, _Map):
        return container.value_locs.get(key, NO_LOC)
    if isinstance(container, _Seq) and isinstance(key, int) and 0 <= key < len(container.item_locs):
        return container.item_locs[key]
    return NO_LOC


def _key_line(container: object, key: object) -> int | None:
    if isinstance(container, _Map):
        return container.key_lines.get(key)
    return _value_loc(container, key)[0]


def _line(value: object) -> int | None:
    return getattr(value, "line", None)


class _Files:
    """Parsed CI and template files, each read once through the inventory."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self._cache: dict[str, tuple[_Map | None, str | None]] = {}
        self._azure_templates: set[str] | None = None

    def load(self, path: str) -> tuple[_Map | None, str | None]:
        if path not in self._cache:
            text = self.inventory.read_text(path) if self.inventory.get(path) is not None else None
            self._cache[path] = (None, "cannot be read as text") if text is None else load_yaml(text)
        return self._cache[path]

    def mapping(self, path: str) -> _Map | None:
        return self.load(path)[0]

    def azure_templates(self) -> set[str]:
        """Azure CI files that other Azure files use as templates (they run under their callers' triggers)."""
        if self._azure_templates is None:
            self._azure_templates = set()
            for file in self.inventory.of_kind("ci"):
                doc = self.mapping(file.path) if system_of(file.path) == "azure" else None
                for ref in _template_refs(doc, 0) if doc is not None else ():
                    target = _azure_template_path(file.path, ref)
                    if target:
                        self._azure_templates.add(target)
        return self._azure_templates


# --- shared helpers ---------------------------------------------------------------------------------------


def _strings(value: object) -> list[str]:
    """A string or a list of strings, as a list (other items dropped)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value[:MAX_ITEMS] if isinstance(item, str)]
    return []


def _name_of(value: object) -> str | None:
    """An environment given as a string or as a mapping with `name`."""
    if isinstance(value, dict):
        value = value.get("name")
    return value if isinstance(value, str) and value.strip() else None


def _script(value: object, loc: Loc, path: str | None = None, depth: int = 0) -> list[CICommand]:
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
            commands.extend(_script(item, _value_loc(value, index), path, depth + 1))
        return commands
    return []


def _uses_command(ref: str, inputs: object, line: int | None, path: str | None = None) -> list[CICommand]:
    kinds = classify_uses(ref, inputs)
    return [CICommand(clip(f"uses: {ref}"), line, kinds, path)] if kinds else []


def _job(
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


def _is_production(environment: str | None) -> bool:
    """`production`, `prod`, `prod-eu`, `Production_US`, `prd`, `live`."""
    return environment is not None and bool(PRODUCTION_RE.match(environment.strip()))


def _gate(jobs: list[CIJob]) -> list[CIJob]:
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


def _workflow(
    system: str,
    path: str,
    name: str,
    triggers: set[str],
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
        jobs=tuple(_gate(jobs)),
        uses=tuple(dict.fromkeys(uses)),
    )


# --- condition expressions (GitHub `if:`, GitLab `rules: if:`) -------------------------------------------

Atom = Callable[[str, frozenset[str]], "frozenset[str] | None"]


def _split_top(expr: str, operator: str) -> list[str]:
    """`expr` split on `operator` outside parentheses and quotes."""
    parts, depth, start, index, quote = [], 0, 0, 0, ""
    while index < len(expr):
        char = expr[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and expr.startswith(operator, index):
            parts.append(expr[start:index])
            index += len(operator)
            start = index
            continue
        index += 1
    parts.append(expr[start:])
    return parts


def _strip_parens(expr: str) -> str:
    expr = expr.strip()
    while expr.startswith("(") and expr.endswith(")") and _balanced(expr[1:-1]):
        expr = expr[1:-1].strip()
    return expr


def _balanced(expr: str) -> bool:
    depth = 0
    for char in expr:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def narrow(expr: str, triggers: frozenset[str], atom: Atom, depth: int = 0) -> tuple[frozenset[str], bool]:
    """The triggers under which `expr` can hold, and whether that is exact (every clause understood)."""
    result: set[str] = set()
    exact = True
    for disjunct in _split_top(expr, "||"):
        allowed = set(triggers)
        for clause in _split_top(_strip_parens(disjunct), "&&"):
            clause = _strip_parens(clause)
            if depth < MAX_NESTING and len(_split_top(clause, "||")) > 1:
                found, clause_exact = narrow(clause, triggers, atom, depth + 1)
            else:
                found_or_none = atom(clause, triggers)
                found, clause_exact = (triggers, False) if found_or_none is None else (found_or_none, True)
            allowed &= found
            exact &= clause_exact
        result |= allowed
    return frozenset(result), exact


# --- GitHub Actions ---------------------------------------------------------------------------------------

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
            schedules += [item["cron"] for item in _dicts(value) if isinstance(item.get("cron"), str)]
        else:
            triggers |= GITHUB_EVENTS.get(event, {"other"})
        if event in ("push", "pull_request", "pull_request_target"):
            filters += _strings(config.get("paths")) + ["!" + p for p in _strings(config.get("paths-ignore"))]
    return triggers, schedules, filters


def _push_triggers(config: dict[object, object]) -> set[str]:
    tags = "tags" in config or "tags-ignore" in config
    branches = any(key in config for key in ("branches", "branches-ignore", "paths", "paths-ignore"))
    if tags and not branches:
        return {"tag"}
    return {"push", "tag"} if tags else {"push"}


def _dicts(value: object) -> list[dict[object, object]]:
    return [item for item in value[:MAX_ITEMS] if isinstance(item, dict)] if isinstance(value, list) else []


def _github(path: str, doc: _Map, files: _Files) -> list[CIWorkflow]:
    on = doc.get("on", doc.get(True))
    triggers, schedules, filters = _github_on(on)
    name = doc.get("name") if isinstance(doc.get("name"), str) else PurePosixPath(path).name
    jobs = _github_jobs(path, doc, frozenset(triggers), files, (path,))
    return [_workflow("github", path, name, triggers, jobs, schedules=schedules, path_filters=filters)]


def _github_jobs(
    path: str, doc: _Map, triggers: frozenset[str], files: _Files, stack: tuple[str, ...]
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
        jobs.append(_github_job(name, job, _key_line(jobs_map, job_id), path, job_triggers, files, stack))
    return _github_needs_narrowing(jobs, conditions)


def _unwrap_expression(condition: str) -> str:
    text = condition.strip()
    return text[3:-2] if text.startswith("${{") and text.endswith("}}") else text


def _github_job(
    name: str, job: dict[object, object], line: int | None, path: str, triggers: frozenset[str], files: _Files,
    stack: tuple[str, ...],
) -> CIJob:
    commands: list[CICommand] = []
    uses: list[str] = []
    environment = _name_of(job.get("environment"))
    manual = False
    steps = job.get("steps")
    for index, step in enumerate(steps[:MAX_ITEMS] if isinstance(steps, list) else []):
        if not isinstance(step, dict):
            continue
        if "run" in step:
            commands += _script(step["run"], _value_loc(step, "run"))
        ref = step.get("uses")
        if isinstance(ref, str):
            uses.append(ref)
            commands += _uses_command(ref, step.get("with"), _value_loc(step, "uses")[0])
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
    manual |= _is_production(environment)
    return _job(name, path, line, triggers, commands, environment=environment, uses=uses,
                needs=_strings(job.get("needs")), manual=manual)


def _reusable(ref: str, triggers: frozenset[str], files: _Files, stack: tuple[str, ...]) -> list[CIJob]:
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


# --- GitLab CI --------------------------------------------------------------------------------------------

GITLAB_RESERVED = frozenset({"image", "services", "stages", "types", "before_script", "after_script", "variables",
                             "cache", "include", "workflow", "default", "spec"})
GITLAB_SOURCES = {
    "push": {"push"}, "merge_request_event": {"pull_request"}, "external_pull_request_event": {"pull_request"},
    "schedule": {"schedule"}, "web": {"manual"}, "chat": {"manual"}, "api": {"other"}, "trigger": {"other"},
    "pipeline": {"other"}, "parent_pipeline": {"other"}, "webide": {"other"}, "ondemand_dast_scan": {"other"},
}
GITLAB_ONLY = {
    "schedules": "schedule", "merge_requests": "pull_request", "external_pull_requests": "pull_request",
    "tags": "tag", "branches": "push", "pushes": "push", "web": "manual", "chat": "manual", "api": "other",
    "triggers": "other", "pipelines": "other", "external": "other",
}
GITLAB_SOURCE_RE = re.compile(r"\$CI_PIPELINE_SOURCE\s*(==|!=|=~|!~)\s*(?:[\"']([\w-]+)[\"']|(/[^/]*/))")
GITLAB_TAG_RE = re.compile(r"\$CI_COMMIT_TAG\b(?!\s*==\s*null)")
GITLAB_NO_TAG_RE = re.compile(r"\$CI_COMMIT_TAG\s*==\s*null")
GITLAB_MR_RE = re.compile(r"\$CI_MERGE_REQUEST_(IID|ID)\b(?!\s*==\s*null)")
GITLAB_BRANCH_RE = re.compile(r"\$CI_COMMIT_BRANCH\b(?!\s*==\s*null)")


def _gitlab_sources(clause: str) -> set[str]:
    match = GITLAB_SOURCE_RE.search(clause)
    if match is None:
        return set()
    if match.group(2):
        return set(GITLAB_SOURCES.get(match.group(2), {"other"}))
    return set().union(*(GITLAB_SOURCES.get(word, set()) for word in re.findall(r"[\w-]+", match.group(3))))


def _gitlab_atom(clause: str, triggers: frozenset[str]) -> frozenset[str] | None:
    match = GITLAB_SOURCE_RE.search(clause)
    if match:
        sources = _gitlab_sources(clause)
        return triggers & sources if match.group(1) in ("==", "=~") else triggers - sources
    if GITLAB_NO_TAG_RE.search(clause):
        return triggers - {"tag"}
    if GITLAB_TAG_RE.search(clause):
        return triggers & {"tag"}
    if GITLAB_MR_RE.search(clause):
        return triggers & {"pull_request"}
    if GITLAB_BRANCH_RE.search(clause):
        return triggers - {"pull_request", "tag"}
    return None


def _gitlab(path: str, doc: _Map, files: _Files) -> list[CIWorkflow]:
    sources, includes = _gitlab_sources_with_includes(path, doc, files)
    definitions: dict[str, Source] = {}  # job name -> where it is (last) defined, in order of first appearance
    for source in sources:
        definitions.update({name: source for name, value in source[1].items() if _is_gitlab_job(name, value)})
    base = {"push"} | _gitlab_mentioned(sources)
    workflow_rules = doc.get("workflow", {}).get("rules") if isinstance(doc.get("workflow"), dict) else None
    triggers = _gitlab_rules(workflow_rules, frozenset(base))[0] if isinstance(workflow_rules, list) else base
    filters = [p for rule in _dicts(workflow_rules) for p in _strings(_changes(rule.get("changes")))]
    jobs = [
        _gitlab_job(name, source, sources, frozenset(triggers)) for name, source in definitions.items()
    ]
    return [_workflow("gitlab", path, path, set(triggers), jobs, path_filters=filters, uses=includes)]


def _is_gitlab_job(name: object, value: object) -> bool:
    return isinstance(name, str) and not name.startswith(".") and name not in GITLAB_RESERVED and isinstance(
        value, dict
    )


def _changes(value: object) -> object:
    return value.get("paths") if isinstance(value, dict) else value


Source = tuple[str, _Map]  # (file, its top-level mapping)


def _gitlab_sources_with_includes(path: str, doc: _Map, files: _Files) -> tuple[list[Source], list[str]]:
    """The file after its local includes (included first, so the file's own keys win) and every include ref."""
    sources: list[Source] = []
    refs: list[str] = []
    _collect_includes(path, doc, files, sources, refs, (path,))
    return sources, refs


def _collect_includes(
    path: str, doc: _Map, files: _Files, sources: list[Source], refs: list[str], stack: tuple[str, ...]
) -> None:
    for ref, local in _include_refs(doc.get("include")):
        refs.append(ref)
        included = files.mapping(local) if local else None
        if included is not None and local not in stack and len(stack) <= MAX_NESTING:
            _collect_includes(local, included, files, sources, refs, (*stack, local))
    sources.append((path, doc))


def _include_refs(value: object) -> list[tuple[str, str | None]]:
    """(reference as written, repository path when it is a local file) for each `include:` entry."""
    items = value if isinstance(value, list) else [value]
    refs: list[tuple[str, str | None]] = []
    for item in items[:MAX_ITEMS]:
        if isinstance(item, str):
            local = None if "://" in item else item.lstrip("/")
            refs.append((item, local))
        elif isinstance(item, dict):
            for key in ("local", "project", "remote", "template", "component"):
                if isinstance(item.get(key), str):
                    ref = f"{key}: {item[key]}" + (f" {item['file']}" if isinstance(item.get("file"), str) else "")
                    refs.append((ref, item[key].lstrip("/") if key == "local" else None))
                    break
    return refs


def _lookup(sources: list[Source], name: object) -> tuple[str, _Map] | None:
    """(file, mapping holding it) of the last definition of a top-level key across the file and its includes."""
    for path, doc in reversed(sources):
        if name in doc:
            return path, doc
    return None


def _gitlab_mentioned(sources: list[Source]) -> set[str]:
    """Pipeline sources the configuration speaks of: GitLab runs them when set up (schedules live in the UI)."""
    found: set[str] = set()
    for _, doc in sources:
        for name, job in doc.items():
            if not isinstance(job, dict):
                continue
            for rule in _dicts(job.get("rules")):
                if isinstance(rule.get("if"), str):
                    found |= _gitlab_sources(rule["if"])
                    found |= {"tag"} if GITLAB_TAG_RE.search(rule["if"]) else set()
                    found |= {"pull_request"} if GITLAB_MR_RE.search(rule["if"]) else set()
            for key in ("only", "except"):
                found |= {GITLAB_ONLY[ref] for ref in _only_refs(job.get(key)) if ref in GITLAB_ONLY}
    return found


def _only_refs(value: object) -> list[str]:
    return _strings(value.get("refs") if isinstance(value, dict) else value)


def _gitlab_rules(rules: list[object], base: frozenset[str]) -> tuple[set[str], bool]:
    """(triggers under which the first matching rule adds the job, whether a matching rule is manual)."""
    remaining = set(base)
    allowed: set[str] = set()
    manual = False
    for rule in _dicts(rules):
        condition = rule.get("if")
        if isinstance(condition, str):
            matched, exact = narrow(condition, frozenset(remaining), _gitlab_atom)
        else:
            matched, exact = frozenset(remaining), not ({"changes", "exists"} & set(rule))
        when = rule.get("when", "on_success")
        if when != "never":
            allowed |= matched
            manual |= when == "manual" and bool(matched)
        if exact:
            remaining -= matched
    return allowed, manual


def _gitlab_job(name: str, source: Source, sources: list[Source], triggers: frozenset[str]) -> CIJob:
    path, doc = source
    owners = _gitlab_owners(sources, doc[name], path)

    def value(key: str) -> object:
        return owners[key][1].get(key) if key in owners else None

    commands: list[CICommand] = []
    for key in ("before_script", "script", "after_script"):
        if key in owners:
            owner_path, owner = owners[key]
            commands += _gitlab_script(owner.get(key), _value_loc(owner, key), owner_path, path, sources)
    rules, only, never = value("rules"), value("only"), value("except")
    manual = value("when") == "manual"
    if isinstance(rules, list):
        job_triggers, manual_rule = _gitlab_rules(rules, triggers)
        manual |= manual_rule
    elif only is not None or never is not None:
        job_triggers = set(triggers)
        if only is not None:
            job_triggers &= {GITLAB_ONLY.get(ref, "push") for ref in _only_refs(only)}
        job_triggers -= {GITLAB_ONLY[ref] for ref in _only_refs(never) if ref in GITLAB_ONLY}
    else:
        job_triggers = set(triggers)
    needs = [n if isinstance(n, str) else n.get("job") for n in _list(value("needs"))]
    uses = _strings(value("extends"))
    trigger = value("trigger")
    if isinstance(trigger, (str, dict)):
        uses.append("trigger: " + (trigger if isinstance(trigger, str) else str(trigger.get("project")
                                                                               or trigger.get("include"))))
    return _job(name, path, _key_line(doc, name), job_triggers, commands,
                environment=_name_of(value("environment")), uses=uses,
                needs=[n for n in needs if isinstance(n, str)], manual=bool(manual))


def _list(value: object) -> list[object]:
    return value[:MAX_ITEMS] if isinstance(value, list) else []


def _gitlab_owners(sources: list[Source], job: _Map, path: str) -> dict[object, tuple[str, _Map]]:
    """For each key of a job: the (file, mapping) it comes from, after `default:` and `extends:` (shallow)."""
    owners: dict[object, tuple[str, _Map]] = {}
    inherit = job.get("inherit")
    inherit_default = not (isinstance(inherit, dict) and inherit.get("default") is False)
    for key in ("before_script", "after_script"):
        top = _lookup(sources, key)
        if top is not None and inherit_default:
            owners[key] = top
        default = _lookup(sources, "default")
        if default is not None and isinstance(default[1]["default"], _Map) and inherit_default:
            if key in default[1]["default"]:
                owners[key] = (default[0], default[1]["default"])
    for ancestor_path, ancestor in _gitlab_ancestry(sources, job, path):
        for key in ancestor:
            owners[key] = (ancestor_path, ancestor)
    return owners


def _gitlab_ancestry(sources: list[Source], job: _Map, path: str) -> list[tuple[str, _Map]]:
    """The job's `extends:` parents, farthest first, then the job itself."""
    chain: list[tuple[str, _Map]] = []
    seen: set[int] = set()

    def visit(mapping: dict[object, object], path: str, depth: int) -> None:
        if id(mapping) in seen or depth > MAX_NESTING + 5 or not isinstance(mapping, _Map):
            return
        seen.add(id(mapping))
        for parent in _strings(mapping.get("extends")):
            found = _lookup(sources, parent)
            if found is not None and isinstance(found[1][parent], dict):
                visit(found[1][parent], found[0], depth + 1)
        chain.append((path, mapping))

    visit(job, path, 0)
    return chain


def _gitlab_script(
    value: object, loc: Loc, owner_path: str, job_path: str, sources: list[Source], depth: int = 0
) -> list[CICommand]:
    """A script list whose items may be `!reference [.job, key]` to another job's script."""
    path = owner_path if owner_path != job_path else None
    if isinstance(value, _Reference):
        return _gitlab_reference(value, job_path, sources, depth)
    if not isinstance(value, list):
        return _script(value, loc, path)
    commands: list[CICommand] = []
    for index, item in enumerate(value[:MAX_ITEMS]):
        if isinstance(item, _Reference):
            commands += _gitlab_reference(item, job_path, sources, depth)
        else:
            commands += _script(item, _value_loc(value, index), path)
    return commands


def _gitlab_reference(ref: _Reference, job_path: str, sources: list[Source], depth: int) -> list[CICommand]:
    if len(ref) < 2 or depth > MAX_NESTING:
        return []
    found = _lookup(sources, ref[0])
    if found is None:
        return []
    container: object = found[1]
    for key in ref:
        if not isinstance(container, dict) or key not in container:
            return []
        parent, container = container, container[key]
    return _gitlab_script(container, _value_loc(parent, ref[-1]), found[0], job_path, sources, depth + 1)


# --- Azure Pipelines --------------------------------------------------------------------------------------

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


def _azure(path: str, doc: _Map, files: _Files) -> list[CIWorkflow]:
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
        target = _azure_template_path(path, extends["template"])
        if target and files.mapping(target) is not None:
            body, body_path = files.mapping(target), target  # type: ignore[assignment]
    jobs = context.stages(body, body_path, 0)
    name = doc.get("name") if isinstance(doc.get("name"), str) else PurePosixPath(path).name
    return [_workflow("azure", path, name, triggers, jobs, schedules=schedules, path_filters=filters, uses=uses)]


def _azure_triggers(doc: _Map) -> tuple[set[str], list[str], list[str]]:
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
                filters += _strings(paths.get("include")) + ["!" + p for p in _strings(paths.get("exclude"))]
        else:
            triggers.add(default)
    schedules = [item["cron"] for item in _dicts(doc.get("schedules")) if isinstance(item.get("cron"), str)]
    if schedules:
        triggers.add("schedule")
    resources = doc.get("resources")
    if isinstance(resources, dict):
        if any(item.get("trigger") not in (None, False, "none") for item in _dicts(resources.get("pipelines"))):
            triggers.add("workflow_run")
        if resources.get("webhooks") or any(item.get("trigger") for item in _dicts(resources.get("repositories"))):
            triggers.add("other")
    return triggers, schedules, filters


def _azure_template_path(including: str, ref: str) -> str | None:
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


def _template_refs(value: object, depth: int) -> Iterator[str]:
    if depth > 8:
        return
    if isinstance(value, dict):
        for key, item in list(value.items())[:MAX_ITEMS]:
            if key == "template" and isinstance(item, str):
                yield item
            else:
                yield from _template_refs(item, depth + 1)
    elif isinstance(value, list):
        for item in value[:MAX_ITEMS]:
            yield from _template_refs(item, depth + 1)


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
    files: _Files

    def stages(self, body: dict[object, object], path: str, depth: int) -> list[CIJob]:
        """Jobs of a pipeline body: `stages:`, or `jobs:`, or bare `steps:` (one implicit job)."""
        if isinstance(body.get("stages"), list):
            return self._stage_list(body["stages"], path, depth)
        if isinstance(body.get("jobs"), list):
            return self._job_list(body["jobs"], path, self.triggers, depth)
        if isinstance(body.get("steps"), list):
            commands, uses, manual = self._steps(body["steps"], path, path, depth)
            line = _key_line(body, "steps")
            return [_job("Job", path, line, self.triggers, commands, uses=uses, manual=manual)]
        return []

    def _stage_list(self, stages: list[object], path: str, depth: int) -> list[CIJob]:
        jobs: list[CIJob] = []
        gated_stages: set[str] = set()
        previous: str | None = None
        for stage in _dicts(stages):
            nested = self._template(stage, path, "stages", depth)
            if nested is not None:
                jobs += nested
                continue
            name = str(stage.get("stage", ""))
            depends = _strings(stage.get("dependsOn")) if "dependsOn" in stage else [previous] if previous else []
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
        for index, item in enumerate(_list(items)):
            if not isinstance(item, dict):
                continue
            nested = self._template(item, path, "jobs", depth)
            if nested is not None:
                jobs += nested
                continue
            jobs.append(self._job(item, path, _value_loc(items, index)[0], triggers, depth))
        return _gate(jobs)

    def _job(self, item: dict[object, object], path: str, line: int | None, triggers: frozenset[str],
             depth: int) -> CIJob:
        name = str(item.get("deployment", item.get("job", "Job")))
        steps = item.get("steps") if "steps" in item else _strategy_steps(item.get("strategy"), 0)
        commands, uses, manual = self._steps(steps, path, path, depth)
        environment = _name_of(item.get("environment"))
        manual |= _is_production(environment)
        return _job(name, path, line, _azure_condition(item.get("condition"), triggers), commands,
                    environment=environment, uses=uses, needs=_strings(item.get("dependsOn")), manual=manual)

    def _steps(
        self, steps: object, path: str, job_path: str, depth: int
    ) -> tuple[list[CICommand], list[str], bool]:
        """(commands, uses, waits for approval) of a step list written in `path` for a job of `job_path`."""
        commands: list[CICommand] = []
        uses: list[str] = []
        manual = False
        own = None if path == job_path else path
        for step in _dicts(steps):
            ref = step.get("template")
            if isinstance(ref, str):
                uses.append(ref)
                target = _azure_template_path(path, ref)
                doc = self.files.mapping(target) if target and depth < MAX_NESTING else None
                if doc is not None:
                    inner = self._steps(doc.get("steps"), target, job_path, depth + 1)  # type: ignore[arg-type]
                    commands += inner[0]
                    uses += inner[1]
                    manual |= inner[2]
                continue
            for key in AZURE_SCRIPT_KEYS:
                if key in step:
                    commands += _script(step[key], _value_loc(step, key), own)
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
                commands += _script(inputs[key], _value_loc(inputs, key), own)
        for key in ("scriptPath", "scriptLocation"):
            script = inputs.get(key)
            if isinstance(script, str) and script.endswith((".py", ".sh", ".ps1")):
                prefix = "python " if script.endswith(".py") else ""
                commands += _script(prefix + script, _value_loc(inputs, key), own)
        kinds = classify_task(task, inputs)
        if kinds:
            commands.append(CICommand(clip(f"task: {task}"), _value_loc(step, "task")[0], kinds, own))
        return commands

    def _template(self, item: dict[object, object], path: str, key: str, depth: int) -> list[CIJob] | None:
        """The jobs of a `- template:` entry (resolved when local), or None when the item is no template."""
        ref = item.get("template")
        if not isinstance(ref, str):
            return None
        target = _azure_template_path(path, ref)
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


# --- Jenkins (declarative or scripted Jenkinsfile, read as text) ------------------------------------------

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


def _jenkins(path: str, text: str) -> CIWorkflow:
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
        jobs.append(_job(stage.name, path, stage.line, _jenkins_when(own_code, own_text, triggers), commands,
                         needs=[jobs[-1].name] if jobs else [], manual=index in gated))
    if not stages and steps:
        commands = [CICommand(clip(c), line, classify_command(c)) for offset, content in steps
                    for c, line in split_script(content, line_of(offset), True)]
        jobs.append(_job(PurePosixPath(path).name, path, 1, triggers, commands, manual=bool(inputs)))
    return _workflow("jenkins", path, PurePosixPath(path).name, triggers, jobs, schedules=schedules)


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


# --- CircleCI ---------------------------------------------------------------------------------------------


def _circleci(path: str, doc: _Map, files: _Files) -> list[CIWorkflow]:
    orbs = doc.get("orbs")
    uses = [f"{k}: {v}" if isinstance(v, str) else str(k) for k, v in orbs.items()] if isinstance(orbs, dict) else []
    definitions = doc.get("jobs") if isinstance(doc.get("jobs"), dict) else {}
    workflows = doc.get("workflows")
    if not isinstance(workflows, dict) or not any(isinstance(w, dict) for w in workflows.values()):
        names = ["build"] if "build" in definitions else list(definitions)
        jobs = [_circleci_job(n, definitions, doc, path, {"push"}, [], None) for n in names]
        return [_workflow("circleci", path, "default", {"push"}, jobs, uses=uses)]
    result = []
    for name, workflow in workflows.items():
        if not isinstance(workflow, dict):
            continue
        triggers, schedules = _circleci_triggers(workflow)
        jobs = []
        for index, entry in enumerate(_list(workflow.get("jobs"))):
            ref, config = _single_entry(entry)
            if ref is None:
                continue
            config = config if isinstance(config, dict) else {}
            job_triggers = _circleci_filters(config.get("filters"), triggers)
            jobs.append(_circleci_job(ref, definitions, doc, path, job_triggers, _strings(config.get("requires")),
                                      config, _value_loc(workflow["jobs"], index)[0]))
        result.append(_workflow("circleci", path, str(name), triggers, jobs, schedules=schedules, uses=uses))
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
        item["schedule"]["cron"] for item in _dicts(workflow.get("triggers"))
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
    ref: str, definitions: dict[object, object], doc: _Map, path: str, triggers: set[str], needs: list[str],
    config: dict[object, object] | None, entry_line: int | None = None,
) -> CIJob:
    config = config or {}
    name = config.get("name") if isinstance(config.get("name"), str) else ref
    if config.get("type") == "approval":
        return _job(name, path, entry_line, triggers, [], needs=needs, manual=True)
    definition = definitions.get(ref)
    if not isinstance(definition, dict):
        commands = _uses_command(ref, config, entry_line) if "/" in ref else []
        return _job(name, path, entry_line, triggers, commands, uses=[ref] if "/" in ref else [], needs=needs)
    commands, uses = _circleci_steps(definition.get("steps"), doc, 0)
    return _job(name, path, _key_line(definitions, ref), triggers, commands, uses=uses, needs=needs)


def _circleci_steps(steps: object, doc: _Map, depth: int) -> tuple[list[CICommand], list[str]]:
    commands: list[CICommand] = []
    uses: list[str] = []
    reusable = doc.get("commands") if isinstance(doc.get("commands"), dict) else {}
    for index, step in enumerate(_list(steps)):
        key, value = _single_entry(step)
        if key == "run":
            if isinstance(value, dict):
                commands += _script(value.get("command"), _value_loc(value, "command"))
            else:
                commands += _script(value, _value_loc(step, "run"))
        elif key in ("when", "unless") and isinstance(value, dict) and depth < MAX_NESTING:
            inner = _circleci_steps(value.get("steps"), doc, depth + 1)
            commands, uses = commands + inner[0], uses + inner[1]
        elif isinstance(key, str) and key in reusable and isinstance(reusable[key], dict) and depth < MAX_NESTING:
            inner = _circleci_steps(reusable[key].get("steps"), doc, depth + 1)
            commands, uses = commands + inner[0], uses + inner[1]
        elif isinstance(key, str) and "/" in key:
            uses.append(key)
            commands += _uses_command(key, value, _value_loc(steps, index)[0])
    return commands, uses


# --- Bitbucket Pipelines ----------------------------------------------------------------------------------

BITBUCKET_SECTIONS = {"default": "push", "branches": "push", "pull-requests": "pull_request", "tags": "tag",
                      "custom": "manual"}


def _bitbucket(path: str, doc: _Map, files: _Files) -> list[CIWorkflow]:
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
    return [_workflow("bitbucket", path, PurePosixPath(path).name, triggers, jobs)]


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
            environment = _name_of(step.get("deployment")) or _name_of(stage.get("deployment"))
            jobs.append(_job(name, path, line, {trigger}, commands, environment=environment, uses=uses,
                             needs=previous, manual=manual))
            names.append(name)
        previous = names
    return jobs


def _bitbucket_script(step: dict[object, object]) -> tuple[list[CICommand], list[str]]:
    commands: list[CICommand] = []
    uses: list[str] = []
    for key in ("script", "after-script"):
        script = step.get(key)
        for index, entry in enumerate(_list(script)):
            if isinstance(entry, dict) and isinstance(entry.get("pipe"), str):
                uses.append(entry["pipe"])
                commands += _uses_command(entry["pipe"], entry.get("variables"), _value_loc(script, index)[0])
            else:
                commands += _script(entry, _value_loc(script, index))
    return commands, uses


StepGroup = list[tuple[dict[object, object], "int | None"]]


def _bitbucket_groups(
    items: object, stage: dict[object, object] | None
) -> Iterator[tuple[StepGroup, dict[object, object]]]:
    """Steps in order as groups (one step, or a parallel group), each with its enclosing stage (or {})."""
    for index, item in enumerate(_list(items)):
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("step"), dict):
            yield [(item["step"], _value_loc(items, index)[0])], stage or {}
        elif "parallel" in item:
            parallel = item["parallel"]
            steps = parallel.get("steps") if isinstance(parallel, dict) else parallel
            group = [(s["step"], _line(s)) for s in _dicts(steps) if isinstance(s.get("step"), dict)]
            if group:
                yield group, stage or {}
        elif isinstance(item.get("stage"), dict) and stage is None:
            yield from _bitbucket_groups(item["stage"].get("steps"), item["stage"])


# --- Google Cloud Build and AWS CodeBuild -----------------------------------------------------------------


def _cloudbuild(path: str, doc: _Map, files: _Files) -> list[CIWorkflow]:
    commands: list[CICommand] = []
    uses: list[str] = []
    for step in _dicts(doc.get("steps")):
        builder = step.get("name")
        if isinstance(builder, str):
            uses.append(builder)
        if "script" in step:
            commands += _script(step["script"], _value_loc(step, "script"))
            continue
        raw_args = step.get("args")
        args = [str(a) for a in raw_args if isinstance(a, (str, int, float))] if isinstance(
            raw_args, list
        ) else _strings(raw_args)
        program = step.get("entrypoint") if isinstance(step.get("entrypoint"), str) else builder
        if isinstance(program, str):
            text = " ".join([program, *(_quote(a) for a in args)])
            commands.append(CICommand(clip(text), _line(step), classify_command(text)))
    images = _strings(doc.get("images"))
    if images:
        commands.append(CICommand(clip("images: " + " ".join(images)), _key_line(doc, "images"), ("publish",)))
    name = PurePosixPath(path).stem
    job = _job(name, path, _key_line(doc, "steps"), {"other"}, commands, uses=uses)
    return [_workflow("cloudbuild", path, PurePosixPath(path).name, {"other"}, [job])]


def _quote(arg: str) -> str:
    return arg if re.fullmatch(r"[\w@%+=:,./${}\-]+", arg) else "'" + arg.replace("'", "'\"'\"'") + "'"


def _codebuild(path: str, doc: _Map, files: _Files) -> list[CIWorkflow]:
    phases = doc.get("phases")
    commands: list[CICommand] = []
    for phase in ("install", "pre_build", "build", "post_build"):
        config = phases.get(phase) if isinstance(phases, dict) else None
        if isinstance(config, dict):
            for key in ("commands", "finally"):
                commands += _script(config.get(key), _value_loc(config, key))
    job = _job(PurePosixPath(path).stem, path, _key_line(doc, "phases"), {"other"}, commands)
    return [_workflow("codebuild", path, PurePosixPath(path).name, {"other"}, [job])]


PARSERS: dict[str, Callable[[str, _Map, _Files], list[CIWorkflow]]] = {
    "github": _github,
    "gitlab": _gitlab,
    "azure": _azure,
    "circleci": _circleci,
    "bitbucket": _bitbucket,
    "cloudbuild": _cloudbuild,
    "codebuild": _codebuild,
}
