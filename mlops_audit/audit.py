"""The audit pipeline: a path becomes an inventory, facts, findings and finally an assessment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mlops_audit.checks import BUILTINS, pipeline_trains
from mlops_audit.engine import judge
from mlops_audit.facts import Facts, collect_facts
from mlops_audit.inventory import Inventory, build_inventory
from mlops_audit.model import Assessment, Evidence
from mlops_audit.packs import load_rules, select_rules
from mlops_audit.scoring import assess
from mlops_audit.suppressions import ConfigSuppression, apply_suppressions, scan_inline

ML_CATEGORIES = frozenset({"ml_framework", "tracker", "registry", "feature_store"})
# Manifests of the tools a project is developed, tested or documented with, not the tools it is built on.
DEV_MANIFEST = re.compile(
    r"(^|/)(docs?|tests?)/[^/]*requirements[^/]*$|(^|/)requirements/(dev|test|tests|docs?|lint)[^/]*$"
    r"|(^|/)[^/]*(dev|test|tests|docs?|lint)[-_.]requirements[^/]*$|(^|/)requirements[-_.](dev|test|tests|docs?|lint)"
)


@dataclass(frozen=True)
class AuditOptions:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extra_packs: tuple[Path, ...] = field(default=())
    suppress: tuple[ConfigSuppression, ...] = field(default=())  # the configuration's `suppress` entries


def is_ml_project(facts: Facts) -> bool:
    """Whether the repository holds ML work at all: training code, a pipeline step that trains (a Kedro node
    named `train`, even over plain numpy), ML libraries or tooling used by the project itself, or model files."""
    if any(unit.code.fit_calls or unit.code.persist_calls for unit in facts.code_units()):
        return True
    roles = {file.path: file.roles for file in facts.files}
    if any(ML_CATEGORIES & set(tool.categories) and _product_evidence(tool.evidence, roles) for tool in facts.stack.tools):
        return True
    return bool(
        pipeline_trains(facts)
        or facts.data.stages
        or any(a.kind == "model" for a in facts.data.artifacts)
        or any(f.path.rsplit("/", 1)[-1] == "MLproject" for f in facts.files)
    )


def _product_evidence(evidence: tuple[Evidence, ...], roles: Mapping[str, tuple[str, ...]]) -> bool:
    """Some of a tool's evidence is in the project itself: not in tests or examples, nor only in a manifest of
    development, test or documentation dependencies (a template testing what it generates is not an ML project)."""
    return any(
        not {"test", "example"} & set(roles.get(e.path, ())) and not DEV_MANIFEST.search(e.path.lower())
        for e in evidence
    )


def run_audit(path: str | Path, options: AuditOptions = AuditOptions(), shown_root: str | None = None) -> Assessment:
    """Audit the repository at `path` as it is in the work tree."""
    inventory = build_inventory(path)
    return audit_inventory(inventory, options, shown_root if shown_root is not None else str(path))


def audit_inventory(inventory: Inventory, options: AuditOptions, root: str) -> Assessment:
    """Facts, findings, suppressions and scores for one inventory (a work tree or a git revision)."""
    facts = collect_facts(inventory)
    known = load_rules(options.extra_packs, BUILTINS)
    rules = select_rules(known, options.select, options.ignore)
    inline, malformed = scan_inline(inventory)
    findings, unused = apply_suppressions(
        judge(rules, facts, BUILTINS), inline, options.suppress, {rule.id for rule in known}
    )
    return assess(
        root=root,
        applicable=is_ml_project(facts),
        findings=findings,
        stack=facts.stack.tools,
        notes=tuple(sorted({*facts.notes, *malformed, *unused})),
    )
