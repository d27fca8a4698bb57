"""SARIF 2.1.0 for code scanning: every rule of the audit, and a result for each failed or partial finding.

Locations are relative to `%SRCROOT%` (the audited repository). Results carry a fingerprint that ignores line
numbers so a finding keeps its identity when code moves. Nothing about the run (time, machine) is written.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import mlops_audit
from mlops_audit.model import Assessment, Evidence, Finding, Note, Outcome, Rule
from mlops_audit.reporters import sorted_findings
from mlops_audit.reporters.anchors import (
    FINGERPRINT_KEY,
    INFORMATION_URI,
    anchor,
    dump_json,
    finding_rank,
    fingerprint,
    help_uri,
    problems,
    rule_rank,
)

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
LEVELS = ("note", "warning", "error")  # by rank: advisory, supporting, gate
MAX_RELATED = 10


def render(assessment: Assessment) -> str:
    """The SARIF log as indented JSON text ending with a newline."""
    return dump_json(to_dict(assessment))


def to_dict(assessment: Assessment) -> dict[str, Any]:
    rules = list({f.rule.id: f.rule for f in sorted_findings(assessment.findings)}.values())
    index = {rule.id: number for number, rule in enumerate(rules)}
    run = {
        "tool": {
            "driver": {
                "name": "mlops-audit",
                "version": mlops_audit.__version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(rule) for rule in rules],
            }
        },
        "originalUriBaseIds": {SRCROOT: {"description": {"text": "The root of the audited repository."}}},
        "invocations": [_invocation(assessment.notes)],
        "results": [_result(finding, index[finding.rule.id]) for finding in problems(assessment)],
        "properties": {
            "applicable": assessment.applicable,
            "mlopsLevel": assessment.level,
            "score": round(assessment.score, 2),
        },
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def pascal_case(slug: str) -> str:
    """`pipeline-defined` → `PipelineDefined`."""
    return "".join(part[:1].upper() + part[1:] for part in slug.replace("_", "-").split("-"))


def path_uri(path: str) -> str:
    """A repository path as a relative URI reference: percent-encoded UTF-8, undecodable bytes kept as they were."""
    try:
        data = path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that stands for no byte
        data = path.encode("utf-8", "surrogatepass")
    return quote(data, safe="/")


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": pascal_case(rule.slug),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.rationale or rule.title},
        "help": {"text": rule.remediation or rule.title, "markdown": rule.remediation or rule.title},
        "helpUri": help_uri(rule),
        "defaultConfiguration": {"level": LEVELS[rule_rank(rule)]},
        "properties": {
            "level": "any" if rule.level is None else rule.level,
            "category": rule.category,
            "gate": rule.gate,
            "confidence": rule.confidence,
            "tags": sorted({"mlops", f"level-{rule.level_name}", rule.category.lower()}),
        },
    }


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    where = anchor(finding)
    region: dict[str, Any] = {}
    if where.line is not None:
        region["startLine"] = where.line
        if where.snippet:
            region["snippet"] = {"text": where.snippet}
    physical: dict[str, Any] = {"artifactLocation": {"uri": path_uri(where.path), "uriBaseId": SRCROOT}}
    if region:
        physical["region"] = region
    properties: dict[str, Any] = {"outcome": finding.outcome.value}
    if where.cell is not None:
        properties["cell"] = where.cell
    if where.repository_level:
        properties["repositoryLevel"] = True
    result: dict[str, Any] = {
        "ruleId": finding.rule.id,
        "ruleIndex": rule_index,
        "level": LEVELS[finding_rank(finding)],
        "message": {"text": _message(finding)},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(finding)},
        "properties": properties,
    }
    related = [_related(number, item) for number, item in enumerate(finding.evidence[1 : 1 + MAX_RELATED], 1)]
    if related:
        result["relatedLocations"] = related
    return result


def _message(finding: Finding) -> str:
    text = finding.message or finding.rule.title
    return f"{text} (partly met)" if finding.outcome is Outcome.PARTIAL else text


def _related(number: int, evidence: Evidence) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": path_uri(evidence.path), "uriBaseId": SRCROOT}}
    if evidence.line is not None and evidence.cell is None:
        physical["region"] = {"startLine": evidence.line}
    return {"id": number, "physicalLocation": physical, "message": {"text": evidence.snippet or evidence.where()}}


def _invocation(notes: tuple[Note, ...]) -> dict[str, Any]:
    """Whether the audit ran, with the files it could not read as warnings."""
    notifications = [
        {
            "level": "warning",
            "message": {"text": f"{note.message} [{note.kind}]"},
            "locations": [
                {"physicalLocation": {"artifactLocation": {"uri": path_uri(note.path), "uriBaseId": SRCROOT}}}
            ],
        }
        for note in sorted(notes)
    ]
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation
