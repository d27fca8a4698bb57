"""From findings to an assessment: per-level and per-category coverage, the level reached and the score.

- Credit of a finding: pass 1, partial 0.5, fail 0; not-applicable and unknown findings do not count, and
  neither do suppressed findings (counted as not applicable: the team has decided to accept them).
- Coverage of a set of findings = Σ weight × credit / Σ weight over the counted ones (None when none count).
- A level's gate passes when each of its gate rules without a `gate_group` passes, and at least one rule of each
  of its `gate_group`s passes. A group gates the highest level among its rules (a Level-1 practice may be one of
  the ways to meet a Level-2 gate) while each rule still counts towards its own level's coverage. Level 0 has no
  gates. A suppressed gate rule still does not meet its gate: a level is evidence of a capability, while a
  suppression records a decision.
- The level reached is the highest level whose gate passes together with the gates of every level below.
- score = level reached + coverage of the next level (2.0 at Level 2), so it lies in [0, 2]. While the next
  level's gates are not met its coverage counts at most 0.99, so the integer part is always the level reached.
- Counts are per outcome (a suppressed finding keeps its outcome), plus `suppressed` when any is.
Turning a fail into a pass, or suppressing a fail, never lowers a coverage, the level or the score (property-tested).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from mlops_audit.analyzers.git_history import GitFacts
from mlops_audit.dimensions import dimensions
from mlops_audit.ml_test_score import ml_test_score
from mlops_audit.model import (
    Assessment,
    CategoryScore,
    DetectedTool,
    Finding,
    LevelScore,
    Note,
    Outcome,
)
from mlops_audit.packs import CATEGORIES

LEVELS = (0, 1, 2)
NEXT_LEVEL_CAP = 0.99


def coverage(findings: Iterable[Finding]) -> float | None:
    counted = [
        (f.rule.weight, f.outcome.value_credit)
        for f in findings
        if f.outcome.value_credit is not None and f.suppression is None
    ]
    total = sum(weight for weight, _ in counted)
    if not total:
        return None
    return sum(weight * credit for weight, credit in counted if credit is not None) / total


def _counts(findings: Iterable[Finding]) -> dict[str, int]:
    items = list(findings)
    counted = Counter(f.outcome.value for f in items)
    counts = {outcome.value: counted.get(outcome.value, 0) for outcome in Outcome}
    suppressed = sum(1 for f in items if f.suppression is not None)
    return (counts | {"suppressed": suppressed}) if suppressed else counts


def failed_gates(findings: Iterable[Finding]) -> tuple[str, ...]:
    """The gates not met: rule ids, and the name of each group none of whose rules passes."""
    gates = [f for f in findings if f.rule.gate]
    failed = [f.rule.id for f in gates if f.rule.gate_group is None and f.outcome is not Outcome.PASS]
    groups: dict[str, list[Finding]] = {}
    for finding in gates:
        if finding.rule.gate_group is not None:
            groups.setdefault(finding.rule.gate_group, []).append(finding)
    for group, members in sorted(groups.items()):
        if not any(m.outcome is Outcome.PASS for m in members):
            failed.append(group)
    return tuple(failed)


def gated_level(finding: Finding, group_levels: dict[str, int]) -> int | None:
    """The level a gate rule gates: its own, or its group's highest."""
    if finding.rule.gate_group is not None:
        return group_levels[finding.rule.gate_group]
    return finding.rule.level


def score_levels(findings: list[Finding]) -> tuple[LevelScore, ...]:
    group_levels: dict[str, int] = {}
    for finding in findings:
        if finding.rule.gate_group is not None and finding.rule.level is not None:
            group = finding.rule.gate_group
            group_levels[group] = max(group_levels.get(group, 0), finding.rule.level)
    scores = []
    for level in LEVELS:
        mine = [f for f in findings if f.rule.level == level]
        unmet = failed_gates(f for f in findings if f.rule.gate and gated_level(f, group_levels) == level)
        scores.append(LevelScore(level, coverage(mine), not unmet, unmet, _counts(mine)))
    return tuple(scores)


def level_reached(levels: tuple[LevelScore, ...]) -> int:
    reached = 0
    for level in levels[1:]:
        if not level.gate_passed:
            break
        reached = level.level
    return reached


def score(level: int, levels: tuple[LevelScore, ...]) -> float:
    if level >= LEVELS[-1]:
        return float(LEVELS[-1])
    return level + min(levels[level + 1].coverage or 0.0, NEXT_LEVEL_CAP)


def score_categories(findings: list[Finding]) -> tuple[CategoryScore, ...]:
    by_category: dict[str, list[Finding]] = {}
    for finding in findings:
        by_category.setdefault(finding.rule.category, []).append(finding)
    order = list(CATEGORIES)
    return tuple(
        CategoryScore(code, CATEGORIES.get(code, code), coverage(members), _counts(members))
        for code, members in sorted(by_category.items(), key=lambda item: order.index(item[0]))
    )


def assess(
    root: str,
    applicable: bool,
    findings: list[Finding],
    stack: tuple[DetectedTool, ...],
    notes: tuple[Note, ...],
    git: GitFacts | None = None,
) -> Assessment:
    levels = score_levels(findings)
    level = level_reached(levels) if applicable else 0
    return Assessment(
        root=root,
        applicable=applicable,
        level=level,
        score=round(score(level, levels), 4) if applicable else 0.0,
        levels=levels,
        categories=score_categories(findings),
        stack=stack,
        findings=tuple(findings),
        notes=notes,
        dimensions=dimensions(findings, git) if applicable else (),
        ml_test_score=ml_test_score(findings) if applicable else None,
    )
