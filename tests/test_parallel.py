"""The process pool for large repositories: the same facts as one process, and a fallback when it breaks."""

from __future__ import annotations

import gc
import multiprocessing
import os
import time
from pathlib import Path

import pytest

import mlops_audit.facts as facts
import mlops_audit.parallel as parallel
import mlops_audit.pipeline as pipeline
from mlops_audit.analyzers import stack
from mlops_audit.analyzers.notebooks import analyze_notebooks
from mlops_audit.analyzers.python_code import analyze_python
from mlops_audit.audit import AuditOptions, audit_repository, run_audit
from mlops_audit.cache import SOURCES, FactsCache
from mlops_audit.facts import collect_facts
from mlops_audit.inventory import build_inventory
from mlops_audit.reporters import json_report
from mlops_audit.testing import make_repo


@pytest.fixture(autouse=True)
def two_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workers even on one core, so that the pools are tested on every machine."""
    monkeypatch.setattr(parallel, "workers", lambda: 2)


def train_module(number: int) -> str:
    return (
        f"import mlflow\nimport numpy as np\nfrom sklearn.ensemble import RandomForestClassifier\n\n\n"
        f"def train_{number}(frame, seed=42):\n    np.random.seed(seed)\n"
        "    model = RandomForestClassifier(random_state=seed)\n    model.fit(frame, frame.y)\n"
        f"    mlflow.sklearn.log_model(model, 'model_{number}')\n    return model\n"
    )


NOTEBOOK = ('{"nbformat": 4, "metadata": {}, "cells": [{"cell_type": "code", "execution_count": 2, "metadata": {}, '
            '"outputs": [], "source": "import pandas as pd\\ndf = pd.read_csv(\'/home/ana/x.csv\')"}]}')


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    files: dict[str, str] = {}
    for project in ("churn", "fraud"):
        files[f"{project}/requirements.txt"] = "mlflow==2.14.0\nscikit-learn==1.5.0\n"
        files[f"{project}/dvc.yaml"] = "stages:\n  train:\n    cmd: python src/train_0.py\n"
        files.update({f"{project}/src/train_{n}.py": train_module(n) for n in range(12)})
        files[f"{project}/notebooks/eda.ipynb"] = NOTEBOOK
    files["broken.py"] = "def broken(:\n"
    return make_repo(tmp_path / "repo", files)


def always_parallel(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make every batch go to the pool; the list collects the size of each batch that did."""
    batches: list[int] = []
    pool = parallel.ProcessPoolExecutor

    class CountingPool(pool):  # type: ignore[misc, valid-type]
        def map(self, function, *iterables, **kwargs):  # type: ignore[no-untyped-def]
            items = list(iterables[0])
            batches.append(len(items))
            return super().map(function, items, **kwargs)

    monkeypatch.setattr(parallel, "MIN_PARALLEL_WORK", 0)
    monkeypatch.setattr(parallel, "ProcessPoolExecutor", CountingPool)
    return batches


def test_facts_made_in_the_pool_equal_those_made_in_this_process(
    monorepo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial = collect_facts(build_inventory(monorepo))
    batches = always_parallel(monkeypatch)
    pooled = collect_facts(build_inventory(monorepo))
    assert batches == [14]  # the distinct contents: 12 modules (the same in both projects), a notebook, a broken file
    assert pooled == serial


def test_a_monorepo_report_is_the_same_with_the_pool(monorepo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    serial = json_report.render(run_audit(monorepo))
    always_parallel(monkeypatch)
    assert json_report.render(run_audit(monorepo)) == serial


def test_each_content_is_analysed_once_per_audit_across_the_projects_of_a_monorepo(
    monorepo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[FactsCache] = []
    original = FactsCache.__init__

    def remember(self: FactsCache, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        made.append(self)

    monkeypatch.setattr(FactsCache, "__init__", remember)
    assessment = run_audit(monorepo, AuditOptions(cache_dir=tmp_path / "cache"))
    assert {project.root for project in assessment.projects} == {"churn", "fraud"}
    files, assessments = made  # the per-file facts, and the whole assessments kept apart
    assert (files.misses, files.writes) == (14, 14)  # the whole repository and both projects: one parse each
    assert (assessments.misses, assessments.writes) == (1, 1)


def crash_in_a_worker(item: int) -> int:
    if multiprocessing.parent_process() is not None:
        os._exit(3)  # a worker killed, as by a memory limit
    return item * 2


def test_a_pool_that_loses_a_worker_falls_back_to_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_PARALLEL_WORK", 0)
    assert parallel.map_parallel(crash_in_a_worker, iter(range(20)), 20, 20) == [n * 2 for n in range(20)]


def test_small_batches_stay_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    batches = always_parallel(monkeypatch)
    monkeypatch.setattr(parallel, "MIN_PARALLEL_WORK", 1000)
    assert parallel.map_parallel(abs, [-1, -2, -3, -4, -5], 5, 50) == [1, 2, 3, 4, 5]
    assert batches == []


def scaled(context: dict[str, object], item: int) -> tuple[int, int]:
    return item * int(context["factor"]), os.getpid()  # type: ignore[call-overload]


def slowly_scaled(context: dict[str, object], item: int) -> tuple[int, int]:
    time.sleep(0.01)  # long enough for every process to take items
    return scaled(context, item)


@pytest.mark.skipif(not parallel.FORK, reason="fork_map forks on Linux only; elsewhere it runs in this process")
def test_forked_processes_share_the_items_and_inherit_a_context_that_could_not_be_pickled() -> None:
    context = {"factor": 3, "unpicklable": lambda: None}
    results = parallel.fork_map(slowly_scaled, context, list(range(40)))
    assert [value for value, _ in results] == [n * 3 for n in range(40)]
    pids = {pid for _, pid in results}
    assert os.getpid() in pids and len(pids) == min(parallel.workers(), 40)


def failing_elsewhere(context: dict[str, object], item: int) -> tuple[int, int]:
    if os.getpid() != context["parent"]:
        os._exit(3)  # a forked process killed while it works (a memory limit, say)
    return slowly_scaled(context, item)


@pytest.mark.skipif(not parallel.FORK, reason="fork_map forks on Linux only; elsewhere it runs in this process")
def test_items_taken_by_a_forked_process_that_dies_are_done_here() -> None:
    results = parallel.fork_map(failing_elsewhere, {"factor": 2, "parent": os.getpid()}, list(range(12)))
    assert results == [(n * 2, os.getpid()) for n in range(12)]


def test_with_one_core_the_context_is_used_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "workers", lambda: 1)
    assert {pid for _, pid in parallel.fork_map(scaled, {"factor": 2}, [1, 2, 3])} == {os.getpid()}


def test_a_monorepo_is_assessed_in_forked_workers_with_the_same_report(
    monorepo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forked = json_report.render(run_audit(monorepo))
    monkeypatch.setattr(parallel, "workers", lambda: 1)
    assert json_report.render(run_audit(monorepo)) == forked


def test_stack_signals_are_made_where_each_source_is_parsed(monorepo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    batches = always_parallel(monkeypatch)
    inventory, cache = build_inventory(monorepo), FactsCache()
    facts.analyse_sources(inventory, cache)
    assert batches == [14]
    sources = [*analyze_python(inventory, cache).files, *analyze_notebooks(inventory, cache).notebooks]
    kept = cache._derived[stack.code_signals]  # what came back from the workers with each record
    assert {id(source.code) for source in sources} <= set(kept)
    signals = cache.derived(stack.code_signals)
    assert [signals(source.code) for source in sources] == [stack.code_signals(source.code) for source in sources]


def doubled_elsewhere(context: int) -> tuple[int, int]:
    return context * 2, os.getpid()


def fails(context: int) -> int:
    raise ValueError(context)


@pytest.mark.skipif(not parallel.FORK, reason="start forks on Linux only; elsewhere the caller does the work")
def test_work_started_ahead_runs_in_another_process_and_hands_back_its_result() -> None:
    value, pid = parallel.start(doubled_elsewhere, 21)()  # type: ignore[misc]
    assert value == 42 and pid != os.getpid()


def test_work_started_ahead_that_fails_or_cannot_fork_hands_back_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parallel.start(fails, 1)() is None
    monkeypatch.setattr(parallel, "workers", lambda: 1)
    assert parallel.start(doubled_elsewhere, 1)() is None


@pytest.mark.skipif(not parallel.FORK, reason="start forks on Linux only; elsewhere the caller does the work")
def test_what_is_read_ahead_gives_the_same_report(monorepo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    delivered: list[object] = []

    def watched(function, context):  # type: ignore[no-untyped-def]
        result = parallel.start(function, context)
        return lambda: delivered.append(result()) or delivered[-1]

    monkeypatch.setattr(pipeline, "start", watched)
    seeded = monorepo / "fraud" / "src" / "train_0.py"
    seeded.write_text("import random\nrandom.seed(0)  # mlops-audit: ignore[L1-ENV-04] seeded on purpose\n")
    assessment = run_audit(monorepo)
    ahead = json_report.render(assessment)
    # the rule passes, so the suppression suppresses nothing: a note the whole view made from the file it read
    assert ("fraud/src/train_0.py", "suppression") in {(note.path, note.kind) for note in assessment.notes}
    reads = delivered[0]
    assert isinstance(reads, facts.ReadAhead)
    assert {"refs", "log"} <= set(reads.history)
    # the change cadence of the whole and of each project, so that no view runs git again
    assert set(reads.history["cadences"]) == {"", "churn/", "fraud/"}
    # and the secrets of every file, which need no parse either
    listed = {path.relative_to(monorepo).as_posix() for path in monorepo.rglob("*") if ".git" not in path.parts}
    assert {path for path, _ in reads.secrets} == {path for path in listed if (monorepo / path).is_file()}
    # and which files mention an inline suppression: the views read only those
    assert {path for path, mentioned in reads.mentions.items() if mentioned} == {"fraud/src/train_0.py"}
    assert "churn/src/train_0.py" in reads.mentions
    monkeypatch.setattr(parallel, "FORK", False)
    assert json_report.render(run_audit(monorepo)) == ahead


@pytest.mark.skipif(not parallel.FORK, reason="start forks on Linux only; elsewhere the caller does the work")
def test_notes_made_reading_files_in_other_processes_reach_the_report(
    monorepo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (monorepo / "churn" / "certs").mkdir()
    (monorepo / "churn" / "certs" / "server.pem").write_bytes(b"\0" * 64)  # read for secrets only: binary
    assessment = run_audit(monorepo)
    assert ("churn/certs/server.pem", "binary") in {(note.path, note.kind) for note in assessment.notes}
    monkeypatch.setattr(parallel, "FORK", False)
    assert json_report.render(run_audit(monorepo)) == json_report.render(assessment)


def test_what_an_audit_still_holds_is_left_in_the_oldest_generation(monorepo: Path) -> None:
    """The cycle collector is paused during an audit; what the audit made and its caller still holds (the records
    of every source) must not be left young, for the first collection after the pause to walk it all."""
    inventory = build_inventory(monorepo)
    audit_repository(inventory, AuditOptions(), str(monorepo))
    records = list(inventory.shared(SOURCES).values())
    oldest = {id(item) for item in gc.get_objects(generation=2)}
    assert records and all(id(record) in oldest for record in records)
