"""libcst codemods: pure functions from source text to source text, idempotent (a second run changes nothing).

- `seeds`: `random_state=SEED` on splits and estimators that lack it, and a seed-setting call after the imports.
- `paths`: machine-specific absolute path literals become `PARAMS["paths"][...]` lookups in params.yaml.
- `notebooks`: a notebook's code cells become a module with one function per group of cells.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rewrite:
    """The outcome of a codemod on one source: the new text and what changed, in words."""

    text: str
    changes: tuple[str, ...] = ()
    paths: tuple[tuple[str, str], ...] = ()  # params.yaml `paths` entries (name, value) the new code reads

    @property
    def changed(self) -> bool:
        return bool(self.changes)
