"""Scoring: coverage, gates (with groups), the level reached, the score, and monotonicity."""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from mlops_audit.model import Evidence, Finding, Outcome, Rule, Suppression
from mlops_audit.scoring import assess, coverage, failed_gates
from mlops_audit.testing import make_rule


def rule(rule_id: str, level: int | None, gate: bool = False, group: str | None = None, weight: float = 1) -> Rule:
    return make_rule(rule_id, level=level, category="PIPE", weight=weight, gate=gate, gate_group=group)


RULES = [
    rule("L0-VCS-01", 0),
    rule("L0-REG-01", 0, weight=3),
    rule("L1-CODE-02", 1, gate=True, weight=3),
    rule("L1-PIPE-01", 1, gate=True, weight=3),
    rule("L1-EXP-01", 1, gate=True, group="runs-recorded", weight=3),
    rule("L1-DATA-02", 1, gate=True, group="runs-recorded", weight=3),
    rule("L1-ENV-02", 1),
    rule("L2-CI-01", 2, gate=True, group="ci-on-change", weight=3),
    rule("L2-CI-03", 2, gate=True, weight=3),
    rule("L1-MV-02", 1, gate=True, group="validated-promotion", weight=3),
    rule("L2-MV-03", 2, gate=True, group="validated-promotion", weight=3),
    rule("L2-MON-02", 2),
    rule("ANY-SEC-01", None),
]


def findings(outcomes: dict[str, Outcome], default: Outcome = Outcome.FAIL) -> list[Finding]:
    return [Finding(r, outcomes.get(r.id, default), "") for r in RULES]


def run(items: list[Finding]):
    return assess("repo", True, items, (), ())


def test_coverage_weights_partial_and_skips_not_applicable_and_unknown() -> None:
    items = [
        Finding(rule("A-B-01", 1, weight=3), Outcome.PASS, ""),
        Finding(rule("A-B-02", 1, weight=1), Outcome.PARTIAL, ""),
        Finding(rule("A-B-03", 1, weight=2), Outcome.FAIL, ""),
        Finding(rule("A-B-04", 1, weight=5), Outcome.NOT_APPLICABLE, ""),
        Finding(rule("A-B-05", 1, weight=5), Outcome.UNKNOWN, ""),
    ]
    assert coverage(items) == (3 + 0.5) / 6
    assert coverage(items[3:]) is None


def test_level_zero_when_a_level_one_gate_fails() -> None:
    assessment = run(findings({"L1-CODE-02": Outcome.PASS, "L1-EXP-01": Outcome.PASS}))
    assert assessment.level == 0
    assert assessment.levels[1].failed_gates == ("L1-PIPE-01",)
    assert 0 < assessment.score < 1


def test_gate_group_is_met_by_any_member() -> None:
    passing = {"L1-CODE-02": Outcome.PASS, "L1-PIPE-01": Outcome.PASS, "L1-DATA-02": Outcome.PASS}
    assessment = run(findings(passing))
    assert assessment.level == 1
    assert assessment.score == round(1 + assessment.levels[2].coverage, 4)
    assert run(findings({})).levels[1].failed_gates == ("L1-CODE-02", "L1-PIPE-01", "runs-recorded")
    assert failed_gates(findings({}, default=Outcome.PASS)) == ()


def test_a_group_gates_the_highest_level_of_its_rules() -> None:
    level1 = {"L1-CODE-02": Outcome.PASS, "L1-PIPE-01": Outcome.PASS, "L1-DATA-02": Outcome.PASS}
    assessment = run(findings(level1))
    assert assessment.level == 1
    assert "validated-promotion" in assessment.levels[2].failed_gates
    assert "validated-promotion" not in assessment.levels[1].failed_gates
    with_threshold = run(findings({**level1, "L1-MV-02": Outcome.PASS}))
    assert with_threshold.levels[1].coverage > assessment.levels[1].coverage
    assert "validated-promotion" not in with_threshold.levels[2].failed_gates


def test_level_two_needs_level_one_and_scores_two() -> None:
    level2_only = run(findings({"L2-CI-01": Outcome.PASS, "L2-CI-03": Outcome.PASS}))
    assert level2_only.level == 0
    everything = run(findings({}, default=Outcome.PASS))
    assert everything.level == 2 and everything.score == 2.0


def test_not_applicable_repository_scores_zero() -> None:
    assessment = assess("repo", False, findings({}, default=Outcome.PASS), (), ())
    assert (assessment.applicable, assessment.level, assessment.score) == (False, 0, 0.0)


OUTCOMES = st.sampled_from(list(Outcome))


@given(st.lists(OUTCOMES, min_size=len(RULES), max_size=len(RULES)), st.integers(0, len(RULES) - 1))
def test_turning_a_fail_into_a_pass_never_lowers_anything(outcomes: list[Outcome], index: int) -> None:
    before_items = [Finding(r, o, "") for r, o in zip(RULES, outcomes)]
    before_items[index] = dataclasses.replace(before_items[index], outcome=Outcome.FAIL)
    after_items = list(before_items)
    after_items[index] = dataclasses.replace(before_items[index], outcome=Outcome.PASS)
    before, after = run(before_items), run(after_items)
    assert after.level >= before.level
    assert after.score >= before.score
    for old, new in zip(before.levels, after.levels):
        assert (new.coverage or 0) >= (old.coverage or 0)
    for old, new in zip(before.categories, after.categories):
        assert (new.coverage or 0) >= (old.coverage or 0)


@given(st.lists(OUTCOMES, min_size=len(RULES), max_size=len(RULES)))
def test_score_lies_between_zero_and_two_and_matches_the_level(outcomes: list[Outcome]) -> None:
    assessment = run([Finding(r, o, "") for r, o in zip(RULES, outcomes)])
    assert 0 <= assessment.score <= 2
    assert int(assessment.score) == assessment.level


SUPPRESSION = Suppression("accepted", Evidence("pyproject.toml", 3))


def test_suppressed_findings_do_not_count_but_gates_stay_unmet() -> None:
    items = [
        Finding(rule("A-B-01", 1, weight=3), Outcome.PASS, ""),
        Finding(rule("A-B-02", 1, weight=1), Outcome.FAIL, "", suppression=SUPPRESSION),
    ]
    assert coverage(items) == 1.0
    assert coverage(items[1:]) is None
    level1 = {"L1-CODE-02": Outcome.PASS, "L1-DATA-02": Outcome.PASS}
    plain = findings(level1)
    suppressed = [dataclasses.replace(f, suppression=SUPPRESSION) if f.rule.id == "L1-PIPE-01" else f for f in plain]
    before, after = run(plain), run(suppressed)
    assert after.level == before.level == 0
    assert after.levels[1].failed_gates == ("L1-PIPE-01",)
    assert after.levels[1].coverage > before.levels[1].coverage
    assert after.levels[1].counts["fail"] == before.levels[1].counts["fail"]
    assert after.levels[1].counts["suppressed"] == 1 and "suppressed" not in before.levels[1].counts


@given(st.lists(OUTCOMES, min_size=len(RULES), max_size=len(RULES)), st.integers(0, len(RULES) - 1),
       st.lists(st.booleans(), min_size=len(RULES), max_size=len(RULES)))
def test_suppressing_a_failing_finding_never_lowers_anything(
    outcomes: list[Outcome], index: int, already: list[bool]
) -> None:
    before_items = [
        Finding(r, o, "", suppression=SUPPRESSION if s else None) for r, o, s in zip(RULES, outcomes, already)
    ]
    before_items[index] = Finding(RULES[index], Outcome.FAIL, "")
    after_items = list(before_items)
    after_items[index] = dataclasses.replace(before_items[index], suppression=SUPPRESSION)
    before, after = run(before_items), run(after_items)
    assert after.level == before.level
    assert after.score >= before.score
    for old, new in zip(before.levels, after.levels):
        assert (new.coverage or 0) >= (old.coverage or 0)
        assert new.failed_gates == old.failed_gates
    for old, new in zip(before.categories, after.categories):
        assert (new.coverage or 0) >= (old.coverage or 0)
