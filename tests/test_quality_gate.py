"""The quality gate: level and score thresholds, and `fail_on` severities with suppressions and baselines."""

from __future__ import annotations

import pytest

from mlops_audit.model import Assessment, Evidence, Finding, Outcome, Rule, Suppression
from mlops_audit.quality_gate import at_or_above, gate_failures, severities
from mlops_audit.scoring import assess


def rule(rule_id: str, level: int, gate: bool = False, group: str | None = None, weight: float = 1) -> Rule:
    return Rule(
        id=rule_id, slug=rule_id.lower(), title=rule_id, level=level, category="PIPE", weight=weight, gate=gate,
        gate_group=group, confidence="A", rationale="", source="", check={"true": {}}, partial=None, applies=None,
        messages={}, remediation="", scaffold=None, docs=None, examples={}, pack="test.yaml",
    )


OUTCOMES = {
    "L1-CODE-02": (rule("L1-CODE-02", 1, gate=True, weight=3), Outcome.PASS),
    "L1-PIPE-01": (rule("L1-PIPE-01", 1, gate=True, weight=3), Outcome.FAIL),  # unmet gate
    "L1-EXP-01": (rule("L1-EXP-01", 1, gate=True, group="runs", weight=3), Outcome.FAIL),  # group met below
    "L1-DATA-02": (rule("L1-DATA-02", 1, gate=True, group="runs", weight=3), Outcome.PASS),
    "L1-ENV-02": (rule("L1-ENV-02", 1), Outcome.FAIL),  # error
    "L1-DV-02": (rule("L1-DV-02", 1), Outcome.PARTIAL),  # warning
    "L1-FS-01": (rule("L1-FS-01", 1, weight=0.5), Outcome.FAIL),  # advisory: warning
    "L2-CI-03": (rule("L2-CI-03", 2, gate=True, weight=3), Outcome.PARTIAL),  # partial, gate unmet
    "L2-MON-02": (rule("L2-MON-02", 2), Outcome.UNKNOWN),
    "L2-DOC-03": (rule("L2-DOC-03", 2), Outcome.NOT_APPLICABLE),
}


def assessment(suppressed: tuple[str, ...] = (), applicable: bool = True) -> Assessment:
    accepted = Suppression("accepted", Evidence("pyproject.toml"))
    items = [
        Finding(r, outcome, "", suppression=accepted if r.id in suppressed else None)
        for r, outcome in OUTCOMES.values()
    ]
    return assess("repo", applicable, items, (), ())


def test_severities_follow_gates_weights_and_outcomes() -> None:
    assert severities(assessment()) == {
        "L1-DV-02": "warning",
        "L1-ENV-02": "error",
        "L1-EXP-01": "error",  # its group is met by L1-DATA-02, so it is no gate failure
        "L1-FS-01": "warning",
        "L1-PIPE-01": "gate",
        "L2-CI-03": "gate",
    }


@pytest.mark.parametrize(
    ("fail_on", "expected"),
    [
        ("gate", {"L1-PIPE-01", "L2-CI-03"}),
        ("error", {"L1-PIPE-01", "L2-CI-03", "L1-ENV-02", "L1-EXP-01"}),
        ("warning", {"L1-PIPE-01", "L2-CI-03", "L1-ENV-02", "L1-EXP-01", "L1-DV-02", "L1-FS-01"}),
    ],
)
def test_fail_on_counts_findings_at_or_above_the_severity(fail_on: str, expected: set[str]) -> None:
    assert set(at_or_above(assessment(), fail_on)) == expected


def test_suppressed_findings_never_fail_the_gate_but_still_miss_their_level() -> None:
    suppressed = assessment(suppressed=("L1-PIPE-01", "L2-CI-03"))
    assert suppressed.level == 0
    assert gate_failures(suppressed, None, None, fail_on="gate") == []
    assert gate_failures(suppressed, None, 1, fail_on="gate") == ["level 0 is below the required level 1"]


def test_with_a_baseline_only_new_findings_count() -> None:
    assert gate_failures(assessment(), None, None, fail_on="error", only={"L1-FS-01", "L1-DV-02"}) == []
    assert gate_failures(assessment(), None, None, fail_on="error", only={"L1-ENV-02"}) == [
        "1 new finding at or above severity `error`: L1-ENV-02 (error)"
    ]


def test_failure_message_names_the_findings_and_their_severities() -> None:
    [message] = gate_failures(assessment(), None, None, fail_on="error")
    assert message == (
        "4 findings at or above severity `error`: L1-ENV-02 (error), L1-EXP-01 (error), L1-PIPE-01 (gate), "
        "L2-CI-03 (gate)"
    )


def test_nothing_fails_on_severity_when_the_levels_do_not_apply() -> None:
    assert gate_failures(assessment(applicable=False), None, None, fail_on="warning") == []


def test_level_and_score_thresholds_are_kept() -> None:
    result = assessment()
    assert gate_failures(result, None, None) == []
    assert gate_failures(result, 0.0, 0) == []
    assert gate_failures(result, 1.5, 1) == [
        "level 0 is below the required level 1",
        f"score {result.score:.2f} is below the required 1.50",
    ]


def test_unknown_severity_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown severity"):
        at_or_above(assessment(), "fatal")
