"""The diff gate: a base revision is audited from git's objects, without touching the work tree."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import git
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops_audit.audit import run_audit
from mlops_audit.diff_gate import audit_revision, compare, delta_lowers_maturity, render_delta
from mlops_audit.errors import AuditError
from mlops_audit.inventory import MAX_TEXT_BYTES, build_inventory, build_inventory_at
from mlops_audit.testing import LFS_POINTER, make_repo

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def commit_all(root: Path, message: str) -> None:
    repo = git.Repo(root)
    repo.git.add("--all", "--force")
    repo.git.commit("-q", "-m", message)
    repo.close()


@pytest.fixture
def platform(tmp_path: Path) -> Path:
    """The Level-2 example, committed, then a commit that removes its CI/CD workflows."""
    root = tmp_path / "platform"
    shutil.copytree(FIXTURES / "level2-cicd-platform", root)
    make_repo(root, {}, commits=2)
    shutil.rmtree(root / ".github" / "workflows")
    commit_all(root, "drop the workflows")
    return root


def test_removing_the_ci_workflows_lowers_maturity(platform: Path) -> None:
    delta = compare(audit_revision(platform, "HEAD~1"), run_audit(platform))
    assert (delta.level_before, delta.level_after) == (2, 1)
    assert delta.score_after < delta.score_before
    assert delta_lowers_maturity(delta)
    failing = {change.id: change for change in delta.newly_failing}
    assert "L2-CI-01" in failing and failing["L2-CI-01"].after.value == "fail"
    assert not delta.newly_passing
    text = render_delta(delta)
    assert text.startswith(f"maturity lowered: Level 2 → Level 1, score 2.00 → {delta.score_after:.2f}")
    assert "newly failing: L2-CI-01 CI runs tests on every pull request or push\n" in text


def test_removing_only_the_pull_request_workflow_lowers_level_two_coverage(tmp_path: Path) -> None:
    root = tmp_path / "platform"
    shutil.copytree(FIXTURES / "level2-cicd-platform", root)
    make_repo(root, {}, commits=2)
    (root / ".github" / "workflows" / "ci.yml").unlink()
    commit_all(root, "drop the pull-request workflow")
    delta = compare(audit_revision(root, "HEAD~1"), run_audit(root))
    assert (delta.level_after, delta.score_after) == (2, 2.0)
    [(level, before, after)] = delta.coverage_drops()
    assert level == 2 and after < before
    assert delta_lowers_maturity(delta)
    headline = render_delta(delta).splitlines()[0]
    assert headline.startswith("maturity lowered: Level 2, score 2.00, Level 2 coverage ")


def test_the_reverse_change_raises_maturity_and_the_same_tree_changes_nothing(platform: Path) -> None:
    base, head = audit_revision(platform, "HEAD~1"), run_audit(platform)
    raised = compare(head, base)
    assert not delta_lowers_maturity(raised)
    assert render_delta(raised).startswith("maturity raised: Level 1 → Level 2")
    assert "L2-CI-01" in {change.id for change in raised.newly_passing}
    same = compare(audit_revision(platform, "HEAD"), head)
    assert render_delta(same) == f"maturity unchanged: Level 1 (score {head.score:.2f})\n"
    assert not same.newly_failing and not same.newly_passing


def test_the_base_audit_leaves_the_work_tree_and_status_untouched(platform: Path) -> None:
    (platform / "README.md").write_text("# edited, not committed\n")
    (platform / "scratch.py").write_text("x = 1\n")
    repo = git.Repo(platform)
    status, head = repo.git.status("--porcelain"), repo.head.commit.hexsha
    stamps = {p: p.stat().st_mtime_ns for p in platform.rglob("*") if ".git" not in p.parts}

    base = audit_revision(platform, "HEAD~1")

    assert repo.git.status("--porcelain") == status and repo.head.commit.hexsha == head
    assert {p: p.stat().st_mtime_ns for p in platform.rglob("*") if ".git" not in p.parts} == stamps
    assert not (platform / ".github" / "workflows").exists()
    assert base.level == 2 and base.root.endswith("@HEAD~1")
    repo.close()


@pytest.mark.parametrize("ref", ["no-such-branch", "HEAD~5", "--output=x", ""])
def test_a_bad_revision_is_a_clear_error(platform: Path, ref: str) -> None:
    with pytest.raises(AuditError, match="is not a"):
        audit_revision(platform, ref)


def test_a_folder_outside_git_has_no_revisions(tmp_path: Path) -> None:
    make_repo(tmp_path, {"train.py": "x = 1\n"}, use_git=False)
    with pytest.raises(AuditError, match="not inside a git repository"):
        build_inventory_at(tmp_path, "HEAD")


def test_revision_inventory_lists_and_reads_the_committed_subfolder(tmp_path: Path) -> None:
    make_repo(tmp_path, {"proj/src/train.py": "print('v1')\n", "proj/notes.md": "hi\n", "other/x.py": "y = 2\n"})
    (tmp_path / "proj" / "src" / "train.py").write_text("print('work tree')\n")
    (tmp_path / "proj" / "new.py").write_text("z = 3\n")
    with build_inventory_at(tmp_path / "proj", "HEAD") as inventory:
        assert [(f.path, f.size, f.kind, f.tracked) for f in inventory.files] == [
            ("notes.md", 3, "text", True),
            ("src/train.py", 12, "python", True),
        ]
        assert inventory.read_text("src/train.py") == "print('v1')\n"
        assert inventory.read_bytes("src/train.py", 5) == b"print"
        assert inventory.read_text("missing.py") is None
    assert [f.path for f in build_inventory(tmp_path / "proj").files] == ["new.py", "notes.md", "src/train.py"]


def test_revision_reads_are_bounded_like_the_work_tree(tmp_path: Path) -> None:
    make_repo(tmp_path, {
        "weights.bin": "\0\1\2" * 10,
        "big.py": "x = 1\n" * (MAX_TEXT_BYTES // 6 + 10),
        "models/model.pkl": {"lfs": True},
        "data.csv": "a,b\n1,2\n",
    })
    os.symlink("/etc/hostname", tmp_path / "escape.txt")
    os.symlink("data.csv", tmp_path / "alias.csv")
    commit_all(tmp_path, "links")
    with build_inventory_at(tmp_path, "HEAD") as inventory:
        assert inventory.read_text("weights.bin") is None
        assert inventory.read_text("big.py") is None
        assert len(inventory.read_bytes("big.py", 100)) == 100  # a partial read of a large blob
        assert inventory.read_bytes("models/model.pkl", 200) == LFS_POINTER.encode()
        assert inventory.read_text("alias.csv") == "a,b\n1,2\n" and inventory.get("alias.csv").size == 8
        assert inventory.read_text("escape.txt") is None
        kinds = {note.path: note.kind for note in inventory.notes}
    assert kinds == {"weights.bin": "binary", "big.py": "too-large", "escape.txt": "symlink"}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=2000), name=st.sampled_from(["a.py", "nb.ipynb", "data.csv", "notes.txt"]))
def test_a_revision_reads_exactly_what_the_work_tree_reads(tmp_path: Path, content: bytes, name: str) -> None:
    root = tmp_path / f"repo-{len(list(tmp_path.iterdir()))}"
    root.mkdir()
    (root / name).write_bytes(content)
    make_repo(root, {})
    work_tree = build_inventory(root)
    with build_inventory_at(root, "HEAD") as revision:
        assert revision.files == work_tree.files
        assert revision.read_text(name) == work_tree.read_text(name)
        assert revision.read_bytes(name, 7) == work_tree.read_bytes(name, 7)
        assert revision.notes == work_tree.notes
