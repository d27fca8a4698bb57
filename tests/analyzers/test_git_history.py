"""The git-history analyzer over real repositories made with gitpython: counts, dates, tags, shallow, big blobs."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from mlops_audit.analyzers import git_history
from mlops_audit.analyzers.git_history import GitFacts, analyze_git
from mlops_audit.inventory import build_inventory

ANA = git.Actor("Ana", "ana@example.com")
BO = git.Actor("Bo", "BO@example.com")
DAY = 86_400
START = 1_700_000_000  # 2023-11-14T22:13:20Z


def new_repo(root: Path) -> git.Repo:
    repo = git.Repo.init(root)
    with repo.config_writer() as config:
        config.set_value("user", "name", "Example Dev")
        config.set_value("user", "email", "dev@example.com")
        config.set_value("commit", "gpgsign", "false")
    return repo


def commit(repo: git.Repo, files: dict[str, bytes], author: git.Actor, stamp: int, remove: tuple[str, ...] = ()
           ) -> None:
    root = Path(repo.working_tree_dir)
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    if files:
        repo.index.add(list(files))
    if remove:
        repo.index.remove(list(remove), working_tree=True)
    date = f"{stamp} +0000"
    repo.index.commit(f"change at {stamp}", author=author, committer=author, author_date=date, commit_date=date)


@pytest.fixture()
def history(tmp_path: Path) -> Path:
    """Three commits by two authors over two days and a tag; a 11 MB blob under `ml/` added then deleted."""
    root = tmp_path / "origin"
    repo = new_repo(root)
    commit(repo, {"README.md": b"# project\n", "ml/train.py": b"print(1)\n"}, ANA, START)
    commit(repo, {"ml/model.bin": bytes(11 * 1024 * 1024), "top.bin": bytes(12 * 1024 * 1024)}, BO, START + DAY)
    repo.create_tag("v0.1")
    commit(repo, {"ml/train.py": b"print(2)\n"}, ANA, START + 2 * DAY, remove=("ml/model.bin", "top.bin"))
    repo.close()
    return root


def test_history_facts(history: Path) -> None:
    facts = analyze_git(build_inventory(history))
    assert facts.is_repo and facts.error is None
    assert facts.commits == 3
    assert facts.shallow is False
    assert facts.first_commit == "2023-11-14T22:13:20+00:00"
    assert facts.last_commit == "2023-11-16T22:13:20+00:00"
    assert facts.authors == 2
    assert facts.tags == ("v0.1",)
    assert facts.history_scanned and facts.scan_note is None
    assert [(b.path, b.snippet) for b in facts.large_blobs] == [("ml/model.bin", "11.0 MB"), ("top.bin", "12.0 MB")]


def test_subfolder_reports_its_own_blobs_relative_to_it(history: Path) -> None:
    facts = analyze_git(build_inventory(history / "ml"))
    assert facts.commits == 3
    assert [(b.path, b.snippet) for b in facts.large_blobs] == [("model.bin", "11.0 MB")]


def test_shallow_clone_skips_the_history_scan(history: Path, tmp_path: Path) -> None:
    clone = git.Repo.clone_from(f"file://{history}", tmp_path / "clone", depth=1)
    clone.close()
    facts = analyze_git(build_inventory(tmp_path / "clone"))
    assert facts.shallow is True and facts.commits == 1
    assert not facts.history_scanned and "shallow" in facts.scan_note
    assert facts.large_blobs == ()


def test_object_limit_skips_the_history_scan(history: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(git_history, "MAX_SCANNED_OBJECTS", 3)
    facts = analyze_git(build_inventory(history))
    assert facts.commits == 3 and not facts.history_scanned
    assert "scan limit" in facts.scan_note and facts.large_blobs == ()


def test_empty_repository(tmp_path: Path) -> None:
    new_repo(tmp_path).close()
    (tmp_path / "train.py").write_text("print(1)\n")
    facts = analyze_git(build_inventory(tmp_path))
    assert facts == GitFacts(is_repo=True, commits=0, shallow=False, authors=0, history_scanned=True)


def test_not_a_repository(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("print(1)\n")
    assert analyze_git(build_inventory(tmp_path)) == GitFacts()


def test_missing_objects_become_an_error(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    commit(repo, {"a.txt": b"a\n"}, ANA, START)
    first = repo.head.commit.hexsha
    commit(repo, {"a.txt": b"b\n"}, ANA, START + DAY)
    repo.close()
    (tmp_path / ".git" / "objects" / first[:2] / first[2:]).unlink()
    facts = analyze_git(build_inventory(tmp_path))
    assert facts.is_repo and facts.error and "could not be read" in facts.error
    assert facts.commits is None and facts.shallow is None and facts.authors is None
