"""The plan as text, and unified diffs of every file it would create or change."""

from __future__ import annotations

import difflib
import textwrap
from collections import Counter
from collections.abc import Iterable

from mlops_audit.scaffold.actions import Action
from mlops_audit.scaffold.plan import Plan, PlannedStep
from mlops_audit.scaffold.stack_choice import TITLES

VERBS = {"create": "create", "merge": "add to", "change": "change", "unchanged": "ok", "kept": "keep",
         "manual": "by hand", "note": "note"}
BY_HAND_LINES = 12
WIDTH = 115


def render_plan(plan: Plan) -> str:
    lines = [_heading(plan)]
    if not plan.assessment.applicable:
        lines.append("No ML code found: the maturity levels may not describe this repository.")
    lines += ["", "Stack"]
    lines += [f"  {dimension:<13} {_choice(plan, dimension)}" for dimension, _ in plan.stack.reasons]
    if plan.passing:
        lines += ["", "Already passing: " + ", ".join(plan.passing)]
    if plan.steps:
        lines += ["", f"Plan ({len(plan.steps)} steps)"]
        for number, step in enumerate(plan.steps, 1):
            lines += _step_lines(number, step)
    else:
        lines += ["", "Nothing to scaffold."]
    if plan.by_hand:
        lines += ["", "No scaffold for these rules (`mlops-audit explain <id>` says how to fix them)"]
        lines += [f"  {f.rule.id:<12} {f.rule.title}" for f in plan.by_hand]
    lines += ["", _summary(plan)]
    return "\n".join(lines) + "\n"


def _heading(plan: Plan) -> str:
    assessment = plan.assessment
    now = f"Level {assessment.level} (score {assessment.score:.2f})"
    aim = f"Level {plan.target}" if plan.target is not None else "the rules named"
    return f"mlops-audit scaffold · {plan.root.name}: {now} → {aim}"


def _choice(plan: Plan, dimension: str) -> str:
    stack = plan.stack
    if dimension == "package":
        return f"{stack.package} in {stack.package_dir}/ — {stack.reason(dimension)}"
    title = TITLES[getattr(stack, dimension)]
    return f"{title} — {stack.reason(dimension)}"


def _step_lines(number: int, planned: PlannedStep) -> list[str]:
    step = planned.step
    lines = [f"  {number}. {step.name} — {step.title}"]
    if planned.fixes:
        lines.append(f"     fixes     {', '.join(planned.fixes)}")
    if planned.helps:
        lines.append(f"     helps     {', '.join(planned.helps)} (finish by hand: `mlops-audit explain <id>`)")
    if planned.needed_by:
        lines.append(f"     needed by {', '.join(planned.needed_by)}")
    lines += [f"     fits      {reason}" for reason in planned.defaults]
    for action in planned.actions:
        lines.append(f"     {VERBS[action.kind]:<9} {action.path} — {action.detail}")
        lines += _by_hand(action.by_hand)
    if step.manual and any(action.kind != "unchanged" for action in planned.actions):
        lines += textwrap.wrap(step.manual, WIDTH, initial_indent="     then      ", subsequent_indent=" " * 15)
    return lines


def _by_hand(text: str) -> list[str]:
    shown = text.splitlines()[:BY_HAND_LINES]
    more = len(text.splitlines()) - len(shown)
    return [f"               | {line}" for line in shown] + ([f"               | … {more} more lines"] if more > 0 else [])


def _summary(plan: Plan) -> str:
    counts = Counter(action.kind for action in plan.actions)
    parts = [f"{counts[kind]} {label}" for kind, label in (
        ("create", "to create"), ("merge", "to merge into"), ("change", "to change"), ("manual", "by hand"),
        ("note", "notes"), ("kept", "kept"), ("unchanged", "already in place"),
    ) if counts[kind]]
    return "Files: " + (", ".join(parts) if parts else "none") + "."


def render_diffs(actions: list[Action]) -> str:
    """Unified diffs of the files the plan writes, and of the template against files left to a person."""
    chunks = []
    for action in actions:
        if action.after is None or action.after == action.before:
            continue
        before = (action.before or "").splitlines(keepends=True)
        after = action.after.splitlines(keepends=True)
        old = "/dev/null" if action.before is None else f"a/{action.path}"
        new = f"b/{action.path}" + (" (template: add by hand)" if action.kind == "manual" else "")
        chunks.append("".join(_terminated(difflib.unified_diff(before, after, old, new))))
    return "".join(chunks)


def _terminated(lines: Iterable[str]) -> list[str]:
    return [line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines]
