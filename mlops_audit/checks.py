"""Built-in checks: the few rule conditions that cannot be written declaratively.

Each check is a pure function of the facts and the rule's `params`, returning a `Verdict`. Checks that look for a
smell return true when they find it; rules wrap them in `not:`. Rules name a check with `builtin: NAME`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping

from mlops_audit.analyzers.ci import CIJob, CIWorkflow
from mlops_audit.analyzers.code import CallRef, LiteralRef
from mlops_audit.analyzers.data_versioning import DvcStage
from mlops_audit.analyzers.notebooks import Notebook
from mlops_audit.conditions import EVIDENCE_LIMIT, Builtin, Verdict
from mlops_audit.facts import CodeUnit, Facts
from mlops_audit.model import Evidence, clip

CODE_SITES = ("fit_calls", "persist_calls", "seed_calls", "absolute_paths")
START = r"(?<![a-z])"  # a name part starts here: `train` matches `src/train.py`, not `pretrained`

# Roles of pipeline-step modules, matched on a module's path and on the names of the functions it defines.
MODULE_ROLES = {
    "ingest": re.compile(START + r"(ingest|extract|download|fetch|acquire|make_dataset|load_data|get_data|read_data)"),
    "prepare": re.compile(START + r"(prepro|prepar|feature|featuri[sz]|transform|clean|split|process)"),
    "train": re.compile(START + r"(train|fit(?:[^a-z]|$))"),
    "evaluate": re.compile(START + r"(evaluat|eval(?:[^a-z]|$)|metric|validat|assess)"),
    "predict": re.compile(START + r"(predict|infer|serv|scor|batch)"),
    "gate": re.compile(
        START + r"(threshold|quality.?gate|gate(?:[^a-z]|$)|bless|validate.?model|model.?validation|check.?metric)"
    ),
}
PIPELINE_STEP_ROLES = ("ingest", "prepare", "train", "evaluate", "predict")

# Roles of the steps of a continuous-training pipeline (Google's Level-1 figure), matched on step names and commands.
STEP_ROLES = {
    "validate_data": re.compile(
        r"data.?valid|valid\w*.?data|schema|expectation|data.?check|check.?data|data.?quality|great.?expectations"
        r"|pandera|examplevalidator|qualitycheck"
    ),
    "train": re.compile(START + r"(train|fit(?:[^a-z]|$)|tun(e|ing))"),
    "evaluate": re.compile(START + r"(evaluat|eval(?:[^a-z]|$)|metric|score|assess)"),
    "gate": re.compile(
        r"gate|threshold|bless|model.?valid|valid\w*.?model|approv|champion|challenger|compare|condition"
    ),
    "register": re.compile(START + r"(regist|push|deploy|publish|promot|upload|release)"),
}
AMBIGUOUS_VALIDATION = re.compile(START + r"validat")
SCRIPT = re.compile(r"[\w./-]+\.(?:py|ipynb|sh|R)\b|-m\s+[\w.]+")  # the scripts or modules a command runs

# Decorators that turn a function into a pipeline step, and framework components that are steps by their class.
STEP_DECORATORS = frozenset(
    {
        "prefect.task", "airflow.decorators.task", "airflow.sdk.task", "zenml.step", "zenml.steps.step",
        "kfp.dsl.component", "kfp.dsl.container_component", "dagster.op", "dagster.asset", "flytekit.task",
        "metaflow.step", "sagemaker.workflow.function_step.step",
    }
)
COMPONENT_ROLES = {
    "ExampleValidator": "validate_data", "QualityCheckStep": "validate_data", "Trainer": "train",
    "TrainingStep": "train", "TuningStep": "train", "Evaluator": "evaluate", "ConditionStep": "gate",
    "Pusher": "register", "RegisterModel": "register", "ModelUploadOp": "register", "ModelDeployOp": "register",
}

# CI commands that deploy a pipeline definition (rather than a service).
PIPELINE_DEPLOY = re.compile(
    r"prefect\s+(--no-prompt\s+)?deploy|zenml\s+pipeline\s+(deploy|schedule)|databricks\s+bundle\s+deploy"
    r"|pyflyte\s+register|astro\s+deploy|dagster-cloud\s+deploy|argo-workflows\s+create|step-functions\s+create"
    r"|az\s+ml\s+(job|schedule)\s+create|gsutil\s+(-m\s+)?(rsync|cp)\b.*dags|upload_pipeline|\.upsert\("
    r"|run-pipeline\s+--module-name"  # SageMaker project templates: upserts the pipeline definition, then starts it
)
DISPATCH_CALLS = frozenset({"create_dispatch", "create_repository_dispatch"})
NON_DEPLOY_ENVIRONMENTS = frozenset({"github-pages", "pypi", "testpypi", "release", "docs", "documentation"})
DATA_PATH = re.compile(r"(^|/)(data|datasets?|raw)(/|$)|\.dvc$|dvc\.lock$")

PICKLE_LOADS = frozenset(
    {"pickle.load", "pickle.loads", "joblib.load", "pandas.read_pickle", "dill.load", "dill.loads",
     "cloudpickle.load", "cloudpickle.loads"}
)


# --- shared helpers -------------------------------------------------------------------------------------------


def _sorted(evidence: Iterable[Evidence]) -> tuple[Evidence, ...]:
    """Distinct evidence in report order, at most as many items as a declarative condition keeps."""
    return tuple(sorted(set(evidence), key=lambda e: e.sort_key))[:EVIDENCE_LIMIT]


def _verdict(evidence: Iterable[Evidence], detail: str = "") -> Verdict:
    found = _sorted(evidence)
    return Verdict(bool(found), found, detail)


def _listed(params: Mapping[str, Any], key: str, default: Iterable[str] = ()) -> tuple[str, ...]:
    value = params.get(key, default)
    return (value,) if isinstance(value, str) else tuple(value)


def _roles_match(roles: tuple[str, ...], wanted: str) -> bool:
    """The `roles` option of the condition language: exclude, any, test or example."""
    if wanted == "any":
        return True
    if wanted == "exclude":
        return not {"test", "example"} & set(roles)
    return wanted in roles


def _units(facts: Facts, params: Mapping[str, Any], roles: str = "exclude") -> Iterator[CodeUnit]:
    kinds = _listed(params, "in", ("python", "notebook"))
    wanted = params.get("roles", roles)
    for unit in facts.code_units():
        if unit.kind in kinds and _roles_match(unit.roles, wanted):
            yield unit


def _site_evidence(unit: CodeUnit, ref: CallRef | LiteralRef) -> Evidence:
    text = ref.value if isinstance(ref, LiteralRef) else (ref.snippet or ref.name)
    return Evidence(unit.path, ref.line, ref.cell, clip(text))


def _size(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.1f} kB"


def _summary(items: list[str], limit: int = 3) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


# --- code ---------------------------------------------------------------------------------------------------------


def code_sites(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """Sites of the kinds in `sites` (fit_calls, persist_calls, seed_calls, absolute_paths) in the sources
    selected by `in` (python, notebook) and `roles` (exclude, any, test, example)."""
    sites = [s for s in _listed(params, "sites", ("fit_calls",)) if s in CODE_SITES]
    evidence = [
        _site_evidence(unit, ref) for unit in _units(facts, params) for site in sites for ref in getattr(unit.code, site)
    ]
    paths = sorted({e.path for e in evidence})
    return _verdict(evidence, _summary(paths))


def unsafe_deserialization(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """Loads that can execute code: torch.load without weights_only=True, yaml.load without a Loader,
    yaml.unsafe_load, allow_pickle=True, trust_remote_code=True, safe_mode=False; pickle-family loads too when
    `include_pickle` is true."""
    include_pickle = bool(params.get("include_pickle", False))
    evidence = [
        _site_evidence(unit, call)
        for unit in _units(facts, params)
        for call in unit.code.calls
        if _unsafe_load(call) or (include_pickle and call.name in PICKLE_LOADS)
    ]
    return _verdict(evidence, _summary(sorted({e.snippet or "" for e in evidence})))


UNSAFE_BY_NAME = frozenset({"torch.load", "yaml.load", "yaml.unsafe_load"})


def _unsafe_load(call: CallRef) -> bool:
    if not call.literals and call.name not in UNSAFE_BY_NAME:
        return False  # most calls: decided without a look at their arguments
    literals = dict(call.literals)
    return (
        (call.name == "torch.load" and literals.get("weights_only") != "True")
        or (call.name == "yaml.load" and "Loader" not in call.keywords)
        or call.name == "yaml.unsafe_load"
        or literals.get("allow_pickle") == "True"
        or literals.get("trust_remote_code") == "True"
        or literals.get("safe_mode") == "False"
    )


def step_modules(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """Python modules (not notebooks, tests or examples) that implement steps: at least `min_roles` of the roles in
    `steps` (default ingest / prepare / train / evaluate / predict; also `gate`, a model-validation step), recognised
    from module paths and function names, from the pipeline components a module declares (a SageMaker
    `TrainingStep` running a built-in algorithm, a TFX `Trainer`), or from functions decorated as pipeline steps
    in any source, notebooks included; including every role in `require`."""
    counted = [role for role in _listed(params, "steps", PIPELINE_STEP_ROLES) if role in MODULE_ROLES]
    found = {role: list(evidence) for role, evidence in _module_steps(facts).items() if role in counted}
    for role, evidence in _declared_steps(facts, counted):
        found.setdefault(role, []).append(evidence)
    return _roles_verdict(found, params)


def _module_steps(facts: Facts) -> dict[str, tuple[Evidence, ...]]:
    """For every step role, the modules that implement it by their path, function names or components."""
    return facts.derive("module_steps", _find_module_steps)


def _find_module_steps(facts: Facts) -> dict[str, tuple[Evidence, ...]]:
    found: dict[str, list[Evidence]] = {}
    for file in facts.python.files:
        if file.notebook_like or not _roles_match(file.roles, "exclude"):
            continue
        if not (file.code.functions or file.code.has_main_guard):
            continue  # an empty stub is not a step
        module = file.path.lower().removesuffix(".py")
        functions = "\n".join(file.code.functions)
        lowered = functions.lower()
        for role, pattern in MODULE_ROLES.items():
            evidence = _module_role_evidence(file.path, module, functions, lowered, pattern)
            if evidence:
                found.setdefault(role, []).append(evidence)
        for call in file.code.calls:
            role = COMPONENT_ROLES.get(call.name.rpartition(".")[2])
            if role in MODULE_ROLES:
                found.setdefault(role, []).append(Evidence(file.path, call.line, snippet=clip(call.snippet)))
    return {role: tuple(evidence) for role, evidence in found.items()}


def _declared_steps(facts: Facts, counted: list[str]) -> Iterator[tuple[str, Evidence]]:
    """Functions decorated as pipeline steps (`@step`, `@task`, `@component`) wherever they are written, by their
    names: each runs as its own job, so it is a component even when a notebook declares it. (A component class
    in a notebook only points at a script, and does not count.)"""
    for unit in _units(facts, {}):
        for decorator in unit.code.decorators:
            if decorator.name in STEP_DECORATORS:
                for role in counted:
                    if MODULE_ROLES[role].search(decorator.target.lower()):
                        yield role, Evidence(unit.path, decorator.line, decorator.cell, clip(f"{decorator.target}()"))


def _module_role_evidence(
    path: str, module: str, functions: str, lowered: str, pattern: re.Pattern[str]
) -> Evidence | None:
    """The module's evidence of a step role: its path (`module`, lower-cased), else the names of its functions
    (`functions`, one a line, and `lowered`)."""
    if pattern.search(module):
        return Evidence(path)
    if not pattern.search(lowered):  # no pattern matches across a line break: one search says if any name matches
        return None
    names = sorted(name for name in functions.split("\n") if pattern.search(name.lower()))
    return Evidence(path, snippet=clip(", ".join(f"{n}()" for n in names)))


def _roles_verdict(found: Mapping[str, list[Evidence]], params: Mapping[str, Any]) -> Verdict:
    min_roles = int(params.get("min_roles", 1))
    required = _listed(params, "require")
    names = sorted(found)
    ok = len(names) >= min_roles and all(role in found for role in required)
    evidence = _sorted(e for role in names for e in found[role])
    detail = ", ".join(names) if names else "none"
    return Verdict(ok and bool(evidence), evidence if ok else (), detail)


def tested_modules(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """Test modules import project modules whose step role (see `step_modules`) is one of `steps` (default prepare)."""
    wanted = [MODULE_ROLES[r] for r in _listed(params, "steps", ("prepare",)) if r in MODULE_ROLES]
    modules = _project_modules(facts)
    evidence = []
    for unit in facts.code_units():
        if "test" not in unit.roles:
            continue
        for ref in unit.code.imports:
            target = _resolve_module(ref.module, modules)
            if target and any(p.search(target.lower().removesuffix(".py")) for p in wanted):
                evidence.append(Evidence(unit.path, ref.line, ref.cell, clip(f"imports {ref.module}")))
    return _verdict(evidence, _summary(sorted({e.path for e in evidence})))


def notebooks_import_project(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """Notebooks (not tests or examples) that import the project's own modules (`from src.features import ...`,
    `from churn.train import ...`), so experiments run the same code as the pipeline."""
    modules = _project_modules(facts)
    evidence = [
        Evidence(nb.path, ref.line, ref.cell, clip(f"imports {ref.module}"))
        for nb in _notebooks(facts)
        if _roles_match(nb.roles, "exclude")
        for ref in nb.code.imports
        if _resolve_module(ref.module, modules)
    ]
    return _verdict(evidence, _summary(sorted({e.path for e in evidence})))


def _project_modules(facts: Facts) -> dict[str, str]:
    """Dotted module names (with and without a leading `src.`) of the project's non-test modules, to their paths."""
    modules: dict[str, str] = {}
    for file in facts.python.files:
        if "test" in file.roles or not file.path.endswith(".py"):
            continue
        dotted = file.path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        modules[dotted] = file.path
        if dotted.startswith("src."):
            modules[dotted.removeprefix("src.")] = file.path
    return modules


def _resolve_module(module: str, modules: Mapping[str, str]) -> str | None:
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        path = modules.get(".".join(parts[:end]))
        if path:
            return path
    return None


def champion_comparison(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """Python modules (not notebooks, tests or examples) that compare a value of the production (champion) model
    with another computed value: the new model's metric against `production_model_mse`, `m_chall > m_champ`."""
    evidence = [
        Evidence(file.path, ref.line, snippet=ref.value)
        for file in facts.python.files
        if not file.notebook_like and _roles_match(file.roles, "exclude")
        for ref in file.champion_comparisons
    ]
    return _verdict(evidence, _summary(sorted({e.path for e in evidence})))


# --- pipelines ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Step:
    text: str  # lower-case name and command of the step
    evidence: Evidence


def pipeline_roles(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """The steps of the pipeline definitions (DVC stages, decorated task/step/component functions, Airflow operators,
    Kedro nodes, TFX and SageMaker components) cover at least `min_roles` of validate_data / train / evaluate /
    gate / register, including every role in `require`."""
    found: dict[str, list[Evidence]] = {}
    train_seen = False
    for step in _pipeline_steps(facts):
        roles = {role for role, pattern in STEP_ROLES.items() if pattern.search(step.text)}
        if not roles & {"validate_data", "gate"} and AMBIGUOUS_VALIDATION.search(step.text):
            roles.add("gate" if train_seen else "validate_data")  # a bare "validate" step: its place decides
        train_seen = train_seen or "train" in roles
        for role in roles:
            found.setdefault(role, []).append(step.evidence)
    return _roles_verdict(found, params)


def pipeline_trains(facts: Facts) -> bool:
    """Some step of a pipeline definition trains a model (by its name or command)."""
    return any(STEP_ROLES["train"].search(step.text) for step in _pipeline_steps(facts))


def _pipeline_steps(facts: Facts) -> tuple[_Step, ...]:
    return facts.derive("pipeline_steps", lambda facts: tuple(_find_pipeline_steps(facts)))


def _find_pipeline_steps(facts: Facts) -> Iterator[_Step]:
    for stage in facts.data.stages:
        yield _Step(_stage_text(stage), Evidence(stage.path, stage.line, snippet=clip(f"stage {stage.name}")))
    for unit in _units(facts, {}):
        for decorator in unit.code.decorators:
            if decorator.name in STEP_DECORATORS:
                evidence = Evidence(unit.path, decorator.line, decorator.cell, clip(f"{decorator.target}()"))
                yield _Step(decorator.target.lower(), evidence)
        for call in unit.code.calls:
            text = _call_step_text(call, call.name.rpartition(".")[2])
            if text:
                yield _Step(text, Evidence(unit.path, call.line, call.cell, clip(call.snippet or call.name)))


def _stage_text(stage: DvcStage) -> str:
    """A stage's name and the scripts its command runs (not its data arguments: `data/train.csv` is no step)."""
    return " ".join((stage.name, *_scripts(stage))).lower()


def _scripts(stage: DvcStage) -> list[str]:
    return [match.group(0) for command in stage.cmd for match in SCRIPT.finditer(command)]


def _call_step_text(call: CallRef, last: str) -> str | None:
    """Step text of a call (`last`, its name's last part) that declares a step: a component class, or an operator
    or node with a literal name."""
    role = COMPONENT_ROLES.get(last)
    if role or not call.literals:
        return role
    literals = dict(call.literals)
    if last.endswith("Operator") and "task_id" in literals:
        return literals["task_id"].strip("'\"").lower()
    if call.name == "kedro.pipeline.node" and "name" in literals:
        return literals["name"].strip("'\"").lower()
    return None


def dvc_validation_upstream(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """A DVC stage that validates data runs before a training stage: the training stage depends, directly or
    through other stages, on the validation stage's outputs (or runs the validation first in its own command)."""
    stages = {(s.path, s.name): s for s in facts.data.stages}
    producers = {(s.path, out): key for key, s in stages.items() for out in s.outs}
    evidence = []
    for key, stage in stages.items():
        text = _stage_text(stage)
        if not STEP_ROLES["train"].search(text):
            continue
        for upstream in _upstream(key, stages, producers):
            if _validates(_stage_text(stages[upstream])):
                evidence += [_stage_evidence(stages[upstream]), _stage_evidence(stage)]
        if _validates_before_training(_scripts(stage)):
            evidence.append(_stage_evidence(stage))
    return _verdict(evidence, _summary(sorted({e.snippet or "" for e in evidence})))


def _stage_evidence(stage: DvcStage) -> Evidence:
    return Evidence(stage.path, stage.line, snippet=clip(f"stage {stage.name}"))


def _validates(text: str) -> bool:
    return bool(STEP_ROLES["validate_data"].search(text) or AMBIGUOUS_VALIDATION.search(text))


def _validates_before_training(scripts: list[str]) -> bool:
    """One command runs a validation script, then a training script (`python validate.py && python train.py`)."""
    lowered = [script.lower() for script in scripts]
    validation = [i for i, s in enumerate(lowered) if _validates(s)]
    training = [i for i, s in enumerate(lowered) if STEP_ROLES["train"].search(s)]
    return bool(validation and training and min(validation) < max(training))


def _upstream(
    key: tuple[str, str], stages: Mapping[tuple[str, str], DvcStage], producers: Mapping[tuple[str, str], tuple[str, str]]
) -> set[tuple[str, str]]:
    """Every stage whose outputs the stage depends on, transitively (within the same dvc.yaml)."""
    seen: set[tuple[str, str]] = set()
    pending = [key]
    while pending:
        path, name = pending.pop()
        for dep in stages[(path, name)].deps:
            for (out_path, out), producer in producers.items():
                inside = dep == out or dep.startswith(out.rstrip("/") + "/")
                if out_path == path and inside and producer not in seen and producer != key:
                    seen.add(producer)
                    pending.append(producer)
    return seen


# --- environment ----------------------------------------------------------------------------------------------


def dependencies_pinned(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """A lock file exists, or at least `min_ratio` (default 0.9) of the declared requirements are pinned exactly."""
    environment = facts.environment
    if environment.lock_files:
        evidence = [Evidence(path, snippet="lock file") for path in environment.lock_files]
        return _verdict(evidence, "lock file " + _summary(sorted(environment.lock_files)))
    requirements = [r for m in environment.manifests for r in m.requirements]
    if not requirements:
        return Verdict(False, (), "no requirements declared")
    pinned = [r for r in requirements if r.pinned]
    ratio = len(pinned) / len(requirements)
    detail = f"{len(pinned)} of {len(requirements)} requirements pinned ({ratio:.0%})"
    unpinned = [Evidence(r.path, r.line, snippet=clip(f"{r.name}{r.spec}")) for r in requirements if not r.pinned]
    if ratio >= float(params.get("min_ratio", 0.9)):
        return Verdict(True, _sorted(Evidence(r.path, r.line) for r in pinned), detail)
    return Verdict(False, _sorted(unpinned), detail)


# --- notebooks ------------------------------------------------------------------------------------------------


def _notebooks(facts: Facts) -> Iterator[Notebook]:
    return (nb for nb in facts.notebooks.notebooks if nb.error is None)


def notebook_hidden_state(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """Executed notebooks with hidden state: a jump in execution counts between consecutive executed cells (cells run
    then deleted), or unexecuted code cells between executed ones."""
    evidence = []
    for nb in _notebooks(facts):
        counts = [c for c in nb.execution_counts if c is not None]
        gaps = [(a, b) for a, b in zip(counts, counts[1:]) if b - a > 1]
        if gaps:
            a, b = gaps[0]
            evidence.append(Evidence(nb.path, snippet=f"execution count jumps from {a} to {b}"))
        evidence += [Evidence(nb.path, cell=cell, snippet="code cell never executed") for cell in nb.unexecuted_cells]
    return _verdict(evidence, _summary(sorted({e.path for e in evidence})))


def notebook_installs(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """`!pip install`, `%pip install`, `!conda install` or `!apt-get` lines in notebooks."""
    evidence = [Evidence(nb.path, ref.line, ref.cell, clip(ref.value)) for nb in _notebooks(facts) for ref in nb.installs]
    return _verdict(evidence, _summary(sorted({e.path for e in evidence})))


def notebook_late_imports(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """Imports in a later cell than a notebook's first importing cell (imports belong together at the top)."""
    evidence = []
    for nb in _notebooks(facts):
        cells = [ref.cell for ref in nb.code.imports if ref.cell is not None]
        if cells:
            first = min(cells)
            evidence += [
                Evidence(nb.path, ref.line, ref.cell, clip(f"import {ref.module}"))
                for ref in nb.code.imports
                if ref.cell is not None and ref.cell > first
            ]
    return _verdict(evidence, _summary(sorted({e.path for e in evidence})))


def notebook_narrative(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """Notebooks with at least `min_code_cells` (default 5) code cells but fewer than `min_ratio` (default 0.3)
    markdown cells per code cell: code without narrative."""
    min_cells = int(params.get("min_code_cells", 5))
    min_ratio = float(params.get("min_ratio", 0.3))
    evidence = [
        Evidence(nb.path, snippet=f"{nb.markdown_cells} markdown cells for {nb.code_cells} code cells")
        for nb in _notebooks(facts)
        if nb.code_cells >= min_cells and nb.markdown_cells / nb.code_cells < min_ratio
    ]
    return _verdict(evidence, _summary(sorted({e.path for e in evidence})))


# --- data and artifacts ---------------------------------------------------------------------------------------


def committed_artifacts(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """Data or model files (`kind`: data, model or any) committed to git as plain blobs, neither git-lfs pointers
    nor DVC-tracked, of at least `min_size` bytes, in files selected by `roles` (default exclude)."""
    kind = params.get("kind", "any")
    min_size = int(params.get("min_size", 0))
    roles = {f.path: f.roles for f in facts.files}
    found = [
        a
        for a in facts.data.artifacts
        if a.tracked and not a.lfs_pointer and not a.dvc_tracked and a.size >= min_size
        and kind in ("any", a.kind) and _roles_match(roles.get(a.path, ()), params.get("roles", "exclude"))
    ]
    evidence = [Evidence(a.path, snippet=_size(a.size)) for a in found]
    return _verdict(evidence, _summary([f"{a.path} ({_size(a.size)})" for a in sorted(found, key=lambda a: a.path)]))


# --- CI -------------------------------------------------------------------------------------------------------


def _jobs(facts: Facts, params: Mapping[str, Any]) -> Iterator[tuple[CIWorkflow, CIJob]]:
    """Jobs that some trigger in `triggers` can run and that have one of the `kinds` (no filter when absent).
    The trigger `dispatch` stands for a GitHub workflow started through the API (`workflow_dispatch`,
    `repository_dispatch`) by code of the repository itself (see `_dispatching_code`)."""
    triggers = set(_listed(params, "triggers"))
    kinds = set(_listed(params, "kinds"))
    dispatched = "dispatch" in triggers and bool(_dispatching_code(facts))
    for workflow in facts.ci.workflows:
        for job in workflow.jobs:
            started = set(job.triggers)
            if dispatched and workflow.system == "github" and "manual" in started:
                started.add("dispatch")
            if (not triggers or triggers & started) and (not kinds or kinds & set(job.kinds)):
                yield workflow, job


def _dispatching_code(facts: Facts) -> tuple[Evidence, ...]:
    """Code of the repository that starts GitHub workflows through the API: PyGithub's `create_dispatch`, or a
    request to a `/dispatches` endpoint (a Lambda reacting to a model approval, a scheduler)."""
    return facts.derive("dispatching_code", _find_dispatching_code)


def _find_dispatching_code(facts: Facts) -> tuple[Evidence, ...]:
    evidence = [
        _site_evidence(unit, call)
        for unit in _units(facts, {"in": "python"})
        for call in unit.code.calls
        if call.name.rpartition(".")[2] in DISPATCH_CALLS or _dispatches_to(call.args)
    ]
    return _sorted(evidence)


def _dispatches_to(args: tuple[str | None, ...]) -> bool:
    for value in args:
        if value is not None and "/dispatches" in value:
            return True
    return False


def _job_evidence(job: CIJob, text: str) -> Evidence:
    return Evidence(job.path, job.line, snippet=clip(f"{job.name}: {text}"))


def ci_steps(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """CI jobs run by one of `triggers` and having one of `kinds` (both optional) with a command matching the regex
    `command` or a referenced action, orb or template matching the regex `uses`."""
    command = re.compile(params["command"], re.IGNORECASE) if params.get("command") else None
    uses = re.compile(params["uses"], re.IGNORECASE) if params.get("uses") else None
    evidence = []
    for _, job in _jobs(facts, params):
        if command:
            evidence += [
                Evidence(job.path, c.line or job.line, snippet=clip(c.text)) for c in job.commands
                if _mentions(command, c.text)
            ]
        if uses:
            evidence += [_job_evidence(job, u) for u in job.uses if uses.search(u)]
    return _verdict(evidence, _summary(sorted({e.snippet or "" for e in evidence})))


@functools.lru_cache(maxsize=1 << 14)  # the same commands are searched in every view of a monorepo
def _mentions(pattern: re.Pattern[str], text: str) -> bool:
    return pattern.search(text) is not None


def ci_deploys(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """CI jobs run by one of `triggers` that deploy: a deploy command, a pipeline deployment (prefect deploy,
    zenml pipeline deploy, databricks bundle deploy, DAG sync, ...) or a deployment environment. With
    `pipeline_only`, only pipeline deployments count: they compile and publish the pipeline definition."""
    pipeline_only = bool(params.get("pipeline_only", False))
    evidence = []
    for _, job in _jobs(facts, params):
        if job.environment and job.environment.lower() in NON_DEPLOY_ENVIRONMENTS:
            continue  # publishing documentation or a package is not delivering the pipeline or the model
        pipeline = [c for c in job.commands if PIPELINE_DEPLOY.search(c.text)]
        if pipeline:
            evidence.append(Evidence(job.path, pipeline[0].line or job.line, snippet=clip(pipeline[0].text)))
        elif pipeline_only:
            continue
        elif "deploy" in job.kinds:
            evidence.append(_job_evidence(job, "deploys"))
        elif _deploy_environment(job):
            evidence.append(_job_evidence(job, f"environment {job.environment}"))
    return _verdict(evidence, _summary(sorted({e.snippet or "" for e in evidence})))


def _deploy_environment(job: CIJob) -> bool:
    return bool(job.environment) and job.environment.lower() not in NON_DEPLOY_ENVIRONMENTS


def ci_promotion_chain(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """Deployment is promoted through a gate: a deploying job waits for manual approval, or a job deploying to one
    environment waits (through `needs`) for a job deploying to another (staging, then production)."""
    evidence = []
    for workflow in facts.ci.workflows:
        jobs = {job.name: job for job in workflow.jobs}
        for job in workflow.jobs:
            deploying = _deploy_environment(job) or "deploy" in job.kinds
            if deploying and job.manual_approval:
                evidence.append(_job_evidence(job, "manual approval before deploying"))
            if not _deploy_environment(job):
                continue
            for name in _needed(job.name, jobs):
                earlier = jobs[name]
                if _deploy_environment(earlier) and earlier.environment != job.environment:
                    evidence += [
                        _job_evidence(earlier, f"environment {earlier.environment}"),
                        _job_evidence(job, f"environment {job.environment}, after {earlier.name}"),
                    ]
    return _verdict(evidence, _summary(sorted({e.snippet or "" for e in evidence})))


def _needed(name: str, jobs: Mapping[str, CIJob]) -> set[str]:
    """The jobs a job waits for, transitively."""
    seen: set[str] = set()
    pending = list(jobs[name].needs)
    while pending:
        current = pending.pop()
        if current in jobs and current not in seen:
            seen.add(current)
            pending += jobs[current].needs
    return seen


def ci_data_triggered_training(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """A CI job that trains runs when data changes (a push filtered on data paths, `*.dvc` or `dvc.lock`) or when
    another workflow completes (`workflow_run`)."""
    evidence = []
    for workflow in facts.ci.workflows:
        data_filters = [p for p in workflow.path_filters if DATA_PATH.search(p.rstrip("*/").rstrip("/"))]
        for job in workflow.jobs:
            if "train" not in job.kinds:
                continue
            if data_filters and "push" in job.triggers:
                evidence.append(_job_evidence(job, "on push to " + _summary(sorted(data_filters))))
            if "workflow_run" in job.triggers:
                evidence.append(_job_evidence(job, "on workflow_run"))
    return _verdict(evidence, _summary(sorted({e.snippet or "" for e in evidence})))


BUILTINS: dict[str, Builtin] = {
    check.__name__: check
    for check in (
        code_sites,
        unsafe_deserialization,
        step_modules,
        tested_modules,
        notebooks_import_project,
        champion_comparison,
        pipeline_roles,
        dvc_validation_upstream,
        dependencies_pinned,
        notebook_hidden_state,
        notebook_installs,
        notebook_late_imports,
        notebook_narrative,
        committed_artifacts,
        ci_steps,
        ci_deploys,
        ci_promotion_chain,
        ci_data_triggered_training,
    )
}
