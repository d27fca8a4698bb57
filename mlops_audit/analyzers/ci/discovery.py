"""Which files are CI configuration, and for which system.

By path first (the inventory's `ci` kind: `.github/workflows/`, `.gitlab-ci.yml`, `azure-pipelines*.yml`,
`cloudbuild*.yaml`, `buildspec*.yml` …; a Cloud Build or CodeBuild name matched through a folder such as
`cloudbuild/release.yaml` is told apart by content: CodeBuild has `phases`). Then other YAML files by content, because real repositories keep
CI where their team likes:
- GitHub workflows of a sub-project (`seedcode/.github/workflows/build.yml`): a mapping with `jobs`.
- Google Cloud Build configs anywhere (`build/pipeline-deployment.yaml`): top-level `steps`, every step a
  builder image in `name` (with `args`, `entrypoint` or `script`), and none of the keys other systems' steps use.
- Azure Pipelines in pipeline folders (`.pipelines/`, `pipelines/`, `devops-pipelines/`, `.azuredevops/` …):
  `trigger`/`pr`/`schedules` with stages, jobs or steps, or stages/jobs/steps lists of Azure's step keys. Azure ML
  pipeline jobs (`jobs` as a mapping, a `$schema`) and Kubernetes-style documents are not CI.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import PurePosixPath

from mlops_audit.analyzers.ci.shared import MAX_ITEMS, system_of
from mlops_audit.analyzers.ci.yaml_lines import Map
from mlops_audit.inventory import Inventory

Loader = Callable[[str], tuple[Map | None, str | None]]

AZURE_DIRS = frozenset(
    {".pipelines", "pipelines", "azure-pipelines", ".azure-pipelines", "devops-pipelines", ".azuredevops",
     ".azure", "azure-devops", ".ado", "ado-pipelines"}
)
AZURE_STEP_KEYS = frozenset({"script", "bash", "pwsh", "powershell", "task", "template", "checkout", "download"})
AZURE_TOP_KEYS = ("trigger", "pr", "schedules", "extends")
FOREIGN_STEP_KEYS = frozenset({"image", "commands", "run", "uses", "task", "bash", "pwsh", "powershell", "checkout"})
CLOUDBUILD_HINT = re.compile(r"^steps\s*:", re.MULTILINE)


def discover(inventory: Inventory, load: Loader) -> dict[str, str]:
    """Path -> CI system of every CI file: the inventory's by path, then YAML files recognised by content."""
    found = {file.path: _by_path(file.path, load) for file in inventory.of_kind("ci")}
    for file in inventory.of_kind("yaml"):
        system = _sniff(file.path, inventory, load)
        if system is not None:
            found[file.path] = system
    return dict(sorted(found.items()))


def _by_path(path: str, load: Loader) -> str:
    """The system a CI path names; a `cloudbuild*`/`buildspec*` pattern matched by a folder name is settled by content."""
    system = system_of(path)
    if system in ("cloudbuild", "codebuild"):
        doc = load(path)[0]
        if doc is not None and ("phases" in doc or is_cloudbuild(doc)):
            return "codebuild" if "phases" in doc else "cloudbuild"
    return system


def _sniff(path: str, inventory: Inventory, load: Loader) -> str | None:
    parent = PurePosixPath(path).parent
    if parent.name == "workflows" and parent.parent.name == ".github":
        doc = load(path)[0]
        return "github" if doc is not None and isinstance(doc.get("jobs"), dict) else None
    in_azure_dir = bool(AZURE_DIRS & set(parent.parts))
    text = inventory.read_text(path)
    if text is None or not (in_azure_dir or CLOUDBUILD_HINT.search(text)):
        return None
    doc = load(path)[0]
    if doc is None or "$schema" in doc or "apiVersion" in doc or "kind" in doc:
        return None
    if is_cloudbuild(doc):
        return "cloudbuild"
    return "azure" if in_azure_dir and is_azure_pipeline(doc) else None


def is_cloudbuild(doc: Map) -> bool:
    steps = doc.get("steps")
    if not isinstance(steps, list) or not steps:
        return False
    items = steps[:MAX_ITEMS]
    if not all(isinstance(s, dict) and isinstance(s.get("name"), str) for s in items):
        return False
    if any(FOREIGN_STEP_KEYS & set(s) for s in items):
        return False
    return any({"args", "entrypoint", "script"} & set(s) or "/" in s["name"] for s in items)


def is_azure_pipeline(doc: Map) -> bool:
    body = [doc.get(key) for key in ("stages", "jobs", "steps")]
    if any(isinstance(doc.get(key), (str, dict, list)) for key in AZURE_TOP_KEYS[:3]) and any(
        isinstance(value, list) for value in body
    ):
        return True
    if isinstance(doc.get("extends"), dict) and "template" in doc["extends"]:
        return True
    return any(_azure_items(value) for value in body)


def _azure_items(value: object) -> bool:
    """A stages/jobs/steps list whose items use Azure's keys (`stage`, `job`, `deployment`, or a step key)."""
    if not isinstance(value, list):
        return False
    keys = {"stage", "job", "deployment", *AZURE_STEP_KEYS}
    return any(isinstance(item, dict) and keys & set(item) for item in value[:MAX_ITEMS])
