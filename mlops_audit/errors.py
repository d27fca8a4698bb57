"""The errors mlops-audit reports to its user (exit code 2), each with the place it comes from."""

from __future__ import annotations


class AuditError(Exception):
    """A problem the user can fix: a bad path, a broken rule pack, a bad configuration."""


class PathError(AuditError):
    """The path given to audit does not exist or is not a directory."""


class ConfigError(AuditError):
    """The `[tool.mlops-audit]` configuration is invalid."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source


class PackError(AuditError):
    """A rule pack is invalid; names the pack file and, when known, the rule."""

    def __init__(self, pack: str, message: str, rule: str | None = None) -> None:
        where = f"{pack}: rule {rule}" if rule else pack
        super().__init__(f"{where}: {message}")
        self.pack = pack
        self.rule = rule
