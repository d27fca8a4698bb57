"""`init`: write a starter configuration, every key commented out with its meaning.

It goes into `pyproject.toml` as a `[tool.mlops-audit]` table appended at the end (existing content is never
rewritten), or into a new `.mlops-audit.toml` when the repository has no `pyproject.toml`. An existing
configuration is never overwritten.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mlops_audit.errors import AuditError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KEYS_TEXT = """\
# Every key is optional; command-line options override them. Uncomment what you need.
# select = ["L0", "L1"]             # only these rules: ids, id prefixes (L1, L2-CI) or slugs
# ignore = ["L1-DOC-02"]            # skip these rules (same forms as select)
# rules = ["ci/mlops-rules.yaml"]   # extra rule packs (YAML), inside this repository
# format = "text"                   # report format: "text" or "json"
# min-level = 1                     # quality gate: exit 1 when the level reached (0, 1, 2) is below this
# fail-under = 1.2                  # quality gate: exit 1 when the score (0.00 to 2.00) is below this
# fail-on = "gate"                  # quality gate: exit 1 on any unsuppressed finding of this severity or worse:
#                                   #   "gate" (an unmet level gate) > "error" (a failing rule) > "warning" (partial
#                                   #   or advisory); with a baseline, only new findings count
# baseline = "mlops-audit-baseline.json"  # a file of known findings: fail-on then counts only new ones
# suppress = [                      # accepted findings, each with the reason it is accepted
#   {rule = "L1-FS-01", reason = "no online serving: batch predictions only"},
#   {rule = "L0-NB-05", reason = "exploration notebooks only", paths = ["notebooks/explore/*"]},
# ]
# In code, notebooks, YAML, Dockerfiles and requirements, a comment `mlops-audit: ignore[L0-NB-05] reason` at
# the end of a line suppresses that rule's evidence on that line; on a line of its own, on the next line.
"""


def starter(with_header: bool) -> str:
    header = "[tool.mlops-audit]\n" if with_header else ""
    return "# Configuration of mlops-audit, the MLOps maturity audit (levels 0, 1, 2).\n" + header + KEYS_TEXT


def init_config(root: Path) -> Path:
    """Write a starter configuration for the repository at `root`; the file written."""
    if not root.is_dir():
        raise AuditError(f"{root}: not a directory")
    dedicated = root / ".mlops-audit.toml"
    if dedicated.exists():
        raise AuditError(f"{dedicated.name} already exists; it is left as it is")
    pyproject = root / "pyproject.toml"
    if not pyproject.exists():
        _write(dedicated, starter(with_header=False).encode("utf-8"), "xb")
        return dedicated
    text = _read(pyproject)
    if "mlops-audit" in _parse(text, pyproject.name).get("tool", {}):
        raise AuditError("pyproject.toml already has a [tool.mlops-audit] table; it is left as it is")
    newline = "\r\n" if "\r\n" in text else "\n"
    separator = "" if not text or text.endswith("\n") else newline
    addition = separator + newline + starter(with_header=True).replace("\n", newline)
    try:
        tomllib.loads(text + addition)
    except tomllib.TOMLDecodeError:  # e.g. `tool = {...}`, an inline table that cannot be extended
        raise AuditError("pyproject.toml: a [tool.mlops-audit] table cannot be added after its `tool` inline table; "
                         "write the configuration by hand") from None
    _write(pyproject, addition.encode("utf-8"), "ab")
    return pyproject


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise AuditError(f"{path.name} cannot be read: {error}") from None


def _parse(text: str, name: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise AuditError(f"{name} is not valid TOML ({error}); fix it, or write the configuration by hand") from None


def _write(path: Path, data: bytes, mode: str) -> None:
    try:
        with path.open(mode) as handle:
            handle.write(data)
    except FileExistsError:
        raise AuditError(f"{path.name} already exists; it is left as it is") from None
    except OSError as error:
        raise AuditError(f"{path.name} cannot be written: {error.strerror}") from None
