"""Which report formats to write where: `--format FMT`, `--format FMT:FILE` and `-o FILE`, several per run."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from mlops_audit.errors import AuditError
from mlops_audit.model import Assessment

# Each format's reporter module, imported when it is used (the HTML report's Jinja2 costs a run that writes JSON).
REPORTERS = {
    "text": "text", "json": "json_report", "html": "html", "sarif": "sarif", "markdown": "markdown",
    "gitlab": "gitlab", "junit": "junit", "github": "github", "badge": "badge",
}
FORMATS = tuple(REPORTERS)
BY_EXTENSION = {
    ".txt": "text",
    ".json": "json",
    ".html": "html",
    ".htm": "html",
    ".sarif": "sarif",
    ".md": "markdown",
    ".xml": "junit",
    ".svg": "badge",
}


@dataclass(frozen=True)
class Output:
    format: str
    path: str | None  # None: standard output


def plan_outputs(formats: Sequence[str], files: Sequence[str], default: str = "text") -> list[Output]:
    """Pair formats with destinations.

    `--format html:report.html` names both; `-o report.sarif` takes its format from the extension; a single
    `--format json -o report.json` pairs the two; a format without a file goes to stdout (at most one).
    """
    named = [_split(spec) for spec in formats]
    bare = [fmt for fmt, path in named if path is None]
    outputs = [Output(fmt, path) for fmt, path in named if path is not None]
    if len(bare) == 1 and len(files) == 1:
        outputs.append(Output(bare.pop(), files[0]))
        files = []
    outputs += [Output(_from_extension(path), path) for path in files]
    outputs += [Output(fmt, None) for fmt in bare]
    if not outputs:
        outputs.append(Output(default, None))
    if sum(1 for o in outputs if o.path is None) > 1:
        raise AuditError("only one format can go to standard output; give the others a file (FORMAT:FILE)")
    paths = [o.path for o in outputs if o.path is not None]
    if len(paths) != len(set(paths)):
        raise AuditError("two reports would be written to the same file")
    return outputs


def _split(spec: str) -> tuple[str, str | None]:
    fmt, _, path = spec.partition(":")
    fmt = fmt.strip().lower()
    if fmt not in FORMATS:
        raise AuditError(f"unknown format `{fmt}` (choose from {', '.join(FORMATS)})")
    return fmt, path or None


def _from_extension(path: str) -> str:
    suffix = PurePath(path).suffix.lower()
    if suffix not in BY_EXTENSION:
        known = ", ".join(f"{ext} ({fmt})" for ext, fmt in BY_EXTENSION.items())
        raise AuditError(f"cannot tell the format of `{path}` from its extension ({known}); use --format FORMAT:{path}")
    return BY_EXTENSION[suffix]


def render(fmt: str, assessment: Assessment, color: bool = False) -> str:
    """The report in one format; `color` only matters for text on a terminal."""
    reporter = importlib.import_module(f"mlops_audit.reporters.{REPORTERS[fmt]}")
    return reporter.render(assessment, color=color) if fmt == "text" else reporter.render(assessment)
