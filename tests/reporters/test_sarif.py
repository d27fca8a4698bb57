"""SARIF 2.1.0: valid against the OASIS schema, rules described, results only for problems, stable fingerprints."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator

import mlops_audit
from mlops_audit.model import Assessment, Evidence, Finding, Outcome
from mlops_audit.reporters import sarif

SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def validator() -> Draft4Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


def valid_log(validator: Draft4Validator, text: str) -> dict[str, Any]:
    log = json.loads(text)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    return log


URI_REFERENCE = re.compile(r"[A-Za-z0-9\-._~%!$&'()*+,;=@/]*")  # a relative reference: no scheme, no spaces


def artifact_uris(value: Any) -> list[str]:
    """Every `artifactLocation.uri` in the log."""
    if isinstance(value, dict):
        found = [value["artifactLocation"]["uri"]] if "artifactLocation" in value else []
        return found + [uri for item in value.values() for uri in artifact_uris(item)]
    if isinstance(value, list):
        return [uri for item in value for uri in artifact_uris(item)]
    return []


def results_by_rule(log: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {result["ruleId"]: result for result in log["runs"][0]["results"]}


def test_fixture_logs_are_valid_and_match_golden(
    fixture_name: str,
    audited: dict[str, Assessment],
    validator: Draft4Validator,
    golden: Callable[[str, str, str], None],
) -> None:
    text = sarif.render(audited[fixture_name])
    log = valid_log(validator, text)
    problems = [f for f in audited[fixture_name].findings if f.outcome in (Outcome.FAIL, Outcome.PARTIAL)]
    assert len(log["runs"][0]["results"]) == len(problems) > 0
    golden(fixture_name, "sarif", text)


def test_driver_describes_every_rule(sample: Assessment, validator: Draft4Validator) -> None:
    log = valid_log(validator, sarif.render(sample))
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-schema-2.1.0.json")
    driver = log["runs"][0]["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("mlops-audit", mlops_audit.__version__)
    assert driver["informationUri"].startswith("https://")
    ids = [rule["id"] for rule in driver["rules"]]
    assert ids == ["L0-NB-04", "L1-EXP-02", "L1-PIPE-01", "L2-CI-01", "L2-MON-02", "L2-MV-03", "ANY-DOC-04",
                   "ANY-SEC-01"]
    ci = driver["rules"][ids.index("L2-CI-01")]
    assert ci["name"] == "CiRule01"
    assert ci["shortDescription"] == {"text": "Title of L2-CI-01"}
    assert ci["fullDescription"] == {"text": "Why L2-CI-01 matters."}
    assert ci["help"] == {"text": "Fix L2-CI-01.", "markdown": "Fix L2-CI-01."}
    assert ci["helpUri"] == "https://example.org/ci"
    assert ci["defaultConfiguration"] == {"level": "error"}
    assert ci["properties"] == {"level": 2, "category": "CI", "gate": True, "confidence": "A",
                                "tags": ["ci", "level-2", "mlops"]}
    levels = {rule["id"]: rule["defaultConfiguration"]["level"] for rule in driver["rules"]}
    assert (levels["L1-EXP-02"], levels["ANY-DOC-04"]) == ("warning", "note")
    assert driver["rules"][ids.index("ANY-DOC-04")]["properties"]["level"] == "any"
    assert driver["rules"][ids.index("L1-EXP-02")]["helpUri"] == "https://mlops-audit.dev/rules/L1-EXP-02"


def test_results_only_for_problems_pointing_at_their_rule(sample: Assessment, validator: Draft4Validator) -> None:
    log = valid_log(validator, sarif.render(sample))
    run = log["runs"][0]
    results = results_by_rule(log)
    assert list(results) == ["L0-NB-04", "L1-EXP-02", "L2-CI-01", "L2-MV-03", "ANY-DOC-04"]
    for rule_id, result in results.items():
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == rule_id
    assert {rule_id: r["level"] for rule_id, r in results.items()} == {
        "L0-NB-04": "note",  # partial of a supporting rule
        "L1-EXP-02": "warning",
        "L2-CI-01": "error",
        "L2-MV-03": "warning",  # partial gate
        "ANY-DOC-04": "note",  # advisory
    }
    assert results["L2-CI-01"]["message"] == {"text": "No workflow runs tests on pull requests."}
    assert results["L2-MV-03"]["message"]["text"].endswith("(partly met)")
    assert results["L2-MV-03"]["properties"]["outcome"] == "partial"


def test_locations_are_repository_relative(sample: Assessment, validator: Draft4Validator) -> None:
    results = results_by_rule(valid_log(validator, sarif.render(sample)))
    ci = results["L2-CI-01"]
    assert ci["locations"] == [{"physicalLocation": {
        "artifactLocation": {"uri": ".github/workflows/ci.yml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 3, "snippet": {"text": "on: push"}},
    }}]
    assert ci["relatedLocations"] == [{"id": 1, "physicalLocation": {
        "artifactLocation": {"uri": "Makefile", "uriBaseId": "%SRCROOT%"}, "region": {"startLine": 7}},
        "message": {"text": "test:"}}]
    notebook = results["L0-NB-04"]  # a line inside a cell is not a file line
    assert "region" not in notebook["locations"][0]["physicalLocation"]
    assert notebook["properties"] == {"outcome": "partial", "cell": 4}
    repository = results["L1-EXP-02"]
    assert repository["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "README.md"
    assert repository["properties"]["repositoryLevel"] is True
    run = valid_log(validator, sarif.render(sample))["runs"][0]
    assert "%SRCROOT%" in run["originalUriBaseIds"]


def test_fingerprint_survives_line_moves_but_not_other_changes(sample: Assessment) -> None:
    def fingerprint(evidence: Evidence, rule_id: str = "L2-CI-01") -> str:
        finding = next(f for f in sample.findings if f.rule.id == rule_id)
        log = json.loads(sarif.render(replace(sample, findings=(replace(finding, evidence=(evidence,)),))))
        return log["runs"][0]["results"][0]["partialFingerprints"]["mlopsAudit/v1"]

    base = fingerprint(Evidence("ci.yml", 3, None, "on:  push"))
    assert len(base) == 64
    assert fingerprint(Evidence("ci.yml", 40, None, "on: push ")) == base  # moved, re-indented
    assert fingerprint(Evidence("ci.yml", 3, None, "on: pull_request")) != base
    assert fingerprint(Evidence("other.yml", 3, None, "on:  push")) != base
    assert fingerprint(Evidence("ci.yml", 3, None, "on:  push"), "L1-EXP-02") != base


def test_paths_are_percent_encoded_uris() -> None:
    assert sarif.path_uri("src/a b/ü#1.py") == "src/a%20b/%C3%BC%231.py"
    assert sarif.path_uri("x:y.py") == "x%3Ay.py"  # never read as a scheme
    assert sarif.path_uri("bad\udc80.py") == "bad%80.py"  # an undecodable byte stays that byte
    assert sarif.path_uri("lone\ud800") == "lone%ED%A0%80"
    assert sarif.pascal_case("pipeline-defined") == "PipelineDefined"


def test_hostile_text_stays_data(hostile: Assessment, validator: Draft4Validator) -> None:
    text = sarif.render(hostile)
    log = valid_log(validator, text)
    result = results_by_rule(log)["L2-CI-01"]
    original = hostile.findings[0]
    assert result["message"]["text"] == original.message
    assert result["locations"][0]["physicalLocation"]["region"]["snippet"]["text"] == original.evidence[0].snippet
    assert all(URI_REFERENCE.fullmatch(uri) for uri in artifact_uris(log))
    text.encode("utf-8")  # lone surrogates kept as escapes


def test_not_applicable_has_rules_but_no_results(sample: Assessment, validator: Draft4Validator) -> None:
    log = valid_log(validator, sarif.render(replace(sample, applicable=False)))
    run = log["runs"][0]
    assert run["results"] == [] and run["tool"]["driver"]["rules"]
    assert run["properties"]["applicable"] is False


def test_deterministic_without_run_details(sample: Assessment) -> None:
    text = sarif.render(sample)
    assert text == sarif.render(replace(sample, findings=tuple(reversed(sample.findings))))
    assert "Utc" not in text and "commandLine" not in text
    invocation = json.loads(text)["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is True
    notification = invocation["toolExecutionNotifications"][0]
    assert notification["message"]["text"] == "not valid JSON [unreadable]"


def test_fingerprints_are_unique_in_fixtures(audited: dict[str, Assessment]) -> None:
    for assessment in audited.values():
        prints = [r["partialFingerprints"]["mlopsAudit/v1"]
                  for r in json.loads(sarif.render(assessment))["runs"][0]["results"]]
        assert len(prints) == len(set(prints))


def test_gate_finding_with_empty_message_uses_title(sample: Assessment, make_rule: Callable[..., Any]) -> None:
    finding = Finding(make_rule("L1-CT-01"), Outcome.FAIL, "")
    result = json.loads(sarif.render(replace(sample, findings=(finding,))))["runs"][0]["results"][0]
    assert result["message"]["text"] == "Title of L1-CT-01"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_assessment_gives_a_valid_log(
    data: st.DataObject, assessments: st.SearchStrategy[Assessment], validator: Draft4Validator
) -> None:
    assessment = data.draw(assessments)
    log = valid_log(validator, sarif.render(assessment))
    expected = [f for f in assessment.findings if f.outcome in (Outcome.FAIL, Outcome.PARTIAL)]
    assert len(log["runs"][0]["results"]) == (len(expected) if assessment.applicable else 0)
    assert all(URI_REFERENCE.fullmatch(uri) for uri in artifact_uris(log))
