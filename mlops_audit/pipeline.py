"""The audit pipeline proper: facts, findings and an assessment for a repository, each project of a monorepo
assessed on its own view."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial

from mlops_audit.analyzers.git_history import analyze_git
from mlops_audit.analyzers.stack import load_signatures
from mlops_audit.audit import AuditOptions
from mlops_audit.cache import FactsCache
from mlops_audit.checks import BUILTINS, pipeline_trains
from mlops_audit.engine import compile_rules, judge
from mlops_audit.facts import Facts, analyse_sources, collect_facts, keep_read_ahead, read_ahead
from mlops_audit.inventory import Inventory
from mlops_audit.model import Assessment, Evidence, Finding, Note, ProjectResult, Rule
from mlops_audit.packs import load_rules, select_rules
from mlops_audit.parallel import fork_map, start
from mlops_audit.projects import MAX_PROJECTS, find_project_roots, shared_paths
from mlops_audit.scoring import assess
from mlops_audit.suppressions import apply_suppressions, scan_inline

ML_CATEGORIES = frozenset({"ml_framework", "tracker", "registry", "feature_store"})
# Manifests of the tools a project is developed, tested or documented with, not the tools it is built on.
DEV_MANIFEST = re.compile(
    r"(^|/)(docs?|tests?)/[^/]*requirements[^/]*$|(^|/)requirements/(dev|test|tests|docs?|lint)[^/]*$"
    r"|(^|/)[^/]*(dev|test|tests|docs?|lint)[-_.]requirements[^/]*$|(^|/)requirements[-_.](dev|test|tests|docs?|lint)"
)


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


@dataclass(frozen=True)
class _Monorepo:
    """What the audit of every project of a monorepo shares."""

    inventory: Inventory
    options: AuditOptions
    root: str
    cache: FactsCache
    known: Sequence[Rule]
    shared: tuple[str, ...]


def audit_projects(inventory: Inventory, options: AuditOptions, root: str, cache: FactsCache) -> Assessment:
    """The repository's assessment; in a monorepo, the whole's or the one of the project that reaches further."""
    paths = [f.path for f in inventory.files]
    found = find_project_roots(paths)
    folders = found.roots if len(found.roots) > 1 else []  # a monorepo's projects, each assessed in a view
    # meanwhile, what needs no parse: the git history (of the whole and every project) and each file's secrets
    ahead = start(partial(read_ahead, folders=folders), inventory) if inventory.parallel_safe else lambda: None
    known = load_rules(options.extra_packs, BUILTINS)  # read once, judged for the whole and every project,
    compile_rules(known)  # and the patterns of the rules and of the stack signatures compiled once, here, for the
    load_signatures()  # processes forked later to inherit
    analyse_sources(inventory, cache)  # every file parsed once, before the projects' views share the parse
    keep_read_ahead(inventory, ahead())
    if not folders:
        return audit_inventory(inventory, options, root, cache, known)
    monorepo = _Monorepo(inventory, options, root, cache, known, shared_paths(paths, found.roots))
    analyze_git(inventory)  # the history (read ahead, or else now) once, for the workers to inherit with the rest
    jobs = ["", *found.roots]  # "" is the whole repository
    if inventory.parallel_safe:
        whole, *projects = fork_map(_assess, monorepo, jobs)
    else:
        whole, *projects = [_assess(monorepo, job) for job in jobs]
    assessed = list(zip(found.roots, projects))
    results = tuple(ProjectResult(project, a.level, a.score, a.applicable) for project, a in assessed)
    notes = whole.notes
    if found.dropped:
        total = MAX_PROJECTS + found.dropped
        message = f"holds {total} project roots; only the first {MAX_PROJECTS} by path were assessed one by one"
        notes = tuple(sorted({*notes, Note(".", message, "projects")}))
    best, verdict = max(assessed, key=lambda item: _reach(item[1]))
    if _reach(verdict) > _reach(whole):
        return replace(verdict, project=best, projects=results, notes=notes)
    return replace(whole, projects=results, notes=notes)


def _assess(monorepo: _Monorepo, project: str) -> Assessment:
    """The assessment of the whole repository (`project` empty) or of one project's view, its paths leading
    from the repository root."""
    if not project:
        return audit_inventory(monorepo.inventory, monorepo.options, monorepo.root, monorepo.cache, monorepo.known)
    view = monorepo.inventory.subset(project, monorepo.shared)
    options = _within(monorepo.options, project)
    assessment = audit_inventory(view, options, monorepo.root, monorepo.cache, monorepo.known)
    return _from_repository(assessment, view, {entry.source for entry in monorepo.options.suppress})


def _reach(assessment: Assessment) -> tuple[float, ...]:
    """How far an assessment reaches: its level, its score, then (on a tie) its coverage of the level reached."""
    reached = next((s.coverage for s in assessment.levels if s.level == assessment.level), None)
    return (assessment.level, assessment.score, reached or 0.0) if assessment.applicable else (-1, 0.0, 0.0)


def _within(options: AuditOptions, project: str) -> AuditOptions:
    """The options for one project's view: configured suppression paths under its folder also match re-rooted."""
    base = project + "/"
    suppress = tuple(
        replace(entry, paths=(*entry.paths, *(p[len(base):] for p in entry.paths if p.startswith(base))))
        for entry in options.suppress
    )
    return replace(options, suppress=suppress)


def _from_repository(assessment: Assessment, view: Inventory, configured: set[Evidence]) -> Assessment:
    """A view's assessment with every evidence path as it is in the repository the view was made from (the
    configuration's suppression entries are read from the repository, so they stay where they are; notes are the
    whole repository's)."""
    move = _mover(view.origin)
    return replace(
        assessment,
        findings=tuple(_moved_finding(finding, move, configured) for finding in assessment.findings),
        stack=tuple(replace(tool, evidence=tuple(map(move, tool.evidence))) for tool in assessment.stack),
        dimensions=tuple(replace(row, evidence=tuple(map(move, row.evidence))) for row in assessment.dimensions),
    )


def _mover(origin: Callable[[str], str]) -> Callable[[Evidence], Evidence]:
    """Moves evidence to its repository path, and a snippet that only repeats the path with it."""

    def move(evidence: Evidence) -> Evidence:
        path = origin(evidence.path)
        return replace(evidence, path=path, snippet=path if evidence.snippet == evidence.path else evidence.snippet)

    return move


def _moved_finding(finding: Finding, move: Callable[[Evidence], Evidence], configured: set[Evidence]) -> Finding:
    suppression = finding.suppression
    if suppression is not None and suppression.source not in configured:
        suppression = replace(suppression, source=move(suppression.source))
    return replace(finding, evidence=tuple(map(move, finding.evidence)), suppression=suppression)


def audit_inventory(
    inventory: Inventory,
    options: AuditOptions,
    root: str,
    cache: FactsCache | None = None,
    known: Sequence[Rule] | None = None,
) -> Assessment:
    """Facts, findings, suppressions and scores for one inventory (a work tree, a git revision, a project's view).

    `known` are the loaded rule packs, when the caller already has them."""
    facts = collect_facts(inventory, cache)
    known = list(known) if known is not None else load_rules(options.extra_packs, BUILTINS)
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
        git=facts.git,
    )
