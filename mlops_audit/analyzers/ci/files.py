"""The CI and template files of an audit, each parsed once."""

from __future__ import annotations

from mlops_audit.analyzers.ci.azure import azure_template_path, template_refs
from mlops_audit.analyzers.ci.discovery import discover
from mlops_audit.analyzers.ci.documents import load_document
from mlops_audit.analyzers.ci.yaml_lines import Map
from mlops_audit.inventory import Inventory


class Files:
    """Parsed CI and template files, each read once through the inventory."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self._cache: dict[str, tuple[Map | None, str | None]] = {}
        self._azure_templates: set[str] | None = None
        self._systems: dict[str, str] | None = None

    def load(self, path: str) -> tuple[Map | None, str | None]:
        if path not in self._cache:
            self._cache[path] = load_document(self.inventory, path)
        return self._cache[path]

    def mapping(self, path: str) -> Map | None:
        return self.load(path)[0]

    def systems(self) -> dict[str, str]:
        """Path -> CI system of every CI file, found by path or by content."""
        if self._systems is None:
            self._systems = discover(self.inventory, self.load)
        return self._systems

    def azure_templates(self) -> set[str]:
        """Azure CI files that other Azure files use as templates (they run under their callers' triggers)."""
        if self._azure_templates is None:
            self._azure_templates = set()
            for path, system in self.systems().items():
                doc = self.mapping(path) if system == "azure" else None
                for ref in template_refs(doc, 0) if doc is not None else ():
                    target = azure_template_path(path, ref)
                    if target:
                        self._azure_templates.add(target)
        return self._azure_templates
