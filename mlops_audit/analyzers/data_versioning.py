"""Facts about data and model versioning: DVC, git-lfs, Kedro versioned datasets and other tools, and data or
model files committed."""

from __future__ import annotations

import configparser
import fnmatch
import posixpath
import re
from dataclasses import dataclass
from typing import Any

import yaml

from mlops_audit.analyzers.environment.reader import load_bounded_yaml
from mlops_audit.inventory import Inventory, RepoFile
from mlops_audit.model import Evidence, clip

LFS_POINTER_PREFIX = b"version https://git-lfs.github.com/spec/v1"
LFS_POINTER_MAX_BYTES = 1024  # pointer files are about 130 bytes; larger files are real content
PACHYDERM_SCAN_MAX_BYTES = 256 * 1024
# PyYAML constructors leak more than YAMLError on malformed tagged scalars (`!!timestamp 99:99`).
YAML_ERRORS = (yaml.YAMLError, ValueError, TypeError, AttributeError, RecursionError, OverflowError)
REMOTE_SECTION = re.compile(r'^remote\s+"(.+)"$')
MARKER_DIRS = {".datalad": "DataLad", ".dolt": "Dolt"}


@dataclass(frozen=True, slots=True)
class DvcStage:
    name: str
    path: str  # the dvc.yaml holding it
    line: int | None
    cmd: tuple[str, ...]
    deps: tuple[str, ...]
    outs: tuple[str, ...]
    params: tuple[str, ...]  # "lr" (from params.yaml), "train.yaml:lr", or "train.yaml" for a whole file
    metrics: tuple[str, ...]
    plots: tuple[str, ...] = ()
    wdir: str = "."  # the folder the stage runs in, relative to its dvc.yaml


@dataclass(frozen=True, slots=True)
class ArtifactFile:
    path: str
    size: int
    kind: str  # "data" or "model"
    tracked: bool
    lfs_pointer: bool  # content is a git-lfs pointer
    dvc_tracked: bool  # covered by a `.dvc` file or a dvc.yaml output


@dataclass(frozen=True, slots=True)
class DataFacts:
    dvc_config: str | None = None  # ".dvc/config" when present
    dvc_remotes: tuple[str, ...] = ()
    dvc_default_remote: str | None = None
    dvc_config_local_tracked: bool = False
    dvc_files: tuple[str, ...] = ()  # `*.dvc` pointer files
    dvc_pipelines: tuple[str, ...] = ()  # dvc.yaml files
    dvc_locks: tuple[str, ...] = ()  # dvc.lock files
    stages: tuple[DvcStage, ...] = ()
    dvc_artifacts: tuple[Evidence, ...] = ()  # dvc.yaml `artifacts:` entries (a model registry in git)
    lfs_patterns: tuple[Evidence, ...] = ()  # .gitattributes lines with filter=lfs (snippet = the pattern)
    other_tools: tuple[Evidence, ...] = ()  # lakeFS, DataLad, Dolt, Pachyderm markers (snippet = tool name)
    artifacts: tuple[ArtifactFile, ...] = ()  # data and model files in the tree
    errors: tuple[Evidence, ...] = ()  # files that would not parse (snippet = the problem)
    dvc_outputs: tuple[str, ...] = ()  # repository-relative paths DVC versions (`.dvc` outs and stage outputs)
    # Kedro catalog entries with `versioned: true` (snippet = "kedro versioned dataset: <name>")
    versioned_datasets: tuple[Evidence, ...] = ()


def analyze_data(inventory: Inventory) -> DataFacts:
    errors: list[Evidence] = []
    config_path, remotes, default_remote = _dvc_config(inventory, errors)
    dvc_files = [f.path for f in inventory.files if f.path.endswith(".dvc") and not _in_dvc_dir(f.path)]
    pipelines = [f.path for f in inventory.glob("dvc.yaml")]
    outputs: set[str] = set()
    for path in dvc_files:
        outputs.update(_pointer_outs(inventory, path, errors))
    stages: list[DvcStage] = []
    registered: list[Evidence] = []
    for path in pipelines:
        file_stages, file_artifacts = _pipeline(inventory, path, errors)
        stages.extend(file_stages)
        registered.extend(file_artifacts)
        outputs.update(_stage_outputs(path, file_stages))
    versioned = _kedro_versioned(inventory, errors)
    return DataFacts(
        dvc_config=config_path,
        dvc_remotes=remotes,
        dvc_default_remote=default_remote,
        dvc_config_local_tracked=any(f.tracked for f in inventory.glob(".dvc/config.local", "*/.dvc/config.local")),
        dvc_files=tuple(dvc_files),
        dvc_pipelines=tuple(pipelines),
        dvc_locks=tuple(f.path for f in inventory.glob("dvc.lock")),
        stages=tuple(stages),
        dvc_artifacts=tuple(sorted(registered, key=_by_place)),
        lfs_patterns=tuple(_lfs_patterns(inventory)),
        other_tools=tuple(_other_tools(inventory)),
        artifacts=tuple(_artifacts(inventory, outputs)),
        errors=tuple(sorted(errors, key=_by_place)),
        dvc_outputs=tuple(sorted(outputs)),
        versioned_datasets=tuple(versioned),
    )


def _in_dvc_dir(path: str) -> bool:
    return ".dvc" in path.split("/")[:-1]


def _by_place(evidence: Evidence) -> tuple[str, int, str]:
    """A sort key that tolerates evidence without a line."""
    return evidence.path, evidence.line or 0, evidence.snippet or ""


# --- .dvc/config -------------------------------------------------------------------------------------------


def _dvc_config(inventory: Inventory, errors: list[Evidence]) -> tuple[str | None, tuple[str, ...], str | None]:
    """The shallowest `.dvc/config`, its remotes and its default remote."""
    configs = sorted(inventory.glob(".dvc/config", "*/.dvc/config"), key=lambda f: (f.path.count("/"), f.path))
    if not configs:
        return None, (), None
    path = configs[0].path
    text = inventory.read_text(path)
    if text is None:
        return path, (), None
    # DVC indents keys under their section; configparser would read indented lines as continuations.
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string("\n".join(line.strip() for line in text.splitlines()), source=path)
    except configparser.Error as error:
        errors.append(Evidence(path, getattr(error, "lineno", None), snippet=clip(f"config does not parse: {error}")))
        return path, (), None
    remotes = sorted({m.group(1) for s in parser.sections() if (m := REMOTE_SECTION.match(s.strip().strip("'")))})
    default = parser.get("core", "remote", fallback=None)
    return path, tuple(remotes), default.strip("'\"") if default else None


# --- .dvc pointer files and dvc.yaml pipelines ---------------------------------------------------------------


def _yaml_error(path: str, error: BaseException) -> Evidence:
    mark = getattr(error, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    return Evidence(path, line, snippet=clip(f"YAML does not parse: {error}"))


def _read_yaml(inventory: Inventory, path: str, errors: list[Evidence]) -> tuple[Any, yaml.Node | None]:
    text = inventory.read_text(path)
    if text is None:
        return None, None
    try:
        return load_bounded_yaml(text)
    except YAML_ERRORS as error:
        errors.append(_yaml_error(path, error))
        return None, None


def _pointer_outs(inventory: Inventory, path: str, errors: list[Evidence]) -> set[str]:
    """Repository-relative outputs of a `.dvc` file (`outs: - path:`, relative to its folder and `wdir`)."""
    data, _ = _read_yaml(inventory, path, errors)
    if not isinstance(data, dict):
        return set()
    wdir = data.get("wdir") if isinstance(data.get("wdir"), str) else "."
    base = posixpath.join(posixpath.dirname(path), wdir)
    outs = data.get("outs") if isinstance(data.get("outs"), list) else []
    paths = (out.get("path") for out in outs if isinstance(out, dict))
    return {resolved for p in paths if isinstance(p, str) and (resolved := _resolve(base, p))}


def _resolve(base: str, path: str) -> str | None:
    """`path` relative to `base`, normalised; None for remote or absolute outputs and paths leaving the root."""
    if "://" in path or path.startswith("/"):
        return None
    joined = posixpath.normpath(posixpath.join(base, path))
    return None if joined == ".." or joined.startswith("../") else joined


def _pipeline(inventory: Inventory, path: str, errors: list[Evidence]) -> tuple[list[DvcStage], list[Evidence]]:
    data, node = _read_yaml(inventory, path, errors)
    if data is None:
        return [], []
    if not isinstance(data, dict):
        errors.append(Evidence(path, 1, snippet="dvc.yaml is not a mapping"))
        return [], []
    stage_lines = _key_lines(_child(node, "stages"))
    stages = data.get("stages") if isinstance(data.get("stages"), dict) else {}
    built = [_stage(str(name), path, stage_lines.get(str(name)), body) for name, body in stages.items()]
    artifact_lines = _key_lines(_child(node, "artifacts"))
    registry = data.get("artifacts") if isinstance(data.get("artifacts"), dict) else {}
    artifacts = [
        Evidence(path, artifact_lines.get(str(name)), snippet=clip(_artifact_label(str(name), spec)))
        for name, spec in registry.items()
    ]
    return sorted(built, key=lambda s: (s.line or 0, s.name)), artifacts


def _artifact_label(name: str, spec: Any) -> str:
    where = spec.get("path") if isinstance(spec, dict) else None
    return f"{name}: {where}" if isinstance(where, str) else name


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)


def _key_lines(node: yaml.Node | None) -> dict[str, int]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}


def _stage(name: str, path: str, line: int | None, body: Any) -> DvcStage:
    if isinstance(body, dict) and "foreach" in body and isinstance(body.get("do"), dict):
        body = body["do"]  # the template repeated for each item; `matrix` stages keep their keys in place
    if not isinstance(body, dict):
        body = {}
    return DvcStage(
        name=name,
        path=path,
        line=line,
        cmd=_strings(body.get("cmd")),
        deps=_paths(body.get("deps")),
        outs=_paths(body.get("outs")),
        params=_params(body.get("params")),
        metrics=_paths(body.get("metrics")),
        plots=_paths(body.get("plots")),
        wdir=body["wdir"] if isinstance(body.get("wdir"), str) else ".",
    )


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, (str, int, float)):
        return (str(value),)
    if isinstance(value, list):
        return tuple(str(item) for item in value if isinstance(item, (str, int, float)))
    return ()


def _paths(value: Any) -> tuple[str, ...]:
    """Entries written as strings or as single-key mappings (`- model.pkl: {cache: false}`)."""
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list):
        return ()
    found: list[str] = []
    for item in value:
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            found.extend(str(key) for key in item)
    return tuple(found)


def _params(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return _strings(value)
    found: list[str] = []
    for item in value:
        if isinstance(item, (str, int, float)):
            found.append(str(item))
        elif isinstance(item, dict):
            for file, keys in item.items():
                names = _strings(keys)
                found.extend([f"{file}:{key}" for key in names] or [str(file)])
    return tuple(found)


def _stage_outputs(path: str, stages: list[DvcStage]) -> set[str]:
    folder = posixpath.dirname(path)
    found: set[str] = set()
    for stage in stages:
        base = posixpath.join(folder, stage.wdir)
        for out in stage.outs + stage.metrics + stage.plots:
            resolved = _resolve(base, out)
            if resolved:
                found.add(resolved)
    return found


# --- git-lfs and other tools ---------------------------------------------------------------------------------


def _lfs_patterns(inventory: Inventory) -> list[Evidence]:
    found: list[Evidence] = []
    for file in inventory.glob(".gitattributes"):
        text = inventory.read_text(file.path) or ""
        for number, line in enumerate(text.splitlines(), start=1):
            fields = line.split()
            if fields and not fields[0].startswith("#") and "filter=lfs" in fields[1:]:
                found.append(Evidence(file.path, number, snippet=clip(fields[0])))
    return found


def _other_tools(inventory: Inventory) -> list[Evidence]:
    found: dict[tuple[str, str], Evidence] = {}
    for file in inventory.files:
        parts = file.path.split("/")
        for index, part in enumerate(parts[:-1]):
            if part in MARKER_DIRS:
                key = ("/".join(parts[: index + 1]), MARKER_DIRS[part])
                found.setdefault(key, Evidence(file.path, None, snippet=MARKER_DIRS[part]))
        if parts[-1] == ".lakectl.yaml":
            found[(file.path, "lakeFS")] = Evidence(file.path, None, snippet="lakeFS")
        elif _is_pachyderm_spec(inventory, file):
            found[(file.path, "Pachyderm")] = Evidence(file.path, None, snippet="Pachyderm")
    return sorted(found.values(), key=_by_place)


def _is_pachyderm_spec(inventory: Inventory, file: RepoFile) -> bool:
    """A pipeline spec: `pipeline: {name: …}` and an `input` naming a `pfs` repo somewhere."""
    if file.kind not in ("yaml", "json") or file.size > PACHYDERM_SCAN_MAX_BYTES:
        return False
    head = inventory.read_bytes(file.path, 4096) or b""
    if b"pfs" not in head or b"pipeline" not in head:
        return False
    text = inventory.read_text(file.path)
    if not text:
        return False
    try:
        data, _ = load_bounded_yaml(text)  # JSON is YAML
    except YAML_ERRORS:
        return False
    return (
        isinstance(data, dict)
        and isinstance(data.get("pipeline"), dict)
        and "name" in data["pipeline"]
        and "input" in data
    )


# --- Kedro data catalogs ------------------------------------------------------------------------------------


def _is_kedro_catalog(path: str) -> bool:
    """`conf/<env>/catalog*.yml` or a YAML file in a `catalog*` folder under `conf/` (Kedro's config patterns)."""
    parts = path.split("/")
    if "conf" not in parts[:-1] or not parts[-1].endswith((".yml", ".yaml")):
        return False
    below_conf = parts[parts.index("conf") + 1 :]
    return any(part.startswith("catalog") for part in below_conf)


def _kedro_versioned(inventory: Inventory, errors: list[Evidence]) -> list[Evidence]:
    """Catalog entries whose body is a mapping with `versioned: true`; `_`-prefixed keys are YAML templates."""
    found: list[Evidence] = []
    for file in inventory.files:
        if not _is_kedro_catalog(file.path):
            continue
        data, node = _read_yaml(inventory, file.path, errors)
        if not isinstance(data, dict):
            continue
        lines = _key_lines(node)
        for name, body in data.items():
            if isinstance(body, dict) and body.get("versioned") is True and not str(name).startswith("_"):
                snippet = clip(f"kedro versioned dataset: {name}")
                found.append(Evidence(file.path, lines.get(str(name)), snippet=snippet))
    return sorted(found, key=_by_place)


# --- data and model files ------------------------------------------------------------------------------------


def _artifacts(inventory: Inventory, outputs: set[str]) -> list[ArtifactFile]:
    templated = [re.sub(r"\$\{[^}]*\}", "*", out) for out in outputs if "${" in out]
    return [
        ArtifactFile(
            path=file.path,
            size=file.size,
            kind=file.kind,
            tracked=file.tracked,
            lfs_pointer=_is_lfs_pointer(inventory, file),
            dvc_tracked=_dvc_covers(file.path, outputs, templated),
        )
        for file in inventory.of_kind("data", "model")
    ]


def _is_lfs_pointer(inventory: Inventory, file: RepoFile) -> bool:
    if file.size > LFS_POINTER_MAX_BYTES:
        return False
    head = inventory.read_bytes(file.path, 200)
    return head is not None and head.startswith(LFS_POINTER_PREFIX)


def _dvc_covers(path: str, outputs: set[str], templated: list[str]) -> bool:
    """The path or one of its folders is a DVC output; templated outputs (`${item}` as `*`) match as globs."""
    parts = path.split("/")
    prefixes = {"/".join(parts[: i + 1]) for i in range(len(parts))}
    if prefixes & outputs:
        return True
    return any(fnmatch.fnmatchcase(prefix, pattern) for pattern in templated for prefix in prefixes)
