"""The HTML report: one self-contained page that loads nothing, needs no JavaScript, prints and fits a phone.

The templates and stylesheet live in the top-level `reports/html/` (shipped as `mlops_audit/reports/html`); the
stylesheet is inlined and the charts are inline SVG. A sandboxed Jinja environment escapes every value, so text
from the audited repository (paths, snippets, messages) can never become markup.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment

import mlops_audit
from mlops_audit.dimensions import ROWS
from mlops_audit.model import Assessment, Dimension, Finding, Outcome
from mlops_audit.reporters import (
    LEVEL_NAMES,
    OUTCOME_ORDER,
    gate_findings,
    level_order,
    outcome_counts,
    sorted_findings,
)

TEMPLATE = "report.html.j2"
MAX_EVIDENCE = 5
MAX_NOTES = 100
PROBLEMS = (Outcome.FAIL, Outcome.PARTIAL)
OUTCOMES: dict[str, tuple[str, str]] = {  # outcome → (symbol, label): never colour alone
    "pass": ("✓", "Passed"),
    "partial": ("◐", "Partial"),
    "fail": ("✗", "Failed"),
    "not_applicable": ("–", "Not applicable"),
    "unknown": ("?", "Unknown"),
}
LEVEL_SHORT = {0: "Manual", 1: "Pipeline", 2: "CI/CD"}
COLUMNS = {row.name: row.columns for row in ROWS}
SURROGATES = re.compile("[\ud800-\udfff]")
GAUGE_CENTRE, GAUGE_RADIUS = (120, 120), 90  # the template's viewBox, tick and labels are drawn around these


def templates_path() -> Path:
    """Where the templates are: inside the installed package, else the repository's top-level `reports/html`."""
    try:
        packaged = resources.files("mlops_audit") / "reports" / "html"
        if packaged.is_dir():
            return Path(str(packaged))
    except (ModuleNotFoundError, OSError):
        pass
    return Path(__file__).resolve().parents[2] / "reports" / "html"


@lru_cache(maxsize=1)
def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(str(templates_path())),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["percent"] = percent
    env.filters["web_link"] = web_link
    env.filters["code_spans"] = code_spans
    return env


def render(assessment: Assessment) -> str:
    """The report as one HTML document; lone surrogates (bytes of a file name that are not UTF-8) become U+FFFD,
    since a page cannot carry them in any encoding."""
    return SURROGATES.sub("\ufffd", _environment().get_template(TEMPLATE).render(_context(assessment)))


def percent(coverage: float | None) -> str:
    return "n/a" if coverage is None else f"{coverage:.0%}"


def web_link(address: str | None) -> str | None:
    """The address when it is a web link (never `javascript:` or a file), else None."""
    return address if address and address.startswith(("https://", "http://")) else None


def code_spans(text: str) -> list[tuple[bool, str]]:
    """`text` cut at backticks into (is_code, part) pairs, so the template marks `code` up and escapes every part."""
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: keep the text as it is
        return [(False, text)]
    return [(number % 2 == 1, part) for number, part in enumerate(parts) if part]


@dataclass(frozen=True, slots=True)
class Gauge:
    """A half-circle dial from 0 (left) through 1 (top) to 2 (right); `value` is None at a score of 0."""

    track: str
    value: str | None
    score: str


def gauge(score: float) -> Gauge:
    clamped = max(0.0, min(2.0, score))
    angle = math.pi * clamped / 2
    cx, cy, r = GAUGE_CENTRE[0], GAUGE_CENTRE[1], GAUGE_RADIUS
    x, y = cx - r * math.cos(angle), cy - r * math.sin(angle)
    start = f"M {cx - r} {cy} A {r} {r} 0 0 1"
    value = f"{start} {x:.2f} {y:.2f}" if clamped > 0 else None
    return Gauge(f"{start} {cx + r} {cy}", value, f"{score:.2f}")


@dataclass(frozen=True, slots=True)
class TableRow:
    """A row of the comparison table: the repository's dimension and the model's wording for each level."""

    dimension: Dimension
    columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Group:
    """The findings of one category within one level: problems shown open; the rest, suppressed ones too, folded."""

    name: str
    problems: tuple[Finding, ...]
    rest: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    counts: dict[str, int]
    groups: tuple[Group, ...]


def _context(assessment: Assessment) -> dict[str, Any]:
    target = assessment.level + 1
    return {
        "report": assessment,
        "version": mlops_audit.__version__,
        "level_name": LEVEL_NAMES.get(assessment.level, ""),
        "level_names": LEVEL_NAMES,
        "level_short": LEVEL_SHORT,
        "outcomes": OUTCOMES,
        "outcome_order": [outcome.value for outcome in OUTCOME_ORDER],
        "max_evidence": MAX_EVIDENCE,
        "gauge": gauge(assessment.score),
        "levels": sorted(assessment.levels, key=lambda score: score.level),
        "counts": outcome_counts(assessment.findings),
        "rows": [TableRow(d, COLUMNS.get(d.name, ("", "", ""))) for d in assessment.dimensions],
        "target": target if target in LEVEL_NAMES else None,
        "gates": gate_findings(assessment) if assessment.applicable else [],
        "sections": _sections(assessment),
        "stack": sorted(assessment.stack, key=lambda tool: (tool.strength != "used", tool.name)),
        "projects": sorted(assessment.projects, key=lambda project: project.root),
        "notes": sorted(assessment.notes)[:MAX_NOTES],
        "hidden_notes": max(len(assessment.notes) - MAX_NOTES, 0),
    }


def _sections(assessment: Assessment) -> list[Section]:
    """Findings by level (0, 1, 2, any), each level by category in the assessment's category order."""
    names = {score.category: score.name for score in assessment.categories}
    rank = {code: number for number, code in enumerate(names)}
    by_level: dict[int, list[Finding]] = {}
    for finding in sorted_findings(assessment.findings):
        by_level.setdefault(level_order(finding), []).append(finding)
    sections = []
    for key, findings in by_level.items():
        codes = sorted({f.rule.category for f in findings}, key=lambda code: (rank.get(code, len(rank)), code))
        groups = tuple(
            _group(names.get(code, code), [f for f in findings if f.rule.category == code])
            for code in codes
        )
        title = f"Level {key} — {LEVEL_NAMES[key]}" if key in LEVEL_NAMES else "Any level"
        sections.append(Section(title, outcome_counts(findings), groups))
    return sections


def _group(name: str, findings: list[Finding]) -> Group:
    problems = tuple(f for f in findings if f.outcome in PROBLEMS and f.suppression is None)
    return Group(name, problems, tuple(f for f in findings if f not in problems))
