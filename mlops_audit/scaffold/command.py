"""`mlops-audit scaffold`: print the plan, optionally its diffs, and apply it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal, TextIO

from mlops_audit.errors import PathError
from mlops_audit.scaffold.plan import build_plan
from mlops_audit.scaffold.report import render_diffs, render_plan
from mlops_audit.scaffold.writer import apply

Mode = Literal["dry-run", "diff", "apply"]


def scaffold(path: Path, to_level: int | None, rules: Sequence[str], mode: Mode, out: TextIO) -> int:
    """Plan the files that raise the repository at `path` to `to_level` (default: the next level), or that fix the
    `rules` named (ids or slugs; they take precedence over `to_level`); print the plan (and in `diff` mode every
    file's diff) to `out`, and write the files in `apply` mode.

    Returns 0, or 1 when some file could not be written. Raises AuditError (exit 2) for a bad path, an unknown
    rule or level. Never runs the repository's code, never overwrites or deletes a user's line.
    """
    root = Path(path)
    if not root.is_dir():
        raise PathError(f"{path}: {'not a directory' if root.exists() else 'no such file or directory'}")
    plan = build_plan(root, to_level, rules)
    out.write(render_plan(plan))
    if mode == "diff":
        out.write("\n" + (render_diffs(list(plan.actions)) or "No file would change.\n"))
    if mode != "apply":
        out.write("Dry run: nothing written (apply with --apply).\n")
        return 0
    outcome = apply(plan.root, plan.actions)
    out.write(f"Wrote {len(outcome.written)} file(s).\n")
    out.writelines(f"  wrote    {written}\n" for written in outcome.written)
    out.writelines(f"  skipped  {skipped}: {why}\n" for skipped, why in outcome.skipped)
    if outcome.written:
        out.write("Next: review the changes, commit them, and run `mlops-audit audit` again.\n")
    return 1 if outcome.skipped else 0
