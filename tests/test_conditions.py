"""The condition language: primitives, three-valued combinators, evidence, and validation messages."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import paths_and_globs

from mlops_audit import checks, conditions
from mlops_audit.analyzers.ci import CICommand, CIFacts, CIJob, CIWorkflow
from mlops_audit.analyzers.code import CallRef, ClassRef, CodeFacts, DecoratorRef, ImportRef
from mlops_audit.analyzers.environment import EnvironmentFacts
from mlops_audit.analyzers.git_history import GitFacts
from mlops_audit.analyzers.python_code import PythonFacts, PythonFile
from mlops_audit.analyzers.stack import StackFacts
from mlops_audit.conditions import EVIDENCE_LIMIT, Verdict, condition_errors, evaluate
from mlops_audit.engine import compile_rules, judge
from mlops_audit.facts import collect_facts
from mlops_audit.inventory import RepoFile, build_inventory, matches
from mlops_audit.model import DetectedTool, Evidence
from mlops_audit.packs import load_rules
from mlops_audit.testing import make_facts

BUILTINS = {"always_unknown": lambda facts, params: Verdict(None, detail=str(params.get("why", "")))}

CODE = CodeFacts(
    imports=(ImportRef("mlflow", "mf", 1), ImportRef("prefect.flow", "flow", 2)),
    calls=(
        CallRef("mlflow.register_model", 9, snippet="mf.register_model(uri, 'churn')"),
        CallRef("sklearn.model_selection.train_test_split", 5, keywords=("random_state",),
                literals=(("random_state", "42"),)),
    ),
    decorators=(DecoratorRef("prefect.flow", "training", 7),),
    classes=(ClassRef("Flow", ("metaflow.FlowSpec",), 12),),
)
FACTS = make_facts(
    files=(
        RepoFile("dvc.yaml", 120, "dvc", (), True),
        RepoFile("models/model.pkl", 5000, "model", (), True),
        RepoFile("tests/test_train.py", 300, "python", ("test",), True),
    ),
    python=PythonFacts(
        files=(
            PythonFile("src/train.py", (), CODE),
            PythonFile("tests/test_train.py", ("test",), CodeFacts(imports=(ImportRef("pandera", "pa", 1),))),
        )
    ),
    ci=CIFacts(
        workflows=(
            CIWorkflow(
                "github", ".github/workflows/ct.yml", "ct", ("schedule", "manual"), ("0 3 * * 1",), (),
                jobs=(
                    CIJob("retrain", ".github/workflows/ct.yml", 8, ("schedule", "manual"),
                          (CICommand("dvc repro", 14, ("train",)),), ("train",)),
                    CIJob("deploy", ".github/workflows/ct.yml", 20, ("schedule",), (), (), environment="production"),
                ),
            ),
        )
    ),
    environment=EnvironmentFacts(lock_files=("uv.lock",), pinned_ratio=0.5),
    git=GitFacts(is_repo=True, commits=None),
    stack=StackFacts(
        tools=(DetectedTool("mlflow", ("tracker", "registry"), "used", (Evidence("src/train.py", 1),)),
               DetectedTool("feast", ("feature_store",), "declared", (Evidence("requirements.txt", 3),)))
    ),
)


def verdict(condition: dict) -> Verdict:
    assert condition_errors(condition, BUILTINS) == []
    return evaluate(condition, FACTS, BUILTINS)


def test_file_glob_matches_names_anywhere_and_paths() -> None:
    found = verdict({"file": "*.pkl"})
    assert found.value is True
    assert found.evidence == (Evidence("models/model.pkl"),)
    assert verdict({"file": "data/*.csv"}).value is False
    assert verdict({"file": "*.pkl", "min_size": 10_000}).value is False
    assert verdict({"file": "*.py", "roles": "exclude"}).value is False


def test_import_matches_submodules_and_excludes_tests_by_default() -> None:
    assert verdict({"import": "prefect"}).value is True
    assert verdict({"import": "pandera"}).value is False
    assert verdict({"import": "pandera", "roles": "test"}).value is True
    assert verdict({"import": "mlfl"}).value is False


def test_call_with_keyword_and_literal() -> None:
    hit = verdict({"call": "*.train_test_split", "literal": {"random_state": 42}})
    assert hit.value is True and hit.evidence[0].line == 5
    assert verdict({"call": "*.train_test_split", "keyword": "stratify"}).value is False
    registered = verdict({"call": "mlflow.register_model"})
    assert registered.evidence == (Evidence("src/train.py", 9, None, "mf.register_model(uri, 'churn')"),)


def test_decorator_and_class_bases() -> None:
    assert verdict({"decorator": "prefect.*"}).value is True
    assert verdict({"decorator": "airflow.*"}).value is False
    assert verdict({"class": "metaflow.FlowSpec"}).value is True


def test_tool_and_stack_respect_strength() -> None:
    assert verdict({"stack": "registry"}).detail == "mlflow"
    assert verdict({"tool": "feast"}).value is False
    assert verdict({"tool": "feast", "strength": "declared"}).value is True


def test_fact_where_flattens_lists_and_takes_evidence_from_the_owner() -> None:
    trained = verdict({"fact": "ci.workflows.jobs", "where": {"kinds": "train", "triggers": "schedule"}})
    assert trained.value is True
    assert trained.evidence == (Evidence(".github/workflows/ct.yml", 8, None, "retrain"),)
    commands = verdict({"fact": "ci.workflows.jobs.commands", "where": {"kinds": "train"}})
    assert commands.evidence == (Evidence(".github/workflows/ct.yml", 14, None, "dvc repro"),)
    assert verdict({"fact": "ci.workflows.jobs", "where": {"environment": {"matches": "^prod"}}}).value is True
    assert verdict({"fact": "ci.workflows.jobs", "where": {"kinds": "train"}, "count": 2}).value is False


def test_fact_comparisons_and_unknown() -> None:
    assert verdict({"fact": "environment.pinned_ratio", "min": 0.9}).value is False
    assert verdict({"fact": "environment.lock_files"}).value is True
    assert verdict({"fact": "git.commits", "min": 2}).value is None
    assert verdict({"fact": "git.is_repo", "equals": True}).value is True


def test_three_valued_combinators_keep_the_deciding_evidence() -> None:
    unknown = {"builtin": "always_unknown"}
    assert verdict({"all": [{"file": "*.pkl"}, unknown]}).value is None
    assert verdict({"all": [{"file": "*.zip"}, unknown]}).value is False
    assert verdict({"any": [{"file": "*.zip"}, unknown]}).value is None
    assert verdict({"any": [{"file": "*.pkl"}, unknown]}).value is True
    assert verdict({"not": unknown}).value is None
    smell = verdict({"not": {"file": "*.pkl"}})
    assert smell.value is False and smell.evidence == (Evidence("models/model.pkl"),)


def test_unknown_fact_field_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no field `nope`"):
        evaluate({"fact": "ci.nope"}, FACTS, BUILTINS)


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({}, "non-empty mapping"),
        ({"all": []}, "non-empty list"),
        ({"file": "*.py", "import": "x"}, "exactly one of"),
        ({"file": "*.py", "colour": "red"}, "unknown option `colour`"),
        ({"builtin": "nope"}, "unknown built-in check `nope`"),
        ({"fact": "CI Jobs"}, "dotted path"),
        ({"import": 3}, "string or a list of strings"),
        ({"import": "x", "roles": "everything"}, "`roles` must be one of"),
        ({"any": [{"file": "a"}, {"nope": 1}]}, "check.any[1]"),
    ],
)
def test_condition_errors_name_the_problem(condition: dict, message: str) -> None:
    errors = condition_errors(condition, BUILTINS)
    assert errors and message in " ".join(errors)


SEGMENTS = st.sampled_from(["Dockerfile", "dvc.yaml", "ci", "src", ".github", "a.py", "*", "**", "*.yaml", "d?c.yaml"])


PATHS, GLOBS = paths_and_globs(SEGMENTS, max_paths=12, max_globs=3)


@settings(max_examples=150, deadline=None)
@given(paths=PATHS, patterns=GLOBS)
def test_a_file_condition_finds_every_path_its_globs_match(paths: set[str], patterns: list[str]) -> None:
    files = tuple(RepoFile(path, 1, "other", (), True) for path in sorted(paths))
    verdict = evaluate({"file": patterns}, make_facts(files=files), {})
    matched = [file.path for file in files if matches(file.path, tuple(patterns))]
    assert verdict.value is bool(matched)
    assert [evidence.path for evidence in verdict.evidence] == matched[:len(verdict.evidence)]
    assert len(verdict.evidence) == min(len(matched), EVIDENCE_LIMIT)


CALL_NAMES = st.sampled_from(["mlflow.log_metric", "model.fit", "transformers.Trainer", "print", "fit",
                              "lightning.Trainer().fit", "my.ListTrainer", "checkpoint.run"])
KEYWORDS = st.sampled_from(["report_to", "random_state", "seed"])


@st.composite
def calls(draw: st.DrawFn, line: int) -> CallRef:
    literals = tuple(sorted(draw(st.dictionaries(KEYWORDS, st.sampled_from(["'wandb'", "42"]), max_size=2)).items()))
    keywords = tuple(sorted({*draw(st.lists(KEYWORDS, max_size=2)), *(k for k, _ in literals)}))
    return CallRef(draw(CALL_NAMES), line, keywords=keywords, literals=literals, snippet=f"call at {line}")


@settings(max_examples=150, deadline=None)
@given(data=st.data(),
       pattern=st.sampled_from(["*", "mlflow.*", "*.fit", "print", "*Trainer", "*.Trainer", "*.log_metric", "*t.run",
                                "*Trainer*", "*.fi?", "*fit"]),
       keyword=st.none() | KEYWORDS, literal=st.none() | st.sampled_from([{"report_to": "'wandb'"}, {"seed": 42}]))
def test_a_call_condition_finds_every_call_of_its_names_passing_its_keywords(
    data: st.DataObject, pattern: str, keyword: str | None, literal: dict[str, object] | None
) -> None:
    files = tuple(
        PythonFile(f"src/m{n}.py", (), CodeFacts(calls=tuple(data.draw(calls(line)) for line in range(1, 4))))
        for n in range(data.draw(st.integers(1, 30)))
    )
    condition: dict[str, object] = {"call": pattern}
    condition.update({"keyword": keyword} if keyword else {})
    condition.update({"literal": literal} if literal else {})
    verdict = evaluate(condition, make_facts(python=PythonFacts(files=files)), {})
    wanted = {(k, str(v)) for k, v in (literal or {}).items()}
    expected = sorted(
        (Evidence(file.path, call.line, snippet=call.snippet) for file in files for call in file.code.calls
         if matches_name(call.name, pattern) and (not keyword or keyword in call.keywords)
         and wanted <= set(call.literals)),
        key=lambda evidence: evidence.sort_key,
    )
    assert verdict.value is bool(expected)
    assert list(verdict.evidence) == expected[:EVIDENCE_LIMIT]


def matches_name(name: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(name, pattern)


def test_rules_compiled_ahead_leave_no_name_pattern_to_compile_when_judged() -> None:
    """The audit compiles the rules' patterns before it forks the processes that judge: they must find them all."""
    rules = load_rules((), checks.BUILTINS)
    conditions._name_matcher.cache_clear()
    compile_rules(rules)
    compiled = conditions._name_matcher.cache_info()
    for fixture in sorted(Path("fixtures").iterdir()):
        if fixture.is_dir():
            judge(rules, collect_facts(build_inventory(fixture)), checks.BUILTINS)
    assert compiled.currsize > 0
    assert conditions._name_matcher.cache_info().misses == compiled.misses
