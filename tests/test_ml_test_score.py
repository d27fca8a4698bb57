"""The ML Test Score proxy: exists 0.5, automated 1, section sums, the minimum, the observable maximum."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mlops_audit.ml_test_score import TESTS, band, ml_test_score
from mlops_audit.model import Finding, Outcome
from mlops_audit.testing import make_rule


def findings(outcomes: dict[str, Outcome]) -> list[Finding]:
    return [Finding(make_rule(rule_id, level=1), outcome, "") for rule_id, outcome in outcomes.items()]


def test_existing_check_is_half_and_automated_check_is_one() -> None:
    manual = ml_test_score(findings({"L1-DV-01": Outcome.PASS}))
    data = {t.id: t for t in manual.sections[0].tests}
    assert data["Data 1"].value == 0.5 and data["Data 1"].rules == ("L1-DV-01",)
    automated = ml_test_score(findings({"L1-DV-01": Outcome.PASS, "L2-DV-05": Outcome.PASS}))
    assert {t.id: t for t in automated.sections[0].tests}["Data 1"].value == 1.0


def test_unobservable_tests_are_left_out_of_the_maximum() -> None:
    score = ml_test_score(findings({"L1-DV-01": Outcome.FAIL, "ANY-EXP-05": Outcome.PARTIAL}))
    data, model = score.sections[0], score.sections[1]
    assert (data.score, data.observable_max) == (0.0, 1.0)
    assert (model.score, model.observable_max) == (0.5, 1.0)
    assert {t.id: t.value for t in data.tests}["Data 3"] is None


def test_final_score_is_the_minimum_of_the_sections() -> None:
    score = ml_test_score(findings({"L1-DV-01": Outcome.PASS, "ANY-EXP-05": Outcome.PASS}))
    assert score.final == min(s.score for s in score.sections) == 0.0
    assert score.band == band(0.0) == "more of a research project than a productionized system"


def test_every_section_has_seven_tests() -> None:
    assert [sum(1 for t in TESTS if t.id.startswith(name)) for name in ("Data", "Model", "Infra", "Monitor")] == [7] * 4


RULE_IDS = sorted({r for t in TESTS for r in (*t.evidence, *t.automation)})


@given(st.dictionaries(st.sampled_from(RULE_IDS), st.sampled_from(list(Outcome))), st.sampled_from(RULE_IDS))
def test_a_passing_rule_never_lowers_the_proxy(outcomes: dict[str, Outcome], flipped: str) -> None:
    before = ml_test_score(findings({**outcomes, flipped: Outcome.FAIL}))
    after = ml_test_score(findings({**outcomes, flipped: Outcome.PASS}))
    assert after.final >= before.final
    assert all(a.score >= b.score for a, b in zip(after.sections, before.sections))
