"""YAML files read as documents once per audit: a monorepo's projects share its root CI."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlops_audit.analyzers.ci.yaml_lines import Map, load_yaml

if TYPE_CHECKING:
    from mlops_audit.inventory import Inventory

DOCUMENTS = "yaml documents"  # an inventory's shared table: path in the repository -> (document, error)


def load_document(inventory: Inventory, path: str) -> tuple[Map | None, str | None]:
    """The document of a listed YAML file (see `load_yaml`), parsed once for the inventory and every view made from
    it. Documents are never changed once read. A file that cannot be read is tried (and noted) each time."""
    known = inventory.shared(DOCUMENTS)
    origin = inventory.origin(path)
    if origin not in known:
        text = inventory.read_text(path) if inventory.get(path) is not None else None
        if text is None:
            return None, "cannot be read as text"
        known[origin] = load_yaml(text)
    return known[origin]  # type: ignore[no-any-return]
