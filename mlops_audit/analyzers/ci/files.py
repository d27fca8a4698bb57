"""The CI and template files of an audit, each parsed once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from mlops_audit.analyzers.ci.azure import azure_template_path, template_refs
from mlops_audit.analyzers.ci.discovery import discover
from mlops_audit.analyzers.ci.documents import load_document
from mlops_audit.analyzers.ci.yaml_lines import Map
from mlops_audit.inventory import Inventory

AZURE_TEMPLATES = "\0azure templates"  # what `recording` records for `azure_templates` (no path starts so)


class Files:
    """Parsed CI and template files, each read once through the inventory."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self._cache: dict[str, tuple[Map | None, str | None]] = {}
        self._azure_templates: set[str] | None = None
        self._systems: dict[str, str] | None = None
        self._reads: list[tuple[str, object]] | None = None  # what is read while `recording`

    @contextmanager
    def recording(self) -> Iterator[list[tuple[str, object]]]:
        """What the analysis of a file reads meanwhile: each file loaded, with where it comes from, and the Azure
        templates (which depend on every Azure file)."""
        self._reads = reads = []
        try:
            yield reads
        finally:
            self._reads = None

    def reads_alike(self, reads: list[tuple[str, object]]) -> bool:
        """Whether these files read now would be the same as they were when `reads` were recorded."""
        return all(
            (frozenset(self.azure_templates()) if path == AZURE_TEMPLATES else self._source(path)) == source
            for path, source in reads
        )

    def _source(self, path: str) -> str | None:
        return self.inventory.origin(path) if self.inventory.get(path) is not None else None

    def load(self, path: str) -> tuple[Map | None, str | None]:
        if self._reads is not None:
            self._reads.append((path, self._source(path)))
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
        if self._reads is not None:
            self._reads.append((AZURE_TEMPLATES, frozenset(self._azure_templates)))
        return self._azure_templates
