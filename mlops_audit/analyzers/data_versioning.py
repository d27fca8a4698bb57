"""Facts about data and model versioning: DVC, git-lfs and other tools, and data or model files committed."""

from __future__ import annotations

from dataclasses import dataclass

from mlops_audit.inventory import Inventory
from mlops_audit.model import Evidence


@dataclass(frozen=True, slots=True)
class DvcStage:
    name: str
    path: str  # the dvc.yaml holding it
    line: int | None
    cmd: tuple[str, ...]
    deps: tuple[str, ...]
    outs: tuple[str, ...]
    params: tuple[str, ...]
    metrics: tuple[str, ...]


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


def analyze_data(inventory: Inventory) -> DataFacts:
    raise NotImplementedError
