"""Suppressions: a team's recorded decision to accept a finding, written inline or in the configuration.

- Inline: `# mlops-audit: ignore[L0-NB-05] reason` (several ids comma-separated) in any `#` comment of a Python
  file, a notebook code cell, a YAML, CI or DVC file, a Dockerfile, a requirements or TOML file, a shell script, a
  Makefile, or a `.env`, INI or Terraform file. A comment on a line of its own applies to the next non-blank line
  (stacked suppression comments are skipped over); at the end of a code line, to that line.
- Configuration: `suppress = [{rule = "L1-FS-01", reason = "...", paths = ["optional globs"]}]`.

A finding that fails, partly passes or is unknown is suppressed when each of its evidence items is covered: by an
inline suppression of its rule in the same file at the same cell and line (evidence naming a whole file or cell is
covered by a suppression anywhere in it), or by a configuration entry of its rule whose `paths` match the
evidence's file. An entry without `paths` covers the whole finding, and is the only way to suppress a finding
without evidence. The finding keeps its outcome and records the suppression. A suppression without a reason is not
applied; it, unknown rule ids and suppressions that suppress nothing become notes of kind `suppression`.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from mlops_audit.analyzers.notebooks import NotANotebook, notebook_cells
from mlops_audit.inventory import Inventory, RepoFile, matches
from mlops_audit.model import Evidence, Finding, Note, Outcome, Suppression, clip

SCANNED_KINDS = frozenset({"python", "notebook", "ci", "yaml", "dvc", "docker", "manifest", "script", "toml"})
HASH_COMMENT_SUFFIXES = frozenset(  # other files whose comments start with `#` (configuration, infrastructure)
    {".ini", ".cfg", ".conf", ".properties", ".env", ".envrc", ".tf", ".tfvars", ".hcl", ".r", ".rb", ".ps1"}
)
MARKER = "mlops-audit:"
DIRECTIVE = re.compile(r"#\s*mlops-audit:\s*(?P<body>.*)$")
IGNORE = re.compile(r"ignore\[(?P<ids>[^\]]*)\](?P<reason>.*)$")
OTHER_DIRECTIVE = re.compile(r"[a-z-]+\[")
SUPPRESSIBLE = frozenset({Outcome.FAIL, Outcome.PARTIAL, Outcome.UNKNOWN})
KIND = "suppression"
MENTIONS = "inline suppression mentions"  # an inventory's shared table: path in the repository -> mentions MARKER


@dataclass(frozen=True, slots=True)
class InlineSuppression:
    """An `ignore[...]` comment: the rules it names, why, where it is written and the line it covers."""

    rules: tuple[str, ...]
    reason: str
    source: Evidence  # the comment itself: path, cell, line, text
    target: int | None  # the line it covers (None when no line follows an own-line comment)

    def covers(self, rule: str, evidence: Evidence | None) -> bool:
        if evidence is None or rule not in self.rules or evidence.path != self.source.path:
            return False
        if evidence.line is None:
            return evidence.cell is None or evidence.cell == self.source.cell
        return evidence.cell == self.source.cell and evidence.line == self.target

    def describe(self) -> str:
        return f"{_place(self.source)}: ignore[{','.join(self.rules)}]"


@dataclass(frozen=True, slots=True)
class ConfigSuppression:
    """A `suppress` entry of the configuration."""

    rule: str
    reason: str
    paths: tuple[str, ...]  # globs, as in `inventory.glob`; empty: everywhere, findings without evidence included
    source: Evidence  # the configuration file and, when found, the entry's line

    @property
    def rules(self) -> tuple[str, ...]:
        return (self.rule,)

    def covers(self, rule: str, evidence: Evidence | None) -> bool:
        if rule != self.rule:
            return False
        return not self.paths or (evidence is not None and matches(evidence.path, self.paths))

    def describe(self) -> str:
        return f"{_place(self.source)}: suppress entry for {self.rule}"


Candidate = InlineSuppression | ConfigSuppression


def _place(source: Evidence) -> str:
    parts = [f"cell {source.cell}"] if source.cell is not None else []
    if source.line is not None:
        parts.append(f"line {source.line}")
    return ", ".join(parts) or "configuration"


# Scanning -----------------------------------------------------------------------------------------------------


def scan_inline(inventory: Inventory) -> tuple[list[InlineSuppression], list[Note]]:
    """Every inline suppression of the repository, and notes on the malformed ones; only files that mention
    `mlops-audit:` are looked at line by line, and files known not to (see `mentions`) are not read."""
    found: list[InlineSuppression] = []
    notes: list[Note] = []
    known = inventory.shared(MENTIONS)
    for file in inventory.files:
        if not _scanned(file) or known.get(inventory.origin(file.path)) is False:
            continue
        text = inventory.read_text(file.path)
        if text is None or MARKER not in text:
            continue
        units = _cells(text) if file.kind == "notebook" else [(None, text)]
        for cell, source in units:
            if MARKER in source:
                scan_source(file.path, cell, source, found, notes)
    return found, notes


def mentions(inventory: Inventory, files: Iterable[RepoFile]) -> dict[str, bool]:
    """Whether each of the files that can hold inline suppressions mentions `mlops-audit:`, by its path in the
    repository: read ahead, in another process, so that the inventory and every view made from it read only those
    that do."""
    return {
        inventory.origin(file.path): MARKER in (inventory.read_text(file.path) or "")
        for file in files
        if _scanned(file)
    }


def remember_mentions(inventory: Inventory, found: dict[str, bool]) -> None:
    """Keep `mentions` made elsewhere for the inventory and its views."""
    inventory.shared(MENTIONS).update(found)


def _scanned(file: RepoFile) -> bool:
    if file.kind in SCANNED_KINDS:
        return True
    name = PurePosixPath(file.path).name
    suffix = PurePosixPath(name).suffix.lower()
    return file.kind == "other" and (name.startswith(".env") or suffix in HASH_COMMENT_SUFFIXES)


def _cells(text: str) -> list[tuple[int | None, str]]:
    """The code cells of a notebook as (cell number, source); none when the notebook does not parse."""
    try:
        _, cells = notebook_cells(json.loads(text.removeprefix("\ufeff")))
    except (ValueError, NotANotebook, RecursionError):
        return []
    return [(cell.number, cell.source) for cell in cells if cell.kind == "code"]


def scan_source(
    path: str, cell: int | None, source: str, found: list[InlineSuppression], notes: list[Note]
) -> None:
    """Add the suppressions written in `source` (a file, or one notebook cell) to `found`, problems to `notes`."""
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for index, line in enumerate(lines):
        match = DIRECTIVE.search(line) if MARKER in line else None
        if match is None:
            continue
        where = Evidence(path, index + 1, cell, clip(line[match.start():]))
        parsed = IGNORE.match(match.group("body"))
        if parsed is None:
            if match.group("body").startswith("ignore") or OTHER_DIRECTIVE.match(match.group("body")):
                notes.append(_note(where, "is not understood; write `# mlops-audit: ignore[RULE-ID] reason`"))
            continue
        rules = tuple(sorted({part.strip().upper() for part in parsed.group("ids").split(",") if part.strip()}))
        reason = parsed.group("reason").strip().lstrip(":-—–").strip()
        if not rules:
            notes.append(_note(where, "names no rule; write the rule ids inside `ignore[...]`"))
        elif not reason:
            notes.append(_note(where, f"ignore[{','.join(rules)}] has no reason, so it is not applied; "
                                      "write why after the brackets"))
        else:
            own_line = not line[: match.start()].strip()
            target = _next_line(lines, index) if own_line else index + 1
            found.append(InlineSuppression(rules, reason, where, target))


def _own_line_directive(line: str) -> bool:
    match = DIRECTIVE.search(line) if MARKER in line else None
    return match is not None and not line[: match.start()].strip()


def _next_line(lines: Sequence[str], index: int) -> int | None:
    """The 1-based number of the first line after `index` that is neither blank nor a suppression comment."""
    for later in range(index + 1, len(lines)):
        if lines[later].strip() and not _own_line_directive(lines[later]):
            return later + 1
    return None


def _note(source: Evidence, message: str) -> Note:
    return Note(source.path, f"{_place(source)}: suppression {message}", KIND)


# Applying -----------------------------------------------------------------------------------------------------


@dataclass
class _Usage:
    used: set[tuple[int, str]] = dataclasses.field(default_factory=set)  # (candidate index, rule id)
    partly: dict[tuple[int, str], Evidence] = dataclasses.field(default_factory=dict)  # → evidence left uncovered


def apply_suppressions(
    findings: Iterable[Finding],
    inline: Iterable[InlineSuppression],
    configured: Iterable[ConfigSuppression],
    known_rules: Collection[str],
) -> tuple[list[Finding], list[Note]]:
    """The findings with their suppressions recorded, and notes on unknown rule ids and unused suppressions.

    `known_rules` are the ids of every loaded rule; a suppression naming a known rule that was not selected for
    this run is neither applied nor reported.
    """
    candidates: list[Candidate] = [*sorted(inline, key=lambda s: s.source.sort_key), *configured]
    findings = list(findings)
    usage = _Usage()
    result = [_suppress(finding, candidates, usage) for finding in findings]
    judged = {finding.rule.id for finding in findings}
    notes = []
    for number, candidate in enumerate(candidates):
        for rule in candidate.rules:
            message = _problem(number, rule, candidate, usage, known_rules, judged)
            if message:
                notes.append(Note(candidate.source.path, f"{candidate.describe()}: {message}", KIND))
    return result, sorted(set(notes))


def _suppress(finding: Finding, candidates: Sequence[Candidate], usage: _Usage) -> Finding:
    if finding.outcome not in SUPPRESSIBLE or finding.suppression is not None:
        return finding
    rule = finding.rule.id
    items: tuple[Evidence | None, ...] = finding.evidence or (None,)
    covering = [[n for n, c in enumerate(candidates) if c.covers(rule, item)] for item in items]
    if all(covering):
        usage.used.update((n, rule) for numbers in covering for n in numbers)
        first = candidates[covering[0][0]]
        return dataclasses.replace(finding, suppression=Suppression(first.reason, first.source))
    uncovered = next(item for item, numbers in zip(items, covering) if not numbers)
    for numbers in covering:
        for n in numbers:
            if uncovered is not None:
                usage.partly.setdefault((n, rule), uncovered)
    return finding


def _problem(
    number: int,
    rule: str,
    candidate: Candidate,
    usage: _Usage,
    known_rules: Collection[str],
    judged: Collection[str],
) -> str | None:
    if rule not in known_rules:
        return f"unknown rule id `{rule}`"
    if rule not in judged or (number, rule) in usage.used:
        return None
    if (number, rule) in usage.partly:
        left = usage.partly[(number, rule)]
        return f"covers only part of the evidence of {rule}, which stays reported (also at {left.where()})"
    return f"suppresses nothing: no failing, partial or unknown finding of {rule} has evidence here (unused)"
