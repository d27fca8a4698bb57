"""The per-file facts cache under hostile conditions: entries are JSON, so a planted entry is a miss and never code;
a cache folder that is a file, unwritable, a symlink into the audited repository or inside it is never written
through, and the report is the one an audit without the cache gives."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from conftest import audit, git_repo

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


def _entries(home: Path) -> list[Path]:
    return sorted(p for p in (home / "mlops-audit").rglob("*") if p.is_file() and not p.name.startswith("."))


def _planted(marker: Path) -> list[bytes]:
    """Entries an attacker with write access to the cache might leave: a pickle that runs a command when loaded,
    YAML with a Python tag, JSON of the wrong shape or version, nesting over the recursion limit, plain noise."""
    return [
        f"cos\nsystem\n(S'touch {marker}'\ntR.".encode(),
        f'!!python/object/apply:os.system ["touch {marker}"]\n'.encode(),
        json.dumps({"key": "x", "version": "0", "value": f"__import__('os').system('touch {marker}')"}).encode(),
        b"[" * 100_000 + b"]" * 100_000,
        b"\xff\xfe\x00garbage",
        b"null",
    ]


def test_planted_entries_are_misses_never_code(tmp_path: Path) -> None:
    root = git_repo(tmp_path / "repo", FILES)
    expected = _report(root, tmp_path / "unused", "--no-cache")
    home = tmp_path / "home"
    assert _report(root, home) == expected  # filled
    entries = _entries(home)
    assert entries, "the audit stored its per-file facts"
    marker = tmp_path / "CACHE_MARKER"
    planted = _planted(marker)
    stored = json.loads(entries[0].read_bytes())  # its right key and version, with a value of the wrong shape
    entries[0].write_text(json.dumps({"key": stored["key"], "version": stored["version"], "value": {"code": [1]}}))
    for number, entry in enumerate(entries[1:]):
        entry.write_bytes(planted[number % len(planted)])
    assert _report(root, home) == expected
    assert not marker.exists()
    for entry in entries:  # each bad entry was a miss, so the audit stored the facts again
        assert entry.read_bytes() not in planted


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


def test_a_symlinked_subfolder_of_the_cache_is_never_written_through(tmp_path: Path) -> None:
    """Every two-hex subfolder of the cache is a symlink into the audited repository: no entry goes there."""
    root = git_repo(tmp_path / "repo", FILES)
    home = tmp_path / "home"
    (home / "mlops-audit").mkdir(parents=True)
    (root / "planted").mkdir()
    for number in range(256):
        (home / "mlops-audit" / f"{number:02x}").symlink_to(root / "planted", target_is_directory=True)
    _report(root, home)  # `audit` asserts the tree unchanged
    assert not list((root / "planted").iterdir())


def test_an_entry_that_is_no_regular_file_is_a_miss(tmp_path: Path) -> None:
    """Every entry replaced by a FIFO (a reader would wait forever) or a symlink to /dev/zero (endless): misses,
    and the audit finishes in its usual second."""
    root = git_repo(tmp_path / "repo", FILES)
    home = tmp_path / "home"
    expected = _report(root, home)
    entries = _entries(home)
    for number, entry in enumerate(entries):
        entry.unlink()
        if number % 2:
            entry.symlink_to("/dev/zero")
        else:
            os.mkfifo(entry)
    try:
        assert _report(root, home, timeout=3) == expected
    except subprocess.TimeoutExpired as error:  # report the timeout as the assertion it is
        raise AssertionError(f"the audit did not finish: {error}") from None
