"""The audit: a path becomes an inventory and then, unless an unchanged repository's assessment is stored, facts,
findings and an assessment (`pipeline.py`, imported only then: a warm audit loads none of the analyzers)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mlops_audit.assessment_cache import assessment_from_data, assessment_key, assessment_to_data
from mlops_audit.cache import FactsCache
from mlops_audit.inventory import Inventory, build_inventory
from mlops_audit.model import Assessment
from mlops_audit.suppressions import ConfigSuppression
from mlops_audit.templates import as_generated


@dataclass(frozen=True)
class AuditOptions:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extra_packs: tuple[Path, ...] = field(default=())
    suppress: tuple[ConfigSuppression, ...] = field(default=())  # the configuration's `suppress` entries
    cache_dir: Path | None = None  # where per-file code facts are cached between runs; None: no cache


def run_audit(path: str | Path, options: AuditOptions = AuditOptions(), shown_root: str | None = None) -> Assessment:
    """Audit the repository at `path` as it is in the work tree."""
    inventory = build_inventory(path)
    return audit_repository(inventory, options, shown_root if shown_root is not None else str(path))


def audit_repository(inventory: Inventory, options: AuditOptions, root: str) -> Assessment:
    """The whole repository's assessment; in a monorepo (two ML project roots or more below the repository root)
    every project is assessed on its own folder and the repository-wide files, and the verdict is the project's
    that reaches further than the whole (a higher level or score; on a tie, a better coverage of the level reached),
    its evidence paths leading from the repository root."""
    with _no_cycle_collection():
        return _audit_repository(as_generated(inventory), options, root)  # a template: as the project generated


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector: an audit builds hundreds of thousands of acyclic records that each
    collection would walk again (a third of a large audit's time), and makes no garbage cycles worth it."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()  # what the audit made, to the oldest generation without a collection: the first young one
        gc.unfreeze()  # after the pause would otherwise walk every object the audit still holds
        if paused:
            gc.enable()


def _audit_repository(inventory: Inventory, options: AuditOptions, root: str) -> Assessment:
    cache = _cache(options, inventory)
    if cache.folder is None:
        return _pipeline(inventory, options, root, cache)
    kept = FactsCache(cache.folder)  # whole assessments, counted apart from the per-file facts
    key = assessment_key(inventory, options, root)
    assessment = kept.get(key, assessment_from_data)
    if assessment is None:
        assessment = _pipeline(inventory, options, root, cache)
        kept.put(key, assessment_to_data(assessment))
        cache.prune()
    return assessment


def _pipeline(inventory: Inventory, options: AuditOptions, root: str, cache: FactsCache) -> Assessment:
    from mlops_audit.pipeline import audit_projects  # the analyzers and rules load only when there is work

    return audit_projects(inventory, options, root, cache)


def _cache(options: AuditOptions, inventory: Inventory) -> FactsCache:
    """The facts cache of the audit: in memory only, or also in the options' folder unless that would sit inside
    the audited repository."""
    if options.cache_dir is None:
        return FactsCache()
    folder = options.cache_dir.expanduser().resolve()
    return FactsCache(None if folder.is_relative_to(inventory.root.resolve()) else folder)


