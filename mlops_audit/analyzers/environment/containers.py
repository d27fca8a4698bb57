"""Dockerfiles (base images, entrypoints, installs from lock files) and compose files."""

from __future__ import annotations

import json
import posixpath
import re
from typing import Iterator

from mlops_audit.analyzers.environment.reader import Reader
from mlops_audit.analyzers.environment.records import BaseImage, Dockerfile, Manifest
from mlops_audit.model import Evidence, clip

COMPOSE_GLOBS = ("docker-compose*.yml", "docker-compose*.yaml", "compose*.yml", "compose*.yaml")

LOCK_INSTALL = re.compile(
    r"\b(poetry\s+install|uv\s+sync|uv\s+pip\s+sync|pip-sync|pipenv\s+sync|pipenv\s+install\b[^&;|]*--deploy"
    r"|pdm\s+(sync|install)|conda-lock\s+install|pixi\s+install\b[^&;|]*--frozen|--require-hashes)"
)
REQUIREMENT_OPTION = re.compile(r"(?:^|\s)(?:-r|--requirement)(?:\s+|=)(\S+)")
DOCKER_VARIABLE = re.compile(r"\$\{(\w+)(?:(:?-)([^}]*))?\}|\$(\w+)")


def _instructions(text: str) -> Iterator[tuple[int, str, str]]:
    """(line, INSTRUCTION, arguments) with continuation lines joined and comment lines dropped."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        start, line = index + 1, lines[index].strip()
        index += 1
        if not line or line.startswith("#"):
            continue
        while line.endswith("\\") and index < len(lines):
            following = lines[index].strip()
            index += 1
            if not following.startswith("#"):
                line = line[:-1].rstrip() + " " + following
        if not line.strip():  # a lone continuation backslash before blank lines
            continue
        word, *arguments = line.split(None, 1)
        yield start, word.upper(), arguments[0].strip() if arguments else ""


def read_dockerfile(reader: Reader, path: str, lock_names: set[str]) -> Dockerfile:
    text = reader.text(path) or ""
    global_args: dict[str, str | None] = {}
    stages: set[str] = set()
    bases: list[BaseImage] = []
    entrypoints: list[Evidence] = []
    from_lock = False
    for line, instruction, arguments in _instructions(text):
        if instruction == "ARG" and not stages and not bases:
            global_args.update(_docker_args(arguments))
        elif instruction == "FROM":
            base = _base_image(arguments, path, line, global_args, stages)
            if base is not None:
                bases.append(base)
        elif instruction in ("CMD", "ENTRYPOINT"):
            entrypoints.append(Evidence(path, line, snippet=clip(_exec_form(arguments))))
        elif instruction == "RUN":
            from_lock = from_lock or _installs_from_lock(arguments, lock_names)
    return Dockerfile(path, tuple(bases), tuple(entrypoints), from_lock)


def _docker_args(arguments: str) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for token in arguments.split():
        name, has_value, value = token.partition("=")
        found[name] = value.strip("\"'") if has_value else None
    return found


def _base_image(arguments: str, path: str, line: int, args: dict[str, str | None], stages: set[str]
                ) -> BaseImage | None:
    """A FROM's image; None for `scratch` and for earlier stages reused by name (they record their alias)."""
    tokens = [t for t in arguments.split() if not t.startswith("--")]
    if not tokens:
        return None
    internal = stages | {"scratch"}
    if len(tokens) >= 3 and tokens[1].lower() == "as":
        stages.add(tokens[2].lower())
    image = _substitute(tokens[0], args)
    if image is None:
        return BaseImage(tokens[0], path, line, False)
    return None if image.lower() in internal else BaseImage(image, path, line, _image_pinned(image))


def _substitute(image: str, args: dict[str, str | None]) -> str | None:
    """The image with `$ARG` / `${ARG:-default}` replaced, or None when a variable has no value."""
    unresolved = False

    def value(match: re.Match[str]) -> str:
        nonlocal unresolved
        name = match.group(1) or match.group(4)
        if args.get(name):
            return str(args[name])
        if match.group(2) is not None:
            return match.group(3)
        unresolved = True
        return match.group(0)

    substituted = DOCKER_VARIABLE.sub(value, image)
    return None if unresolved else substituted


def _image_pinned(image: str) -> bool:
    if "@sha256:" in image:
        return True
    last = image.rsplit("/", 1)[-1]
    tag = last.partition(":")[2]
    return bool(tag) and tag.lower() != "latest"


def _exec_form(arguments: str) -> str:
    if arguments.startswith("["):
        try:
            parts = json.loads(arguments)
        except ValueError:
            return arguments
        if isinstance(parts, list) and all(isinstance(p, str) for p in parts):
            return " ".join(parts)
    return arguments


def _installs_from_lock(command: str, lock_names: set[str]) -> bool:
    if LOCK_INSTALL.search(command):
        return True
    for segment in re.split(r"&&|\|\||;", command):
        if re.search(r"\bpip3?\s+install\b", segment):
            files = [posixpath.basename(f) for f in REQUIREMENT_OPTION.findall(segment)]
            if any(f in lock_names or "lock" in f.lower() for f in files):
                return True
    return False


def lock_requirement_names(manifests: list[Manifest]) -> set[str]:
    """Requirement files that pin everything: compiled locks, hashed files, or only `==` pins."""
    return {
        posixpath.basename(m.path)
        for m in manifests
        if m.kind == "requirements" and (m.lock or (m.requirements and all(r.pinned for r in m.requirements)))
    }
