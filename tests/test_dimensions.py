"""The comparison-table rows: each row's level, summary, deciding rules and evidence follow the rules' outcomes;
the release cycle follows the change cadence read from git history when there is one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import git
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_audit.analyzers.git_history import PIPELINE, POINTERS, TRAINING, Cadence, Change, GitFacts, analyze_git
from mlops_audit.checks import BUILTINS
from mlops_audit.dimensions import MAX_EVIDENCE, ROWS, UNKNOWN, dimensions
from mlops_audit.inventory import build_inventory
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


DAY = 86_400
START = 1_700_000_000
ANA = git.Actor("Ana", "ana@example.com")
BOT = git.Actor("dvc-bot", "dvc-bot@example.com")


def git_repo(root: Path, changes: list[tuple[str, int, git.Actor]]) -> None:
    """A repository with one commit per (path, day, author), each changing that path."""
    repo = git.Repo.init(root)
    with repo.config_writer() as config:
        config.set_value("commit", "gpgsign", "false")
    for number, (path, day, author) in enumerate(changes):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(f"# change {number}\n")
        repo.index.add([path])
        date = f"{START + day * DAY} +0000"
        repo.index.commit(f"change {number}", author=author, committer=author, author_date=date, commit_date=date)
    repo.close()


def release(findings: list[Finding], facts: GitFacts | None) -> Dimension:
    return {d.name: d for d in dimensions(findings, facts)}["Release cycle"]


def cadence(*series: tuple[str, int, int]) -> GitFacts:
    """Facts whose cadence holds, per (kind, count, days apart), `count` changes of `<kind>.file` every so often."""
    changes = [
        Change(START + n * days * DAY, False, ((f"{kind}.file", kind),))
        for kind, count, days in series
        for n in range(count)
    ]
    return GitFacts(is_repo=True, cadence=Cadence("", "", tuple(sorted(changes, key=lambda c: c.stamp))))


def test_weekly_pipeline_changes_are_a_level_1_release_cycle(tmp_path: Path) -> None:
    weeks = [("dvc.lock", 7 * n, BOT if n % 2 else ANA) for n in range(10)] + [("README.md", 71, ANA)]
    git_repo(tmp_path, weeks)
    facts = analyze_git(build_inventory(tmp_path))
    row = release(all_with(Outcome.FAIL), facts)
    assert row.level == 1
    assert row.summary == (
        "Releases follow data refreshes: pipeline and data pointers changed 10 times in the last year, "
        "every 7 days on median (50% by bots); missing for Level 2: continuous deployment"
    )
    assert row.evidence == (Evidence("dvc.lock", snippet="10 changes"),)
    assert row.rules == ("L2-CI-03",)


def test_monthly_changes_are_a_level_0_release_cycle(tmp_path: Path) -> None:
    git_repo(tmp_path, [("src/model/train.py" if n % 2 else "data/raw.csv.dvc", 40 * n, ANA) for n in range(8)])
    row = release(all_with(Outcome.PASS, L1_CT_01=Outcome.FAIL), analyze_git(build_inventory(tmp_path)))
    assert row.level == 0
    assert row.summary == (
        "Releases weeks or months apart: training code, pipeline and data pointers changed 8 times in the last year, "
        "every 40 days on median"
    )
    assert {e.path for e in row.evidence} == {"src/model/train.py", "data/raw.csv.dvc"}


def test_a_shallow_clone_falls_back_to_the_rules(tmp_path: Path) -> None:
    git_repo(tmp_path / "origin", [("dvc.yaml", 40 * n, ANA) for n in range(3)])
    git.Repo.clone_from(f"file://{tmp_path / 'origin'}", tmp_path / "clone", depth=1).close()
    facts = analyze_git(build_inventory(tmp_path / "clone"))
    assert facts.cadence is None
    findings = all_with(Outcome.FAIL, L1_CT_02=Outcome.PASS)
    assert release(findings, facts) == release(findings, None)
    assert release(findings, facts).summary == "Releases follow data refreshes; missing for Level 2: continuous deployment"
    assert release(all_with(Outcome.FAIL), facts).level is None


def test_continuous_deployment_of_weekly_code_changes_is_level_2() -> None:
    row = release(all_with(Outcome.PASS), cadence((TRAINING, 30, 2)))
    assert row.level == 2
    assert row.summary == (
        "Releases follow code changes: pipeline and training code changed 30 times in the last year, "
        "every 2 days on median, delivered by continuous deployment"
    )
    assert row.rules == ("L2-CI-03",)


def test_a_schedule_is_level_1_even_when_code_changes_rarely() -> None:
    row = release(all_with(Outcome.FAIL, L1_CT_01=Outcome.PASS), cadence((PIPELINE, 2, 90)))
    assert row.level == 1
    assert row.summary.startswith("Retraining is scheduled: pipeline and data pointers changed 2 times")
    assert row.rules == ("L1-CT-01", "L2-CI-03")


def test_few_changes_are_level_0_even_with_continuous_deployment() -> None:
    row = release(all_with(Outcome.PASS, L1_CT_01=Outcome.FAIL), cadence((POINTERS, 5, 1)))
    assert row.level == 0 and "changed 5 times" in row.summary
    assert release(all_with(Outcome.FAIL), cadence()).summary == (
        "Releases weeks or months apart: training code, pipeline and data pointers did not change in the last year"
    )


def test_between_weekly_and_monthly_the_rules_decide_up_to_level_1() -> None:
    facts = cadence((PIPELINE, 10, 14))
    row = release(all_with(Outcome.PASS, L1_CT_01=Outcome.FAIL), facts)
    assert row.level == 1
    assert row.summary == (
        "Releases follow data refreshes: pipeline and data pointers changed 10 times in the last year, "
        "every 14 days on median; missing for Level 2: pipeline or training-code changes at least weekly"
    )
    unknown = release(all_with(Outcome.FAIL), facts)
    assert unknown.level is None and unknown.summary.startswith("Changes between weekly and monthly")


def test_other_rows_ignore_the_cadence() -> None:
    findings = all_with(Outcome.FAIL)
    assert dimensions(findings, cadence((PIPELINE, 10, 7)))[:-1] == dimensions(findings)[:-1]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.booleans(), min_size=len(ROW_RULES), max_size=len(ROW_RULES)),
    st.data(),
    st.sampled_from([(), ((PIPELINE, 10, 7),), ((TRAINING, 12, 3),), ((POINTERS, 8, 14),), ((PIPELINE, 3, 60),)]),
)
def test_with_a_cadence_a_fail_turned_into_a_pass_never_lowers_the_release_cycle(
    passes: list[bool], data: st.DataObject, series: tuple[tuple[str, int, int], ...]
) -> None:
    facts = cadence(*series)
    outcomes = [Outcome.PASS if ok else Outcome.FAIL for ok in passes]
    before = release([make_finding(rule, outcome) for rule, outcome in zip(ROW_RULES, outcomes)], facts)
    outcomes[data.draw(st.sampled_from(range(len(ROW_RULES))))] = Outcome.PASS
    after = release([make_finding(rule, outcome) for rule, outcome in zip(ROW_RULES, outcomes)], facts)
    assert (-1 if after.level is None else after.level) >= (-1 if before.level is None else before.level)
