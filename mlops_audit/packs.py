"""Load and validate rule packs: the built-in `rules/*.yaml` and users' own packs."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from mlops_audit.conditions import Builtin, condition_errors
from mlops_audit.errors import PackError
from mlops_audit.model import Rule
from mlops_audit.rule_files import builtin_pack_paths
from mlops_audit.safe_yaml import SAFE_LOADER

RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*-[A-Z]+-\d{2,}$")
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
CATEGORIES = {
    "VCS": "Version control",
    "NB": "Notebooks",
    "CODE": "Code structure",
    "ENV": "Environment",
    "REPRO": "Reproducibility",
    "DATA": "Data versioning",
    "PIPE": "Pipeline",
    "CT": "Continuous training",
    "DV": "Data validation",
    "EXP": "Experiment tracking",
    "REG": "Model registry",
    "DEP": "Deployment",
    "MV": "Model validation",
    "TEST": "Testing",
    "CI": "CI/CD",
    "FS": "Feature store",
    "MON": "Monitoring",
    "SEC": "Security",
    "DOC": "Documentation",
}
OUTCOME_KEYS = ("pass", "partial", "fail", "not_applicable", "unknown")
REQUIRED = (
    "id", "slug", "title", "level", "category", "weight", "gate", "confidence", "rationale", "source", "check",
    "remediation", "examples",
)
MESSAGE_FIELDS = ("title", "detail", "count")
OPTIONAL = ("gate_group", "partial", "applies", "messages", "scaffold", "docs")


def load_rules(extra_packs: Iterable[Path], builtins: Mapping[str, Builtin]) -> list[Rule]:
    """All rules of the built-in packs and the extra ones, validated; ids and slugs unique across packs."""
    rules: list[Rule] = []
    for path in [*builtin_pack_paths(), *extra_packs]:
        rules.extend(load_pack(path, builtins))
    seen: dict[str, str] = {}
    for rule in rules:
        for key in (rule.id, rule.slug):
            if key in seen:
                raise PackError(rule.pack, f"`{key}` is already defined in {seen[key]}", rule.id)
            seen[key] = rule.pack
    return rules


def load_pack(path: Path, builtins: Mapping[str, Builtin]) -> list[Rule]:
    name = path.name
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except OSError as error:
        raise PackError(str(path), f"cannot be read: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise PackError(str(path), f"is not valid YAML: {error}") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("rules"), list):
        raise PackError(str(path), "a pack is a mapping with a `rules` list")
    unknown = set(data) - {"pack", "description", "rules"}
    if unknown:
        raise PackError(str(path), f"unknown top-level keys: {', '.join(sorted(map(str, unknown)))}")
    return [_rule(raw, name, str(path), builtins) for raw in data["rules"]]


def _rule(raw: Any, pack: str, source: str, builtins: Mapping[str, Builtin]) -> Rule:
    if not isinstance(raw, Mapping):
        raise PackError(source, f"each rule is a mapping, got {raw!r}")
    rule_id = str(raw.get("id", "?"))
    errors = _rule_errors(raw, builtins)
    if errors:
        raise PackError(source, "; ".join(errors), rule_id)
    level = raw["level"]
    return Rule(
        id=rule_id,
        slug=raw["slug"],
        title=raw["title"],
        level=None if level == "any" else int(level),
        category=raw["category"],
        weight=float(raw["weight"]),
        gate=bool(raw["gate"]),
        gate_group=raw.get("gate_group"),
        confidence=raw["confidence"],
        rationale=" ".join(str(raw["rationale"]).split()),
        source=str(raw["source"]),
        check=raw["check"],
        partial=raw.get("partial"),
        applies=raw.get("applies"),
        messages=dict(raw.get("messages") or {}),
        remediation=" ".join(str(raw["remediation"]).split()),
        scaffold=raw.get("scaffold"),
        docs=raw.get("docs"),
        examples={key: list(value) for key, value in raw["examples"].items()},
        pack=pack,
    )


def _rule_errors(raw: Mapping[str, Any], builtins: Mapping[str, Builtin]) -> list[str]:
    errors = [f"missing `{key}`" for key in REQUIRED if key not in raw]
    errors += [f"unknown key `{key}`" for key in sorted(map(str, set(raw) - set(REQUIRED) - set(OPTIONAL)))]
    if errors:
        return errors
    if not RULE_ID.match(str(raw["id"])):
        errors.append("`id` must look like L1-PIPE-01 (PREFIX-CATEGORY-NN)")
    if not SLUG.match(str(raw["slug"])):
        errors.append("`slug` must be kebab-case")
    if raw["level"] not in (0, 1, 2, "any"):
        errors.append("`level` must be 0, 1, 2 or \"any\"")
    if raw["category"] not in CATEGORIES:
        errors.append(f"`category` must be one of {', '.join(CATEGORIES)}")
    weight = raw["weight"]
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight <= 0:
        errors.append("`weight` must be a positive number")
    if not isinstance(raw["gate"], bool):
        errors.append("`gate` must be true or false")
    if raw["confidence"] not in ("A", "B", "C"):
        errors.append("`confidence` must be A, B or C")
    if raw["gate"] and raw["level"] in (0, "any"):
        errors.append("only Level 1 and Level 2 rules can gate a level")
    if raw["gate"] and raw["confidence"] == "C":
        errors.append("a rule of detect grade C is advisory and cannot gate")
    if raw.get("gate_group") is not None and not raw["gate"]:
        errors.append("`gate_group` needs `gate: true`")
    for key in ("check", "partial", "applies"):
        if raw.get(key) is not None:
            errors += condition_errors(raw[key], builtins, key)
    messages = raw.get("messages") or {}
    if not isinstance(messages, Mapping) or set(messages) - set(OUTCOME_KEYS):
        errors.append(f"`messages` keys must be among {', '.join(OUTCOME_KEYS)}")
    else:
        errors += [f"`messages.{key}`: {problem}" for key, text in messages.items()
                   if (problem := _message_problem(text))]
    errors += _example_errors(raw["examples"])
    return errors


def _message_problem(text: Any) -> str | None:
    """Why a message template cannot be shown, if it cannot: it is text whose only `{fields}` are plain
    `{title}`, `{detail}` and `{count}` (no conversion, no format spec)."""
    if not isinstance(text, str):
        return "must be text"
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(text)
                  if name is not None]
    except ValueError as error:
        return f"is not a valid template ({error}); write a literal brace as {{{{ or }}}}"
    if any(name not in MESSAGE_FIELDS or spec or conversion for name, spec, conversion in fields):
        return f"only plain {', '.join(f'{{{field}}}' for field in MESSAGE_FIELDS)} may appear in braces"
    return None


def _example_errors(examples: Any) -> list[str]:
    if not isinstance(examples, Mapping) or not {"pass", "fail"} <= set(examples):
        return ["`examples` needs at least a `pass` and a `fail` example"]
    errors = []
    for outcome, cases in examples.items():
        if outcome not in OUTCOME_KEYS:
            errors.append(f"examples: unknown outcome `{outcome}`")
        elif not isinstance(cases, list) or not all(
            isinstance(c, Mapping) and isinstance(c.get("files"), Mapping) for c in cases
        ):
            errors.append(f"examples.{outcome}: a list of cases, each with a `files` mapping")
    return errors


def find_rule(rules: Iterable[Rule], key: str) -> Rule | None:
    """A rule by id (any case) or slug."""
    wanted = key.strip()
    for rule in rules:
        if rule.id == wanted.upper() or rule.slug == wanted.lower():
            return rule
    return None


def select_rules(rules: list[Rule], select: Iterable[str], ignore: Iterable[str]) -> list[Rule]:
    """Rules kept by `select` and not dropped by `ignore`: each entry an id, an id prefix (`L2`, `L1-DV`) or a slug.

    An entry that matches no rule is an error, so a typo never silently disables nothing.
    """
    def matching(entry: str) -> set[str]:
        key = entry.strip()
        hits = {
            r.id for r in rules
            if r.slug == key.lower() or r.id == key.upper() or r.id.startswith(key.upper().rstrip("-") + "-")
        }
        if not hits:
            raise PackError("selection", f"`{entry}` matches no rule id, prefix or slug")
        return hits

    select = list(select)
    chosen = set().union(*(matching(e) for e in select)) if select else {r.id for r in rules}
    dropped = set().union(*(matching(e) for e in ignore)) if ignore else set()
    return [r for r in rules if r.id in chosen - dropped]
