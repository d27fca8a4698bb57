"""The CI quality gate: which of the user's thresholds an assessment misses.

`fail_on` fails the gate when any unsuppressed finding has a severity at or above it (gate > error > warning):

- **gate**: a failing or partial gate rule whose gate is not met (a rule of a `gate_group` that another member
  meets is not a gate failure);
- **error**: any other failing rule of weight 1 or more;
- **warning**: any other partial finding, and failing advisory rules (weight below 1).

Passing, not-applicable and unknown findings have no severity, and nothing fails `fail_on` in a repository the
levels do not describe (no ML code). `only` restricts `fail_on` to some rule ids (the new findings, against a
baseline); `fail_under` and `min_level` always judge the whole assessment.
"""

from __future__ import annotations

from collections.abc import Collection

from mlops_audit.model import Assessment, Finding, Outcome

SEVERITIES = ("gate", "error", "warning")  # most severe first
SHOWN = 10


def severity(finding: Finding, unmet_gates: Collection[str]) -> str | None:
    """The severity of a finding; `unmet_gates` are the rule ids and group names of the gates not met."""
    if finding.outcome not in (Outcome.FAIL, Outcome.PARTIAL):
        return None
    rule = finding.rule
    if rule.gate and (rule.id in unmet_gates or rule.gate_group in unmet_gates):
        return "gate"
    if finding.outcome is Outcome.FAIL and rule.weight >= 1:
        return "error"
    return "warning"


def severities(assessment: Assessment) -> dict[str, str]:
    """The severity of each unsuppressed finding that has one, by rule id; none when the levels do not apply."""
    if not assessment.applicable:
        return {}
    unmet = {gate for level in assessment.levels for gate in level.failed_gates}
    found = {f.rule.id: severity(f, unmet) for f in assessment.findings if f.suppression is None}
    return {rule: level for rule, level in sorted(found.items()) if level is not None}


def at_or_above(assessment: Assessment, fail_on: str, only: Collection[str] | None = None) -> dict[str, str]:
    """The rule ids (among `only`, when given) of unsuppressed findings of severity `fail_on` or worse."""
    if fail_on not in SEVERITIES:
        raise ValueError(f"unknown severity {fail_on!r}")
    worst = SEVERITIES[: SEVERITIES.index(fail_on) + 1]
    return {
        rule: level for rule, level in severities(assessment).items()
        if level in worst and (only is None or rule in only)
    }


def gate_failures(
    assessment: Assessment,
    fail_under: float | None,
    min_level: int | None,
    fail_on: str | None = None,
    only: Collection[str] | None = None,
) -> list[str]:
    """One sentence per threshold missed; empty when the gate passes."""
    failures = []
    if min_level is not None and assessment.level < min_level:
        failures.append(f"level {assessment.level} is below the required level {min_level}")
    if fail_under is not None and assessment.score < fail_under:
        failures.append(f"score {assessment.score:.2f} is below the required {fail_under:.2f}")
    if fail_on is not None:
        found = at_or_above(assessment, fail_on, only)
        if found:
            failures.append(_describe(found, fail_on, new=only is not None))
    return failures


def _describe(found: dict[str, str], fail_on: str, new: bool) -> str:
    items = [f"{rule} ({level})" for rule, level in found.items()]
    shown = ", ".join(items[:SHOWN]) + (f" and {len(items) - SHOWN} more" if len(items) > SHOWN else "")
    noun = ("new " if new else "") + ("findings" if len(items) > 1 else "finding")
    return f"{len(items)} {noun} at or above severity `{fail_on}`: {shown}"
