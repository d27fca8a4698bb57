"""What the CI formats share: which findings are problems, where each one is anchored, how severe it is.

Everything here reads the assessment as it is: the anchor of a finding is its first piece of evidence, and a
finding without evidence is about the repository as a whole and is anchored to its README.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from mlops_audit.model import Assessment, Finding, Outcome, Rule
from mlops_audit.reporters import sorted_findings

REPOSITORY_ANCHOR = "README.md"
FINGERPRINT_KEY = "mlopsAudit/v1"
INFORMATION_URI = "https://mlops-audit.dev"
PROBLEMS = (Outcome.FAIL, Outcome.PARTIAL)
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")  # C0, C1, bidi, surrogates


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where a problem is shown: a repository-relative path, a file line when known, a notebook cell."""

    path: str
    line: int | None
    cell: int | None
    snippet: str
    repository_level: bool


def problems(assessment: Assessment) -> list[Finding]:
    """Failed and partial findings, by level then id; none when the maturity model does not apply."""
    if not assessment.applicable:
        return []
    return [f for f in sorted_findings(assessment.findings) if f.outcome in PROBLEMS]


def anchor(finding: Finding) -> Anchor:
    """The finding's first evidence; a line inside a notebook cell is not a file line, so it is dropped."""
    if not finding.evidence:
        return Anchor(REPOSITORY_ANCHOR, None, None, "", True)
    first = finding.evidence[0]
    line = first.line if first.cell is None else None
    return Anchor(first.path, line, first.cell, first.snippet or "", False)


def fingerprint(finding: Finding) -> str:
    """A hash of the rule, the anchor's path and its whitespace-normalised snippet: stable when lines move."""
    where = anchor(finding)
    text = "\0".join((finding.rule.id, where.path, " ".join(where.snippet.split())))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def rule_rank(rule: Rule) -> int:
    """2 for a gate, 1 for a supporting rule (weight ≥ 1), 0 for an advisory one."""
    if rule.gate:
        return 2
    return 1 if rule.weight >= 1 else 0


def finding_rank(finding: Finding) -> int:
    """The rule's rank for a failure, one lower (never below 0) for a partial result."""
    rank = rule_rank(finding.rule)
    return rank if finding.outcome is Outcome.FAIL else max(rank - 1, 0)


def failed_gate_ids(assessment: Assessment) -> frozenset[str]:
    """Ids of the non-passing gate rules behind a level's failed gates (a rule id, or a gate group that missed)."""
    gates = {gate for score in assessment.levels for gate in score.failed_gates}
    return frozenset(
        f.rule.id
        for f in assessment.findings
        if f.gate_failed and (f.rule.id in gates or (f.rule.gate_group is not None and f.rule.gate_group in gates))
    )


def help_uri(rule: Rule) -> str:
    """The rule's own documentation link when it is a web address, else its entry in the rule reference."""
    if rule.docs and rule.docs.startswith(("https://", "http://")):
        return rule.docs
    return f"{INFORMATION_URI}/rules/{rule.id}"


def dump_json(document: Any) -> str:
    """Indented JSON ending with a newline; lone surrogates (undecodable bytes) kept as \\u escapes."""
    text = json.dumps(document, indent=2, ensure_ascii=False)
    return text.encode("utf-8", "backslashreplace").decode("utf-8") + "\n"
