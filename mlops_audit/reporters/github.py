"""GitHub Actions workflow commands: an annotation per problem, shown on the run and on the pull request's diff.

Failed gates are errors, other failures warnings, partial results notices. GitHub shows at most ten annotations
of each kind per step, so at most ten of each are written (nine notices, the tenth being the closing summary).
Repository text is escaped so that it can never end the command or start another one.
"""

from __future__ import annotations

from mlops_audit.model import Assessment, Finding, Outcome
from mlops_audit.reporters import LEVEL_NAMES
from mlops_audit.reporters.anchors import CONTROL, anchor, failed_gate_ids, problems

LIMIT = 10
KINDS = ("error", "warning", "notice")


def escape_data(text: str) -> str:
    """The message part of a command: `%`, CR and LF percent-encoded, other control characters replaced."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return CONTROL.sub("\ufffd", text)


def escape_property(text: str) -> str:
    """A property value (`file=`, `title=`): as data, and `:` and `,` encoded too."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(assessment: Assessment) -> str:
    """The workflow commands, one a line, ending with the summary notice."""
    gates = failed_gate_ids(assessment)
    by_kind: dict[str, list[Finding]] = {kind: [] for kind in KINDS}
    for finding in problems(assessment):
        by_kind[_kind(finding, gates)].append(finding)
    limits = {"error": LIMIT, "warning": LIMIT, "notice": LIMIT - 1}
    lines = [_command(kind, f) for kind in KINDS for f in by_kind[kind][: limits[kind]]]
    lines.append(_summary(assessment, {kind: len(found) for kind, found in by_kind.items()}, limits))
    return "\n".join(lines) + "\n"


def _kind(finding: Finding, gates: frozenset[str]) -> str:
    if finding.rule.id in gates:
        return "error"
    return "warning" if finding.outcome is Outcome.FAIL else "notice"


def _command(kind: str, finding: Finding) -> str:
    rule, where = finding.rule, anchor(finding)
    properties = []
    if not where.repository_level:  # an annotation without a file is shown on the run, not on a diff
        properties.append(f"file={escape_property(where.path)}")
        if where.line is not None:
            properties.append(f"line={where.line}")
    properties.append(f"title={escape_property(f'{rule.id} {rule.title}')}")
    message = finding.message or rule.title
    if finding.outcome is Outcome.PARTIAL:
        message += " (partly met)"
    if rule.remediation:
        message += f"\nNext step: {rule.remediation}"
    return f"::{kind} {','.join(properties)}::{escape_data(message)}"


def _summary(assessment: Assessment, totals: dict[str, int], limits: dict[str, int]) -> str:
    if assessment.applicable:
        name = LEVEL_NAMES.get(assessment.level, "")
        head = f"Level {assessment.level} ({name}), score {assessment.score:.2f} / 2.00."
    else:
        head = "No ML code found: the MLOps maturity levels do not apply."
    counts = f"{totals['error']} failed gates, {totals['warning']} other failures, {totals['notice']} partial."
    hidden = sum(max(totals[kind] - limits[kind], 0) for kind in KINDS)
    tail = f" {hidden} not annotated here: see the full report." if hidden else ""
    return f"::notice title=mlops-audit::{escape_data(f'{head} {counts}{tail}')}"
