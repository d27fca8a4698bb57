"""The JSON report: a stable, versioned document described by `reports/report.schema.json`.

The same assessment always gives byte-identical output: key order is fixed here, lists are sorted, numbers are
rounded, and nothing about the run (time, machine) is included beyond the audited root as given.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import mlops_audit
from mlops_audit.model import (
    Assessment,
    CategoryScore,
    DetectedTool,
    Dimension,
    Evidence,
    Finding,
    LevelScore,
    MLTestScore,
    Note,
    ProjectResult,
    Suppression,
)
from mlops_audit.reporters import ordered_counts, outcome_counts, sorted_findings

SCHEMA_VERSION = "1.0"
SCHEMA_FILE = "report.schema.json"


def schema_path() -> Path:
    """Where the report schema is: inside the installed package, else the repository's top-level `reports/`."""
    try:
        packaged = resources.files("mlops_audit") / "reports" / SCHEMA_FILE
        if packaged.is_file():
            return Path(str(packaged))
    except (ModuleNotFoundError, OSError):
        pass
    return Path(__file__).resolve().parents[2] / "reports" / SCHEMA_FILE


def render(assessment: Assessment) -> str:
    """The report as indented JSON text ending with a newline."""
    text = json.dumps(to_dict(assessment), indent=2, ensure_ascii=False, sort_keys=False)
    # Lone surrogates (undecodable bytes kept by a reader) cannot be written as UTF-8: keep them as \\u escapes.
    return text.encode("utf-8", "backslashreplace").decode("utf-8") + "\n"


def to_dict(assessment: Assessment) -> dict[str, Any]:
    findings = sorted_findings(assessment.findings)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "mlops-audit", "version": mlops_audit.__version__},
        "root": assessment.root,
        "applicable": assessment.applicable,
        "level": assessment.level,
        "score": round(assessment.score, 2),
        "project": assessment.project,
        "projects": [_project(result) for result in sorted(assessment.projects, key=lambda r: r.root)],
        "levels": [_level(score) for score in sorted(assessment.levels, key=lambda s: s.level)],
        "categories": [_category(score) for score in assessment.categories],
        "dimensions": [_dimension(row) for row in assessment.dimensions],
        "ml_test_score": _ml_test_score(assessment.ml_test_score),
        "stack": [_tool(tool) for tool in sorted(assessment.stack, key=lambda t: t.name)],
        "findings": [_finding(finding) for finding in findings],
        "notes": [_note(note) for note in sorted(assessment.notes)],
        "summary": outcome_counts(findings),
    }


def _coverage(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _level(score: LevelScore) -> dict[str, Any]:
    return {
        "level": score.level,
        "coverage": _coverage(score.coverage),
        "gate_passed": score.gate_passed,
        "failed_gates": list(score.failed_gates),
        "counts": ordered_counts(score.counts),
    }


def _project(result: ProjectResult) -> dict[str, Any]:
    return {"root": result.root, "level": result.level, "score": round(result.score, 2), "applicable": result.applicable}


def _dimension(row: Dimension) -> dict[str, Any]:
    return {
        "name": row.name,
        "level": row.level,
        "summary": row.summary,
        "rules": list(row.rules),
        "evidence": [_evidence(item) for item in row.evidence],
    }


def _ml_test_score(score: MLTestScore | None) -> dict[str, Any] | None:
    if score is None:
        return None
    return {
        "final": score.final,
        "band": score.band,
        "sections": [
            {
                "name": section.name,
                "score": section.score,
                "observable_max": section.observable_max,
                "tests": [
                    {"id": test.id, "title": test.title, "value": test.value, "rules": list(test.rules)}
                    for test in section.tests
                ],
            }
            for section in score.sections
        ],
    }


def _category(score: CategoryScore) -> dict[str, Any]:
    return {
        "category": score.category,
        "name": score.name,
        "coverage": _coverage(score.coverage),
        "counts": ordered_counts(score.counts),
    }


def _tool(tool: DetectedTool) -> dict[str, Any]:
    return {
        "name": tool.name,
        "categories": list(tool.categories),
        "strength": tool.strength,
        "evidence": [_evidence(item) for item in tool.evidence],
    }


def _finding(finding: Finding) -> dict[str, Any]:
    rule = finding.rule
    return {
        "id": rule.id,
        "slug": rule.slug,
        "title": rule.title,
        "level": "any" if rule.level is None else rule.level,
        "category": rule.category,
        "outcome": finding.outcome.value,
        "gate": rule.gate,
        "gate_group": rule.gate_group,
        "weight": rule.weight,
        "confidence": rule.confidence,
        "message": finding.message,
        "evidence": [_evidence(item) for item in finding.evidence],
        "remediation": rule.remediation,
        "docs": rule.docs,
        "suppression": _suppression(finding.suppression),
    }


def _suppression(suppression: Suppression | None) -> dict[str, Any] | None:
    if suppression is None:
        return None
    return {"reason": suppression.reason, "source": _evidence(suppression.source)}


def _evidence(evidence: Evidence) -> dict[str, Any]:
    return {"path": evidence.path, "line": evidence.line, "cell": evidence.cell, "snippet": evidence.snippet}


def _note(note: Note) -> dict[str, str]:
    return {"path": note.path, "message": note.message, "kind": note.kind}
