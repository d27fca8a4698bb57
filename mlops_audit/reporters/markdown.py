"""Markdown for GitHub job summaries and pull-request comments: level, score, coverage, what to fix next.

Text from the repository or a rule pack is escaped so it can never add markup, HTML, links or mentions, and the
output stays under 1 MiB (GitHub's limit for a job summary) however many findings there are.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from mlops_audit.model import (
    Assessment,
    DetectedTool,
    Evidence,
    Finding,
    LevelScore,
    Note,
    Outcome,
    ProjectResult,
    clip,
)
from mlops_audit.reporters import LEVEL_NAMES, OUTCOME_ORDER, gate_findings, outcome_counts
from mlops_audit.reporters.anchors import CONTROL, help_uri, problems

MAX_BYTES = 1024 * 1024
FINDINGS_BUDGET = 800_000  # bytes for finding entries; the rest is bounded by the caps below
MAX_LOCATIONS = 3
MAX_TOOLS = 40
MAX_NOTES = 10
MAX_PROJECTS = 50
TEXT_LIMIT = 300

# Inline markup is backslash-escaped (outside text never starts a line), HTML characters become entities, and a
# zero-width joiner after @ and # keeps mentions and issue references from linking.
_ESCAPES = str.maketrans({
    **{char: "\\" + char for char in "\\`*_[]|~$"},
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
    "@": "@\u200d", "#": "#\u200d",
})
_SYMBOLS = {Outcome.FAIL: "❌", Outcome.PARTIAL: "🟡"}
_LABELS = {
    Outcome.PASS: "passed",
    Outcome.PARTIAL: "partial",
    Outcome.FAIL: "failed",
    Outcome.NOT_APPLICABLE: "n/a",
    Outcome.UNKNOWN: "unknown",
}


def escape(text: str, limit: int = TEXT_LIMIT) -> str:
    """Outside text as one line of literal Markdown: no HTML, emphasis, links, tables, math or @mentions."""
    return CONTROL.sub("\ufffd", clip(text, limit)).translate(_ESCAPES)


def code(text: str, limit: int = TEXT_LIMIT) -> str:
    """Outside text in a monospace span, escaped like any other."""
    return f"<code>{escape(text, limit)}</code>"


def render(assessment: Assessment) -> str:
    """The Markdown report, ending with a newline."""
    blocks = [_header(assessment), _projects(assessment.projects, assessment.project)]
    if assessment.applicable:
        found = problems(assessment)
        gates = [f for _, group in gate_findings(assessment) for f in group if f in found]
        gate_block, budget = _gates(assessment.level + 1, gates, FINDINGS_BUDGET)
        blocks += [_levels(assessment), gate_block]
        shown = {f.rule.id for f in gates}
        for level in (0, 1, 2, None):
            rest = [f for f in found if f.rule.level == level and f.rule.id not in shown]
            block, budget = _details(level, rest, budget)
            blocks.append(block)
        blocks.append(_counts(assessment.findings))
    else:
        blocks.append("No ML code found: nothing here trains, evaluates or serves a model, so the MLOps maturity "
                      "levels do not apply and no level or score is given.")
    blocks += [_stack(assessment.stack), _notes(assessment.notes)]
    return "\n\n".join(block for block in blocks if block) + "\n"


def _header(assessment: Assessment) -> str:
    if assessment.applicable:
        name = LEVEL_NAMES.get(assessment.level, "")
        title = f"## MLOps maturity: Level {assessment.level} — {name} · score {assessment.score:.2f} / 2.00"
    else:
        title = "## MLOps maturity: not applicable"
    origin = f" The verdict comes from project {code(assessment.project)}." if assessment.project is not None else ""
    return f"{title}\n\nRepository {code(assessment.root)}, audited by mlops-audit.{origin}"


def _projects(projects: tuple[ProjectResult, ...], verdict: str | None) -> str:
    if not projects:
        return ""
    rows = [f"### Projects ({len(projects)})", "", "| Project | Level | Score |", "| :-- | --: | --: |"]
    ordered = sorted(projects, key=lambda p: p.root)
    for project in ordered[:MAX_PROJECTS]:
        name = code(project.root, 200) + (" (verdict)" if project.root == verdict else "")
        level, score = (str(project.level), f"{project.score:.2f}") if project.applicable else ("n/a", "n/a")
        rows.append(f"| {name} | {level} | {score} |")
    if len(ordered) > MAX_PROJECTS:
        rows.append(f"| … {len(ordered) - MAX_PROJECTS} more (see the full report) | | |")
    return "\n".join(rows)


def _levels(assessment: Assessment) -> str:
    rows = ["| Level | Coverage | Gates |", "| :-- | --: | :-- |"]
    for score in sorted(assessment.levels, key=lambda s: s.level):
        rows.append(_level_row(score, score.level == assessment.level))
    return "\n".join(rows)


def _level_row(score: LevelScore, reached: bool) -> str:
    name = f"{score.level} — {LEVEL_NAMES.get(score.level, '')}"
    if reached:
        name = f"**{name}** (reached)"
    coverage = "n/a" if score.coverage is None else f"{score.coverage:.0%}"
    gates = "✅ passed" if score.gate_passed else f"❌ {len(score.failed_gates)} failed"
    return f"| {name} | {coverage} | {gates} |"


def _gates(target: int, findings: list[Finding], budget: int) -> tuple[str, int]:
    if not findings:
        return "", budget
    entries, budget = _fit(findings, _gate_entry, budget)
    return f"### Failed gates for Level {target} — {LEVEL_NAMES[target]}\n\n" + "\n".join(entries), budget


def _gate_entry(finding: Finding) -> str:
    rule = finding.rule
    lines = [_entry_head(finding)]
    if rule.gate_group:
        lines.append(f"One rule of gate group {code(rule.gate_group)} must pass.")
    if finding.evidence:
        lines.append("Evidence: " + _locations(finding.evidence))
    if rule.remediation:
        lines.append("Next step: " + escape(rule.remediation))
    if rule.docs:
        lines.append(f"[Documentation]({_link(help_uri(rule))})")
    return "  \n  ".join(lines)


def _details(level: int | None, findings: list[Finding], budget: int) -> tuple[str, int]:
    if not findings:
        return "", budget
    name = "Any level" if level is None else f"Level {level} — {LEVEL_NAMES[level]}"
    counts = outcome_counts(findings)
    summary = f"{name}: {counts['fail']} failed, {counts['partial']} partial"
    entries, budget = _fit(findings, _entry, budget)
    return f"<details><summary>{summary}</summary>\n\n" + "\n".join(entries) + "\n\n</details>", budget


def _entry_head(finding: Finding) -> str:
    rule = finding.rule
    text = f"- {_SYMBOLS[finding.outcome]} **{escape(rule.id)}** {escape(rule.title)}"
    return text + f": {escape(finding.message)}" if finding.message else text


def _entry(finding: Finding) -> str:
    text = _entry_head(finding)
    if finding.evidence:
        text += f" ({_locations(finding.evidence[:1])}{_more(len(finding.evidence) - 1)})"
    return text


def _fit(findings: list[Finding], entry: Callable[[Finding], str], budget: int) -> tuple[list[str], int]:
    """Entries for the findings that fit in `budget` bytes, then a line counting the others; and the budget left."""
    kept: list[str] = []
    for number, finding in enumerate(findings):
        text = entry(finding)
        size = len(text.encode("utf-8")) + 1
        if size > budget:
            kept.append(f"- … {len(findings) - number} more (see the full report)")
            return kept, 0
        kept.append(text)
        budget -= size
    return kept, budget


def _locations(evidence: tuple[Evidence, ...]) -> str:
    return "; ".join(_location(item) for item in evidence[:MAX_LOCATIONS]) + _more(len(evidence) - MAX_LOCATIONS)


def _location(evidence: Evidence) -> str:
    """Where, then the snippet unless it only repeats the path."""
    where = code(evidence.where(), 200)
    return f"{where} {code(evidence.snippet, 200)}" if evidence.snippet and evidence.snippet != evidence.path else where


def _more(extra: int) -> str:
    return f" and {extra} more" if extra > 0 else ""


def _link(url: str) -> str:
    """A link destination that cannot close the link early: parentheses, spaces and brackets percent-encoded."""
    return quote(clip(url, TEXT_LIMIT), safe=":/?#@!$&'*+,;=%~-._", errors="backslashreplace")


def _counts(findings: tuple[Finding, ...]) -> str:
    counts = outcome_counts(findings)
    return "**Rules:** " + " · ".join(f"{counts[o.value]} {_LABELS[o]}" for o in OUTCOME_ORDER)


def _stack(stack: tuple[DetectedTool, ...]) -> str:
    if not stack:
        return "**Stack:** no MLOps tools detected"
    tools = sorted(stack, key=lambda t: (t.strength != "used", t.name))
    return "**Stack:** " + ", ".join(_tool(t) for t in tools[:MAX_TOOLS]) + _more(len(tools) - MAX_TOOLS)


def _tool(tool: DetectedTool) -> str:
    """`name (categories)`, and the strength in italics unless the tool is used."""
    text = escape(tool.name, 60)
    if tool.categories:
        text += f" ({escape(', '.join(tool.categories), 120)})"
    return text if tool.strength == "used" else f"{text} *{escape(tool.strength, 20)}*"


def _notes(notes: tuple[Note, ...]) -> str:
    if not notes:
        return ""
    ordered = sorted(notes)
    lines = [f"- {code(n.path, 200)}: {escape(n.message)} ({escape(n.kind, 40)})" for n in ordered[:MAX_NOTES]]
    if len(ordered) > MAX_NOTES:
        lines.append(f"- … {len(ordered) - MAX_NOTES} more (see the full report)")
    summary = f"Notes: {len(ordered)} file(s) could not be fully read"
    return f"<details><summary>{summary}</summary>\n\n" + "\n".join(lines) + "\n\n</details>"
