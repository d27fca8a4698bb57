"""The terminal report: the level and score first, then what stands between the repository and the next level.

Colour is an argument: the caller decides (TTY, NO_COLOR). Text that comes from the audited repository is
cleaned of control characters, so a file name or message can never drive the terminal.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from mlops_audit.model import Assessment, DetectedTool, Evidence, Finding, LevelScore, Note, Outcome, ProjectResult
from mlops_audit.reporters import (
    LEVEL_NAMES,
    OUTCOME_ORDER,
    gate_findings,
    level_order,
    outcome_counts,
    sorted_findings,
)

WIDTH = 100
BAR_WIDTH = 20
MAX_LOCATIONS = 3
MAX_NOTES = 10
PROJECT_WIDTH = 50  # project roots are padded to line up, up to this width

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")  # C0, C1, bidi, surrogates
_CODES = {"pass": "32", "fail": "31", "partial": "33", "dim": "2", "unknown": "36", "bold": "1"}
_SYMBOLS = {
    Outcome.PASS: "✓",
    Outcome.PARTIAL: "~",
    Outcome.FAIL: "✗",
    Outcome.NOT_APPLICABLE: "–",
    Outcome.UNKNOWN: "?",
}
_LABELS = {
    Outcome.PASS: "passed",
    Outcome.PARTIAL: "partial",
    Outcome.FAIL: "failed",
    Outcome.NOT_APPLICABLE: "n/a",
    Outcome.UNKNOWN: "unknown",
}
_STYLES = {
    Outcome.PASS: "pass",
    Outcome.PARTIAL: "partial",
    Outcome.FAIL: "fail",
    Outcome.NOT_APPLICABLE: "dim",
    Outcome.UNKNOWN: "unknown",
}


@dataclass(frozen=True, slots=True)
class _Paint:
    color: bool

    def __call__(self, text: str, style: str) -> str:
        return f"\x1b[{_CODES[style]}m{text}\x1b[0m" if self.color and text else text


def render(assessment: Assessment, color: bool) -> str:
    """The report for a terminal; ANSI colour only when `color` is true."""
    paint = _Paint(color)
    blocks = [_header(assessment, paint), _projects(assessment.projects, assessment.project, paint)]
    if assessment.applicable:
        shown = gate_findings(assessment)
        blocks += [
            _levels(assessment, paint),
            _gates(assessment, shown, paint),
            _others(assessment.findings, {f.rule.id for _, group in shown for f in group}, paint),
            _suppressed(assessment.findings),
            _counts(assessment.findings, paint),
            _ml_test_score(assessment),
        ]
    else:
        blocks.append(_not_applicable())
    blocks += [_stack(assessment.stack), _notes(assessment.notes, paint)]
    return "\n\n".join("\n".join(block) for block in blocks if block) + "\n"


def summary(assessment: Assessment) -> str:
    """One line for hooks and logs: the level, the score and what stands before the next level."""
    if not assessment.applicable:
        return f"mlops-audit: {_clean(assessment.root)}: no ML code found; the maturity levels do not apply\n"
    text = f"mlops-audit: Level {assessment.level} — {LEVEL_NAMES.get(assessment.level, '')} · score {assessment.score:.2f}"
    nxt = next((s for s in assessment.levels if s.level == assessment.level + 1), None)
    if nxt is not None and nxt.failed_gates:
        text += f" · Level {nxt.level} needs: {', '.join(_clean(g) for g in nxt.failed_gates)}"
    return text + "\n"


def _clean(text: str) -> str:
    """One line with no control characters: repository text must not reach the terminal raw."""
    return _CONTROL.sub("\ufffd", " ".join(text.split()))


def _wrap(text: str, indent: str, first: str = "") -> list[str]:
    """`text` (already cleaned) wrapped to the report width, after `first` on the first line."""
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=indent + first,
        subsequent_indent=indent + " " * len(first),
        break_on_hyphens=False,
    ) or [indent + first.rstrip()]


def _header(assessment: Assessment, paint: _Paint) -> list[str]:
    lines = [paint("mlops-audit", "bold") + " · " + _clean(assessment.root)]
    if assessment.applicable:
        name = LEVEL_NAMES.get(assessment.level, "")
        level = paint(f"Level {assessment.level} — {name}", "bold")
        lines.append(f"{level} · score {assessment.score:.2f} / 2.00")
    if assessment.project is not None:
        lines.append(f"verdict from project {_clean(assessment.project)}")
    return lines


def _projects(projects: tuple[ProjectResult, ...], verdict: str | None, paint: _Paint) -> list[str]:
    if not projects:
        return []
    lines = [paint(f"Projects ({len(projects)})", "bold")]
    width = min(max(len(_clean(p.root)) for p in projects), PROJECT_WIDTH)
    for project in sorted(projects, key=lambda p: p.root):
        text = f"Level {project.level} · score {project.score:.2f}" if project.applicable else "no ML code"
        marker = "  ← verdict" if project.root == verdict else ""
        lines.append(f"  {_clean(project.root):<{width}}  {text}{marker}")
    return lines


def _not_applicable() -> list[str]:
    text = (
        "No ML code found: nothing here trains, evaluates or serves a model, so the MLOps maturity levels "
        "do not apply and no level or score is given."
    )
    return _wrap(text, "")


def _levels(assessment: Assessment, paint: _Paint) -> list[str]:
    ordered = sorted(assessment.levels, key=lambda s: s.level)
    return [_level_line(score, score.level == assessment.level, paint) for score in ordered]


def _level_line(score: LevelScore, reached: bool, paint: _Paint) -> str:
    if score.coverage is None:
        bar, percent = paint("░" * BAR_WIDTH, "dim"), paint(" n/a", "dim")
    else:
        filled = round(max(0.0, min(1.0, score.coverage)) * BAR_WIDTH)
        style = "pass" if score.gate_passed else "fail"
        bar = paint("█" * filled, style) + paint("░" * (BAR_WIDTH - filled), "dim")
        percent = f"{score.coverage:4.0%}"
    if score.gate_passed:
        gates = "gates " + paint("✓", "pass")
    else:
        gates = "gates " + paint(f"✗ {len(score.failed_gates)} failed", "fail")
    marker = "  ← reached" if reached else ""
    return f"  Level {score.level}  {bar} {percent}  {gates}{marker}"


def _gates(assessment: Assessment, shown: list[tuple[str, list[Finding]]], paint: _Paint) -> list[str]:
    if not shown:
        return []
    target = assessment.level + 1
    lines = [paint(f"Failed gates for Level {target} — {LEVEL_NAMES[target]}", "bold")]
    for gate, group in shown:
        if len(group) == 1 and group[0].rule.id == gate:
            lines += _gate_detail(group[0], "  ", paint)
            continue
        suffix = ": one of these must pass" if group else ""
        lines.append("  " + paint("✗", "fail") + f" gate {_clean(gate)}{suffix}")
        for finding in group:
            lines += _gate_detail(finding, "    ", paint)
    return lines


def _gate_detail(finding: Finding, indent: str, paint: _Paint) -> list[str]:
    rule = finding.rule
    symbol = _SYMBOLS[finding.outcome]
    lines = _wrap(f"{_clean(rule.id)}  {_clean(rule.title)}", indent, symbol + " ")
    lines[0] = indent + paint(symbol, _STYLES[finding.outcome]) + lines[0][len(indent) + len(symbol):]
    inner = indent + "  "
    if finding.message:
        lines += _wrap(_clean(finding.message), inner)
    if finding.evidence:
        lines += _wrap(_clean(_locations(finding.evidence)), inner, "at ")
    if rule.remediation:
        lines += _wrap(_clean(rule.remediation), inner, "→ next step: ")
    if rule.docs:
        lines += _wrap(_clean(rule.docs), inner, "docs: ")
    return lines


def _locations(evidence: tuple[Evidence, ...]) -> str:
    text = " · ".join(item.where() for item in evidence[:MAX_LOCATIONS])
    extra = len(evidence) - MAX_LOCATIONS
    return text + (f" (+{extra} more)" if extra > 0 else "")


def _others(findings: Iterable[Finding], shown: set[str], paint: _Paint) -> list[str]:
    to_improve = (Outcome.FAIL, Outcome.PARTIAL)
    rest = [
        f for f in sorted_findings(findings)
        if f.outcome in to_improve and f.rule.id not in shown and f.suppression is None
    ]
    if not rest:
        return []
    lines = [paint("Other findings to improve", "bold")]
    current = None
    for finding in rest:
        if level_order(finding) != current:
            current = level_order(finding)
            lines.append("  " + ("Any level" if finding.rule.level is None else f"Level {finding.rule.level}"))
        lines.append(_finding_line(finding, paint))
    return lines


def _suppressed(findings: Iterable[Finding]) -> list[str]:
    accepted = [(f, f.suppression) for f in sorted_findings(findings) if f.suppression is not None]
    lines = []
    for finding, suppression in accepted:
        text = f"{finding.rule.id} {finding.rule.title}: {suppression.reason} ({suppression.source.where()})"
        lines += _wrap(_clean(text), "  ", "- ")
    return ["Suppressed (accepted by the team)", *lines] if lines else []


def _finding_line(finding: Finding, paint: _Paint) -> str:
    style = _STYLES[finding.outcome]
    label = _LABELS[finding.outcome]
    rule_id = f"{_clean(finding.rule.id):<12}"
    room = WIDTH - len(rule_id) - len(label) - 9
    title = _clean(finding.rule.title)
    if len(title) > room:
        title = title[: max(room - 1, 0)] + "…"
    symbol = paint(_SYMBOLS[finding.outcome], style)
    return f"    {symbol} {rule_id} {title}  {paint(label, style)}"


def _counts(findings: Iterable[Finding], paint: _Paint) -> list[str]:
    counts = outcome_counts(findings)
    parts = [paint(f"{counts[o.value]} {_LABELS[o]}", _STYLES[o]) for o in OUTCOME_ORDER]
    return ["Rules: " + " · ".join(parts)]


def _ml_test_score(assessment: Assessment) -> list[str]:
    score = assessment.ml_test_score
    if score is None:
        return []
    parts = " · ".join(f"{s.name} {s.score:g}/{s.observable_max:g}" for s in score.sections)
    return _wrap(f"ML Test Score (static proxy): {score.final:g} — {parts} (observable tests); {score.band}", "")


def _stack(stack: tuple[DetectedTool, ...]) -> list[str]:
    if not stack:
        return ["Stack: no MLOps tools detected"]
    lines = []
    for strength in ("used", "declared"):
        tools = sorted((t for t in stack if t.strength == strength), key=lambda t: t.name)
        if tools:
            lines += _wrap(_clean(", ".join(_tool_text(t) for t in tools)), "", f"Stack ({strength}): ")
    others = sorted((t for t in stack if t.strength not in ("used", "declared")), key=lambda t: t.name)
    if others:
        lines += _wrap(_clean(", ".join(_tool_text(t) for t in others)), "", "Stack: ")
    return lines


def _tool_text(tool: DetectedTool) -> str:
    kinds = ", ".join(tool.categories)
    return f"{tool.name} ({kinds})" if kinds else tool.name


def _notes(notes: tuple[Note, ...], paint: _Paint) -> list[str]:
    if not notes:
        return []
    ordered = sorted(notes)
    lines = [paint(f"Notes ({len(ordered)})", "bold")]
    for note in ordered[:MAX_NOTES]:
        lines += _wrap(_clean(f"{note.path}: {note.message} [{note.kind}]"), "  ")
    extra = len(ordered) - MAX_NOTES
    if extra > 0:
        lines.append(f"  (+{extra} more in the JSON report)")
    return lines
