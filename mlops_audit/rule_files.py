"""Where the built-in rule packs are: inside the installed package, or the repository's top-level `rules/`."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def builtin_pack_dir() -> Path:
    packaged = Path(str(resources.files("mlops_audit"))) / "rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules"


def builtin_pack_paths() -> list[Path]:
    return sorted(builtin_pack_dir().glob("*.yaml"))
