"""GitLab Code Quality: one issue per problem, with the fields GitLab reads, severities and stable fingerprints."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops_audit.model import Assessment, Evidence, Finding, Outcome
from mlops_audit.reporters import gitlab, sarif

SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def issues(assessment: Assessment) -> list[dict[str, Any]]:
    document = json.loads(gitlab.render(assessment))
    assert isinstance(document, list)
    for issue in document:
        assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] in SEVERITIES
        assert isinstance(issue["location"]["path"], str) and issue["location"]["lines"]["begin"] >= 1
    return document


def test_fixture_reports_match_golden(
    fixture_name: str, audited: dict[str, Assessment], golden: Callable[[str, str, str], None]
) -> None:
    text = gitlab.render(audited[fixture_name])
    found = issues(audited[fixture_name])
    assert len({issue["fingerprint"] for issue in found}) == len(found) > 0
    golden(fixture_name, "gitlab.json", text)


def test_one_issue_per_problem_with_severity_by_rule_and_outcome(sample: Assessment) -> None:
    by_rule = {issue["check_name"]: issue for issue in issues(sample)}
    assert {rule_id: issue["severity"] for rule_id, issue in by_rule.items()} == {
        "L0-NB-04": "minor",  # partial supporting rule
        "L1-EXP-02": "major",  # failed supporting rule
        "L2-CI-01": "critical",  # failed gate
        "L2-MV-03": "major",  # partial gate
        "ANY-DOC-04": "minor",  # failed advisory rule
    }
    ci = by_rule["L2-CI-01"]
    assert ci["description"] == "L2-CI-01 Title of L2-CI-01 (failed): No workflow runs tests on pull requests."
    assert ci["location"] == {"path": ".github/workflows/ci.yml", "lines": {"begin": 3}}
    assert by_rule["L2-MV-03"]["description"].startswith("L2-MV-03 Title of L2-MV-03 (partly met): ")
    assert by_rule["L1-EXP-02"]["location"] == {"path": "README.md", "lines": {"begin": 1}}
    # a line inside a notebook cell is not a line of the file
    assert by_rule["L0-NB-04"]["location"] == {"path": "train.ipynb", "lines": {"begin": 1}}


def test_partial_advisory_is_info(sample: Assessment, make_rule: Callable[..., Any]) -> None:
    finding = Finding(make_rule("ANY-DOC-05", weight=0.5), Outcome.PARTIAL, "Half there.")
    assert issues(replace(sample, findings=(finding,)))[0]["severity"] == "info"


def test_fingerprint_matches_sarif_and_ignores_lines(sample: Assessment) -> None:
    sarif_prints = {r["ruleId"]: r["partialFingerprints"]["mlopsAudit/v1"]
                    for r in json.loads(sarif.render(sample))["runs"][0]["results"]}
    assert {i["check_name"]: i["fingerprint"] for i in issues(sample)} == sarif_prints
    ci = next(f for f in sample.findings if f.rule.id == "L2-CI-01")
    moved = replace(ci, evidence=(replace(ci.evidence[0], line=99),))
    assert issues(replace(sample, findings=(moved,)))[0]["fingerprint"] == sarif_prints["L2-CI-01"]
    changed = replace(ci, evidence=(Evidence(".github/workflows/ci.yml", 3, None, "on: pull_request"),))
    assert issues(replace(sample, findings=(changed,)))[0]["fingerprint"] != sarif_prints["L2-CI-01"]


def test_hostile_text_round_trips(hostile: Assessment) -> None:
    text = gitlab.render(hostile)
    text.encode("utf-8")
    ci = next(issue for issue in issues(hostile) if issue["check_name"] == "L2-CI-01")
    assert ci["description"].endswith(hostile.findings[0].message)
    assert ci["location"]["path"] == hostile.findings[0].evidence[0].path


def test_nothing_to_report_is_an_empty_array(sample: Assessment) -> None:
    assert gitlab.render(replace(sample, applicable=False)) == "[]\n"
    passing = tuple(f for f in sample.findings if f.outcome is Outcome.PASS)
    assert gitlab.render(replace(sample, findings=passing)) == "[]\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_assessment_gives_valid_issues(data: st.DataObject, assessments: st.SearchStrategy[Assessment]) -> None:
    assessment = data.draw(assessments)
    found = issues(assessment)
    assert gitlab.render(assessment) == gitlab.render(replace(assessment, findings=assessment.findings[::-1]))
    assert len({issue["fingerprint"] for issue in found}) == len(found)
