"""Baselines: adopt the audit on an existing repository by recording today's findings and reporting only new ones.

A baseline is a JSON file of the unsuppressed failing and partial findings, one entry per evidence item: the rule
id, the evidence's path and a fingerprint, the sha256 of the rule id, the path and the evidence snippet with its
whitespace normalised. Line and cell numbers are left out, so a finding stays known when lines move; a finding
without evidence is keyed by its rule id alone. A finding is new when any of its entries is not in the baseline
(a known problem that appears in one more file is reported again).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_audit.errors import AuditError
from mlops_audit.model import Assessment, Evidence, Finding, Outcome

VERSION = 1
BASELINED = (Outcome.FAIL, Outcome.PARTIAL)


@dataclass(frozen=True, slots=True, order=True)
class Entry:
    rule: str
    path: str | None
    fingerprint: str

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "path": self.path, "fingerprint": self.fingerprint}


def fingerprint(rule: str, evidence: Evidence | None) -> str:
    if evidence is None:
        return hashlib.sha256(rule.encode()).hexdigest()
    snippet = " ".join((evidence.snippet or "").split())
    return hashlib.sha256(f"{rule}\0{evidence.path}\0{snippet}".encode()).hexdigest()


def entries(finding: Finding) -> frozenset[Entry]:
    """The keys of a finding: one per evidence item, or its rule id alone when it has no evidence."""
    rule = finding.rule.id
    if not finding.evidence:
        return frozenset({Entry(rule, None, fingerprint(rule, None))})
    return frozenset(Entry(rule, e.path, fingerprint(rule, e)) for e in finding.evidence)


def baselined(assessment: Assessment) -> list[Finding]:
    """The findings a baseline records: unsuppressed, failing or partial."""
    return [f for f in assessment.findings if f.suppression is None and f.outcome in BASELINED]


def write_baseline(assessment: Assessment, path: str | Path) -> int:
    """Write the baseline of `assessment` to `path`; the number of entries written."""
    recorded = sorted({entry for finding in baselined(assessment) for entry in entries(finding)})
    document = {"version": VERSION, "tool": "mlops-audit", "entries": [entry.to_dict() for entry in recorded]}
    try:
        Path(path).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as error:
        raise AuditError(f"baseline {path}: cannot be written: {error.strerror}") from None
    return len(recorded)


def read_baseline(path: str | Path) -> frozenset[Entry]:
    """The entries of a baseline file; a missing, unreadable or malformed file is an AuditError."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AuditError(f"baseline {path}: no such file (write one first)") from None
    except OSError as error:
        raise AuditError(f"baseline {path}: cannot be read: {error.strerror}") from None
    except (ValueError, RecursionError) as error:
        raise AuditError(f"baseline {path}: not valid JSON ({error})") from None
    if not isinstance(document, dict) or document.get("version") != VERSION:
        raise AuditError(f"baseline {path}: not an mlops-audit baseline of version {VERSION}")
    raw = document.get("entries")
    if not isinstance(raw, list) or not all(_valid(item) for item in raw):
        raise AuditError(f"baseline {path}: `entries` must be a list of {{rule, path, fingerprint}} objects")
    return frozenset(Entry(item["rule"], item["path"], item["fingerprint"]) for item in raw)


def _valid(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("rule"), str)
        and isinstance(item.get("path"), (str, type(None)))
        and isinstance(item.get("fingerprint"), str)
    )


def new_findings(assessment: Assessment, baseline_path: str | Path) -> list[Finding]:
    """The unsuppressed failing and partial findings that the baseline at `baseline_path` does not record."""
    known = read_baseline(baseline_path)
    return [finding for finding in baselined(assessment) if not entries(finding) <= known]
