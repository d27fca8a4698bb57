"""Facts from git history, read with gitpython: commits, shallowness, tags, large files in history."""

from __future__ import annotations

from dataclasses import dataclass

from mlops_audit.inventory import Inventory
from mlops_audit.model import Evidence


@dataclass(frozen=True, slots=True)
class GitFacts:
    is_repo: bool = False
    commits: int | None = None  # commits reachable from HEAD; None when unknown
    shallow: bool | None = None
    first_commit: str | None = None  # ISO 8601 dates, UTC
    last_commit: str | None = None
    authors: int | None = None
    tags: tuple[str, ...] = ()
    large_blobs: tuple[Evidence, ...] = ()  # blobs over the size threshold anywhere in history (snippet = size)
    error: str | None = None  # why history could not be read


def analyze_git(inventory: Inventory) -> GitFacts:
    raise NotImplementedError
