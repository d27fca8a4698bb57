"""Nothing lost: only `init` and `scaffold --apply` write into the audited repository, and only what they say;
every other command leaves the tree and `git status` as they were. The scaffold's writes are atomic: killed
midway, it leaves each file either as it was or as planned, never half written."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import PROJECT, child_env, git, git_repo, limit_memory, run_cli, snapshot

SOURCE = {
    "src/train.py": "import pandas as pd\nfrom sklearn.linear_model import LogisticRegression\n\n\n"
                    "def train(path):\n    df = pd.read_csv('/home/me/data.csv')\n"
                    "    return LogisticRegression().fit(df, df)\n",
    "requirements.txt": "scikit-learn==1.4.2\npandas==2.2.2\n",
    ".gitignore": "__pycache__/\n",
    "notebooks/explore.ipynb": '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
}
TEMPORARY = re.compile(r"(^|/)\.[^/]+\.[a-z0-9_]+\.tmp$")  # the scaffold's temporary files: `.<name>.<random>.tmp`


def _contents(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(root).parts}


def test_every_command_but_init_and_scaffold_apply_leaves_the_repository_as_it_was(tmp_path: Path) -> None:
    """`run_cli` compares the tree (every entry of the work tree and of `.git`: mode, size, mtime) and
    `git status --ignored` before and after each command. Reports and baselines go outside, as asked."""
    root = git_repo(tmp_path / "repo", SOURCE, commits=2)
    (root / "src" / "train.py").write_text(SOURCE["src/train.py"] + "# edited\n", encoding="utf-8")  # a dirty tree
    out = tmp_path / "out"
    out.mkdir()
    baseline = out / "baseline.json"
    commands = (  # `rules`, `explain`, plain audits and `scaffold`: in the security and every other hostile test
        ["audit", str(root), "--write-baseline", str(baseline)],
        ["audit", str(root), "--baseline", str(baseline), "--diff-base", "HEAD~1", f"--format=sarif:{out / 'r'}"],
        ["lint", "src/train.py", "notebooks/explore.ipynb", "requirements.txt"],
        ["scaffold", "--diff", "--to-level", "2", str(root)],
    )
    for command in commands:
        run = run_cli(command, watch=root, cwd=root)
        assert run.code in (0, 1), (command, run.stderr)


def test_init_writes_its_one_file(tmp_path: Path) -> None:
    root = git_repo(tmp_path / "repo", SOURCE)
    before = snapshot(root)
    run = run_cli(["init", str(root)], watch=root, cwd=root, writes=True)
    assert run.code == 0, run.stderr
    changed = {path for path, entry in snapshot(root).items() if before.get(path) != entry}
    assert changed - {b".git"} == {b".mlops-audit.toml"} or changed - {b".git"} == {b"pyproject.toml"}, changed
    again = run_cli(["init", str(root)], watch=root, cwd=root)  # never overwrites: a usage error, nothing written
    assert again.code == 2


def test_scaffold_apply_writes_only_what_it_reports(tmp_path: Path) -> None:
    root = git_repo(tmp_path / "repo", SOURCE)
    before = _contents(root)
    run = run_cli(["scaffold", "--apply", str(root)], watch=root, writes=True)
    assert run.code == 0, run.stderr
    reported = set(re.findall(r"^  wrote    (.+)$", run.stdout, re.MULTILINE))
    after = _contents(root)
    assert reported and {path for path in after if before.get(path) != after[path]} == reported
    assert set(before) <= set(after)  # nothing deleted
    assert git(root, "diff", "--cached", "--name-only") == ""  # nothing staged, nothing committed
    assert int(git(root, "rev-list", "--count", "HEAD")) == 1


CRASHING_RUNNER = """
import os, signal, sys
count = int(sys.argv[1])
import mlops_audit.scaffold.files as files
opened = []
class Torn:
    # The scaffold's stream to one file: writes half of what it is given, then the process is killed.
    def __init__(self, stream):
        self.stream = stream
    def __enter__(self):
        return self
    def __exit__(self, *details):
        return self.stream.__exit__(*details)
    def __getattr__(self, name):
        return getattr(self.stream, name)
    def write(self, text):
        self.stream.write(text[: len(text) // 2])
        self.stream.flush()
        os.fsync(self.stream.fileno())
        os.kill(os.getpid(), signal.SIGKILL)
def fdopen(*args, **kwargs):
    opened.append(args)
    stream = os.fdopen(*args, **kwargs)
    return Torn(stream) if len(opened) == count else stream
class Os:
    def __getattr__(self, name):
        return fdopen if name == "fdopen" else getattr(os, name)
files.os = Os()
from mlops_audit.cli import main
sys.exit(main(sys.argv[2:]))
"""


def test_scaffold_killed_midway_leaves_no_file_half_written(tmp_path: Path) -> None:
    """SIGKILL in the middle of writing the 8th file (half its content written and synced). Every file is then
    as it was or as a whole run writes it; the half-written content sits only in a temporary file; the files
    after the 8th are untouched; a second run completes the plan without touching what the first one wrote."""
    clean = git_repo(tmp_path / "clean" / "repo", SOURCE)
    crashed = git_repo(tmp_path / "crashed" / "repo", SOURCE)  # same folder name: same package name
    original = _contents(crashed)
    assert run_cli(["scaffold", "--apply", str(clean)], writes=True).code == 0
    planned = _contents(clean)

    runner = tmp_path / "runner.py"
    runner.write_text(CRASHING_RUNNER, encoding="utf-8")
    killed = subprocess.run([sys.executable, str(runner), "8", "scaffold", "--apply", str(crashed)],
                            cwd=PROJECT, env=child_env(), capture_output=True, timeout=60, preexec_fn=limit_memory,
                            check=False)
    assert killed.returncode == -9, killed.stderr.decode()
    after_crash = _contents(crashed)
    debris = [path for path in after_crash if TEMPORARY.search(path)]
    assert len(debris) == 1, debris
    folder, _, name = debris[0].rpartition("/")
    target = f"{folder}/{name[1:].rsplit('.', 2)[0]}".lstrip("/")
    assert planned[target].startswith(after_crash[debris[0]]) and planned[target] != after_crash[debris[0]]
    assert after_crash.get(target) == original.get(target)  # the file being written: as it was
    finished = {path for path in after_crash if path != debris[0] and original.get(path) != after_crash[path]}
    assert len(finished) == 7, finished
    for path, data in after_crash.items():
        if path != debris[0]:
            assert data in (original.get(path), planned.get(path)), path
    assert git(crashed, "diff", "--cached", "--name-only") == ""

    resumed = run_cli(["scaffold", "--apply", str(crashed)], writes=True)
    assert resumed.code == 0, resumed.stdout + resumed.stderr
    final = _contents(crashed)
    assert all(final[path] == after_crash[path] for path in finished)  # what was written stays as written
    for path, data in final.items():
        if path.endswith(".py"):
            ast.parse(data, path)
        elif path.endswith((".yaml", ".yml")):
            yaml.safe_load(data)
