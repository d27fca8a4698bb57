"""JUnit XML: a suite per level, a case per rule, failures and skips that CI test views understand."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops_audit.model import Assessment, Outcome
from mlops_audit.reporters import junit

SUITE_NAMES = ["Level 0 — Manual process", "Level 1 — ML pipeline automation", "Level 2 — CI/CD pipeline automation",
               "Any level"]


def parse(text: str) -> ET.Element:
    """The document, checked for consistent counts at every level."""
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    for suite in suites:
        cases = suite.findall("testcase")
        assert suite.get("tests") == str(len(cases))
        assert suite.get("failures") == str(sum(c.find("failure") is not None for c in cases))
        assert suite.get("skipped") == str(sum(c.find("skipped") is not None for c in cases))
        assert suite.get("errors") == "0"
        assert all(len(case) <= 1 for case in cases)
    for key in ("tests", "failures", "skipped"):
        assert root.get(key) == str(sum(int(suite.get(key, "")) for suite in suites))
    return root


def cases(root: ET.Element) -> dict[str, ET.Element]:
    return {case.get("name", "").split()[0]: case for case in root.iter("testcase")}


def test_fixture_reports_match_golden(
    fixture_name: str, audited: dict[str, Assessment], golden: Callable[[str, str, str], None]
) -> None:
    text = junit.render(audited[fixture_name])
    root = parse(text)
    assert root.get("tests") == str(len(audited[fixture_name].findings))
    assert [suite.get("name") for suite in root] == SUITE_NAMES
    golden(fixture_name, "junit.xml", text)


def test_outcomes_become_failures_skips_and_passes(sample: Assessment) -> None:
    by_id = cases(parse(junit.render(sample)))
    ci = by_id["L2-CI-01"]
    assert ci.get("classname") == "mlops_audit.level2.CI"
    assert ci.get("name") == "L2-CI-01 ci-rule-01"
    failure = ci.find("failure")
    assert failure is not None
    assert (failure.get("type"), failure.get("message")) == ("fail", "No workflow runs tests on pull requests.")
    assert failure.text == (
        "L2-CI-01 Title of L2-CI-01\nNo workflow runs tests on pull requests.\n"
        "at .github/workflows/ci.yml:3: on: push\nat Makefile:7: test:\nNext step: Fix L2-CI-01."
    )
    partial = by_id["L2-MV-03"].find("failure")
    assert partial is not None and partial.get("type") == "partial"
    skipped = by_id["L2-MON-02"].find("skipped")
    assert skipped is not None and skipped.get("message") == "not applicable: No serving code."
    unknown = by_id["ANY-SEC-01"].find("skipped")
    assert unknown is not None and unknown.get("message") == "unknown: Could not read the history."
    assert len(by_id["L1-PIPE-01"]) == 0  # a pass is a bare test case
    assert by_id["ANY-DOC-04"].get("classname") == "mlops_audit.any.DOC"


def test_suites_group_by_level(sample: Assessment) -> None:
    root = parse(junit.render(sample))
    names = {suite.get("name"): [case.get("name", "").split()[0] for case in suite] for suite in root}
    assert list(names) == SUITE_NAMES
    assert names["Level 0 — Manual process"] == ["L0-NB-04"]
    assert names["Any level"] == ["ANY-DOC-04", "ANY-SEC-01"]
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("8", "5", "2")


def test_not_applicable_skips_every_rule(sample: Assessment) -> None:
    root = parse(junit.render(replace(sample, applicable=False)))
    assert root.get("skipped") == root.get("tests") == "8"


def test_hostile_text_is_escaped_and_cleaned(hostile: Assessment) -> None:
    text = junit.render(hostile)
    assert "\x1b" not in text and "\x00" not in text and "\x0b" not in text
    failure = cases(parse(text))["L2-CI-01"].find("failure")
    assert failure is not None
    assert failure.get("message") == junit.xml_text(hostile.findings[0].message)
    assert "<script>alert(1)</script>" in (failure.text or "")  # escaped on write, text again once parsed
    assert "<script>" not in text


def test_xml_text_drops_what_xml_cannot_hold() -> None:
    assert junit.xml_text("a\x00b\x1bc\x0bd\ud800e\ufffef\tg\nh\ri") == "abcdef\tg\nh\ri"
    assert junit.xml_text("模型 é 😀") == "模型 é 😀"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_assessment_gives_well_formed_xml(data: st.DataObject, assessments: st.SearchStrategy[Assessment]) -> None:
    assessment = data.draw(assessments)
    text = junit.render(assessment)
    root = parse(text)
    assert root.get("tests") == str(len(assessment.findings))
    if assessment.applicable:
        failed = sum(f.outcome in (Outcome.FAIL, Outcome.PARTIAL) for f in assessment.findings)
        assert root.get("failures") == str(failed)
