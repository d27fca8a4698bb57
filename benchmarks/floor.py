"""The parse floor: `ast.parse` every tracked `.py` and `json.loads` every `.ipynb` of a repository, and nothing else.

    python benchmarks/floor.py ROOT

The least any tool that reads the code must do; the benchmarks divide the audit's time by this one's.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import warnings


def tracked(root: str) -> list[str]:
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    return [name for name in listing.decode("utf-8", "surrogateescape").split("\0") if name]


def main(root: str) -> None:
    warnings.simplefilter("ignore")
    for name in tracked(root):
        if not name.endswith((".py", ".ipynb")):
            continue
        try:
            with open(f"{root}/{name}", encoding="utf-8", errors="replace") as handle:
                text = handle.read()
            ast.parse(text) if name.endswith(".py") else json.loads(text)
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
            pass


if __name__ == "__main__":
    main(sys.argv[1])
