"""Apply a plan: write each file atomically, but only if it is still as the plan found it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mlops_audit.scaffold import files
from mlops_audit.scaffold.actions import Action


@dataclass(frozen=True, slots=True)
class Outcome:
    written: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]  # (path, why): changed since planning, or unsafe


def apply(root: Path, actions: Iterable[Action]) -> Outcome:
    """Write the actions that write; a file that changed since the plan was made is left alone."""
    written, skipped = [], []
    for action in actions:
        if not action.writes or action.after is None:
            continue
        try:
            if files.read_text(root, action.path) != action.before:
                skipped.append((action.path, "changed since the plan was made"))
                continue
            files.write_atomic(root, action.path, action.after)
        except (files.UnsafePath, OSError) as error:
            skipped.append((action.path, str(error)))
            continue
        written.append(action.path)
    return Outcome(tuple(written), tuple(skipped))
