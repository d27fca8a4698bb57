"""The speed benchmarks stay runnable: the generator is deterministic and the one command prints every ratio."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from benchmarks.synthetic import generate

PROJECT = Path(__file__).resolve().parent.parent


def tree_digest(root: Path) -> tuple[int, str]:
    files = sorted(path for path in root.rglob("*") if path.is_file() and ".git" not in path.parts)
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return len(files), digest.hexdigest()


def test_the_synthetic_monorepo_is_deterministic_and_of_the_size_asked(tmp_path: Path) -> None:
    first, second = generate(tmp_path / "a", 900), generate(tmp_path / "b", 900)
    count, digest = tree_digest(first)
    assert (count, digest) == tree_digest(second)
    assert 850 <= count <= 900
    names = {path.name for path in first.rglob("*")}
    assert {"dvc.yaml", "params.yaml", "Dockerfile", "requirements.txt"} <= names
    assert any(name.endswith(".ipynb") for name in names) and any(name.endswith(".dvc") for name in names)
    assert len(list((first / ".github" / "workflows").glob("*.yml"))) == 2  # one workflow per project


def test_one_command_prints_every_ratio(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(PROJECT / "benchmarks" / "run.py"), "--sizes", "80,160", "--repeat", "1"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    rows = [line for line in run.stdout.splitlines() if line.startswith("synthetic monorepo")]
    assert len(rows) == 2
    for row in rows:
        assert all(word in row for word in ("floor", "cold", "first", "warm", "lint(10)", "peak RSS"))
    assert "lint on 10 files:" in run.stdout and "ms per file" in run.stdout
