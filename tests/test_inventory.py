"""The inventory: git-tracked files, gitignore-aware walks, classification and safe, bounded reads."""

from __future__ import annotations

import os
from pathlib import Path

import git
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import paths_and_globs

from mlops_audit.errors import PathError
from mlops_audit.inventory import MAX_TEXT_BYTES, Inventory, RepoFile, build_inventory, classify, matches, roles_of
from mlops_audit.testing import make_repo


def paths(inventory) -> list[str]:
    return [f.path for f in inventory.files]


def test_git_repository_lists_tracked_and_untracked_but_not_ignored(tmp_path: Path) -> None:
    make_repo(tmp_path, {"train.py": "print(1)\n", ".gitignore": "data/\n"})
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "big.csv").write_text("a,b\n")
    (tmp_path / "new.py").write_text("x = 1\n")
    inventory = build_inventory(tmp_path)
    assert paths(inventory) == [".gitignore", "new.py", "train.py"]
    assert inventory.get("train.py").tracked and not inventory.get("new.py").tracked
    assert inventory.is_git


def test_subfolder_of_a_repository_is_audited_with_relative_paths(tmp_path: Path) -> None:
    make_repo(tmp_path, {"projects/churn/train.py": "x = 1\n", "other/a.py": "y = 2\n"})
    inventory = build_inventory(tmp_path / "projects" / "churn")
    assert paths(inventory) == ["train.py"]
    assert inventory.git_root == tmp_path.resolve()


def test_walk_outside_git_honours_gitignore_and_skips_virtualenvs(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.log\nsecret/\n")
    for name in ("a.py", "run.log", "secret/key.txt", ".venv/lib/x.py", "sub/.gitignore", "sub/keep.py", "sub/drop.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n" if not name.endswith(".gitignore") else "drop.txt\n")
    inventory = build_inventory(tmp_path)
    assert paths(inventory) == [".gitignore", "a.py", "sub/.gitignore", "sub/keep.py"]
    assert not inventory.is_git


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        (".github/workflows/ci.yml", "ci"),
        (".gitlab-ci.yml", "ci"),
        ("azure-pipelines.yml", "ci"),
        ("Jenkinsfile", "ci"),
        ("dvc.yaml", "dvc"),
        ("data/raw.csv.dvc", "dvc"),
        (".dvc/config", "dvc"),
        ("Dockerfile", "docker"),
        ("serving/api.Dockerfile", "docker"),
        ("requirements-dev.txt", "manifest"),
        ("pyproject.toml", "manifest"),
        ("src/train.py", "python"),
        ("nb/eda.ipynb", "notebook"),
        ("models/model.pkl", "model"),
        ("data/train.parquet", "data"),
        ("conf/params.yaml", "yaml"),
        ("README.md", "text"),
        ("Makefile", "script"),
    ],
)
def test_classify(path: str, kind: str) -> None:
    assert classify(path) == kind


def test_roles() -> None:
    assert roles_of("tests/unit/test_x.py") == ("test",)
    assert roles_of("src/pkg/model_test.py") == ("test",)
    assert roles_of("examples/quickstart/train.py") == ("example",)
    assert roles_of("src/pkg/train.py") == ()


def test_symlink_out_of_root_is_listed_but_never_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    root = tmp_path / "repo"
    root.mkdir()
    os.symlink(outside, root / "link.py")
    os.symlink(root / "loop", root / "loop")
    inventory = build_inventory(root)
    assert inventory.read_text("link.py") is None
    assert any("outside the audited root" in note.message for note in inventory.notes)
    assert inventory.read_text("loop") is None


def test_binary_and_oversized_files_are_not_read_as_text(tmp_path: Path) -> None:
    (tmp_path / "bin.py").write_bytes(b"\x00\x01\x02import os")
    with (tmp_path / "huge.py").open("wb") as handle:
        handle.truncate(MAX_TEXT_BYTES + 10)
    inventory = build_inventory(tmp_path)
    assert inventory.read_text("bin.py") is None
    assert inventory.read_text("huge.py") is None
    kinds = {note.path: note.kind for note in inventory.notes}
    assert kinds == {"bin.py": "binary", "huge.py": "too-large"}


def test_code_is_kept_one_file_at_a_time_and_other_texts_for_the_audit(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("a.py", "b.py", "c.yaml"):
        (tmp_path / name).write_text(f"# {name}\n")
    inventory = build_inventory(tmp_path)
    reads: list[str] = []
    reader = inventory._reader
    monkeypatch.setattr(reader, "read", lambda path, limit, read=reader.read: reads.append(path) or read(path, limit))
    for path in ("a.py", "a.py", "c.yaml", "b.py", "b.py", "a.py", "c.yaml"):
        assert inventory.read_text(path) == f"# {path}\n"
    assert reads == ["a.py", "c.yaml", "b.py", "a.py"]  # code is analysed into the facts cache, not kept here


def test_missing_path_and_file_path_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(PathError, match="no such file"):
        build_inventory(tmp_path / "nope")
    (tmp_path / "f.py").write_text("")
    with pytest.raises(PathError, match="not a directory"):
        build_inventory(tmp_path / "f.py")


def test_empty_git_repository(tmp_path: Path) -> None:
    git.Repo.init(tmp_path).close()
    assert build_inventory(tmp_path).files == []


@given(st.text(min_size=1, max_size=60))
def test_classify_never_fails(path: str) -> None:
    assert isinstance(classify(path), str)
    assert isinstance(roles_of(path), tuple)


def test_committed_build_folder_is_audited_but_build_output_is_not(tmp_path: Path) -> None:
    make_repo(tmp_path, {"build/pipeline-deployment.yaml": "steps: []\n", ".gitignore": ""})
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "pkg.whl").write_bytes(b"PK")
    (tmp_path / "build" / "lib").mkdir()
    (tmp_path / "build" / "lib" / "generated.py").write_text("x = 1\n")
    assert paths(build_inventory(tmp_path)) == [".gitignore", "build/pipeline-deployment.yaml"]


GLOB_SEGMENTS = st.sampled_from(["requirements", "dev.txt", "src", "dvc.yaml", ".dvc", "config", "a.py", "*", "**",
                                 "requirements*.txt", "*.yaml", "d?c.yaml", "*config"])


GLOBBED_PATHS, GLOBS = paths_and_globs(GLOB_SEGMENTS, max_paths=15, max_globs=4)


@settings(max_examples=200, deadline=None)
@given(paths=GLOBBED_PATHS, patterns=GLOBS)
def test_glob_finds_exactly_the_files_a_pattern_matches_in_path_order(paths: set[str], patterns: list[str]) -> None:
    files = [RepoFile(path, 1, classify(path), roles_of(path), True) for path in paths]
    inventory = Inventory(Path("repository"), files)
    expected = sorted(path for path in paths if matches(path, patterns))
    assert [file.path for file in inventory.glob(*patterns)] == expected
