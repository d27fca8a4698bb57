"""From an audit to a plan: the failing rules pick steps, steps pull in the steps they need, and each step becomes
actions on files (create, merge, codemod, or a note for a person), all computed before anything is written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import git

from mlops_audit.audit import run_audit
from mlops_audit.errors import AuditError
from mlops_audit.facts import Facts, collect_facts
from mlops_audit.inventory import build_inventory
from mlops_audit.model import Assessment, Finding, Outcome
from mlops_audit.packs import find_rule
from mlops_audit.scaffold import actions
from mlops_audit.scaffold.actions import Action
from mlops_audit.scaffold.stack_choice import StackChoice, choose_stack
from mlops_audit.scaffold.steps import BY_NAME, CI_STEPS, PREDICATES, STEP_ORDER, Step

FAILING = (Outcome.FAIL, Outcome.PARTIAL)


@dataclass(frozen=True, slots=True)
class PlannedStep:
    step: Step
    actions: tuple[Action, ...]
    asked_by: tuple[Finding, ...]  # the selected failing rules that call for this step
    needed_by: tuple[str, ...]  # the planned steps that rely on it
    fixes: tuple[str, ...]  # failing rules expected to pass once it is applied
    defaults: tuple[str, ...]  # the stack choices it fits to, with their reasons
    helps: tuple[str, ...] = ()  # rules that asked for it but that the plan does not make pass


@dataclass(frozen=True, slots=True)
class Plan:
    root: Path
    assessment: Assessment
    target: int | None  # the level aimed at, or None when rules were named
    stack: StackChoice
    steps: tuple[PlannedStep, ...]
    by_hand: tuple[Finding, ...]  # selected failing rules no step scaffolds
    passing: tuple[str, ...] = field(default=())  # named rules that already pass

    @property
    def actions(self) -> tuple[Action, ...]:
        return tuple(action for step in self.steps for action in step.actions)

    @property
    def fixes(self) -> tuple[str, ...]:
        return tuple(sorted({rule for step in self.steps for rule in step.fixes}))


def build_plan(path: Path, to_level: int | None = None, rules: Sequence[str] = ()) -> Plan:
    """The plan for the repository at `path`: for the rules named, else for every failing rule up to `to_level`
    (default: the level above the one reached). Reads the repository; writes nothing."""
    root = Path(path).resolve()
    assessment = run_audit(root)
    facts = collect_facts(build_inventory(root))
    stack = choose_stack(facts, root.name)
    selected, passing, target = _select(assessment, to_level, rules)
    names = _closure({f.rule.scaffold for f in selected if f.rule.scaffold in BY_NAME}, facts, stack)
    failing = {f.rule.id for f in assessment.findings if f.outcome in FAILING}
    built = actions.build(root, facts, stack, [BY_NAME[name] for name in names], failing, _branch(root))
    steps = [_planned(BY_NAME[name], built, selected, names, failing, stack) for name in names if built.get(name)]
    fixed = {rule for step in steps for rule in step.fixes}
    steps = [replace(s, helps=tuple(f.rule.id for f in s.asked_by if f.rule.id not in fixed)) for s in steps]
    by_hand = tuple(f for f in selected if f.rule.scaffold not in BY_NAME)
    return Plan(root, assessment, target, stack, tuple(steps), by_hand, passing)


def _select(
    assessment: Assessment, to_level: int | None, rules: Sequence[str]
) -> tuple[list[Finding], tuple[str, ...], int | None]:
    findings = {f.rule.id: f for f in assessment.findings}
    if rules:
        chosen = []
        for key in rules:
            rule = find_rule((f.rule for f in assessment.findings), key)
            if rule is None:
                raise AuditError(f"no rule `{key}`; `mlops-audit rules` lists them")
            chosen.append(findings[rule.id])
        failing = [f for f in chosen if f.outcome in FAILING]
        passing = tuple(sorted({f.rule.id for f in chosen if f.outcome not in FAILING}))
        return failing, passing, None
    target = min(assessment.level + 1, 2) if to_level is None else to_level
    if not 0 <= target <= 2:
        raise AuditError(f"level {target} does not exist (0, 1 or 2)")
    selected = [
        f for f in assessment.findings if f.outcome in FAILING and (f.rule.level is None or f.rule.level <= target)
    ]
    return selected, (), target


def _closure(wanted: set[str], facts: Facts, stack: StackChoice) -> list[str]:
    """The wanted steps and those they need (unless the repository already provides it), in table order."""
    names, pending = set(), list(wanted)
    while pending:
        name = pending.pop()
        if name in names:
            continue
        names.add(name)
        for need in BY_NAME[name].needs:
            if need.unless is None or PREDICATES[need.unless](facts) is None:
                pending.append(need.step)
    if any(BY_NAME[name].packages for name in names):
        names.add("dependencies")
    if stack.ci == "gitlab" and names & CI_STEPS:
        names.add("gitlab-include")
    return sorted(names, key=STEP_ORDER.__getitem__)


def _planned(
    step: Step,
    built: dict[str, list[Action]],
    selected: list[Finding],
    names: list[str],
    failing: set[str],
    stack: StackChoice,
) -> PlannedStep:
    step_actions = built[step.name]
    done = all(action.done for action in step_actions)
    if step.name in CI_STEPS and stack.ci == "gitlab":
        done = done and all(action.done for action in built.get("gitlab-include", []))
    claimed = set(step.rules_fixed(stack)) if done else set()
    claimed |= {rule for action in step_actions for rule in action.fixes}
    return PlannedStep(
        step=step,
        actions=tuple(step_actions),
        asked_by=tuple(f for f in selected if f.rule.scaffold == step.name),
        needed_by=tuple(n for n in names if any(need.step == step.name for need in BY_NAME[n].needs)),
        fixes=tuple(sorted(claimed & failing)),
        defaults=tuple(f"{dimension}: {stack.reason(dimension)}" for dimension in step.uses),
    )


def _branch(root: Path) -> str:
    """The branch CI should watch: the checked-out one, `main` when unknown or detached."""
    try:
        with git.Repo(root, search_parent_directories=True) as repo:
            return repo.active_branch.name
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, TypeError, ValueError):
        return "main"

