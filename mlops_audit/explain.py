"""Describe rules to people: the `rules` listing and `explain` for one rule."""

from __future__ import annotations

import json
import textwrap

import yaml

from mlops_audit.model import Rule
from mlops_audit.packs import CATEGORIES


def rule_dict(rule: Rule) -> dict[str, object]:
    return {
        "id": rule.id,
        "slug": rule.slug,
        "title": rule.title,
        "level": rule.level if rule.level is not None else "any",
        "category": rule.category,
        "weight": rule.weight,
        "gate": rule.gate,
        "gate_group": rule.gate_group,
        "confidence": rule.confidence,
        "rationale": rule.rationale,
        "source": rule.source,
        "remediation": rule.remediation,
        "scaffold": rule.scaffold,
        "docs": rule.docs,
        "pack": rule.pack,
    }


def rules_json(rules: list[Rule]) -> str:
    return json.dumps([rule_dict(r) for r in rules], indent=2, ensure_ascii=False) + "\n"


def rules_table(rules: list[Rule]) -> str:
    lines = [f"{'ID':<12} {'LEVEL':<5} {'CAT':<5} {'GATE':<4} {'CONF':<4} TITLE"]
    for rule in rules:
        gate = "yes" if rule.gate else ""
        lines.append(f"{rule.id:<12} {rule.level_name:<5} {rule.category:<5} {gate:<4} {rule.confidence:<4} {rule.title}")
    lines.append(f"{len(rules)} rules; `mlops-audit explain ID` tells more about one.")
    return "\n".join(lines) + "\n"


def explain(rule: Rule) -> str:
    wrap = textwrap.TextWrapper(width=96, initial_indent="  ", subsequent_indent="  ")
    level = "level-independent" if rule.level is None else f"Level {rule.level}"
    gate = f"gates {level}" + (f" (any of group `{rule.gate_group}`)" if rule.gate_group else "") if rule.gate else "coverage only, does not gate"
    check = yaml.safe_dump(rule.check, sort_keys=False, default_flow_style=False).rstrip()
    parts = [
        f"{rule.id} ({rule.slug}): {rule.title}",
        f"  {level} · {CATEGORIES.get(rule.category, rule.category)} · weight {rule.weight:g} · {gate} · "
        f"confidence {rule.confidence}",
        "",
        "Why",
        wrap.fill(rule.rationale),
        wrap.fill(f"Source: {rule.source}"),
        "",
        "What it looks for",
        textwrap.indent(check, "  "),
        "",
        "How to fix",
        wrap.fill(rule.remediation),
    ]
    if rule.scaffold:
        parts.append(f"  Scaffold: `{rule.scaffold}`")
    if rule.docs:
        parts.append(f"  More: {rule.docs}")
    return "\n".join(parts) + "\n"
