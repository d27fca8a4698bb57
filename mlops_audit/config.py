"""Configuration from the audited repository: `[tool.mlops-audit]` in pyproject.toml, or `.mlops-audit.toml`.

Command-line options override it. Extra rule packs named in the repository's configuration must lie inside the
audited root, so an untrusted repository cannot make the audit read files elsewhere.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_audit.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KEYS = {
    "select": list,
    "ignore": list,
    "rules": list,
    "fail-under": (int, float),
    "min-level": int,
    "format": str,
}


@dataclass(frozen=True)
class Config:
    source: str | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    rules: tuple[Path, ...] = ()
    fail_under: float | None = None
    min_level: int | None = None
    format: str | None = None


def load_config(root: Path) -> Config:
    """The configuration found at the audited root, or defaults when there is none."""
    dedicated = root / ".mlops-audit.toml"
    if dedicated.is_file():
        table = _read(dedicated)
        return _config(table.get("tool", {}).get("mlops-audit", table), dedicated.name, root)
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        table = _read(pyproject).get("tool", {}).get("mlops-audit")
        if table is not None:
            return _config(table, "pyproject.toml [tool.mlops-audit]", root)
    return Config()


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path.name, f"is not valid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(path.name, f"cannot be read: {error.strerror}") from None


def _config(table: Any, source: str, root: Path) -> Config:
    if not isinstance(table, dict):
        raise ConfigError(source, "must be a table")
    for key, value in table.items():
        if key not in KEYS:
            raise ConfigError(source, f"unknown key `{key}` (known: {', '.join(KEYS)})")
        if not isinstance(value, KEYS[key]) or isinstance(value, bool):
            raise ConfigError(source, f"`{key}` has the wrong type: {value!r}")
        if isinstance(value, list) and not all(isinstance(item, str) for item in value):
            raise ConfigError(source, f"`{key}` must be a list of strings")
    level = table.get("min-level")
    if level is not None and level not in (0, 1, 2):
        raise ConfigError(source, "`min-level` must be 0, 1 or 2")
    return Config(
        source=source,
        select=tuple(table.get("select", ())),
        ignore=tuple(table.get("ignore", ())),
        rules=tuple(_inside(root, entry, source) for entry in table.get("rules", ())),
        fail_under=table.get("fail-under"),
        min_level=level,
        format=table.get("format"),
    )


def _inside(root: Path, entry: str, source: str) -> Path:
    path = (root / entry).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ConfigError(source, f"rule pack `{entry}` lies outside the audited repository")
    return path
