"""Hostile file trees: links out of the root, huge and sparse files, binary and undecodable names and contents,
special files, crowded and deep folders. The audit completes, says what it skipped, and changes nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import audit, audit_all_formats, audit_json, git_repo, mentioned, notes_about, run_cli, write

GIB = 2**30


@pytest.mark.parametrize("use_git", [False, True], ids=["folder", "git"])
def test_symlinks_never_lead_out_of_the_root(tmp_path: Path, use_git: bool, ml_files: dict) -> None:
    outside = write(tmp_path / "outside", {
        "OUTSIDE_MARKER.py": "import mlflow\nmlflow.register_model('OUTSIDE_MARKER', 'm')\n",
        "pkg/OUTSIDE_MARKER_train.py": "from sklearn.svm import SVC\nSVC().fit(X, y)  # OUTSIDE_MARKER\n",
    })
    root = write(tmp_path / "repo", ml_files)
    (root / "escape.py").symlink_to(outside / "OUTSIDE_MARKER.py")
    (root / "escape_dir").symlink_to(outside / "pkg", target_is_directory=True)
    (root / "absolute.py").symlink_to("/etc/passwd")
    (root / "loop.py").symlink_to("loop.py")
    (root / "ping.py").symlink_to("pong.py")
    (root / "pong.py").symlink_to("ping.py")
    (root / "self").symlink_to(".", target_is_directory=True)
    (root / "up").symlink_to("..", target_is_directory=True)
    (root / "dangling.yaml").symlink_to("nowhere.yaml")
    if use_git:
        git_repo(root, {})
    run = audit(root)
    report = run.json()
    assert "OUTSIDE_MARKER" not in run.stdout
    assert "root:" not in run.stdout  # nothing of /etc/passwd
    assert any("outside" in message for message in notes_about(report, "escape.py"))
    assert any("outside" in message for message in notes_about(report, "absolute.py"))
    assert any("loop" in message for message in notes_about(report, "loop.py"))
    lint = run_cli(["lint", "escape.py", "absolute.py", "loop.py", "ping.py", "escape_dir/OUTSIDE_MARKER_train.py",
                    str(outside / "OUTSIDE_MARKER.py"), "../outside/OUTSIDE_MARKER.py", "/etc/passwd"],
                   watch=root, cwd=root)
    assert lint.code in (0, 1) and "OUTSIDE_MARKER" not in lint.stdout and "root:" not in lint.stdout


@pytest.mark.parametrize("use_git", [False, True], ids=["folder", "git-untracked"])
def test_sparse_multi_gigabyte_files_are_never_read_whole(tmp_path: Path, use_git: bool, ml_files: dict) -> None:
    root = git_repo(tmp_path / "repo", ml_files) if use_git else write(tmp_path / "repo", ml_files)
    for name in ("data/data.csv", "models/model.pkl", "src/huge.py", "notebooks/huge.ipynb", "dvc.yaml"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        with (root / name).open("wb") as handle:
            handle.truncate(3 * GIB)
    run = audit(root, timeout=30)
    report = run.json()
    for name in ("src/huge.py", "notebooks/huge.ipynb", "dvc.yaml"):
        assert any("limit" in message for message in notes_about(report, name)), name
    assert run.seconds < 30
    lint = run_cli(["lint", "data/data.csv", "models/model.pkl", "src/huge.py", "notebooks/huge.ipynb", "dvc.yaml"],
                   watch=root, cwd=root, timeout=30)
    assert lint.code in (0, 1)


def test_one_line_of_twenty_megabytes(tmp_path: Path, ml_files: dict) -> None:
    root = write(tmp_path / "repo", {**ml_files, "src/long.py": "x = '" + "a" * (20 * 2**20) + "'\n"})
    report = audit_json(root)
    assert any("limit" in message for message in notes_about(report, "src/long.py"))


def test_just_under_the_size_limit_is_analysed_in_bounded_time(tmp_path: Path, ml_files: dict) -> None:
    long_line = "x = " + "+".join(["1"] * 1_500_000) + "\n"  # ~3 MB, one expression a million terms long
    nested = "y = " + "(" * 200_000 + ")" * 200_000 + "\n"
    root = write(tmp_path / "repo", {**ml_files, "src/sum.py": long_line, "src/nested.py": nested,
                                     "src/strings.py": "s = '" + "\\x00" * 900_000 + "'\n"})
    run = audit(root, timeout=60)
    report = run.json()
    assert mentioned(report, "src/nested.py")
    assert run.seconds < 60


def test_binary_content_in_text_formats(tmp_path: Path, ml_files: dict) -> None:
    blob = bytes(range(256)) * 64
    root = write(tmp_path / "repo", {
        **ml_files,
        "src/blob.py": b"import os\n" + blob,
        "notebooks/blob.ipynb": blob,
        ".github/workflows/blob.yml": b"on: push\n" + blob,
        "conf/blob.yml": blob,
        "Dockerfile": b"FROM python:3.11\x00\xff\xfe",
        "requirements-dev.txt": b"\x00\x01\x02",
    })
    report = audit_json(root)
    for name in ("src/blob.py", "notebooks/blob.ipynb", ".github/workflows/blob.yml", "Dockerfile"):
        assert any("binary" in message for message in notes_about(report, name)), name


def test_invalid_utf8_in_contents(tmp_path: Path, ml_files: dict) -> None:
    bad = b"\xff\xfe\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc"
    root = write(tmp_path / "repo", {
        **ml_files,
        "src/latin1.py": b"# caf\xe9\nimport sklearn\nname = '" + bad + b"'\n",
        "notebooks/bad.ipynb": b'{"cells": [{"cell_type": "code", "source": ["x = \'' + bad + b'\'"], '
                               b'"metadata": {}, "outputs": [], "execution_count": 1}], "metadata": {}, '
                               b'"nbformat": 4, "nbformat_minor": 5}',
        ".github/workflows/ci.yml": b"on: push\njobs:\n  t:\n    runs-on: " + bad + b"\n    steps: []\n",
        "dvc.yaml": b"stages:\n  train:\n    cmd: python " + bad + b".py\n",
        "requirements-dev.txt": b"pytest==8.0\n" + bad + b"\n",
        "Dockerfile": b"FROM python:3.11\nRUN echo " + bad + b"\n",
    })
    report = audit_json(root)
    assert "src/latin1.py" not in {note["path"] for note in report["notes"]}  # read as text, with replacements


def test_configuration_that_is_not_utf8_is_a_clear_configuration_error(tmp_path: Path, ml_files: dict) -> None:
    root = write(tmp_path / "repo", {**ml_files, "pyproject.toml": b"[tool.mlops-audit]\nselect = ['\xff']\n"})
    run = run_cli(["audit", str(root)], watch=root)
    assert run.code == 2 and "pyproject.toml" in run.stderr and "UTF-8" in run.stderr


@pytest.mark.parametrize("use_git", [False, True], ids=["folder", "git"])
def test_invalid_utf8_in_file_names(tmp_path: Path, use_git: bool, ml_files: dict) -> None:
    root = write(tmp_path / "repo", ml_files)
    base = os.fsencode(root)
    for name, content in ((b"src/bad\xff\xfename.py", b"from sklearn.svm import SVC\nSVC().fit(X, y)\n"),
                          (b"data/d\xe9j\xe0.csv", b"a,b\n1,2\n"),
                          (b"notebooks/\x80\x81.ipynb", b"{}"),
                          (b"\xc3\x28dir/file.yml", b"a: 1\n")):
        path = os.path.join(base, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(content)
    if use_git:
        git_repo(root, {})
    reports = audit_all_formats(root, tmp_path / "out")
    assert "src/bad\\udcff\\udcfename.py" in reports["json"]  # the undecodable bytes kept, escaped
    assert "src/bad\ufffd\ufffdname.py" in reports["html"]


def test_special_files_are_never_opened(tmp_path: Path, ml_files: dict) -> None:
    """FIFOs would block a reader forever; /dev/zero would never end. Neither is read, in git or out of it."""
    root = write(tmp_path / "repo", ml_files)
    os.mkfifo(root / "pipe.py")
    os.mkfifo(root / "requirements-fifo.txt")
    os.mkfifo(root / ".gitignore")
    (root / "zero.csv").symlink_to("/dev/zero")
    (root / "src" / ".gitignore").symlink_to("/dev/zero")
    report = audit(root, timeout=30).json()
    for name in ("pipe.py", "requirements-fifo.txt", ".gitignore", "zero.csv", "src/.gitignore"):
        assert any("not a regular file" in message for message in notes_about(report, name)), name
    lint = run_cli(["lint", "pipe.py", "requirements-fifo.txt", ".gitignore", "zero.csv", "src/.gitignore"],
                   watch=root, cwd=root, timeout=30)
    assert lint.code in (0, 1)


def test_ignore_files_with_patterns_that_do_not_compile(tmp_path: Path, ml_files: dict) -> None:
    root = write(tmp_path / "repo", {**ml_files, ".gitignore": "*.log\n\\\n!\n[z-a]\nsecret/\n",
                                     "secret/ignored.py": "import torch\n", "debug.log": "x\n"})
    report = audit_json(root)
    assert len(notes_about(report, ".gitignore")) == 3
    assert not mentioned(report, "secret/ignored.py") and not mentioned(report, "debug.log")


def test_twenty_thousand_files_in_one_folder(tmp_path: Path, ml_files: dict) -> None:
    root = write(tmp_path / "repo", ml_files)
    crowded = root / "crowd"
    crowded.mkdir()
    for number in range(20_000):
        (crowded / f"f{number:05d}.txt").write_bytes(b"x\n")
    run = audit(root, timeout=20)
    run.json()
    assert run.seconds < 20


@pytest.mark.parametrize("use_git", [False, True], ids=["folder", "git"])
def test_a_folder_three_hundred_levels_deep(tmp_path: Path, use_git: bool, ml_files: dict) -> None:
    deep = "/".join(["d"] * 300)
    files = {**ml_files, f"{deep}/train.py": "from sklearn.svm import SVC\nSVC().fit(X, y)\n",
             f"{deep}/x.ipynb": "{}"}
    root = git_repo(tmp_path / "repo", files) if use_git else write(tmp_path / "repo", files)
    report = audit_json(root)
    assert mentioned(report, f"{deep}/x.ipynb")


def test_a_path_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    target = write(tmp_path, {"train.py": "import sklearn\n"}) / "train.py"
    for command in (["audit", str(target)], ["scaffold", str(target)], ["init", str(target)],
                    ["audit", str(tmp_path / "missing")]):
        run = run_cli(command, watch=tmp_path)
        assert run.code == 2, run
        assert "error" in run.stderr.lower() or "not" in run.stderr.lower()
        assert run.stdout == ""
