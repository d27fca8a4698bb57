"""Broken and unusual git repositories: the audit falls back or says history is unavailable, never crashes, and
never changes the repository (`git status` and every file of `.git` stay as they were)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import audit, audit_json, git, git_repo, run_cli, write

MARKER_CODE = "from sklearn.svm import SVC\nSVC().fit(X, y)\n"


def _objects(root: Path) -> list[Path]:
    return sorted(p for p in (root / ".git" / "objects").glob("??/*") if p.is_file())


def _history_note(report: dict) -> list[str]:
    return [note["message"] for note in report["notes"] if note["path"] == ".git"]


def test_garbage_in_head(tmp_path: Path, ml_files: dict) -> None:
    root = git_repo(tmp_path / "repo", ml_files, commits=2)
    (root / ".git" / "HEAD").write_bytes(b"\x00\xffgarbage, not a ref\n")
    report = audit_json(root)
    assert report["applicable"]  # the files were still audited
    assert any("git can read" in message for message in _history_note(report)), report["notes"]


def test_a_truncated_object(tmp_path: Path, ml_files: dict) -> None:
    root = git_repo(tmp_path / "repo", ml_files, commits=2)
    for path in _objects(root):
        os.chmod(path, 0o644)
        path.write_bytes(path.read_bytes()[:7])
    report = audit_json(root)
    assert _history_note(report), report["notes"]


def _object_path(root: Path, sha: str) -> Path:
    return root / ".git" / "objects" / sha[:2] / sha[2:]


def test_missing_objects(tmp_path: Path, ml_files: dict) -> None:
    root = git_repo(tmp_path / "repo", ml_files, commits=3)
    _object_path(root, git(root, "rev-parse", "HEAD:src/train.py").strip()).unlink()  # a blob
    report = audit_json(root)
    assert report["applicable"]
    run = run_cli(["audit", str(root), "--format", "json", "--diff-base", "HEAD~1"], watch=root)
    assert run.code in (0, 1) or "error" in run.stderr
    _object_path(root, git(root, "rev-list", "--max-parents=0", "HEAD").strip()).unlink()  # the first commit
    report = audit_json(root)
    assert _history_note(report), report["notes"]
    run = run_cli(["audit", str(root), "--format", "json", "--diff-base", "HEAD~2"], watch=root)
    assert run.code == 2 and "error" in run.stderr


def test_a_history_that_became_unreadable_is_not_served_from_the_assessment_cache(tmp_path: Path,
                                                                                ml_files: dict) -> None:
    root = git_repo(tmp_path / "repo", ml_files, commits=3)
    assert not _history_note(audit_json(root))  # stored
    _object_path(root, git(root, "rev-list", "--max-parents=0", "HEAD").strip()).unlink()
    assert _history_note(audit_json(root))


def test_a_huge_shallow_file(tmp_path: Path, ml_files: dict) -> None:
    root = git_repo(tmp_path / "repo", ml_files)
    with (root / ".git" / "shallow").open("wb") as handle:
        handle.truncate(3 * 2**30)
    assert _history_note(audit_json(root, "--no-cache"))
    assert _history_note(audit_json(root))


def test_a_shallow_clone(tmp_path: Path, ml_files: dict) -> None:
    origin = git_repo(tmp_path / "origin", ml_files, commits=3)
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin}", "clone")
    report = audit_json(tmp_path / "clone")
    assert any("shallow" in message for message in _history_note(report)), report["notes"]


def test_a_worktree(tmp_path: Path, ml_files: dict) -> None:
    main = git_repo(tmp_path / "main", ml_files, commits=2)
    git(main, "worktree", "add", "-q", "-b", "feature", str(tmp_path / "wt"))
    write(tmp_path / "wt", {"src/extra.py": MARKER_CODE})
    report = audit_json(tmp_path / "wt")
    assert "src/train.py" in {e["path"] for f in report["findings"] for e in f["evidence"]} or report["applicable"]
    audit_json(main)


def test_a_submodule(tmp_path: Path, ml_files: dict) -> None:
    sub = git_repo(tmp_path / "sub", {"lib/SUBMODULE_ONLY.py": MARKER_CODE})
    root = git_repo(tmp_path / "repo", ml_files)
    git(root, "submodule", "add", "-q", str(sub), "vendor/sub")
    git(root, "commit", "-q", "-m", "add submodule")
    report = audit_json(root)
    assert report["applicable"]
    unpopulated = git_repo(tmp_path / "repo2", {**ml_files, ".gitmodules":
                           '[submodule "x"]\n\tpath = x\n\turl = https://example.invalid/x.git\n'})
    audit_json(unpopulated)


def test_git_file_pointing_nowhere_and_an_empty_git_folder(tmp_path: Path, ml_files: dict) -> None:
    pointer = write(tmp_path / "pointer", {**ml_files, ".git": "gitdir: /nonexistent/place\n"})
    assert _history_note(audit_json(pointer))
    empty = write(tmp_path / "empty", ml_files)
    (empty / ".git").mkdir()
    assert _history_note(audit_json(empty))


def test_a_fresh_repository_without_commits_and_a_subfolder(tmp_path: Path, ml_files: dict) -> None:
    root = write(tmp_path / "repo", ml_files)
    git(root, "init", "-q")
    audit_json(root)
    audit_json(root / "src")


def test_hostile_git_configuration_runs_nothing(tmp_path: Path, ml_files: dict) -> None:
    """A downloaded repository's `.git/config` can name programs git would run (fsmonitor, pager, filters)."""
    markers = tmp_path / "markers"
    markers.mkdir()
    root = git_repo(tmp_path / "repo", {**ml_files, ".gitattributes": "*.py filter=evil diff=evil\n"}, commits=2)
    with (root / ".git" / "config").open("a", encoding="utf-8") as config:
        for key, value in (("core", "fsmonitor"), ("core", "pager"), ("core", "sshCommand"), ("core", "editor")):
            config.write(f"[{key}]\n\t{value} = touch {markers}/{value}\n")
        config.write(f'[filter "evil"]\n\tclean = touch {markers}/clean\n\tsmudge = touch {markers}/smudge\n'
                     f"\tprocess = touch {markers}/process\n")
        config.write(f'[diff "evil"]\n\ttextconv = touch {markers}/textconv\n\tcommand = touch {markers}/diff\n')
    (root / "src" / "train.py").write_text("# changed\n" + ml_files["src/train.py"], encoding="utf-8")
    audit(root)
    run_cli(["audit", str(root), "--format", "json", "--diff-base", "HEAD~1"], watch=root)
    assert not list(markers.iterdir())


VCS_RULES = ("L0-VCS-01", "L0-VCS-02", "L0-VCS-03")


def _outcomes(report: dict, *ids: str) -> dict[str, str]:
    return {f["id"]: f["outcome"] for f in report["findings"] if f["id"] in ids}


def _unreadable(root: Path, how: str) -> None:
    """Break the repository at ROOT so that git cannot read it, the way `how` says."""
    dot = root / ".git"
    if how == "garbage HEAD":
        (dot / "HEAD").write_bytes(b"\x00\xffgarbage, not a ref\n")
    elif how == "broken branch ref":
        (dot / "refs" / "heads" / "main").write_bytes(b"not an object name\n")
    elif how == "corrupt index":
        (dot / "index").write_bytes(b"DIRC garbage")
    elif how == "format of a newer git":
        git(root, "config", "core.repositoryformatversion", "99")
    elif how == "objects folder mode 000":
        os.chmod(dot / "objects", 0)
    elif how == "every object emptied":
        for path in _objects(root):
            os.chmod(path, 0o644)
            path.write_bytes(b"")


# What git can still read in each case: the list of tracked files (index) and the refs (tags).
LISTING_READ = {"broken branch ref", "every object emptied"}
TAGS_READ = {"broken branch ref", "corrupt index", "every object emptied"}


@pytest.mark.parametrize("how", [
    "intact", "garbage HEAD", "broken branch ref", "corrupt index", "format of a newer git", "every object emptied",
    pytest.param("objects folder mode 000", marks=pytest.mark.skipif(
        os.geteuid() == 0, reason="root reads a folder of mode 000; 'format of a newer git' breaks git the same way")),
])
def test_a_git_that_git_cannot_read_makes_version_control_unknown_never_failed(
    tmp_path: Path, ml_files: dict, how: str
) -> None:
    """The code is committed in two commits with a release tag; a large dataset lies untracked and not ignored.
    When git cannot read the repository, what it cannot read is unknown, never a failure: the version-control rules
    say unknown (with a note on `.git`), and the release rule does not fail for want of the tags."""
    root = git_repo(tmp_path / "repo", {**ml_files, ".gitignore": "__pycache__/\n"}, commits=2)
    git(root, "tag", "v1.0.0")
    (root / "data").mkdir()
    with (root / "data" / "raw.csv").open("wb") as handle:  # sparse: 12 MB on paper, nothing on disk
        handle.truncate(12 * 2**20)
    _unreadable(root, how)
    try:
        report = audit_json(root)
    finally:
        os.chmod(root / ".git" / "objects", 0o755)
    outcomes = _outcomes(report, *VCS_RULES, "L2-DOC-03")
    if how == "intact":  # the control: the same repository, readable
        assert outcomes == {"L0-VCS-01": "pass", "L0-VCS-02": "pass", "L0-VCS-03": "partial", "L2-DOC-03": "pass"}
        assert not _history_note(report)
        return
    assert _history_note(report), report["notes"]
    assert outcomes["L0-VCS-01"] == "unknown", (outcomes, report["notes"])
    assert outcomes["L0-VCS-02"] == "unknown", outcomes
    assert outcomes["L0-VCS-03"] == ("partial" if how in LISTING_READ else "unknown"), outcomes
    assert outcomes["L2-DOC-03"] == ("pass" if how in TAGS_READ else "unknown"), outcomes
