"""The per-file facts cache: a warm audit gives the same report without parsing again, and a cache entry that is
changed, corrupt, stale or concurrently written never changes a result."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from dataclasses import replace
from pathlib import Path

import git
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlops_audit.audit as audit_module
import mlops_audit.cache as cache_module
import mlops_audit.entry_store as entry_store
from mlops_audit.analyzers.notebooks import notebook_from_dict, notebook_to_dict, read_notebook
from mlops_audit.analyzers.python_code import analyze_python_source, python_file_from_dict, python_file_to_dict
from mlops_audit.assessment_cache import assessment_from_data, assessment_to_data
from mlops_audit.audit import AuditOptions, run_audit
from mlops_audit.cache import FactsCache, default_cache_dir
from mlops_audit.facts import collect_facts
from mlops_audit.inventory import build_inventory
from mlops_audit.reporters import json_report
from mlops_audit.testing import make_repo


def notebook(*cells: tuple[int | None, str]) -> str:
    return json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Exploration\n"]},
            *({"cell_type": "code", "execution_count": count, "metadata": {}, "source": source,
               "outputs": [{"output_type": "stream", "name": "stdout", "text": ["ok\n"]}]} for count, source in cells),
        ],
    })


FILES = {
    "src/churn/__init__.py": "",
    "src/churn/train.py": (
        "import mlflow as mf\nimport numpy as np\nfrom sklearn.ensemble import RandomForestClassifier\n\n"
        "@mf.trace(name='train')\ndef train(frame, seed=42):\n    np.random.seed(seed)\n"
        "    model = RandomForestClassifier(n_estimators=100, max_depth=None)\n    model.fit(frame, frame.y)\n"
        "    mf.register_model('runs:/1/model', 'churn')\n    return model\n\n"
        "if new_auc > production_model_auc:\n    promote()\n"
    ),
    "src/churn/serve.py": "import joblib\n\nclass Api(object):\n    path = '/home/ana/model.pkl'\n"
                          "    def load(self):\n        return joblib.load(self.path)\n",
    "scripts/percent.py": "# %%\nimport pandas as pd\n# %%\ndf = pd.read_csv('/Users/ana/data.csv')\n",
    "scripts/broken.py": "def broken(:\n",
    "notebooks/eda.ipynb": notebook((2, "%pip install pandas\nimport pandas as pd\n"), (1, "df = pd.read_csv('x')")),
    "notebooks/bad.ipynb": "{not json",
    "dvc.yaml": "stages:\n  train:\n    cmd: python src/churn/train.py\n",
    "requirements.txt": "mlflow==2.14.0\nscikit-learn==1.5.0\n",
    "docs/architecture.png": {"size": 2048},  # binary: no analyzer reads it, so no note says it was skipped
    "conf/weights.yaml": {"size": 64},  # binary: the secrets scan reads it, and a note says it was skipped
}
ANALYSED = 7  # the .py and .ipynb files above
TEAM_PACK = """pack: team
rules:
  - id: TEAM-DOC-01
    slug: team-model-card
    title: {title}
    level: 1
    category: DOC
    weight: 1
    gate: false
    confidence: A
    rationale: Reviewers read the model card.
    source: team handbook
    check: {{file: MODEL_CARD.md}}
    remediation: Write MODEL_CARD.md.
    examples:
      pass: [{{files: {{MODEL_CARD.md: "# Card"}}}}]
      fail: [{{files: {{README.md: "# Readme"}}}}]
"""


class CountingCache(FactsCache):
    """A FactsCache that remembers every instance made, so a test can read an audit's hits and misses."""

    made: list[FactsCache] = []

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        CountingCache.made.append(self)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> list[FactsCache]:
    CountingCache.made = []
    monkeypatch.setattr(audit_module, "FactsCache", CountingCache)
    return CountingCache.made


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", FILES)


def report(root: Path, cache_dir: Path | None) -> str:
    return json_report.render(run_audit(root, AuditOptions(cache_dir=cache_dir)))


def entries(folder: Path) -> list[str]:
    """The keys stored in the cache folder's database, oldest first."""
    with contextlib.closing(sqlite3.connect(folder / entry_store.DATABASE)) as database:
        return [key for key, in database.execute("SELECT key FROM entries ORDER BY rowid")]


def overwrite(folder: Path, value: str | bytes) -> None:
    """Replace every stored value, as a corrupted disk or another program might."""
    with contextlib.closing(sqlite3.connect(folder / entry_store.DATABASE)) as database, database:
        database.execute("UPDATE entries SET value = ?", (value,))


def test_a_warm_audit_of_an_unchanged_repository_reports_the_stored_assessment_without_analysing(
    repo: Path, tmp_path: Path, counting: list[FactsCache]
) -> None:
    cache_dir = tmp_path / "cache"
    uncached = report(repo, None)
    cold = report(repo, cache_dir)
    warm = report(repo, cache_dir)
    assert cold == uncached and warm == uncached
    memory_only, cold_files, cold_kept, warm_files, warm_kept = counting
    assert memory_only.folder is None and memory_only.writes == 0
    assert (cold_files.hits, cold_files.misses, cold_files.writes) == (0, ANALYSED, ANALYSED)
    assert (cold_kept.hits, cold_kept.misses, cold_kept.writes) == (0, 1, 1)
    assert (warm_files.hits, warm_files.misses) == (0, 0)
    assert (warm_kept.hits, warm_kept.misses) == (1, 0)
    assert len(entries(cache_dir)) == ANALYSED + 1


def test_after_a_change_every_unchanged_code_file_comes_from_the_cache(
    repo: Path, tmp_path: Path, counting: list[FactsCache]
) -> None:
    cache_dir = tmp_path / "cache"
    report(repo, cache_dir)
    (repo / "requirements.txt").write_text("mlflow==2.15.0\nscikit-learn==1.5.0\ntorch==2.3.0\n", encoding="utf-8")
    warm = report(repo, cache_dir)
    assert warm == report(repo, None)
    _, _, files, kept = counting[:4]
    assert (files.hits, files.misses) == (ANALYSED, 0)
    assert (kept.hits, kept.misses, kept.writes) == (0, 1, 1)


@pytest.mark.parametrize("change", ["commit", "select", "pack", "untracked", "root"])
def test_the_stored_assessment_is_not_used_once_anything_it_depends_on_changes(
    repo: Path, tmp_path: Path, change: str
) -> None:
    pack = tmp_path / "team.yaml"
    pack.write_text(TEAM_PACK.format(title="Model card"), encoding="utf-8")
    options = AuditOptions(cache_dir=tmp_path / "cache", extra_packs=(pack,))
    run_audit(repo, options, str(repo))  # stores the assessment of the repository as it was
    shown = str(repo)
    if change == "commit":
        git.Repo(repo).git.commit("--allow-empty", "-q", "-m", "one more")
    elif change == "select":
        options = replace(options, select=("L0",))
    elif change == "pack":
        pack.write_text(TEAM_PACK.format(title="A model card"), encoding="utf-8")
    elif change == "untracked":
        (repo / "MODEL_CARD.md").write_text("# Card\n", encoding="utf-8")
    else:
        shown = "elsewhere"
    fresh = run_audit(repo, replace(options, cache_dir=None), shown)
    assert json_report.render(run_audit(repo, options, shown)) == json_report.render(fresh)


def test_a_stored_assessment_reads_back_equal(tmp_path: Path) -> None:
    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "level2-cicd-platform"
    assessment = run_audit(fixture)
    data = json.loads(json.dumps(assessment_to_data(assessment)))
    assert assessment_from_data(data) == assessment


@pytest.mark.parametrize("garbage", [{"root": 1}, {"findings": "many"}, [], None, "x"])
def test_a_stored_assessment_of_the_wrong_shape_does_not_decode(garbage: object) -> None:
    with pytest.raises((KeyError, TypeError, ValueError)):
        assessment_from_data(garbage)


def test_cached_facts_equal_fresh_ones(repo: Path, tmp_path: Path) -> None:
    fresh = collect_facts(build_inventory(repo))
    collect_facts(build_inventory(repo), FactsCache(tmp_path / "cache"))
    warm_cache = FactsCache(tmp_path / "cache")
    warm = collect_facts(build_inventory(repo), warm_cache)
    assert warm_cache.hits == ANALYSED
    assert warm.python == fresh.python and warm.notebooks == fresh.notebooks and warm.notes == fresh.notes


def test_a_changed_file_is_a_miss(repo: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    collect_facts(build_inventory(repo), FactsCache(cache_dir))
    (repo / "src/churn/serve.py").write_text("import torch\ntorch.save(model, 'model.pt')\n", encoding="utf-8")
    cache = FactsCache(cache_dir)
    facts = collect_facts(build_inventory(repo), cache)
    assert (cache.hits, cache.misses) == (ANALYSED - 1, 1)
    serve = next(file for file in facts.python.files if file.path == "src/churn/serve.py")
    assert [call.name for call in serve.code.persist_calls] == ["torch.save"]


def test_the_same_content_in_and_out_of_a_package_is_two_entries(tmp_path: Path) -> None:
    script = "# %%\nimport pandas as pd\n# %%\nprint(1)\n"
    root = make_repo(tmp_path / "repo", {"pkg/__init__.py": "", "pkg/cells.py": script, "cells.py": script},
                     use_git=False)
    facts = collect_facts(build_inventory(root), FactsCache(tmp_path / "cache"))
    assert {file.path: file.notebook_like for file in facts.python.files if file.code.loc} == {
        "cells.py": True, "pkg/cells.py": False}


@pytest.mark.parametrize("garbage", ["", "{\"key\": ", b"\xff\xfe\x00", "[1, 2]", "{\"key\": 1}", "null",
                                     "[" * 100_000 + "]" * 100_000])
def test_a_corrupt_entry_is_a_miss(repo: Path, tmp_path: Path, garbage: str | bytes) -> None:
    cache_dir = tmp_path / "cache"
    fresh = collect_facts(build_inventory(repo), FactsCache(cache_dir))
    overwrite(cache_dir, garbage)
    cache = FactsCache(cache_dir)
    facts = collect_facts(build_inventory(repo), cache)
    assert (cache.hits, cache.misses) == (0, ANALYSED)
    assert facts.python == fresh.python and facts.notebooks == fresh.notebooks


def test_an_entry_of_the_right_key_but_wrong_shape_is_a_miss(repo: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    collect_facts(build_inventory(repo), FactsCache(cache_dir))
    overwrite(cache_dir, json.dumps({"code": {"imports": [{"unexpected": 1}]}, "cells": "many"}))
    cache = FactsCache(cache_dir)
    collect_facts(build_inventory(repo), cache)
    assert (cache.hits, cache.misses) == (0, ANALYSED)


@pytest.mark.parametrize("constant", ["ANALYZER_VERSION", "__version__"])
def test_a_version_bump_invalidates(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    constant: str) -> None:
    cache_dir = tmp_path / "cache"
    collect_facts(build_inventory(repo), FactsCache(cache_dir))
    monkeypatch.setattr(cache_module, constant, "bumped")
    cache = FactsCache(cache_dir)
    collect_facts(build_inventory(repo), cache)
    assert (cache.hits, cache.misses) == (0, ANALYSED)


def test_a_new_database_another_run_is_setting_up_is_waited_for(tmp_path: Path) -> None:
    """Switching to write-ahead logging does not wait for a lock as other statements do: a run opening the cache
    while another holds the new database must not give up on it for the rest of the audit."""
    folder = tmp_path / "cache"
    folder.mkdir()
    holder = sqlite3.connect(folder / entry_store.DATABASE, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE other (x)")
    holder.execute("BEGIN IMMEDIATE")  # as a run that is making the database, before it logs ahead
    released = threading.Timer(0.3, holder.rollback)
    released.start()
    cache = FactsCache(folder)
    key = cache.key("python", "print(1)\n")
    cache.put(key, {"made": True})
    released.join()
    holder.close()
    assert cache.get(key, lambda data: data) == {"made": True}


def test_only_a_lock_is_waited_for_when_the_database_is_set_up() -> None:
    """A database that cannot be written (a read-only file) is given up at once, not after a lock's wait."""

    class ReadOnly:
        def execute(self, statement: str) -> None:
            raise sqlite3.OperationalError("attempt to write a readonly database")

    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError):
        entry_store._write_ahead(ReadOnly())  # type: ignore[arg-type]
    assert time.monotonic() - started < 1


def test_concurrent_writers_of_one_key_never_leave_a_corrupt_entry(tmp_path: Path) -> None:
    cache = FactsCache(tmp_path / "cache")
    key = cache.key("python", "print(1)\n")
    values = [{"writer": writer, "padding": "x" * (writer * 50_000)} for writer in (1, 2)]
    seen: list[object] = []

    def write(value: dict[str, object]) -> None:
        for _ in range(100):
            cache.put(key, value)

    writers = [threading.Thread(target=write, args=(value,)) for value in values]
    for thread in writers:
        thread.start()
    while len(seen) < 300 and any(thread.is_alive() for thread in writers):  # reads racing the writes
        seen.append(cache.get(key, lambda data: data))
    for thread in writers:
        thread.join()
    seen.append(cache.get(key, lambda data: data))  # and one once they are done, however the threads were scheduled
    assert all(value is None or value in values for value in seen)
    assert seen[-1] in values
    assert FactsCache(tmp_path / "cache").get(key, lambda data: data) in values
    assert entries(tmp_path / "cache") == [key]


def test_the_size_bounds_delete_the_oldest_entries(tmp_path: Path) -> None:
    cache = FactsCache(tmp_path / "cache", max_bytes=10_000_000, max_entries=4)
    keys = [cache.key("python", f"x = {number}\n") for number in range(10)]
    for key in keys:
        cache.put(key, {"number": key})
    cache.put(keys[0], {"number": keys[0]})  # written again: now the newest
    assert cache.prune() == 6
    assert entries(tmp_path / "cache") == [*keys[7:], keys[0]]

    size = len(json.dumps({"number": keys[0]}, separators=(",", ":")))
    by_size = FactsCache(tmp_path / "cache", max_bytes=2 * size)
    by_size.put(keys[1], {"number": keys[1]})  # a run that wrote, so its end checks the bounds
    assert by_size.prune() == 3
    assert entries(tmp_path / "cache") == [keys[0], keys[1]]


def test_the_database_shrinks_when_entries_are_deleted(tmp_path: Path) -> None:
    cache = FactsCache(tmp_path / "cache", max_entries=1)
    for number in range(200):
        cache.put(cache.key("python", str(number)), {"padding": "x" * 10_000})
    database = tmp_path / "cache" / entry_store.DATABASE
    with contextlib.closing(sqlite3.connect(database)) as connection:  # the log folded in, to compare file sizes
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    full = database.stat().st_size
    assert cache.prune() == 199
    with contextlib.closing(sqlite3.connect(database)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert database.stat().st_size < full / 10


def test_a_database_of_another_schema_is_emptied_and_made_anew(repo: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    with contextlib.closing(sqlite3.connect(folder / entry_store.DATABASE)) as database, database:
        database.execute("CREATE TABLE entries (key TEXT, blob BLOB)")
        database.execute("INSERT INTO entries VALUES ('k', x'00')")
    fresh = collect_facts(build_inventory(repo))
    collect_facts(build_inventory(repo), FactsCache(folder))
    assert len(entries(folder)) == ANALYSED
    warm = FactsCache(folder)
    facts = collect_facts(build_inventory(repo), warm)
    assert warm.hits == ANALYSED and facts.python == fresh.python


def test_entries_kept_one_file_each_by_earlier_versions_are_deleted(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    (folder / "ab").mkdir(parents=True)
    (folder / "ab" / ("ab" + "0" * 62 + ".json")).write_text("{}", encoding="utf-8")
    (folder / "ab" / ".tmp-x1y2").write_text("{", encoding="utf-8")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "keep.json").write_text("{}", encoding="utf-8")
    (folder / "cd").symlink_to(tmp_path / "elsewhere", target_is_directory=True)  # never followed
    (folder / "notes.txt").write_text("the user's", encoding="utf-8")
    cache = FactsCache(folder)
    cache.put(cache.key("python", ""), {})
    assert sorted(path.name for path in folder.iterdir() if not path.name.startswith(entry_store.DATABASE)) == [
        "cd", "notes.txt"]
    assert (tmp_path / "elsewhere" / "keep.json").exists()


def test_a_run_that_wrote_nothing_does_not_scan(tmp_path: Path) -> None:
    cache = FactsCache(tmp_path / "cache", max_entries=1)
    cache.put(cache.key("python", "a"), {})
    cache.put(cache.key("python", "b"), {})
    assert FactsCache(tmp_path / "cache", max_entries=1).prune() == 0
    assert cache.prune() == 1


def test_the_cache_is_off_by_default_and_never_inside_the_audited_repository(repo: Path) -> None:
    assert AuditOptions().cache_dir is None
    run_audit(repo, AuditOptions(cache_dir=repo / ".cache"))
    assert not (repo / ".cache").exists()


def test_the_default_location_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "mlops-audit"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")
    assert default_cache_dir() == Path.home() / ".cache" / "mlops-audit"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from("abcxy_=.()[]'\":,/\\ \n#%!?0123@CUsers/home"), max_size=200))
def test_any_source_round_trips_through_json(text: str) -> None:
    analysed = analyze_python_source("", (), text)
    data = json.loads(json.dumps(python_file_to_dict(analysed)))
    assert python_file_from_dict(data) == analysed
    cells = json.dumps({"nbformat": 4, "cells": [{"cell_type": "code", "execution_count": 1, "source": text,
                                                  "outputs": []}]})
    for source in (cells, text):
        read = read_notebook("", (), source)
        assert notebook_from_dict(json.loads(json.dumps(notebook_to_dict(read)))) == read
