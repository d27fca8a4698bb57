"""Reporters: pure functions from an `Assessment` to text. They order and format; they compute nothing new.

This module holds the vocabulary and ordering the reporters share.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mlops_audit.model import Assessment, Finding, Outcome

LEVEL_NAMES: dict[int, str] = {
    0: "Manual process",
    1: "ML pipeline automation",
    2: "CI/CD pipeline automation",
}

OUTCOME_ORDER: tuple[Outcome, ...] = (
    Outcome.PASS,
    Outcome.PARTIAL,
    Outcome.FAIL,
    Outcome.NOT_APPLICABLE,
    Outcome.UNKNOWN,
)

_ANY_LEVEL = 3  # level-independent rules sort after Level 2


def level_order(finding: Finding) -> int:
    """Sort position of a finding's level: 0, 1, 2, then level-independent ("any")."""
    return _ANY_LEVEL if finding.rule.level is None else finding.rule.level


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Findings by level (0, 1, 2, any), then rule id."""
    return sorted(findings, key=lambda f: (level_order(f), f.rule.id))


def outcome_counts(findings: Iterable[Finding]) -> dict[str, int]:
    """How many findings have each outcome, every outcome present, in `OUTCOME_ORDER`."""
    counts = {outcome.value: 0 for outcome in OUTCOME_ORDER}
    for finding in findings:
        counts[finding.outcome.value] += 1
    return counts


def ordered_counts(counts: Mapping[str, int]) -> dict[str, int]:
    """A counts mapping with every outcome key first (missing ones as 0), then any other key sorted."""
    plain = {_key_text(key): int(value) for key, value in counts.items()}
    ordered = {outcome.value: plain.pop(outcome.value, 0) for outcome in OUTCOME_ORDER}
    ordered.update(sorted(plain.items()))
    return ordered


def gate_findings(assessment: Assessment) -> list[tuple[str, list[Finding]]]:
    """The failed gates that stand between the repository and the next level, with their findings.

    A failed gate names a rule id, or a gate group whose rules all missed.
    """
    target = assessment.level + 1
    if target not in LEVEL_NAMES:
        return []
    findings = sorted_findings(assessment.findings)
    gates = [
        gate
        for score in sorted(assessment.levels, key=lambda s: s.level)
        if score.level <= target
        for gate in score.failed_gates
    ]
    resolved = []
    for gate in dict.fromkeys(gates):
        by_id = [f for f in findings if f.rule.id == gate]
        resolved.append((gate, by_id or [f for f in findings if f.rule.gate and f.rule.gate_group == gate]))
    return resolved


def _key_text(key: object) -> str:
    return key.value if isinstance(key, Outcome) else str(key)


__all__ = [
    "gate_findings",
    "LEVEL_NAMES",
    "OUTCOME_ORDER",
    "level_order",
    "ordered_counts",
    "outcome_counts",
    "sorted_findings",
]
