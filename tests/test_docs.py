"""Generated documentation stays in step with the code: the rule reference and the list of built-in checks.

Regenerate with `UPDATE_DOCS=1 python -m pytest tests/test_docs.py`.
"""

from __future__ import annotations

import inspect
import os
import re
from pathlib import Path

from mlops_audit.checks import BUILTINS
from mlops_audit.model import Rule
from mlops_audit.packs import CATEGORIES, load_rules

DOCS = Path(__file__).resolve().parent.parent / "docs"
BANNER = "<!-- Generated from the rule packs by `UPDATE_DOCS=1 python -m pytest tests/test_docs.py`; do not edit. -->"
LEVELS = {0: "Level 0 — manual process", 1: "Level 1 — ML pipeline automation",
          2: "Level 2 — CI/CD pipeline automation", None: "Any level"}


def rules_reference(rules: list[Rule]) -> str:
    lines = [BANNER, "", "# Rule reference", ""]
    for level, heading in LEVELS.items():
        mine = sorted((r for r in rules if r.level == level), key=lambda r: r.id)
        lines += [f"## {heading}", "", "| id | title | category | gate | confidence | weight |", "|---|---|---|---|---|---|"]
        for rule in mine:
            gate = ("yes" + (f" (group `{rule.gate_group}`)" if rule.gate_group else "")) if rule.gate else ""
            anchor = rule.id.lower()
            lines.append(f"| [{rule.id}](#{anchor}) | {rule.title} | {CATEGORIES[rule.category]} | {gate} | "
                         f"{rule.confidence} | {rule.weight:g} |")
        lines.append("")
        for rule in mine:
            lines += [f"### {rule.id}", "", f"**{rule.title}** (`{rule.slug}`)", "", rule.rationale, "",
                      f"*Source:* {rule.source}", "", f"*How to fix:* {rule.remediation}", ""]
            if rule.scaffold:
                lines += [f"*Scaffold:* `mlops-audit scaffold --rule {rule.id}`", ""]
    return "\n".join(lines).rstrip() + "\n"


def builtins_section() -> str:
    lines = ["| check | what it decides |", "|---|---|"]
    for name, check in sorted(BUILTINS.items()):
        doc = " ".join((inspect.getdoc(check) or "").split()).replace("|", "\\|")
        lines.append(f"| `{name}` | {doc} |")
    return "\n".join(lines)


def check(path: Path, expected: str) -> None:
    if os.environ.get("UPDATE_DOCS") == "1":
        path.write_text(expected, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == expected, f"{path.name} is stale: run UPDATE_DOCS=1 pytest {__file__}"


def test_rule_reference_is_current() -> None:
    check(DOCS / "rules.md", rules_reference(load_rules([], BUILTINS)))


def test_builtin_checks_are_documented() -> None:
    path = DOCS / "rule-packs.md"
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(r"(<!-- builtins:start -->\n).*?(<!-- builtins:end -->)", re.S)
    assert pattern.search(text), "docs/rule-packs.md lacks the builtins markers"
    check(path, pattern.sub(lambda m: m.group(1) + builtins_section() + "\n" + m.group(2), text))
