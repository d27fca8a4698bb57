"""libcst codemods: pure functions from source text to source text, idempotent (a second run changes nothing).

- `seeds`: `random_state=SEED` on splits and estimators that lack it, and a seed-setting call after the imports.
- `paths`: machine-specific absolute path literals become `PARAMS["paths"][...]` lookups in params.yaml.
- `notebooks`: a notebook's code cells become a module with one function per group of cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst


@dataclass(frozen=True, slots=True)
class Rewrite:
    """The outcome of a codemod on one source: the new text and what changed, in words."""

    text: str
    changes: tuple[str, ...] = ()
    paths: tuple[tuple[str, str], ...] = ()  # params.yaml `paths` entries (name, value) the new code reads

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def parse(source: str) -> cst.Module | None:
    """The lossless tree of `source`, or None unless Python's compiler accepts it (libcst accepts a little more,
    such as a bare `*x`, and a codemod must never turn invalid code into different invalid code). Compiling
    checks the code; nothing is run."""
    try:
        compile(source, "<source>", "exec", dont_inherit=True)
        return cst.parse_module(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError, cst.ParserSyntaxError):
        return None
