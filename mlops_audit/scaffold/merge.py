"""Safe merges into files a user already has: they only ever add lines, and say what they could not add.

- line files (.gitignore, .gitattributes, .dockerignore): the template's missing lines, with their section comment;
- params.yaml: the missing top-level keys, appended as YAML blocks (comments kept); missing nested keys are listed;
- requirements.txt: the missing distributions;
- .gitlab-ci.yml: an `include:` of the generated files when it has none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from mlops_audit.scaffold.templates import yaml_scalar

REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True, slots=True)
class Merge:
    """The merged text (None when nothing could be added safely) and what a person must still add."""

    text: str | None
    by_hand: str = ""


def _appended(existing: str, block: str) -> str:
    separator = "" if not existing or existing.endswith("\n\n") else "\n" if existing.endswith("\n") else "\n\n"
    return existing + separator + block


def _sections(text: str) -> list[tuple[list[str], list[str]]]:
    """(comment lines, entries) for each run of entries under a comment."""
    sections: list[tuple[list[str], list[str]]] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            if not sections or sections[-1][1]:
                sections.append(([], []))
            sections[-1][0].append(line)
        else:
            if not sections:
                sections.append(([], []))
            sections[-1][1].append(line)
    return sections


def merge_lines(existing: str, template: str) -> Merge:
    """The file with the template's entries it lacks appended, each group under its comment."""
    present = {line.strip() for line in existing.splitlines()}
    block = []
    for comments, entries in _sections(template):
        missing = [entry for entry in entries if entry.strip() not in present]
        if missing:
            block += [*comments, *missing]
    return Merge(_appended(existing, "\n".join(block) + "\n") if block else existing)


def _yaml_blocks(text: str) -> dict[str, str]:
    """Top-level key → its block of lines in `text`, with the comment lines just above it."""
    blocks: dict[str, str] = {}
    pending: list[str] = []
    key = None
    for line in text.splitlines(keepends=True):
        match = re.match(r"^([A-Za-z_][\w-]*):", line)
        if match:
            key = match.group(1)
            blocks[key] = "".join(pending) + line
            pending = []
        elif line.startswith("#") or not line.strip():
            pending.append(line)
        elif key is not None:
            blocks[key] += "".join(pending) + line
            pending = []
    return {name: block.strip("\n") + "\n" for name, block in blocks.items()}


def _missing_nested(existing: Any, wanted: Any, prefix: str) -> list[str]:
    if not isinstance(wanted, Mapping) or not isinstance(existing, Mapping):
        return []
    missing = []
    for key, value in wanted.items():
        if key not in existing:
            missing.append(f"{prefix}{key}: {yaml_scalar(value)}")
        else:
            missing += _missing_nested(existing[key], value, f"{prefix}{key}.")
    return missing


def merge_yaml_keys(existing: str, template: str, keys: Iterable[str]) -> Merge:
    """The YAML file with the template's missing top-level `keys` appended."""
    try:
        current = yaml.safe_load(existing) if existing.strip() else {}
    except yaml.YAMLError as error:
        return Merge(None, f"the file does not parse ({error.__class__.__name__}); add the keys by hand")
    if not isinstance(current, dict):
        return Merge(None, "the file is not a mapping; add the keys by hand")
    wanted = yaml.safe_load(template)
    blocks = _yaml_blocks(template)
    keys = [key for key in wanted if key in set(keys)]
    added = [blocks[key] for key in keys if key not in current]
    nested = [line for key in keys if key in current for line in _missing_nested(current[key], wanted[key], f"{key}.")]
    text = _appended(existing, "\n".join(added)) if added else existing
    if added and not _holds(text, {key: wanted[key] for key in keys if key not in current}):
        return Merge(None, "appending to this file would not parse as intended; add the keys by hand")
    by_hand = ("add under the existing keys: " + "; ".join(nested)) if nested else ""
    return Merge(text, by_hand)


def _holds(text: str, expected: Mapping[str, Any]) -> bool:
    """The merged text still parses, to a mapping holding the added keys as the template has them."""
    try:
        merged = yaml.safe_load(text)
    except yaml.YAMLError:
        return False
    return isinstance(merged, dict) and all(merged.get(key) == value for key, value in expected.items())


def requirement_names(text: str) -> set[str]:
    names = set()
    for line in text.splitlines():
        match = REQUIREMENT_NAME.match(line.split("#", 1)[0])
        if match and not line.lstrip().startswith("-"):
            names.add(normalise(match.group(1)))
    return names


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def merge_requirements(existing: str, requirements: Sequence[str]) -> Merge:
    """requirements.txt with the requirements whose distribution it does not name yet appended."""
    present = requirement_names(existing)
    missing = [r for r in requirements if normalise(REQUIREMENT_NAME.match(r).group(1)) not in present]
    return Merge(_appended(existing, "\n".join(missing) + "\n") if missing else existing)


def merge_gitlab_include(existing: str, files: Sequence[str]) -> Merge:
    """.gitlab-ci.yml including `files`: appended when it has no `include:` yet, else listed for a person."""
    try:
        current = yaml.safe_load(existing)
    except yaml.YAMLError:
        return Merge(None, "the file does not parse; include the generated files by hand")
    current = current if isinstance(current, dict) else {}
    lines = "\n".join(f"  - local: {path}" for path in files)
    stages = current.get("stages")
    if isinstance(stages, list) and not {"build", "test", "deploy"} <= set(stages):
        return Merge(None, f"add the stages build, test, deploy to `stages:`, then `include:`\n{lines}")
    included = _included(current.get("include"))
    missing = [path for path in files if path not in included]
    if not missing:
        return Merge(existing)
    if "include" in current:
        return Merge(None, "add to `include:`\n" + "\n".join(f"  - local: {path}" for path in missing))
    return Merge(_appended(existing, "# Jobs generated by mlops-audit scaffold\ninclude:\n" + lines + "\n"))


def _included(value: object) -> set[str]:
    items = value if isinstance(value, list) else [value]
    found = set()
    for item in items:
        if isinstance(item, str):
            found.add(item.lstrip("/"))
        elif isinstance(item, dict) and isinstance(item.get("local"), str):
            found.add(item["local"].lstrip("/"))
    return found
