"""GitLab CI (`.gitlab-ci.yml`), with local includes, `default:`, `extends:` and `!reference` followed."""

from __future__ import annotations

import re

from mlops_audit.analyzers.ci.expressions import narrow
from mlops_audit.analyzers.ci.files import Files
from mlops_audit.analyzers.ci.records import CICommand, CIJob, CIWorkflow
from mlops_audit.analyzers.ci.shared import (
    MAX_ITEMS,
    MAX_NESTING,
    bounded_list,
    dicts,
    make_job,
    make_workflow,
    name_of,
    script_commands,
    strings,
)
from mlops_audit.analyzers.ci.yaml_lines import Loc, Map, Reference, key_line, value_loc

GITLAB_RESERVED = frozenset({"image", "services", "stages", "types", "before_script", "after_script", "variables",
                             "cache", "include", "workflow", "default", "spec"})
GITLAB_SOURCES = {
    "push": {"push"}, "merge_request_event": {"pull_request"}, "external_pull_request_event": {"pull_request"},
    "schedule": {"schedule"}, "web": {"manual"}, "chat": {"manual"}, "api": {"other"}, "trigger": {"other"},
    "pipeline": {"other"}, "parent_pipeline": {"other"}, "webide": {"other"}, "ondemand_dast_scan": {"other"},
}
GITLAB_ONLY = {
    "schedules": "schedule", "merge_requests": "pull_request", "external_pull_requests": "pull_request",
    "tags": "tag", "branches": "push", "pushes": "push", "web": "manual", "chat": "manual", "api": "other",
    "triggers": "other", "pipelines": "other", "external": "other",
}
GITLAB_SOURCE_RE = re.compile(r"\$CI_PIPELINE_SOURCE\s*(==|!=|=~|!~)\s*(?:[\"']([\w-]+)[\"']|(/[^/]*/))")
GITLAB_TAG_RE = re.compile(r"\$CI_COMMIT_TAG\b(?!\s*==\s*null)")
GITLAB_NO_TAG_RE = re.compile(r"\$CI_COMMIT_TAG\s*==\s*null")
GITLAB_MR_RE = re.compile(r"\$CI_MERGE_REQUEST_(IID|ID)\b(?!\s*==\s*null)")
GITLAB_BRANCH_RE = re.compile(r"\$CI_COMMIT_BRANCH\b(?!\s*==\s*null)")


def _gitlab_sources(clause: str) -> set[str]:
    match = GITLAB_SOURCE_RE.search(clause)
    if match is None:
        return set()
    if match.group(2):
        return set(GITLAB_SOURCES.get(match.group(2), {"other"}))
    return set().union(*(GITLAB_SOURCES.get(word, set()) for word in re.findall(r"[\w-]+", match.group(3))))


def _gitlab_atom(clause: str, triggers: frozenset[str]) -> frozenset[str] | None:
    match = GITLAB_SOURCE_RE.search(clause)
    if match:
        sources = _gitlab_sources(clause)
        return triggers & sources if match.group(1) in ("==", "=~") else triggers - sources
    if GITLAB_NO_TAG_RE.search(clause):
        return triggers - {"tag"}
    if GITLAB_TAG_RE.search(clause):
        return triggers & {"tag"}
    if GITLAB_MR_RE.search(clause):
        return triggers & {"pull_request"}
    if GITLAB_BRANCH_RE.search(clause):
        return triggers - {"pull_request", "tag"}
    return None


def parse_gitlab(path: str, doc: Map, files: Files) -> list[CIWorkflow]:
    sources, includes = _gitlab_sources_with_includes(path, doc, files)
    definitions: dict[str, Source] = {}  # job name -> where it is (last) defined, in order of first appearance
    for source in sources:
        definitions.update({name: source for name, value in source[1].items() if _is_gitlab_job(name, value)})
    base = {"push"} | _gitlab_mentioned(sources)
    workflow_rules = doc.get("workflow", {}).get("rules") if isinstance(doc.get("workflow"), dict) else None
    triggers = _gitlab_rules(workflow_rules, frozenset(base))[0] if isinstance(workflow_rules, list) else base
    filters = [p for rule in dicts(workflow_rules) for p in strings(_changes(rule.get("changes")))]
    jobs = [
        _gitlab_job(name, source, sources, frozenset(triggers)) for name, source in definitions.items()
    ]
    return [make_workflow("gitlab", path, path, set(triggers), jobs, path_filters=filters, uses=includes)]


def _is_gitlab_job(name: object, value: object) -> bool:
    return isinstance(name, str) and not name.startswith(".") and name not in GITLAB_RESERVED and isinstance(
        value, dict
    )


def _changes(value: object) -> object:
    return value.get("paths") if isinstance(value, dict) else value


Source = tuple[str, Map]  # (file, its top-level mapping)


def _gitlab_sources_with_includes(path: str, doc: Map, files: Files) -> tuple[list[Source], list[str]]:
    """The file after its local includes (included first, so the file's own keys win) and every include ref."""
    sources: list[Source] = []
    refs: list[str] = []
    _collect_includes(path, doc, files, sources, refs, (path,))
    return sources, refs


def _collect_includes(
    path: str, doc: Map, files: Files, sources: list[Source], refs: list[str], stack: tuple[str, ...]
) -> None:
    for ref, local in _include_refs(doc.get("include")):
        refs.append(ref)
        included = files.mapping(local) if local else None
        if included is not None and local not in stack and len(stack) <= MAX_NESTING:
            _collect_includes(local, included, files, sources, refs, (*stack, local))
    sources.append((path, doc))


def _include_refs(value: object) -> list[tuple[str, str | None]]:
    """(reference as written, repository path when it is a local file) for each `include:` entry."""
    items = value if isinstance(value, list) else [value]
    refs: list[tuple[str, str | None]] = []
    for item in items[:MAX_ITEMS]:
        if isinstance(item, str):
            local = None if "://" in item else item.lstrip("/")
            refs.append((item, local))
        elif isinstance(item, dict):
            for key in ("local", "project", "remote", "template", "component"):
                if isinstance(item.get(key), str):
                    ref = f"{key}: {item[key]}" + (f" {item['file']}" if isinstance(item.get("file"), str) else "")
                    refs.append((ref, item[key].lstrip("/") if key == "local" else None))
                    break
    return refs


def _lookup(sources: list[Source], name: object) -> tuple[str, Map] | None:
    """(file, mapping holding it) of the last definition of a top-level key across the file and its includes."""
    for path, doc in reversed(sources):
        if name in doc:
            return path, doc
    return None


def _gitlab_mentioned(sources: list[Source]) -> set[str]:
    """Pipeline sources the configuration speaks of: GitLab runs them when set up (schedules live in the UI)."""
    found: set[str] = set()
    for _, doc in sources:
        for name, job in doc.items():
            if not isinstance(job, dict):
                continue
            for rule in dicts(job.get("rules")):
                if isinstance(rule.get("if"), str):
                    found |= _gitlab_sources(rule["if"])
                    found |= {"tag"} if GITLAB_TAG_RE.search(rule["if"]) else set()
                    found |= {"pull_request"} if GITLAB_MR_RE.search(rule["if"]) else set()
            for key in ("only", "except"):
                found |= {GITLAB_ONLY[ref] for ref in _only_refs(job.get(key)) if ref in GITLAB_ONLY}
    return found


def _only_refs(value: object) -> list[str]:
    return strings(value.get("refs") if isinstance(value, dict) else value)


def _gitlab_rules(rules: list[object], base: frozenset[str]) -> tuple[set[str], bool]:
    """(triggers under which the first matching rule adds the job, whether a matching rule is manual)."""
    remaining = set(base)
    allowed: set[str] = set()
    manual = False
    for rule in dicts(rules):
        condition = rule.get("if")
        if isinstance(condition, str):
            matched, exact = narrow(condition, frozenset(remaining), _gitlab_atom)
        else:
            matched, exact = frozenset(remaining), not ({"changes", "exists"} & set(rule))
        when = rule.get("when", "on_success")
        if when != "never":
            allowed |= matched
            manual |= when == "manual" and bool(matched)
        if exact:
            remaining -= matched
    return allowed, manual


def _gitlab_job(name: str, source: Source, sources: list[Source], triggers: frozenset[str]) -> CIJob:
    path, doc = source
    owners = _gitlab_owners(sources, doc[name], path)

    def value(key: str) -> object:
        return owners[key][1].get(key) if key in owners else None

    commands: list[CICommand] = []
    for key in ("before_script", "script", "after_script"):
        if key in owners:
            owner_path, owner = owners[key]
            commands += _gitlab_script(owner.get(key), value_loc(owner, key), owner_path, path, sources)
    rules, only, never = value("rules"), value("only"), value("except")
    manual = value("when") == "manual"
    if isinstance(rules, list):
        job_triggers, manual_rule = _gitlab_rules(rules, triggers)
        manual |= manual_rule
    elif only is not None or never is not None:
        job_triggers = set(triggers)
        if only is not None:
            job_triggers &= {GITLAB_ONLY.get(ref, "push") for ref in _only_refs(only)}
        job_triggers -= {GITLAB_ONLY[ref] for ref in _only_refs(never) if ref in GITLAB_ONLY}
    else:
        job_triggers = set(triggers)
    # `needs:` lists job names, or mappings that name one under `job`
    needs = [n if isinstance(n, str) else n.get("job") if isinstance(n, dict) else None
             for n in bounded_list(value("needs"))]
    uses = strings(value("extends"))
    trigger = value("trigger")
    if isinstance(trigger, (str, dict)):
        uses.append("trigger: " + (trigger if isinstance(trigger, str) else str(trigger.get("project")
                                                                               or trigger.get("include"))))
    return make_job(name, path, key_line(doc, name), job_triggers, commands,
                    environment=name_of(value("environment")), uses=uses,
                    needs=[n for n in needs if isinstance(n, str)], manual=bool(manual))


def _gitlab_owners(sources: list[Source], job: Map, path: str) -> dict[object, tuple[str, Map]]:
    """For each key of a job: the (file, mapping) it comes from, after `default:` and `extends:` (shallow)."""
    owners: dict[object, tuple[str, Map]] = {}
    inherit = job.get("inherit")
    inherit_default = not (isinstance(inherit, dict) and inherit.get("default") is False)
    for key in ("before_script", "after_script"):
        top = _lookup(sources, key)
        if top is not None and inherit_default:
            owners[key] = top
        default = _lookup(sources, "default")
        if default is not None and isinstance(default[1]["default"], Map) and inherit_default:
            if key in default[1]["default"]:
                owners[key] = (default[0], default[1]["default"])
    for ancestor_path, ancestor in _gitlab_ancestry(sources, job, path):
        for key in ancestor:
            owners[key] = (ancestor_path, ancestor)
    return owners


def _gitlab_ancestry(sources: list[Source], job: Map, path: str) -> list[tuple[str, Map]]:
    """The job's `extends:` parents, farthest first, then the job itself."""
    chain: list[tuple[str, Map]] = []
    seen: set[int] = set()

    def visit(mapping: dict[object, object], path: str, depth: int) -> None:
        if id(mapping) in seen or depth > MAX_NESTING + 5 or not isinstance(mapping, Map):
            return
        seen.add(id(mapping))
        for parent in strings(mapping.get("extends")):
            found = _lookup(sources, parent)
            if found is not None and isinstance(found[1][parent], dict):
                visit(found[1][parent], found[0], depth + 1)
        chain.append((path, mapping))

    visit(job, path, 0)
    return chain


def _gitlab_script(
    value: object, loc: Loc, owner_path: str, job_path: str, sources: list[Source], depth: int = 0
) -> list[CICommand]:
    """A script list whose items may be `!reference [.job, key]` to another job's script."""
    path = owner_path if owner_path != job_path else None
    if isinstance(value, Reference):
        return _gitlab_reference(value, job_path, sources, depth)
    if not isinstance(value, list):
        return script_commands(value, loc, path)
    commands: list[CICommand] = []
    for index, item in enumerate(value[:MAX_ITEMS]):
        if isinstance(item, Reference):
            commands += _gitlab_reference(item, job_path, sources, depth)
        else:
            commands += script_commands(item, value_loc(value, index), path)
    return commands


def _gitlab_reference(ref: Reference, job_path: str, sources: list[Source], depth: int) -> list[CICommand]:
    if len(ref) < 2 or depth > MAX_NESTING:
        return []
    found = _lookup(sources, ref[0])
    if found is None:
        return []
    container: object = found[1]
    for key in ref:
        if not isinstance(container, dict) or key not in container:
            return []
        parent, container = container, container[key]
    return _gitlab_script(container, value_loc(parent, ref[-1]), found[0], job_path, sources, depth + 1)
