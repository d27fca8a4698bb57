"""Harness of the hostile-repository suite: the real CLI in a bounded subprocess, and proof that nothing changed.

Every run goes through `run_cli`: a child process (`python -m mlops_audit ...`) with a timeout and an address-space
limit, whose stderr must hold no traceback and no internal error. Unless the command is one that writes, the audited
tree (paths, sizes, mtimes, read as bytes so any file name works) and `git status --porcelain` must be the same
before and after.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest

PROJECT = Path(__file__).resolve().parents[2]
REPORT_SCHEMA = json.loads((PROJECT / "reports" / "report.schema.json").read_text(encoding="utf-8"))
SARIF_SCHEMA = json.loads((PROJECT / "tests" / "schemas" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
MEMORY_LIMIT = 1536 * 1024 * 1024  # bytes of address space for the audit process
TIMEOUT = 60.0
ALL_FORMATS = ("text", "json", "html", "sarif", "markdown", "gitlab", "junit", "github", "badge")


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str
    seconds: float

    def json(self) -> dict[str, Any]:
        report = json.loads(self.stdout)
        jsonschema.validate(report, REPORT_SCHEMA)
        return report


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def child_env() -> dict[str, str]:
    """The environment of the audit process: the working tree importable, no colour, no pre-commit mode."""
    env = {k: v for k, v in os.environ.items() if k not in ("PRE_COMMIT", "PYTHONSTARTUP")}
    env.update(PYTHONPATH=str(PROJECT), NO_COLOR="1", PYTHONDONTWRITEBYTECODE="1", PYTHONIOENCODING="utf-8")
    return env


def snapshot(root: Path) -> dict[bytes, tuple[int, int, int]]:
    """Every entry under `root` (bytes paths, symlinks not followed): mode, size and mtime."""
    seen: dict[bytes, tuple[int, int, int]] = {}
    base = os.fsencode(root)
    for current, dirs, names in os.walk(base, followlinks=False):
        for name in (*dirs, *names):
            path = os.path.join(current, name)
            info = os.lstat(path)
            seen[os.path.relpath(path, base)] = (info.st_mode, info.st_size, info.st_mtime_ns)
    return seen


def git_status(root: Path) -> bytes | None:
    """`git status --porcelain` without refreshing the index (so the check itself writes nothing); None outside git."""
    if not (root / ".git").exists():
        return None
    result = subprocess.run(
        ["git", "-c", "core.fsmonitor=false", "--no-optional-locks", "status", "--porcelain", "--ignored"],
        cwd=root, capture_output=True, timeout=60, check=False,
    )
    return result.stdout + result.stderr


def run_cli(
    args: Sequence[str],
    *,
    watch: Path | None = None,
    cwd: Path | None = None,
    timeout: float = TIMEOUT,
    runner: Path | None = None,
    writes: bool = False,
    env: dict[str, str] | None = None,
) -> Run:
    """Run `mlops-audit ARGS` in a bounded child process; assert it neither crashed nor (unless `writes`) changed `watch`.
    `env` adds to (or overrides) the child's environment."""
    before = (snapshot(watch), git_status(watch)) if watch is not None and not writes else None
    command = [sys.executable, str(runner)] if runner else [sys.executable, "-m", "mlops_audit"]
    started = time.monotonic()
    result = subprocess.run(
        [*command, *args], cwd=cwd or PROJECT, env={**child_env(), **(env or {})}, capture_output=True,
        timeout=timeout, preexec_fn=limit_memory, check=False,
    )
    run = Run(tuple(args), result.returncode, result.stdout.decode("utf-8", "replace"),
              result.stderr.decode("utf-8", "replace"), time.monotonic() - started)
    _log(run)
    assert "Traceback" not in run.stderr, run.stderr
    assert "internal error" not in run.stderr, run.stderr
    assert run.code in (0, 1, 2), (run.code, run.stderr)
    if before is not None:
        assert watch is not None
        assert snapshot(watch) == before[0], "the audited tree changed"
        assert git_status(watch) == before[1], "git status changed"
    return run


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr",
        "path", "circle", "rect", "line", "stop", "polyline", "polygon", "ellipse", "use"}


class _Balance(HTMLParser):
    """Checks that every element opened is closed, in order (HTML's void elements and SVG leaves aside)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """A self-closed element opens nothing."""

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
        else:
            self.open.pop()


def check_report(fmt: str, text: str) -> None:
    """The report in `fmt` is valid for its consumers."""
    assert isinstance(text, str) and not any("\ud800" <= c <= "\udfff" for c in text), fmt
    text.encode("utf-8")
    if fmt == "json":
        jsonschema.validate(json.loads(text), REPORT_SCHEMA)
    elif fmt == "sarif":
        jsonschema.validate(json.loads(text), SARIF_SCHEMA)
    elif fmt == "gitlab":
        assert isinstance(json.loads(text), list)
    elif fmt in ("junit", "badge"):
        ET.fromstring(text.encode("utf-8"))
    elif fmt == "html":
        parser = _Balance()
        parser.feed(text)
        parser.close()
        assert text.lstrip().lower().startswith("<!doctype html>")
        assert not parser.problems and not parser.open, (parser.problems[:3], parser.open[-3:])
    elif fmt == "github":
        assert all(line.startswith("::") for line in text.split("\n") if line), text[:500]  # the runner splits at LF


def audit_all_formats(root: Path, out: Path, *extra: str, **kwargs: Any) -> dict[str, str]:
    """Audit ROOT once, writing every format into OUT (outside the tree); each report checked for its consumers."""
    out.mkdir(parents=True, exist_ok=True)
    run = run_cli(["audit", os.fsdecode(root), *extra, *(f"--format={fmt}:{out / fmt}" for fmt in ALL_FORMATS)],
                  watch=root, **kwargs)
    assert run.code in (0, 1), run.stderr
    reports = {fmt: (out / fmt).read_bytes().decode("utf-8") for fmt in ALL_FORMATS}
    for fmt, text in reports.items():
        check_report(fmt, text)
    return reports


def _log(run: Run) -> None:
    """With HOSTILE_LOG=FILE, one JSON line per run (test, command, exit code, seconds) for a summary table."""
    log = os.environ.get("HOSTILE_LOG")
    if log:
        test = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"test": test, "args": run.args[:1] + run.args[2:], "code": run.code,
                                     "seconds": round(run.seconds, 2), "stdout": run.stdout[:200000],
                                     "stderr": run.stderr[-500:]}) + "\n")


def audit(root: Path, *extra: str, fmt: str = "json", **kwargs: Any) -> Run:
    """`mlops-audit audit ROOT --format FMT`: it ran (exit 0 or 1) and changed nothing under ROOT."""
    run = run_cli(["audit", os.fsdecode(root), "--format", fmt, *extra], watch=root, **kwargs)
    assert run.code in (0, 1), (run.code, run.stderr)
    return run


def audit_json(root: Path, *extra: str, **kwargs: Any) -> dict[str, Any]:
    """The schema-valid JSON report of auditing ROOT."""
    return audit(root, *extra, **kwargs).json()


def notes_about(report: dict[str, Any], path: str) -> list[str]:
    return [note["message"] for note in report["notes"] if note["path"] == path]


def evidence_paths(report: dict[str, Any]) -> set[str]:
    return {e["path"] for f in report["findings"] for e in f["evidence"]}


def mentioned(report: dict[str, Any], path: str) -> bool:
    """Whether the report says something about `path`: a note, or evidence of a finding."""
    return bool(notes_about(report, path)) or path in evidence_paths(report)


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def git_repo(root: Path, files: dict[str, str | bytes], commits: int = 1) -> Path:
    """A git repository holding `files`, committed, with a fixed identity and no signing."""
    write(root, files)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "--all", "--force")
    for number in range(commits):
        git(root, "commit", "-q", "--allow-empty", "-m", f"commit {number + 1}")
    return root


def git(root: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=Dev", "-c", "user.email=dev@example.com", "-c", "commit.gpgsign=false",
         "-c", "protocol.file.allow=always", *args],
        cwd=root, capture_output=True, check=True, timeout=60,
    )
    return result.stdout.decode("utf-8", "replace")


ML_FILES = {
    "src/train.py": "import pandas as pd\nfrom sklearn.linear_model import LogisticRegression\n\n"
                    "def train(path):\n    df = pd.read_csv(path)\n    return LogisticRegression().fit(df, df)\n",
    "requirements.txt": "scikit-learn==1.4.2\npandas==2.2.2\n",
}


@pytest.fixture
def ml_files() -> dict[str, str | bytes]:
    """A small ML project, so the levels apply and every rule has something to judge."""
    return dict(ML_FILES)


