"""The JSON report: schema-valid, deterministic, faithful to the assessment."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

import mlops_audit
from mlops_audit.model import (
    Assessment,
    CategoryScore,
    DetectedTool,
    Evidence,
    Finding,
    LevelScore,
    Note,
    Outcome,
    ProjectResult,
)
from mlops_audit.reporters import json_report
from mlops_audit.testing import make_assessment, make_rule

COUNTS = {"pass": 1, "partial": 0, "fail": 1, "not_applicable": 0, "unknown": 0}


REMEDIATION = "Add a dvc.yaml with train and evaluate stages."
PROJECT = {
    "root": "projects/churn-model",
    "levels": (
        LevelScore(0, 1.0, True, (), COUNTS),
        LevelScore(1, 0.8125, True, (), COUNTS),
        LevelScore(2, 0.375, False, ("L2-CI-01",), COUNTS),
    ),
    "categories": (CategoryScore("PIPE", "pipeline", 2 / 3, COUNTS),),
    "stack": (
        DetectedTool("mlflow", ("tracker", "registry"), "used", (Evidence("src/train.py", 3),)),
        DetectedTool("dvc", ("data_versioning",), "declared", ()),
    ),
}


def project_assessment(findings: tuple[Finding, ...] = (), **changes: Any) -> Assessment:
    """The shared assessment, of a project under `projects/` with a pipeline category and dvc declared."""
    return make_assessment(findings, **(PROJECT | changes))


def sample_findings() -> tuple[Finding, ...]:
    return (
        Finding(make_rule("ANY-SEC-01"), Outcome.PASS, "No secrets found."),
        Finding(
            make_rule("L2-CI-01", gate=True, docs="https://example.org/ci", remediation=REMEDIATION),
            Outcome.FAIL,
            "No workflow runs tests on pull requests.",
            (Evidence(".github/workflows/ci.yml", 3, None, "on: push"),),
        ),
        Finding(make_rule("L0-NB-01"), Outcome.PARTIAL, "Notebook code partly in modules.",
                (Evidence("train.ipynb", 2, 4, "model.fit(X, y)"),)),
        Finding(make_rule("L1-PIPE-01", gate=True, gate_group="pipeline"), Outcome.PASS, "Pipeline in dvc.yaml."),
        Finding(make_rule("L1-MON-01", confidence="C"), Outcome.NOT_APPLICABLE, "No serving code."),
        Finding(make_rule("L0-ENV-01", confidence="B"), Outcome.UNKNOWN, "Could not read manifests."),
    )


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(json_report.schema_path().read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def assert_valid(validator: Draft202012Validator, text: str) -> dict[str, Any]:
    document = json.loads(text)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    return document


def test_schema_is_found_and_identified() -> None:
    schema = json.loads(json_report.schema_path().read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "https://mlops-audit.dev/schemas/report-1.0.json"
    assert schema["additionalProperties"] is False


def test_schema_path_prefers_the_packaged_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    packaged = tmp_path / "reports" / "report.schema.json"
    monkeypatch.setattr(json_report.resources, "files", lambda package: tmp_path)
    repository_copy = Path(json_report.__file__).resolve().parents[2] / "reports" / "report.schema.json"
    assert json_report.schema_path() == repository_copy and repository_copy.is_file()
    packaged.parent.mkdir()
    packaged.write_text("{}", encoding="utf-8")
    assert json_report.schema_path() == packaged


def test_report_validates_and_carries_the_assessment(validator: Draft202012Validator) -> None:
    document = assert_valid(validator, json_report.render(project_assessment(sample_findings())))
    assert document["schema_version"] == "1.0"
    assert document["tool"] == {"name": "mlops-audit", "version": mlops_audit.__version__}
    assert document["root"] == "projects/churn-model"
    assert (document["applicable"], document["level"], document["score"]) == (True, 1, 1.38)
    assert [level["coverage"] for level in document["levels"]] == [1.0, 0.812, 0.375]
    assert document["levels"][2]["failed_gates"] == ["L2-CI-01"]
    assert document["categories"] == [
        {"category": "PIPE", "name": "pipeline", "coverage": 0.667, "counts": COUNTS}
    ]
    assert [tool["name"] for tool in document["stack"]] == ["dvc", "mlflow"]
    note = {"path": "notebooks/broken.ipynb", "message": "not valid JSON", "kind": "unreadable"}
    assert document["notes"] == [note]
    assert document["summary"] == {"pass": 2, "partial": 1, "fail": 1, "not_applicable": 1, "unknown": 1}


def test_findings_sorted_by_level_then_id_with_full_detail(validator: Draft202012Validator) -> None:
    document = assert_valid(validator, json_report.render(project_assessment(sample_findings())))
    ids = [finding["id"] for finding in document["findings"]]
    assert ids == ["L0-ENV-01", "L0-NB-01", "L1-MON-01", "L1-PIPE-01", "L2-CI-01", "ANY-SEC-01"]
    levels = [finding["level"] for finding in document["findings"]]
    assert levels == [0, 0, 1, 1, 2, "any"]
    notebook = document["findings"][1]
    assert notebook["outcome"] == "partial"
    assert notebook["evidence"] == [{"path": "train.ipynb", "line": 2, "cell": 4, "snippet": "model.fit(X, y)"}]
    ci = document["findings"][4]
    assert (ci["gate"], ci["docs"]) == (True, "https://example.org/ci")
    assert ci["remediation"] == "Add a dvc.yaml with train and evaluate stages."
    assert document["findings"][3]["gate_group"] == "pipeline"


def test_render_is_deterministic_and_ends_with_newline() -> None:
    findings = sample_findings()
    first = json_report.render(project_assessment(findings))
    shuffled = project_assessment(
        tuple(reversed(findings)),
        stack=tuple(reversed(project_assessment().stack)),
    )
    assert first == json_report.render(project_assessment(findings))
    assert first == json_report.render(shuffled)
    assert first.endswith("}\n") and not first.endswith("\n\n")
    assert '\n  "schema_version": "1.0",' in first  # indented by 2


def test_hostile_snippet_round_trips(validator: Draft202012Validator) -> None:
    snippet = 'x = "quoted" \\ path\nnext line\t</script><!-- é ☃ 模型 \x1b[31m'
    where = (Evidence("a b/ü.py", 1, None, snippet),)
    finding = Finding(make_rule("L1-PIPE-01"), Outcome.FAIL, 'message with "quotes"', where)
    text = json_report.render(project_assessment((finding,)))
    document = assert_valid(validator, text)
    assert document["findings"][0]["evidence"][0]["snippet"] == snippet
    assert document["findings"][0]["message"] == 'message with "quotes"'
    assert "模型" in text  # not \u-escaped
    assert "\x1b" not in text  # control characters are escaped by JSON


def test_lone_surrogate_survives_utf8_output() -> None:
    snippet = "bad byte \udc80 here \\"
    finding = Finding(make_rule("L1-PIPE-01"), Outcome.FAIL, "m", (Evidence("a.py", None, None, snippet),))
    text = json_report.render(project_assessment((finding,)))
    text.encode("utf-8")  # writable as UTF-8
    assert json.loads(text)["findings"][0]["evidence"][0]["snippet"] == snippet


def test_not_applicable_report(validator: Draft202012Validator) -> None:
    levels = tuple(LevelScore(n, None, n == 0, (), dict.fromkeys(COUNTS, 0)) for n in range(3))
    assessment = project_assessment((), applicable=False, level=0, score=0.0, levels=levels, categories=(), stack=())
    document = assert_valid(validator, json_report.render(assessment))
    assert document["applicable"] is False
    assert [level["coverage"] for level in document["levels"]] == [None, None, None]
    assert document["findings"] == []
    assert document["summary"] == dict.fromkeys(COUNTS, 0)


def test_counts_keep_outcome_order_and_extra_keys(validator: Draft202012Validator) -> None:
    counts = {Outcome.FAIL: 2, "pass": 1, "suppressed": 3}
    assessment = project_assessment(levels=(LevelScore(0, 0.5, False, ("L0-VCS-01",), counts),))
    document = assert_valid(validator, json_report.render(assessment))
    assert list(document["levels"][0]["counts"].items()) == [
        ("pass", 1), ("partial", 0), ("fail", 2), ("not_applicable", 0), ("unknown", 0), ("suppressed", 3)
    ]


def test_schema_rejects_unknown_keys_and_outcomes(validator: Draft202012Validator) -> None:
    document = json_report.to_dict(project_assessment(sample_findings()))
    assert validator.is_valid(document)
    assert not validator.is_valid({**document, "generated_at": "2024-01-01"})
    broken = json.loads(json.dumps(document))
    broken["findings"][0]["outcome"] = "passed"
    assert not validator.is_valid(broken)
    broken = json.loads(json.dumps(document))
    broken["findings"][1]["evidence"][0]["column"] = 3
    assert not validator.is_valid(broken)
    broken = json.loads(json.dumps(document))
    broken["findings"][0]["confidence"] = "high"
    assert not validator.is_valid(broken)


texts = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40)
optional_positions = st.none() | st.integers(min_value=1, max_value=10**6)
evidence = st.builds(Evidence, path=texts, line=optional_positions, cell=optional_positions,
                     snippet=st.none() | texts)
coverages = st.none() | st.floats(min_value=0, max_value=1)
count_maps = st.dictionaries(st.sampled_from([o.value for o in Outcome]), st.integers(0, 50))


@st.composite
def findings(draw: st.DrawFn) -> Finding:
    level = draw(st.sampled_from(["L0", "L1", "L2", "ANY"]))
    number = draw(st.integers(1, 99))
    rule = make_rule(
        f"{level}-{draw(st.sampled_from(['PIPE', 'CI', 'NB']))}-{number:02d}",
        title=draw(texts),
        weight=draw(st.floats(min_value=0, max_value=10)),
        gate=draw(st.booleans()),
        gate_group=draw(st.none() | texts),
        confidence=draw(st.sampled_from("ABC")),
        remediation=draw(texts),
        docs=draw(st.none() | texts),
    )
    return Finding(rule, draw(st.sampled_from(Outcome)), draw(texts), tuple(draw(st.lists(evidence, max_size=3))))


@st.composite
def assessments(draw: st.DrawFn) -> Assessment:
    levels = tuple(
        LevelScore(n, draw(coverages), draw(st.booleans()), tuple(draw(st.lists(texts.filter(bool), max_size=2))),
                   draw(count_maps))
        for n in range(3)
    )
    tools = st.builds(
        DetectedTool,
        name=texts.filter(bool),
        categories=st.lists(texts).map(tuple),
        strength=st.sampled_from(["used", "declared"]),
        evidence=st.lists(evidence, max_size=2).map(tuple),
    )
    return Assessment(
        root=draw(texts),
        applicable=draw(st.booleans()),
        level=draw(st.integers(0, 2)),
        score=draw(st.floats(min_value=0, max_value=2)),
        levels=levels,
        categories=tuple(draw(st.lists(st.builds(CategoryScore, texts.filter(bool), texts, coverages, count_maps),
                                       max_size=3))),
        stack=tuple(draw(st.lists(tools, max_size=3))),
        findings=tuple(draw(st.lists(findings(), max_size=6, unique_by=lambda f: f.rule.id))),
        notes=tuple(draw(st.lists(st.builds(Note, texts, texts, texts.filter(bool)), max_size=3))),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(assessment=assessments())
def test_any_assessment_gives_schema_valid_deterministic_json(
    validator: Draft202012Validator, assessment: Assessment
) -> None:
    text = json_report.render(assessment)
    assert_valid(validator, text)
    assert text == json_report.render(replace(assessment, findings=tuple(reversed(assessment.findings))))
    document = json.loads(text)
    originals = {(f.rule.id, f.message) for f in assessment.findings}
    assert {(f["id"], f["message"]) for f in document["findings"]} == originals


def test_monorepo_report_lists_projects_sorted(validator: Draft202012Validator) -> None:
    projects = (ProjectResult("projects/fraud", 1, 1.3751, True), ProjectResult("projects/churn", 0, 0.0, False))
    assessment = project_assessment(projects=projects, project="projects/fraud")
    document = assert_valid(validator, json_report.render(assessment))
    assert document["project"] == "projects/fraud"
    assert document["projects"] == [
        {"root": "projects/churn", "level": 0, "score": 0.0, "applicable": False},
        {"root": "projects/fraud", "level": 1, "score": 1.38, "applicable": True},
    ]
    single = assert_valid(validator, json_report.render(project_assessment()))
    assert (single["project"], single["projects"]) == (None, [])


def test_reports_without_the_project_keys_stay_valid(validator: Draft202012Validator) -> None:
    document = json.loads(json_report.render(project_assessment()))
    del document["project"], document["projects"]
    assert not list(validator.iter_errors(document))
    document["projects"] = [{"root": "", "level": 1, "score": 1.0, "applicable": True}]
    assert list(validator.iter_errors(document))
