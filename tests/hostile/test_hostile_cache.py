"""The per-file facts cache under hostile conditions: entries are JSON, so a planted entry is a miss and never code;
a cache folder that is a file, unwritable, a symlink into the audited repository or inside it, and a database that
is a symlink, a FIFO or not a database are never written through, and the report is the one an audit without the
cache gives."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from conftest import audit, git_repo
from mlops_audit.entry_store import DATABASE

FILES = {
    "src/pkg/__init__.py": "",
    "src/pkg/train.py": "import mlflow\nfrom sklearn.svm import SVC\n\n\ndef train(X, y):\n"
                        "    with mlflow.start_run():\n        return SVC().fit(X, y)\n",
    "src/job.py": "from pkg.train import train\ntrain([[0]], [0])\n",
    "notebooks/eda.ipynb": json.dumps({"cells": [{"cell_type": "code", "execution_count": 1, "metadata": {},
                                                  "outputs": [], "source": ["import pandas as pd\n"]}],
                                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5}),
    "requirements.txt": "scikit-learn==1.4.2\nmlflow==2.12.1\n",
}


def _report(root: Path, home: Path, *extra: str, timeout: float = 60) -> str:
    """The JSON report of an audit with the cache in `home` (XDG_CACHE_HOME)."""
    return audit(root, *extra, env={"XDG_CACHE_HOME": str(home)}, timeout=timeout).stdout


def _database(home: Path) -> Path:
    return home / "mlops-audit" / DATABASE


def _values(home: Path) -> list[tuple[str, str | bytes]]:
    with contextlib.closing(sqlite3.connect(_database(home))) as database:
        return database.execute("SELECT key, value FROM entries ORDER BY key").fetchall()


def _planted(marker: Path) -> list[str | bytes]:
    """Values an attacker with write access to the cache might leave: a pickle that runs a command when loaded,
    YAML with a Python tag, JSON of the wrong shape, nesting over the recursion limit, plain noise."""
    return [
        f"cos\nsystem\n(S'touch {marker}'\ntR.".encode(),
        f'!!python/object/apply:os.system ["touch {marker}"]\n',
        json.dumps(f"__import__('os').system('touch {marker}')"),
        "[" * 100_000 + "]" * 100_000,
        b"\xff\xfe\x00garbage",
        "null",
        json.dumps({"code": [1]}),
    ]


def test_planted_entries_are_misses_never_code(tmp_path: Path) -> None:
    root = git_repo(tmp_path / "repo", FILES)
    expected = _report(root, tmp_path / "unused", "--no-cache")
    home = tmp_path / "home"
    assert _report(root, home) == expected  # filled
    stored = _values(home)
    assert stored, "the audit stored its per-file facts"
    marker = tmp_path / "CACHE_MARKER"
    planted = _planted(marker)
    with contextlib.closing(sqlite3.connect(_database(home))) as database, database:
        for number, (key, _) in enumerate(stored):
            database.execute("UPDATE entries SET value = ? WHERE key = ?", (planted[number % len(planted)], key))
    assert _report(root, home) == expected
    assert not marker.exists()
    assert _values(home) == stored  # each planted value was a miss, so the audit stored the facts again


def test_a_cache_folder_that_cannot_or_must_not_be_written(tmp_path: Path) -> None:
    """A file where the folder should be; a folder below a file (unwritable, even for root); a symlink into the
    audited repository; a folder inside it. `audit` asserts the tree and `git status` unchanged each time."""
    root = git_repo(tmp_path / "repo", FILES)
    expected = _report(root, tmp_path / "unused", "--no-cache")
    file_home = tmp_path / "file-home"
    (file_home / "mlops-audit").parent.mkdir()
    (file_home / "mlops-audit").write_bytes(b"not a folder")
    (tmp_path / "plain-file").write_bytes(b"")
    linked_home = tmp_path / "linked-home"
    linked_home.mkdir()
    (root / "cache").mkdir()
    (linked_home / "mlops-audit").symlink_to(root / "cache", target_is_directory=True)
    for home in (file_home, tmp_path / "plain-file", linked_home, root / ".cache"):
        assert _report(root, home) == expected, home
    assert (file_home / "mlops-audit").read_bytes() == b"not a folder"


def test_a_database_that_is_a_symlink_is_never_written_through(tmp_path: Path) -> None:
    """The database is a symlink into the audited repository: nothing is written there."""
    root = git_repo(tmp_path / "repo", FILES)
    home = tmp_path / "home"
    (home / "mlops-audit").mkdir(parents=True)
    (root / "planted.sqlite3").write_bytes(b"")
    _database(home).symlink_to(root / "planted.sqlite3")
    _report(root, home)  # `audit` asserts the tree unchanged
    assert (root / "planted.sqlite3").read_bytes() == b""


def test_a_database_that_is_no_regular_file_is_a_miss(tmp_path: Path) -> None:
    """The database replaced by a FIFO (a reader would wait forever) or a symlink to /dev/zero (endless): misses,
    and the audit finishes in its usual second."""
    root = git_repo(tmp_path / "repo", FILES)
    for number in range(2):
        home = tmp_path / f"home-{number}"
        expected = _report(root, home)
        _database(home).unlink()
        if number:
            _database(home).symlink_to("/dev/zero")
        else:
            os.mkfifo(_database(home))
        try:
            assert _report(root, home, timeout=3) == expected
        except subprocess.TimeoutExpired as error:  # report the timeout as the assertion it is
            raise AssertionError(f"the audit did not finish: {error}") from None


def test_a_database_that_is_not_one_is_made_anew(tmp_path: Path) -> None:
    root = git_repo(tmp_path / "repo", FILES)
    home = tmp_path / "home"
    expected = _report(root, home)
    stored = _values(home)
    _database(home).write_bytes(b"\x00" * 4096 + b"not SQLite at all")
    assert _report(root, home) == expected
    assert _values(home) == stored


def test_audits_filling_one_cache_at_once_give_the_same_report(tmp_path: Path) -> None:
    """Four audits of two repositories fill one empty cache at the same time: every report is the one without the
    cache, and so is the next one, read from it."""
    roots = [git_repo(tmp_path / "a", FILES), git_repo(tmp_path / "b", {**FILES, "src/pkg/extra.py": "x = 1\n"})]
    expected = [_report(root, tmp_path / "unused", "--no-cache") for root in roots]
    home = tmp_path / "home"
    with ThreadPoolExecutor(4) as pool:  # each thread waits on its own audit process
        reports = list(pool.map(lambda root: _report(root, home), [*roots, *roots]))
    assert reports == [*expected, *expected]
    assert [_report(root, home) for root in roots] == expected
    assert len(_values(home)) == 5 + 2  # each content once (a notebook, four sources), and each assessment
