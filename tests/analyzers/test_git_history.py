"""The git-history analyzer over real repositories made with gitpython: counts, dates, tags, shallow, big blobs,
change cadence."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import git
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlops_audit.analyzers import git_history
from mlops_audit.analyzers.git_history import (
    BOT_AUTHOR, KINDS, PIPELINE, POINTERS, TRAINING, Cadence, Change, GitFacts, analyze_git, path_kinds,
)
from mlops_audit.inventory import build_inventory
from mlops_audit.model import Evidence

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


def test_the_views_of_a_monorepo_share_one_read_of_the_history(
    history: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    for name in ("_log", "_repository_large_blobs", "_tags"):
        original = getattr(git_history, name)
        monkeypatch.setattr(git_history, name, lambda repo, name=name, original=original: (
            reads.append(name), original(repo))[1])
    whole = build_inventory(history)
    facts = [analyze_git(inventory) for inventory in (whole, whole.subset("ml"), whole.subset("ml"))]
    assert sorted(reads) == ["_log", "_repository_large_blobs", "_tags"]
    assert [(b.path, b.snippet) for b in facts[1].large_blobs] == [("model.bin", "11.0 MB")]
    assert facts[1] == facts[2] and facts[0].commits == facts[1].commits == 3
    assert len(facts[0].large_blobs) == 2


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


def test_cadence_counts_ml_changes_of_the_last_year_by_kind(tmp_path: Path) -> None:
    """Weekly DVC changes (every third by a bot), two training-code changes, a README edit, one old commit."""
    repo = new_repo(tmp_path)
    bot = git.Actor("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")
    old = START - 400 * DAY
    commit(repo, {"dvc.yaml": b"stages: {}\n"}, ANA, old)  # over a year before the last commit: outside the window
    for week in range(9):
        author = bot if week % 3 == 0 else ANA
        commit(repo, {"data/raw.csv.dvc": f"outs: [{week}]\n".encode()}, author, START + week * 7 * DAY)
    commit(repo, {"src/pkg/train.py": b"x = 1\n", "README.md": b"# a\n"}, BO, START + 60 * DAY)
    commit(repo, {"src/pkg/train.py": b"x = 2\n", "dvc.yaml": b"stages: {a: {}}\n"}, BO, START + 70 * DAY)
    commit(repo, {"README.md": b"# b\n"}, ANA, START + 71 * DAY)
    repo.close()
    cadence = analyze_git(build_inventory(tmp_path)).cadence
    assert cadence is not None and not cadence.truncated
    assert cadence.until == "2024-01-24T22:13:20+00:00"
    pointers = cadence.pointers
    assert (pointers.commits, pointers.median_days, pointers.bot_share) == (9, 7.0, round(3 / 9, 4))
    assert pointers.last_change == "2024-01-09T22:13:20+00:00"
    assert pointers.top_paths == (Evidence("data/raw.csv.dvc", snippet="9 changes"),)
    assert (cadence.training.commits, cadence.training.median_days, cadence.training.bot_share) == (2, 10.0, 0.0)
    assert cadence.pipeline.commits == 1 and cadence.pipeline.median_days is None
    both = cadence.rate(PIPELINE, POINTERS)
    assert both.commits == 10 and both.top_paths[0].path == "data/raw.csv.dvc"


def test_cadence_respects_the_audited_subfolder(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    for day in range(3):
        commit(repo, {"ml/dvc.yaml": f"# {day}\n".encode(), "other/dvc.yaml": b"x\n" * (day + 1)}, ANA, START + day)
    commit(repo, {"other/train.py": b"x = 1\n"}, ANA, START + 5 * DAY)
    repo.close()
    cadence = analyze_git(build_inventory(tmp_path / "ml")).cadence
    assert cadence is not None
    assert cadence.pipeline.commits == 3 and cadence.training.commits == 0
    assert [e.path for e in cadence.pipeline.top_paths] == ["dvc.yaml"]


def _monorepo_history(root: Path, merge: bool) -> None:
    """Two projects changed over a month; a training file moved from one to the other; with `merge`, a branch
    changing the first project merged back."""
    repo = new_repo(root)
    for day in range(4):
        files = {"a/dvc.yaml": f"# {day}\n".encode(), "b/train.py": b"x = 1\n" * (day + 1)}
        commit(repo, files, ANA, START + day * DAY)
    commit(repo, {"b/pipelines/train.py": b"x = 1\n" * 4}, BO, START + 5 * DAY, remove=("b/train.py",))  # git mv
    if merge:
        main = repo.active_branch
        side = repo.create_head("side")
        side.checkout()
        commit(repo, {"a/train.py": b"side = 1\n"}, BO, START + 6 * DAY)
        main.checkout()
        commit(repo, {"b/dvc.yaml": b"main\n"}, ANA, START + 7 * DAY)
        repo.git.merge("side", "--no-ff", "-m", "merge side", env={"GIT_COMMITTER_DATE": f"{START + 8 * DAY} +0000"})
    repo.close()


@pytest.mark.parametrize("merge", [False, True])
def test_a_monorepos_cadences_read_from_one_log_are_each_projects_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, merge: bool
) -> None:
    _monorepo_history(tmp_path, merge)
    inventory = build_inventory(tmp_path)
    alone = [analyze_git(view).cadence for view in (inventory, inventory.subset("a"), inventory.subset("b"))]
    logs: list[str | None] = []
    window_log = git_history._window_log
    monkeypatch.setattr(git_history, "_window_log", lambda repo, since, path=None: (
        logs.append(path), window_log(repo, since, path))[1])
    fresh = build_inventory(tmp_path)
    read = git_history.read_history(fresh, ["a", "b"])["cadences"]
    assert [read[prefix] for prefix in ("", "a/", "b/")] == alone
    # one log of every path, unless a merge makes each folder's history git's own to simplify
    assert logs == ([None, ".", "a/", "b/"] if merge else [None])
    moved = alone[2]
    assert moved is not None and moved.training.commits == 5  # the move counts at both paths
    assert [(e.path, e.snippet) for e in moved.training.top_paths] == [("train.py", "5 changes"),
                                                                       ("pipelines/train.py", "1 change")]


def test_shallow_clone_has_no_cadence(history: Path, tmp_path: Path) -> None:
    clone = git.Repo.clone_from(f"file://{history}", tmp_path / "clone", depth=1)
    clone.close()
    facts = analyze_git(build_inventory(tmp_path / "clone"))
    assert facts.cadence is None and facts.error is None


def test_a_missing_tree_leaves_the_cadence_unknown(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    commit(repo, {"dvc.yaml": b"a\n"}, ANA, START)
    tree = repo.head.commit.tree.hexsha
    commit(repo, {"dvc.yaml": b"b\n"}, ANA, START + DAY)
    repo.close()
    (tmp_path / ".git" / "objects" / tree[:2] / tree[2:]).unlink()
    facts = analyze_git(build_inventory(tmp_path))
    assert facts.commits == 2 and facts.error is None
    assert facts.cadence is None


def test_the_cadence_never_reads_file_contents(tmp_path: Path) -> None:
    """As in a blobless partial clone: a moved and edited file's old content is missing, which finding renames
    would need to read."""
    repo = new_repo(tmp_path)
    commit(repo, {"ml/train.py": b"import torch\n" * 50}, ANA, START)
    blob = repo.head.commit.tree["ml/train.py"].hexsha
    commit(repo, {"src/train.py": b"import torch\n" * 49 + b"x = 1\n"}, ANA, START + DAY, remove=("ml/train.py",))
    repo.close()
    (tmp_path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    cadence = analyze_git(build_inventory(tmp_path)).cadence
    assert cadence is not None and cadence.training.commits == 2


@pytest.mark.parametrize(
    ("path", "kinds"),
    [
        ("src/churn/train.py", (TRAINING,)),
        ("churn/features/build.py", (TRAINING,)),
        ("tests/test_train.py", ()),
        ("src/churn/utils.py", ()),
        ("pipelines/training_pipeline.py", (TRAINING, PIPELINE)),
        ("dags/refresh.py", (PIPELINE,)),
        ("dvc.yaml", (PIPELINE,)),
        ("dvc.lock", (PIPELINE, POINTERS)),
        (".github/workflows/ci.yml", (PIPELINE,)),
        ("MLproject", (PIPELINE,)),
        ("data/raw.csv.dvc", (POINTERS,)),
        ("configs/model_registry.yaml", (POINTERS,)),
        ("README.md", ()),
    ],
)
def test_path_kinds(path: str, kinds: tuple[str, ...]) -> None:
    assert path_kinds(path) == kinds


SEGMENTS = st.text(st.sampled_from("aZ._-İ"), min_size=1, max_size=6).filter(lambda segment: segment not in (".", ".."))


@given(st.lists(SEGMENTS, min_size=1, max_size=4).map("/".join))
def test_a_path_is_read_in_parts_as_pathlib_reads_it(path: str) -> None:
    pure = PurePosixPath(path)
    parts = git_history._PathParts.of(path)
    assert (parts.folders, parts.name, parts.stem, parts.suffix) == (list(pure.parts[:-1]), pure.name, pure.stem,
                                                                     pure.suffix)


@given(st.lists(st.tuples(st.integers(0, 10**9), st.booleans(), st.sampled_from(KINDS)), max_size=30))
def test_any_changes_give_a_sane_rate(raw: list[tuple[int, bool, str]]) -> None:
    cadence = Cadence("", "", tuple(Change(stamp, bot, (("p", kind),)) for stamp, bot, kind in raw))
    for rate in (cadence.training, cadence.rate(*KINDS)):
        assert rate.median_days is None or rate.median_days >= 0
        assert rate.bot_share is None or 0 <= rate.bot_share <= 1
        assert (rate.commits == 0) == (rate.last_change is None)


def test_bot_authors() -> None:
    matches = [name for name in ("dependabot[bot]", "github-actions", "cml", "CML Bot", "dvc-bot", "mcmlaren")
               if BOT_AUTHOR.search(name.lower())]
    assert matches == ["dependabot[bot]", "github-actions", "cml", "CML Bot", "dvc-bot"]
