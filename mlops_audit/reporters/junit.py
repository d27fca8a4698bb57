"""JUnit XML for CI test views: a test suite per level (0, 1, 2, any) and a test case per rule.

A failed rule is a `<failure>`, a partial one a `<failure type="partial">`, a rule that does not apply or could
not be judged is `<skipped>`. Characters XML 1.0 cannot hold are dropped from repository text.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter

from mlops_audit.model import Assessment, Finding, Outcome
from mlops_audit.reporters import LEVEL_NAMES, sorted_findings

SUITES: tuple[int | None, ...] = (0, 1, 2, None)
_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SKIPPED = {Outcome.NOT_APPLICABLE: "not applicable", Outcome.UNKNOWN: "unknown"}
_NOT_ML = "No ML code found: the MLOps maturity levels do not apply."


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 forbids (controls, lone surrogates, U+FFFE/U+FFFF)."""
    return _ILLEGAL.sub("", text)


def render(assessment: Assessment) -> str:
    """The report as an indented XML document with its declaration, ending with a newline."""
    root = ET.Element("testsuites", name="mlops-audit")
    findings = sorted_findings(assessment.findings)
    totals: Counter[str] = Counter()
    for level in SUITES:
        name = "Any level" if level is None else f"Level {level} — {LEVEL_NAMES[level]}"
        suite = ET.SubElement(root, "testsuite", name=name)
        for finding in findings:
            if finding.rule.level == level:
                _case(suite, finding, assessment.applicable)
        totals.update(_set_counts(suite, _counts(suite.findall("testcase"))))
    _set_counts(root, totals)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _case(suite: ET.Element, finding: Finding, applicable: bool) -> None:
    rule = finding.rule
    case = ET.SubElement(
        suite,
        "testcase",
        classname=xml_text(f"mlops_audit.{_package(rule.level)}.{rule.category}"),
        name=xml_text(f"{rule.id} {rule.slug}"),
        time="0",
    )
    message = xml_text(finding.message or rule.title)
    if not applicable:
        ET.SubElement(case, "skipped", message=_NOT_ML)
    elif finding.outcome in _SKIPPED:
        ET.SubElement(case, "skipped", message=f"{_SKIPPED[finding.outcome]}: {message}")
    elif finding.outcome is not Outcome.PASS:
        failure = ET.SubElement(case, "failure", message=message, type=finding.outcome.value)
        failure.text = xml_text(_details(finding))


def _package(level: int | None) -> str:
    return "any" if level is None else f"level{level}"


def _details(finding: Finding) -> str:
    lines = [f"{finding.rule.id} {finding.rule.title}", finding.message]
    lines += [f"at {item.where()}" + (f": {item.snippet}" if item.snippet else "") for item in finding.evidence]
    if finding.rule.remediation:
        lines.append(f"Next step: {finding.rule.remediation}")
    return "\n".join(line for line in lines if line)


def _counts(cases: list[ET.Element]) -> Counter[str]:
    return Counter(
        tests=len(cases),
        failures=sum(case.find("failure") is not None for case in cases),
        skipped=sum(case.find("skipped") is not None for case in cases),
    )


def _set_counts(element: ET.Element, counts: Counter[str]) -> Counter[str]:
    for key in ("tests", "failures", "errors", "skipped"):
        element.set(key, str(counts[key]))
    element.set("time", "0")
    return counts
