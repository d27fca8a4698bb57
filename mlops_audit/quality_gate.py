"""The CI quality gate: which of the user's thresholds an assessment misses."""

from __future__ import annotations

from mlops_audit.model import Assessment


def gate_failures(assessment: Assessment, fail_under: float | None, min_level: int | None) -> list[str]:
    """One sentence per threshold missed; empty when the gate passes."""
    failures = []
    if min_level is not None and assessment.level < min_level:
        failures.append(f"level {assessment.level} is below the required level {min_level}")
    if fail_under is not None and assessment.score < fail_under:
        failures.append(f"score {assessment.score:.2f} is below the required {fail_under:.2f}")
    return failures
