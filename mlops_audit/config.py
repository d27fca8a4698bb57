"""Configuration from the audited repository: `[tool.mlops-audit]` in pyproject.toml, or `.mlops-audit.toml`.

Command-line options override it. Extra rule packs and the baseline named in the repository's configuration must
lie inside the audited root, so an untrusted repository cannot make the audit read files elsewhere.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_audit.errors import ConfigError
from mlops_audit.model import Evidence, clip
from mlops_audit.quality_gate import SEVERITIES
from mlops_audit.suppressions import ConfigSuppression

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
    "fail-on": str,
    "format": str,
    "baseline": str,
    "suppress": list,
}
STRING_LISTS = ("select", "ignore", "rules")
SUPPRESS_KEYS = ("rule", "reason", "paths")
MAX_CONFIG_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Config:
    source: str | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    rules: tuple[Path, ...] = ()
    fail_under: float | None = None
    min_level: int | None = None
    format: str | None = None
    fail_on: str | None = None  # "gate", "error" or "warning"
    baseline: Path | None = None
    suppress: tuple[ConfigSuppression, ...] = ()


def load_config(root: Path) -> Config:
    """The configuration found at the audited root, or defaults when there is none."""
    dedicated = _config_file(root, ".mlops-audit.toml")
    if dedicated is not None:
        text, table = read_toml(dedicated)
        return _config(table.get("tool", {}).get("mlops-audit", table), ".mlops-audit.toml", root, text)
    pyproject = _config_file(root, "pyproject.toml")
    if pyproject is not None:
        text, document = read_toml(pyproject)
        table = document.get("tool", {}).get("mlops-audit")
        if table is not None:
            return _config(table, "pyproject.toml [tool.mlops-audit]", root, text)
    return Config()


def _config_file(root: Path, name: str) -> Path | None:
    """The configuration file `name` at the root when it is a regular file; never one a symlink leads out of it."""
    path = root / name
    if not path.is_file():
        return None
    if not path.resolve().is_relative_to(root.resolve()):
        raise ConfigError(name, "is a symlink that leads outside the audited repository; not read")
    return path


def read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    """The text of a TOML file (at most `MAX_CONFIG_BYTES`) and its parsed document."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            raise ConfigError(path.name, f"is over {MAX_CONFIG_BYTES} bytes; not read as configuration")
        text = data.decode("utf-8")
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path.name, f"is not valid TOML: {error}") from None
    except RecursionError:
        raise ConfigError(path.name, "is not valid TOML: nested too deeply") from None
    except UnicodeDecodeError:
        raise ConfigError(path.name, "is not valid UTF-8") from None
    except OSError as error:
        raise ConfigError(path.name, f"cannot be read: {error.strerror}") from None


def _config(table: Any, source: str, root: Path, text: str) -> Config:
    if not isinstance(table, dict):
        raise ConfigError(source, "must be a table")
    for key, value in table.items():
        if key not in KEYS:
            raise ConfigError(source, f"unknown key `{key}` (known: {', '.join(KEYS)})")
        if not isinstance(value, KEYS[key]) or isinstance(value, bool):
            raise ConfigError(source, f"`{key}` has the wrong type: {value!r}")
        if key in STRING_LISTS and not all(isinstance(item, str) for item in value):
            raise ConfigError(source, f"`{key}` must be a list of strings")
    level = table.get("min-level")
    if level is not None and level not in (0, 1, 2):
        raise ConfigError(source, "`min-level` must be 0, 1 or 2")
    fail_on = table.get("fail-on")
    if fail_on is not None and fail_on not in SEVERITIES:
        raise ConfigError(source, f"`fail-on` must be one of {', '.join(SEVERITIES)}")
    baseline = table.get("baseline")
    file_name = source.split(" ", 1)[0]
    return Config(
        source=source,
        select=tuple(table.get("select", ())),
        ignore=tuple(table.get("ignore", ())),
        rules=tuple(_inside(root, entry, source, "rule pack") for entry in table.get("rules", ())),
        fail_under=table.get("fail-under"),
        min_level=level,
        format=table.get("format"),
        fail_on=fail_on,
        baseline=_inside(root, baseline, source, "baseline") if baseline is not None else None,
        suppress=tuple(_suppression(entry, source, file_name, text) for entry in table.get("suppress", ())),
    )


def _inside(root: Path, entry: str, source: str, what: str) -> Path:
    path = (root / entry).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ConfigError(source, f"{what} `{entry}` lies outside the audited repository")
    return path


def _suppression(entry: Any, source: str, file_name: str, text: str) -> ConfigSuppression:
    """One `suppress` entry: `{rule = "ID", reason = "why", paths = ["globs"]}`, the reason required."""
    if not isinstance(entry, dict):
        raise ConfigError(source, f"each `suppress` entry must be a table like {{rule = ..., reason = ...}}: {entry!r}")
    unknown = sorted(set(entry) - set(SUPPRESS_KEYS))
    if unknown:
        raise ConfigError(source, f"`suppress` entry: unknown key `{unknown[0]}` (known: {', '.join(SUPPRESS_KEYS)})")
    rule, reason, paths = entry.get("rule"), entry.get("reason"), entry.get("paths", [])
    if not isinstance(rule, str) or not rule.strip():
        raise ConfigError(source, f"`suppress` entry needs a `rule` id: {entry!r}")
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError(source, f"`suppress` entry for {rule} needs a `reason`: say why it is accepted")
    if not isinstance(paths, list) or not all(isinstance(item, str) for item in paths):
        raise ConfigError(source, f"`suppress` entry for {rule}: `paths` must be a list of strings")
    rule = rule.strip().upper()
    where = Evidence(file_name, _line_of(text, rule), snippet=clip(f'rule = "{rule}", reason = "{reason.strip()}"'))
    return ConfigSuppression(rule, reason.strip(), tuple(paths), where)


def _line_of(text: str, rule: str) -> int | None:
    """The line of the configuration that names `rule` in a `suppress` entry, for reports; None if not found."""
    after_key = False
    for number, line in enumerate(text.splitlines(), 1):
        after_key = after_key or "suppress" in line
        if after_key and (f'"{rule}"' in line.upper() or f"'{rule}'" in line.upper()):
            return number
    return None
