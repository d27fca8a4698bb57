"""The comparison-table rows: each row's level, summary, deciding rules and evidence follow the rules' outcomes."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_audit.checks import BUILTINS
from mlops_audit.dimensions import MAX_EVIDENCE, ROWS, UNKNOWN, dimensions
from mlops_audit.model import Dimension, Evidence, Finding, Outcome, Rule
from mlops_audit.packs import load_rules

ROW_RULES = sorted(
    {rule for row in ROWS for practices in row.needs for p in practices for rule in p.rules}
    | {rule for row in ROWS for rule in row.signs}
)
NAMES = ["Code", "Training", "Versioning", "Deployment", "Testing", "Release cycle"]


def make_finding(rule_id: str, outcome: Outcome, *evidence: Evidence) -> Finding:
    fields: dict[str, Any] = {
        "id": rule_id, "slug": rule_id.lower(), "title": rule_id, "level": 1, "category": "CI", "weight": 1.0,
        "gate": False, "gate_group": None, "confidence": "A", "rationale": "", "source": "", "check": None,
        "partial": None, "applies": None, "messages": {}, "remediation": "", "scaffold": None, "docs": None,
        "examples": {}, "pack": "builtin",
    }
    return Finding(Rule(**fields), outcome, "", evidence)


def all_with(outcome: Outcome, **overrides: Outcome) -> list[Finding]:
    """A finding for every rule of the table with `outcome`, except those in `overrides` (`L1_CT_01=...`)."""
    changes = {key.replace("_", "-"): value for key, value in overrides.items()}
    return [make_finding(rule, changes.get(rule, outcome)) for rule in ROW_RULES]


def by_name(findings: list[Finding]) -> dict[str, Dimension]:
    return {d.name: d for d in dimensions(findings)}


def test_rows_are_the_comparison_table_in_order() -> None:
    assert [d.name for d in dimensions([])] == NAMES


def test_every_rule_of_the_table_exists_in_the_builtin_packs() -> None:
    known = {rule.id for rule in load_rules((), BUILTINS)}
    assert set(ROW_RULES) <= known


def test_no_findings_decide_nothing() -> None:
    for row in dimensions([]):
        assert (row.level, row.summary, row.rules, row.evidence) == (None, UNKNOWN, (), ())


def test_everything_passing_is_level_2_on_every_row() -> None:
    rows = dimensions(all_with(Outcome.PASS))
    assert [row.level for row in rows] == [2] * len(NAMES)
    code = rows[0]
    assert code.summary == "Modular steps in an importable package"
    assert code.rules == ("L1-CODE-03", "L1-CODE-02")


def test_everything_failing_is_level_0_but_the_release_cycle_is_unknown() -> None:
    rows = by_name(all_with(Outcome.FAIL))
    assert {name: row.level for name, row in rows.items()} == {**dict.fromkeys(NAMES, 0), "Release cycle": None}
    assert rows["Release cycle"].summary == UNKNOWN
    training = rows["Training"]
    assert training.summary == (
        "Manual training runs; missing for Level 1: an orchestrated pipeline and scheduled or triggered retraining"
    )
    assert training.rules == ("L1-PIPE-01", "L1-CT-01", "L1-CT-02")


def test_the_first_unmet_level_stops_the_row_and_names_what_is_missing() -> None:
    rows = by_name(all_with(Outcome.PASS, L2_CI_01=Outcome.FAIL, L2_TEST_03=Outcome.PARTIAL))
    testing = rows["Testing"]
    assert testing.level == 1
    assert testing.summary == "Models validated on metrics; missing for Level 2: unit tests in CI and integration tests"
    assert {"L2-CI-01", "L2-TEST-03", "L1-MV-01"} <= set(testing.rules)
    assert rows["Training"].summary.endswith("missing for Level 2: tests in CI on every change")


def test_one_passing_alternative_meets_a_practice() -> None:
    rows = by_name(all_with(Outcome.FAIL, L1_PIPE_01=Outcome.PASS, L1_CT_02=Outcome.PASS))
    assert rows["Training"].level == 1
    assert rows["Release cycle"].level == 1
    assert rows["Release cycle"].summary == "Releases follow data refreshes; missing for Level 2: continuous deployment"


def test_ignored_rules_are_skipped_not_counted_as_failures() -> None:
    findings = [make_finding(rule, Outcome.PASS) for rule in ("L2-CI-03", "L2-DEP-03")]
    rows = by_name(findings)
    assert rows["Deployment"].level == 2  # Level 1 rules were ignored: they decide nothing
    assert rows["Release cycle"].level == 2
    assert rows["Code"].level is None


def test_not_applicable_rules_leave_a_committed_model_file_to_decide_level_0() -> None:
    pickle = Evidence("models/model.pkl", snippet="12.0 MB")
    findings = [
        make_finding("L1-REG-04", Outcome.NOT_APPLICABLE),
        make_finding("L1-DEP-02", Outcome.UNKNOWN),
        make_finding("L0-REG-01", Outcome.FAIL, pickle),
    ]
    deployment = by_name(findings)["Deployment"]
    assert (deployment.level, deployment.summary) == (0, "Model files handed off")
    assert deployment.rules == ("L0-REG-01",)
    assert deployment.evidence == (pickle,)
    findings[-1] = make_finding("L0-REG-01", Outcome.PASS)
    assert by_name(findings)["Deployment"].level is None


def test_evidence_is_taken_in_turn_from_the_deciding_findings_without_repeats() -> None:
    shared = Evidence("dvc.yaml", 3, snippet="train")
    data = [Evidence(f"data/{n}.dvc") for n in range(4)]
    runs = [shared, Evidence("src/train.py", 10)]
    findings = [
        make_finding("L0-VCS-01", Outcome.PASS, shared),
        make_finding("L1-DATA-02", Outcome.PASS, *data),
        make_finding("L1-EXP-04", Outcome.PASS, *runs),
        make_finding("L1-FS-01", Outcome.FAIL),
    ]
    versioning = by_name(findings)["Versioning"]
    assert versioning.level == 1
    assert versioning.evidence == (data[0], shared, data[1], runs[1], data[2])
    assert len(versioning.evidence) == MAX_EVIDENCE


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(list(Outcome)), min_size=len(ROW_RULES), max_size=len(ROW_RULES)))
def test_any_outcomes_give_a_level_in_range_decided_by_given_rules(outcomes: list[Outcome]) -> None:
    findings = [make_finding(rule, outcome) for rule, outcome in zip(ROW_RULES, outcomes)]
    for row in dimensions(findings):
        assert row.level in (None, 0, 1, 2)
        assert set(row.rules) <= set(ROW_RULES)
        assert len(row.evidence) <= MAX_EVIDENCE
        assert (row.level is None) == (row.summary == UNKNOWN)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.booleans(), min_size=len(ROW_RULES), max_size=len(ROW_RULES)), st.data())
def test_a_fail_turned_into_a_pass_never_lowers_a_row(passes: list[bool], data: st.DataObject) -> None:
    outcomes = [Outcome.PASS if ok else Outcome.FAIL for ok in passes]
    before = dimensions([make_finding(rule, outcome) for rule, outcome in zip(ROW_RULES, outcomes)])
    flip = data.draw(st.sampled_from(range(len(ROW_RULES))))
    outcomes[flip] = Outcome.PASS
    after = dimensions([make_finding(rule, outcome) for rule, outcome in zip(ROW_RULES, outcomes)])
    for old, new in zip(before, after):
        assert (-1 if new.level is None else new.level) >= (-1 if old.level is None else old.level)
