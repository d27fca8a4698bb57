"""Each planned step as actions on files: what to create, merge or change, and what a person must do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_audit.analyzers.code import extract_code_facts
from mlops_audit.facts import Facts
from mlops_audit.scaffold import files
from mlops_audit.scaffold.codemods import Rewrite
from mlops_audit.scaffold.codemods.notebooks import extract_notebook, module_name
from mlops_audit.scaffold.codemods.paths import replace_paths
from mlops_audit.scaffold.codemods.seeds import add_seeds
from mlops_audit.scaffold.context import DEFAULT_PATHS, PACKAGING, SEED, build_context
from mlops_audit.scaffold.merge import Merge, merge_gitlab_include, merge_lines, merge_requirements, merge_yaml_keys
from mlops_audit.scaffold.stack_choice import StackChoice
from mlops_audit.scaffold.steps import CI_STEPS, KEEP, LINES, PREDICATES, Step, distribution
from mlops_audit.scaffold.templates import render

WRITES = frozenset({"create", "merge", "change"})
DONE = WRITES | {"unchanged", "note"}
MANIFEST_KINDS = frozenset({"pep621", "poetry", "pdm", "setup.cfg", "setup.py", "conda", "pipfile"})


@dataclass(frozen=True, slots=True)
class Action:
    """One file's fate. Kinds: create, merge (lines added), change (codemod), unchanged, kept (an existing file
    plays the part), manual (the file could not be written: `by_hand` says what to add), note (a task for a person)."""

    path: str
    kind: str
    detail: str
    before: str | None = None
    after: str | None = None
    fixes: tuple[str, ...] = ()  # rules this action alone makes pass (codemods)
    by_hand: str = ""

    @property
    def writes(self) -> bool:
        return self.kind in WRITES

    @property
    def done(self) -> bool:
        return self.kind in DONE


def build(
    root: Path, facts: Facts, stack: StackChoice, steps: Sequence[Step], failing: set[str], branch: str
) -> dict[str, list[Action]]:
    """The actions of every step, by step name."""
    planned = {step.name for step in steps}
    codemods: dict[str, list[Action]] = {}
    extra_paths: dict[str, str] = {}
    for step in steps:
        edits = _Edits(root)
        for codemod in step.codemods:
            if codemod.trigger in failing:
                found, entries = CODEMODS[codemod.name](edits, facts, stack)
                codemods.setdefault(step.name, []).extend(found)
                extra_paths.update(entries)
        codemods.setdefault(step.name, []).extend(edits.actions())
    targets = {step.name: _targets(step, stack) for step in steps}
    present = {name for name in (*PACKAGING, "requirements.txt") if (root / name).exists()}
    present |= {path for paths in targets.values() for _, path, _ in paths}
    if "dependencies" in planned and _requirements_target(facts) == "create":
        present.add("requirements.txt")
    context = build_context(stack, facts, present, extra_paths, branch)
    built: dict[str, list[Action]] = {}
    for step in steps:
        existing = PREDICATES[step.existing](facts) if step.existing else None
        if existing is not None:
            built[step.name] = [Action(existing, "manual", "already does this step's job: add by hand what it lacks")]
            continue
        found = [_file_action(root, path, render(template, context), mode) for template, path, mode in targets[step.name]]
        built[step.name] = found + codemods.get(step.name, [])
    _aggregate(root, facts, stack, steps, built, context)
    return built


def _targets(step: Step, stack: StackChoice) -> list[tuple[str, str, str]]:
    """(template, repository path, mode) of the step's files for this stack."""
    values = {"package_dir": stack.package_dir, "package": stack.package, "pipeline_path": stack.pipeline_path}
    return [(spec.template, spec.path.format(**values), spec.mode) for spec in step.planned_files(stack)]


def _read(root: Path, path: str) -> tuple[str | None, Action | None]:
    """The file's text, or the manual action that replaces writing it when it cannot be touched safely."""
    try:
        return files.read_text(root, path), None
    except files.UnsafePath as error:
        return None, Action(path, "manual", f"not written: {error}")


def _file_action(root: Path, path: str, content: str, mode: str) -> Action:
    existing, refused = _read(root, path)
    if refused is not None:
        return refused
    if existing is None:
        return Action(path, "create", "new file", None, content)
    if existing == content:
        return Action(path, "unchanged", "already in place", existing, existing)
    if mode == KEEP:
        return Action(path, "kept", "exists: yours is kept", existing)
    if mode == LINES:
        return _merge_action(path, existing, merge_lines(existing, content), "entries added")
    return Action(path, "manual", "exists: add by hand what it lacks", existing, content, by_hand=_lacking(existing, content))


def _lacking(existing: str, content: str) -> str:
    present = {line.strip() for line in existing.splitlines()}
    return "\n".join(line for line in content.splitlines() if line.strip() and line.strip() not in present)


def _merge_action(path: str, existing: str, merge: Merge, what: str) -> Action:
    if merge.text is None:
        return Action(path, "manual", "exists: add by hand", existing, by_hand=merge.by_hand)
    if merge.text == existing:
        return Action(path, "unchanged", "already in place", existing, existing, by_hand=merge.by_hand)
    added = len(merge.text.splitlines()) - len(existing.splitlines())
    return Action(path, "merge", f"{what} ({added} lines)", existing, merge.text, by_hand=merge.by_hand)


# --- files shared by several steps ------------------------------------------------------------------------------


def _aggregate(
    root: Path,
    facts: Facts,
    stack: StackChoice,
    steps: Sequence[Step],
    built: dict[str, list[Action]],
    context: dict[str, Any],
) -> None:
    """The files several steps feed: params.yaml, requirements.txt and the GitLab include."""
    names = {step.name for step in steps}
    if "params" in names:
        keys = {key for step in steps for key in step.params} | ({"paths"} if context["paths"] != DEFAULT_PATHS else set())
        built["params"].insert(0, _params_action(root, render("params/params.yaml.j2", context), keys))
    if "dependencies" in names:
        requirements = sorted({distribution(p, stack) for step in steps for p in step.packages})
        built["dependencies"] = [_requirements_action(root, facts, requirements)]
    if "gitlab-include" in names:
        included = sorted(
            a.path for name in CI_STEPS & names for a in built[name] if a.path.startswith(".gitlab/ci/") and a.done
        )
        built["gitlab-include"] = [_include_action(root, included)] if included else []


def _params_action(root: Path, template: str, keys: set[str]) -> Action:
    existing, refused = _read(root, "params.yaml")
    if refused is not None:
        return refused
    if existing is None:
        return Action("params.yaml", "create", "new file", None, template)
    return _merge_action("params.yaml", existing, merge_yaml_keys(existing, template, keys), "keys added")


def _requirements_target(facts: Facts) -> str:
    """Where the generated code's requirements go: requirements.txt (merged or created), or a person."""
    if any(m.path == "requirements.txt" for m in facts.environment.manifests):
        return "merge"
    if any(m.kind in MANIFEST_KINDS and m.requirements for m in facts.environment.manifests):
        return "manual"
    return "create"


def _requirements_action(root: Path, facts: Facts, requirements: list[str]) -> Action:
    existing, refused = _read(root, "requirements.txt")
    if refused is not None:
        return refused
    if existing is None and _requirements_target(facts) == "manual":
        manifests = ", ".join(sorted({m.path for m in facts.environment.manifests if m.kind in MANIFEST_KINDS}))
        return Action(manifests, "note", "add the generated code's requirements", by_hand="\n".join(requirements))
    if existing is None:
        return Action("requirements.txt", "create", "new file", None, "\n".join(requirements) + "\n")
    return _merge_action("requirements.txt", existing, merge_requirements(existing, requirements), "requirements added")


def _include_action(root: Path, included: list[str]) -> Action:
    existing, refused = _read(root, ".gitlab-ci.yml")
    if refused is not None:
        return refused
    return _merge_action(".gitlab-ci.yml", existing or "", merge_gitlab_include(existing or "", included), "include added")


# --- codemods -------------------------------------------------------------------------------------------------


class _Edits:
    """Codemod rewrites of the user's files, chained: a second codemod starts from the first one's text."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.original: dict[str, str | None] = {}
        self.current: dict[str, str] = {}
        self.changes: dict[str, list[str]] = {}
        self.fixes: dict[str, set[str]] = {}
        self.refused: dict[str, Action] = {}

    def text(self, path: str) -> str | None:
        if path not in self.original:
            text, refused = _read(self.root, path)
            self.original[path] = text
            if refused is not None:
                self.refused[path] = refused
            elif text is not None:
                self.current[path] = text
        return self.current.get(path)

    def apply(self, path: str, rewrite: Rewrite) -> None:
        if rewrite.changed:
            self.current[path] = rewrite.text
            self.changes.setdefault(path, []).extend(rewrite.changes)

    def claim(self, path: str, rules: tuple[str, ...]) -> None:
        self.fixes.setdefault(path, set()).update(rules)

    def actions(self) -> list[Action]:
        found = [
            Action(path, "change", "; ".join(changes), self.original[path], self.current[path],
                   tuple(sorted(self.fixes.get(path, ()))))
            for path, changes in sorted(self.changes.items())
        ]
        return found + [self.refused[path] for path in sorted(self.refused)]


def _project_python(facts: Facts) -> list[str]:
    return [
        f.path for f in facts.python.files
        if not f.roles and not f.notebook_like and f.code.syntax_error is None and f.path.endswith(".py")
    ]


def _seed(edits: _Edits, facts: Facts, stack: StackChoice) -> tuple[list[Action], dict[str, str]]:
    """Seed the project's training modules."""
    by_path = {f.path: f for f in facts.python.files}
    for path in _project_python(facts):
        text = edits.text(path) if by_path[path].code.fit_calls else None
        if text is not None:
            rewrite = add_seeds(text, SEED)
            edits.apply(path, rewrite)
            if rewrite.changed and extract_code_facts(rewrite.text).seed_calls:
                edits.claim(path, ("L1-ENV-04",))
    return [], {}


def _replace_paths(edits: _Edits, facts: Facts, stack: StackChoice) -> tuple[list[Action], dict[str, str]]:
    """Absolute paths in the project's modules → params.yaml; notebooks get a note."""
    known = [f.path for f in facts.files]
    by_path = {f.path: f for f in facts.python.files}
    taken, entries, rewritten, left = set(DEFAULT_PATHS), {}, [], False
    for path in _project_python(facts):
        if not by_path[path].code.absolute_paths:
            continue
        text = edits.text(path)
        rewrite = replace_paths(text, taken, known) if text is not None else None
        left = left or rewrite is None or bool(extract_code_facts(rewrite.text).absolute_paths)
        if rewrite is not None and rewrite.changed:
            edits.apply(path, rewrite)
            rewritten.append(path)
            entries.update(rewrite.paths)
            taken |= set(entries)
    notes = _notebook_path_notes(facts)
    for path in rewritten if not (left or notes) else ():
        edits.claim(path, ("L0-NB-05",))
    return notes, entries


def _notebook_path_notes(facts: Facts) -> list[Action]:
    notes = []
    for notebook in facts.notebooks.notebooks:
        sites = notebook.code.absolute_paths if not notebook.roles else ()
        if sites:
            cells = ", ".join(sorted({str(ref.cell) for ref in sites if ref.cell is not None}))
            values = ", ".join(sorted({ref.value for ref in sites}))
            notes.append(Action(notebook.path, "note", f"absolute paths in cell(s) {cells}: {values}",
                                by_hand="Read them from params.yaml (`paths`), as the extracted module does."))
    return notes


def _extract_notebooks(edits: _Edits, facts: Facts, stack: StackChoice) -> tuple[list[Action], dict[str, str]]:
    """Each training notebook as a module of the package, seeded and reading its paths from params.yaml."""
    known = [f.path for f in facts.files]
    taken: set[str] = set(DEFAULT_PATHS)
    found, entries = [], {}
    for notebook in facts.notebooks.notebooks:
        if notebook.roles or notebook.error or not notebook.code.fit_calls:
            continue
        text, refused = _read(edits.root, notebook.path)
        extracted = extract_notebook(notebook.path, text) if text is not None and refused is None else None
        if extracted is None:
            continue
        module = replace_paths(add_seeds(extracted.text, SEED).text, taken, known)
        taken |= {name for name, _ in module.paths}
        entries.update(module.paths)
        action = _file_action(edits.root, f"{stack.package_dir}/{module_name(notebook.path)}.py", module.text, KEEP)
        if action.kind == "create":
            trains = bool(extract_code_facts(module.text).fit_calls)
            detail = f"from {notebook.path}: " + "; ".join(extracted.changes)
            action = Action(action.path, "create", detail, None, module.text, ("L0-NB-01",) if trains else ())
        found.append(action)
    return found, entries


CODEMODS = {"seeds": _seed, "paths": _replace_paths, "notebooks": _extract_notebooks}
