"""GitLab Code Quality: a JSON array with one issue per failed or partial finding, shown in merge requests.

Each issue has a fingerprint that ignores line numbers, so GitLab matches it across commits when code moves.
"""

from __future__ import annotations

from typing import Any

from mlops_audit.model import Assessment, Finding, Outcome
from mlops_audit.reporters.anchors import anchor, dump_json, fingerprint, problems, rule_rank

# By outcome, then by the rule's rank (advisory, supporting, gate): a partial result is one step milder.
SEVERITIES = {Outcome.FAIL: ("minor", "major", "critical"), Outcome.PARTIAL: ("info", "minor", "major")}


def render(assessment: Assessment) -> str:
    """The Code Quality report as indented JSON text ending with a newline."""
    return dump_json([_issue(finding) for finding in problems(assessment)])


def _issue(finding: Finding) -> dict[str, Any]:
    rule, where = finding.rule, anchor(finding)
    outcome = "partly met" if finding.outcome is Outcome.PARTIAL else "failed"
    return {
        "description": f"{rule.id} {rule.title} ({outcome}): {finding.message or rule.title}",
        "check_name": rule.id,
        "fingerprint": fingerprint(finding),
        "severity": SEVERITIES[finding.outcome][rule_rank(rule)],
        "location": {"path": where.path, "lines": {"begin": where.line or 1}},
    }
