"""The diff gate: audit a base revision as well as the work tree and say what the change did to maturity.

The base revision is read from git's object database (`build_inventory_at`): nothing is checked out and the work
tree is left as it is. Git history facts are today's on both sides, so the delta reflects the change of the tree
only. Both sides are judged with the same options (rules, selection, configured suppressions).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlops_audit.audit import AuditOptions, audit_repository
from mlops_audit.inventory import build_inventory_at
from mlops_audit.model import Assessment, Finding, Outcome

RANKS = {Outcome.PASS: 2, Outcome.PARTIAL: 1, Outcome.FAIL: 0}


def audit_revision(path: str | Path, ref: str, options: AuditOptions = AuditOptions()) -> Assessment:
    """The assessment of `path` as it is in commit `ref`; `AuditError` when `ref` is not a commit."""
    with build_inventory_at(path, ref) as inventory:
        return audit_repository(inventory, options, f"{path}@{ref}")


@dataclass(frozen=True, slots=True)
class RuleChange:
    id: str
    title: str
    before: Outcome | None  # None when the rule did not run on the base
    after: Outcome | None


@dataclass(frozen=True, slots=True)
class Delta:
    applicable_before: bool
    applicable_after: bool
    level_before: int
    level_after: int
    score_before: float
    score_after: float
    newly_failing: tuple[RuleChange, ...]  # fails or partly passes now, and did better (or did not count) before
    newly_passing: tuple[RuleChange, ...]  # passes now, and failed or partly passed before
    coverage_before: tuple[float | None, ...] = ()  # per level 0, 1, 2
    coverage_after: tuple[float | None, ...] = ()

    def coverage_drops(self) -> list[tuple[int, float, float]]:
        """The levels whose coverage went down (as shown, in whole percent): (level, before, after)."""
        return [
            (level, old, new)
            for level, (old, new) in enumerate(zip(self.coverage_before, self.coverage_after))
            if old is not None and new is not None and round(new * 100) < round(old * 100)
        ]


def compare(base: Assessment, head: Assessment) -> Delta:
    """What changed from `base` to `head`. Suppressed, unknown and not-applicable findings do not count."""
    before = {f.rule.id: f for f in base.findings}
    failing, passing = [], []
    for finding in sorted(head.findings, key=lambda f: f.rule.id):
        old = before.get(finding.rule.id)
        now, then = _rank(finding), _rank(old)
        change = RuleChange(finding.rule.id, finding.rule.title, old.outcome if old else None, finding.outcome)
        if now is not None and now < 2 and (then is None or then > now):
            failing.append(change)
        elif now == 2 and then is not None and then < 2:
            passing.append(change)
    return Delta(
        applicable_before=base.applicable,
        applicable_after=head.applicable,
        level_before=base.level,
        level_after=head.level,
        score_before=base.score,
        score_after=head.score,
        newly_failing=tuple(failing),
        newly_passing=tuple(passing),
        coverage_before=_coverages(base),
        coverage_after=_coverages(head),
    )


def _coverages(assessment: Assessment) -> tuple[float | None, ...]:
    return tuple(score.coverage for score in sorted(assessment.levels, key=lambda s: s.level))


def _rank(finding: Finding | None) -> int | None:
    """2 pass, 1 partial, 0 fail; None when the finding does not count (absent, suppressed, n/a, unknown)."""
    if finding is None or finding.suppression is not None:
        return None
    return RANKS.get(finding.outcome)


def delta_lowers_maturity(delta: Delta) -> bool:
    """The level, the score (to two decimals) or a level's coverage (in whole percent) went down.

    Coverage counts because the score stops at 2.00: a Level-2 repository that drops a practice keeps its score
    but loses coverage. Never true when either side is not an ML project.
    """
    if not (delta.applicable_before and delta.applicable_after):
        return False
    return (
        delta.level_after < delta.level_before
        or round(delta.score_after, 2) < round(delta.score_before, 2)
        or bool(delta.coverage_drops())
    )


def render_delta(delta: Delta) -> str:
    """A few terse lines: the maturity change, then each rule newly failing and newly passing."""
    lines = [_headline(delta)]
    lines += [f"newly failing: {change.id} {change.title}" for change in delta.newly_failing]
    lines += [f"newly passing: {change.id} {change.title}" for change in delta.newly_passing]
    return "\n".join(lines) + "\n"


def _headline(delta: Delta) -> str:
    if not (delta.applicable_before and delta.applicable_after):
        before = _state(delta.applicable_before, delta.level_before, delta.score_before)
        after = _state(delta.applicable_after, delta.level_after, delta.score_after)
        return f"maturity: {before} → {after}"
    if delta_lowers_maturity(delta):
        verb = "lowered"
    elif delta.level_after > delta.level_before or round(delta.score_after, 2) > round(delta.score_before, 2):
        verb = "raised"
    else:
        return f"maturity unchanged: Level {delta.level_after} (score {delta.score_after:.2f})"
    level = f"Level {delta.level_before}" + (
        f" → Level {delta.level_after}" if delta.level_after != delta.level_before else ""
    )
    score = f"score {delta.score_before:.2f}" + (
        f" → {delta.score_after:.2f}" if round(delta.score_after, 2) != round(delta.score_before, 2) else ""
    )
    drops = "".join(f", Level {n} coverage {old:.0%} → {new:.0%}" for n, old, new in delta.coverage_drops())
    return f"maturity {verb}: {level}, {score}{drops}"


def _state(applicable: bool, level: int, score: float) -> str:
    return f"Level {level} (score {score:.2f})" if applicable else "not applicable (no ML code)"
