"""The vocabulary shared by every stage: evidence, notes, rules, findings and the assessment."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

SNIPPET_LIMIT = 200


def clip(text: str, limit: int = SNIPPET_LIMIT) -> str:
    """One line of at most `limit` characters, for evidence snippets and messages."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where something was seen: a repository-relative POSIX path, 1-based line, 1-based notebook cell."""

    path: str
    line: int | None = None
    cell: int | None = None
    snippet: str | None = None

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.cell or 0, self.line or 0, self.snippet or "")

    def where(self) -> str:
        text = self.path
        if self.cell is not None:
            text += f" cell {self.cell}"
        if self.line is not None:
            text += f":{self.line}"
        return text


@dataclass(frozen=True, slots=True, order=True)
class Note:
    """A problem met while reading the repository (unparsable file, too large, unreadable history)."""

    path: str
    message: str
    kind: str = "unreadable"


class Outcome(str, Enum):
    PASS = "pass"
    PARTIAL = "partial"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"
    UNKNOWN = "unknown"

    @property
    def value_credit(self) -> float | None:
        """Credit towards coverage; None when the rule does not count (not applicable, unknown)."""
        return {"pass": 1.0, "partial": 0.5, "fail": 0.0}.get(self.value)


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of a pack, validated on load (see `packs.py`)."""

    id: str
    slug: str
    title: str
    level: int | None  # None for level-independent (ANY-*) rules
    category: str
    weight: float
    gate: bool
    gate_group: str | None
    confidence: str
    rationale: str
    source: str
    check: Any
    partial: Any
    applies: Any
    messages: dict[str, str]
    remediation: str
    scaffold: str | None
    docs: str | None
    examples: dict[str, list[dict[str, Any]]]
    pack: str

    @property
    def level_name(self) -> str:
        return "any" if self.level is None else str(self.level)


@dataclass(frozen=True, slots=True)
class Suppression:
    """A team's recorded decision to accept a finding: where it was written and why."""

    reason: str
    source: Evidence  # the inline comment (path, line, cell) or the configuration entry


@dataclass(frozen=True, slots=True)
class Finding:
    rule: Rule
    outcome: Outcome
    message: str
    evidence: tuple[Evidence, ...] = ()
    suppression: Suppression | None = None

    @property
    def gate_failed(self) -> bool:
        return self.rule.gate and self.outcome is not Outcome.PASS


@dataclass(frozen=True, slots=True)
class LevelScore:
    level: int
    coverage: float | None
    gate_passed: bool
    failed_gates: tuple[str, ...]
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class CategoryScore:
    category: str
    name: str
    coverage: float | None
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class DetectedTool:
    name: str
    categories: tuple[str, ...]
    strength: str  # "used" (imported and called, or configured) or "declared" (listed in a manifest only)
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True, slots=True)
class Dimension:
    """One row of the maturity model's comparison table (code, training, deployment, ...) for this repository."""

    name: str  # "Code", "Training", "Versioning", "Deployment", "Release cycle", "Testing"
    level: int | None  # 0, 1 or 2: the column of the table the repository matches; None when unknown
    summary: str  # what the repository shows, in a phrase
    rules: tuple[str, ...]  # ids of the rules that decided it
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True, slots=True)
class MLTestResult:
    """One test of the ML Test Score: 0, 0.5 (exists) or 1 (automated); None when no rule can observe it."""

    id: str  # "Data 1", "Infra 4", ...
    title: str
    value: float | None
    rules: tuple[str, ...]  # the rules that observed it


@dataclass(frozen=True, slots=True)
class MLTestSection:
    name: str  # "Data", "Model", "Infra", "Monitor"
    score: float
    observable_max: float
    tests: tuple[MLTestResult, ...]


@dataclass(frozen=True, slots=True)
class MLTestScore:
    final: float  # the minimum of the section scores
    band: str  # the paper's reading of the final score
    sections: tuple[MLTestSection, ...]


@dataclass(frozen=True, slots=True)
class ProjectResult:
    """One ML project of a monorepo, assessed on its own folder and the repository-wide files."""

    root: str  # the project's folder, relative to the repository root
    level: int
    score: float
    applicable: bool


@dataclass(frozen=True, slots=True)
class Assessment:
    root: str
    applicable: bool
    level: int
    score: float
    levels: tuple[LevelScore, ...]
    categories: tuple[CategoryScore, ...]
    stack: tuple[DetectedTool, ...]
    findings: tuple[Finding, ...]
    notes: tuple[Note, ...] = field(default=())
    dimensions: tuple[Dimension, ...] = field(default=())
    ml_test_score: MLTestScore | None = None
    projects: tuple[ProjectResult, ...] = field(default=())  # every project of a monorepo, sorted by root
    project: str | None = None  # the project the verdict comes from, when one reaches further than the whole
