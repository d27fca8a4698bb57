"""The terminal report: level and score first, the failed gates with evidence and next steps, colour on request."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_audit.model import (
    Assessment,
    DetectedTool,
    Evidence,
    Finding,
    LevelScore,
    Note,
    Outcome,
    ProjectResult,
)
from mlops_audit.reporters import text
from mlops_audit.testing import make_assessment, make_rule

ANSI = re.compile(r"\x1b\[[0-9;]*m")
LONG_REMEDIATION = (
    "Add a workflow under .github/workflows that runs on pull_request, installs the locked dependencies, "
    "runs the unit and data tests with pytest, and executes the training pipeline on a small sample so that "
    "every change to the pipeline code is tested before it is merged."
)


def level_scores(
    *coverages: float | None, failed: dict[int, tuple[str, ...]] | None = None
) -> tuple[LevelScore, ...]:
    failed = failed or {}
    return tuple(
        LevelScore(n, coverage, not failed.get(n), failed.get(n, ()), {}) for n, coverage in enumerate(coverages)
    )


def level1_findings() -> tuple[Finding, ...]:
    return (
        Finding(
            make_rule("L2-CI-01", gate=True, title="CI runs tests on pull requests", remediation=LONG_REMEDIATION,
                      docs="https://mlops-audit.dev/rules/L2-CI-01"),
            Outcome.FAIL,
            "No workflow runs tests on pull requests.",
            (
                Evidence(".github/workflows/train.yml", 4),
                Evidence("notebooks/explore.ipynb", 2, 7),
                Evidence("Makefile"),
                Evidence("tox.ini", 1),
                Evidence("noxfile.py", 9),
            ),
        ),
        Finding(make_rule("L0-NB-01"), Outcome.PARTIAL, "Some notebook code is in modules."),
        Finding(make_rule("L1-EXP-02", title="Runs record parameters"), Outcome.FAIL, "Only metrics are logged."),
        Finding(make_rule("L1-PIPE-01", gate=True), Outcome.PASS, "Pipeline in dvc.yaml."),
        Finding(make_rule("L2-MON-02"), Outcome.NOT_APPLICABLE, "No serving."),
        Finding(make_rule("ANY-SEC-01"), Outcome.UNKNOWN, "Could not scan."),
    )


def render(assessment: Assessment, color: bool = False) -> str:
    return text.render(assessment, color=color)


def test_summary_starts_with_header_level_and_score() -> None:
    lines = render(make_assessment(level1_findings())).splitlines()
    assert lines[0] == "mlops-audit · churn-model"
    assert lines[1] == "Level 1 — ML pipeline automation · score 1.38 / 2.00"


def test_level_bars_show_coverage_and_gates() -> None:
    assessment = make_assessment(levels=level_scores(1.0, 0.5, None, failed={1: ("L1-A-01", "L1-B-01")}), level=0)
    output = render(assessment)
    assert "  Level 0  " + "█" * 20 + " 100%  gates ✓  ← reached" in output
    assert "  Level 1  " + "█" * 10 + "░" * 10 + "  50%  gates ✗ 2 failed" in output
    assert "  Level 2  " + "░" * 20 + "  n/a  gates ✓" in output


def test_failed_gates_show_message_evidence_and_next_step() -> None:
    levels = level_scores(1.0, 0.8, 0.375, failed={2: ("L2-CI-01",)})
    output = render(make_assessment(level1_findings(), levels=levels))
    block = output.split("Failed gates for Level 2 — CI/CD pipeline automation\n")[1].split("\n\n")[0]
    lines = block.splitlines()
    assert lines[0] == "  ✗ L2-CI-01  CI runs tests on pull requests"
    assert lines[1] == "    No workflow runs tests on pull requests."
    where = ".github/workflows/train.yml:4 · notebooks/explore.ipynb cell 7:2 · Makefile (+2 more)"
    assert lines[2] == "    at " + where
    assert lines[3].startswith("    → next step: Add a workflow")
    next_step = " ".join(line.strip() for line in lines[3:-1])
    assert next_step == "→ next step: " + LONG_REMEDIATION
    assert all(line.startswith(" " * 17) for line in lines[4:-1])  # wrapped under the text
    assert lines[-1] == "    docs: https://mlops-audit.dev/rules/L2-CI-01"
    assert max(len(line) for line in output.splitlines()) <= 100


def test_gates_of_lower_levels_are_listed_for_the_next_level() -> None:
    findings = (
        Finding(make_rule("L0-VCS-02", gate=True), Outcome.FAIL, "model.pkl is committed.",
                (Evidence("models/model.pkl"),)),
        Finding(make_rule("L1-CT-01", gate=True, gate_group="trigger"), Outcome.FAIL, "No schedule."),
        Finding(make_rule("L1-CT-02", gate=True, gate_group="trigger"), Outcome.PARTIAL, "Push trigger only."),
        Finding(make_rule("L2-CI-01", gate=True), Outcome.FAIL, "No CI."),
    )
    levels = level_scores(0.5, 0.2, 0.0, failed={0: ("L0-VCS-02",), 1: ("trigger",), 2: ("L2-CI-01",)})
    output = render(make_assessment(findings, level=0, score=0.2, levels=levels))
    assert "Level 0 — Manual process · score 0.20 / 2.00" in output
    gates = output.split("Failed gates for Level 1 — ML pipeline automation\n")[1].split("\n\n")[0]
    assert "  ✗ L0-VCS-02  Title of L0-VCS-02\n    model.pkl is committed.\n    at models/model.pkl\n" in gates
    assert "  ✗ gate trigger: one of these must pass\n    ✗ L1-CT-01" in gates
    assert "    ~ L1-CT-02  Title of L1-CT-02\n      Push trigger only.\n" in gates
    assert gates.endswith("      → next step: Fix L1-CT-02.")
    assert "L2-CI-01" not in gates  # a Level 2 gate does not stand before Level 1
    others = output.split("Other findings to improve\n")[1].split("\n\n")[0]
    assert others == "  Level 2\n    ✗ L2-CI-01     Title of L2-CI-01  failed"


def test_other_findings_grouped_by_level_one_line_each() -> None:
    output = render(make_assessment(level1_findings()))
    others = output.split("Other findings to improve\n")[1].split("\n\n")[0]
    assert others.splitlines() == [
        "  Level 0",
        "    ~ L0-NB-01     Title of L0-NB-01  partial",
        "  Level 1",
        "    ✗ L1-EXP-02    Runs record parameters  failed",
    ]


def test_long_titles_are_clipped_to_the_width() -> None:
    finding = Finding(make_rule("L1-DOC-01", title="word " * 40), Outcome.FAIL, "m")
    line = next(x for x in render(make_assessment((finding,))).splitlines() if "L1-DOC-01" in x)
    assert len(line) <= 100 and line.endswith("…  failed")


def test_counts_stack_and_notes_close_the_report() -> None:
    notes = (Note("data/b.csv", "too large", "too_large"), Note("nb/a.ipynb", "not valid JSON"))
    stack = (
        DetectedTool("mlflow", ("tracker",), "used", ()),
        DetectedTool("dvc", ("data_versioning",), "used", ()),
        DetectedTool("wandb", ("tracker",), "declared", ()),
    )
    output = render(make_assessment(level1_findings(), stack=stack, notes=notes))
    tail = output.split("Other findings to improve")[1].split("\n\n")[1:]
    assert tail[0] == "Rules: 1 passed · 1 partial · 2 failed · 1 n/a · 1 unknown"
    assert tail[1] == "Stack (used): dvc (data_versioning), mlflow (tracker)\nStack (declared): wandb (tracker)"
    assert tail[2] == "Notes (2)\n  data/b.csv: too large [too_large]\n  nb/a.ipynb: not valid JSON [unreadable]\n"


def test_many_notes_are_capped() -> None:
    notes = tuple(Note(f"f{n:02d}.py", "syntax error") for n in range(15))
    output = render(make_assessment(notes=notes))
    assert output.endswith("  f09.py: syntax error [unreadable]\n  (+5 more in the JSON report)\n")


def test_level_two_has_no_failed_gates_section() -> None:
    finding = Finding(make_rule("L2-TEST-03"), Outcome.PARTIAL, "Only unit tests.")
    output = render(make_assessment((finding,), level=2, score=2.0, levels=level_scores(1.0, 1.0, 0.9)))
    assert "Level 2 — CI/CD pipeline automation · score 2.00 / 2.00" in output
    assert "Failed gates" not in output
    assert "    ~ L2-TEST-03   Title of L2-TEST-03  partial" in output


def test_not_applicable_says_levels_do_not_apply() -> None:
    assessment = make_assessment((), applicable=False, level=0, score=0.0, levels=level_scores(None, None, None),
                                 stack=())
    output = render(assessment)
    assert "No ML code found" in output and "levels do not apply" in " ".join(output.split())
    assert "/ 2.00" not in output and "█" not in output and "Failed gates" not in output
    assert "Stack: no MLOps tools detected" in output


def test_no_ansi_without_colour_even_from_hostile_repository_text() -> None:
    hostile = Finding(make_rule("L2-CI-01", gate=True, title="evil \x1b[2J title"), Outcome.FAIL,
                      "msg \x1b]8;;http://x\x07 link\r\nnext", (Evidence("a\x1b[31m.py", 1),))
    output = render(make_assessment((hostile,), root="repo\x1b[0m"), color=False)
    assert "\x1b" not in output and "\x07" not in output and "\r" not in output
    assert "a\ufffd[31m.py:1" in output


def test_colour_adds_ansi_and_nothing_else() -> None:
    assessment = make_assessment(level1_findings())
    coloured = render(assessment, color=True)
    assert "\x1b[31m✗\x1b[0m L2-CI-01" in coloured  # red fail
    assert "\x1b[33mpartial\x1b[0m" in coloured  # yellow partial
    assert "\x1b[32m" + "█" * 20 in coloured  # green bar for a passed gate
    assert "\x1b[2m1 n/a\x1b[0m" in coloured  # dim n/a
    assert ANSI.sub("", coloured) == render(assessment, color=False)


texts = st.text(alphabet=st.characters(exclude_categories=()), max_size=30)
evidence = st.builds(Evidence, texts, st.none() | st.integers(1, 10**5), st.none() | st.integers(1, 500),
                     st.none() | texts)


@st.composite
def findings(draw: st.DrawFn) -> Finding:
    rule_id = f"{draw(st.sampled_from(['L0', 'L1', 'L2', 'ANY']))}-X-{draw(st.integers(10, 99))}"
    rule = make_rule(rule_id, title=draw(texts), remediation=draw(texts), gate=draw(st.booleans()),
                     gate_group=draw(st.none() | st.just("grp")), docs=draw(st.none() | texts))
    return Finding(rule, draw(st.sampled_from(Outcome)), draw(texts), tuple(draw(st.lists(evidence, max_size=5))))


@settings(max_examples=100, deadline=None)
@given(
    found=st.lists(findings(), max_size=8, unique_by=lambda f: f.rule.id),
    level=st.integers(0, 2),
    applicable=st.booleans(),
    root=texts,
    coverages=st.lists(st.none() | st.floats(0, 1), min_size=3, max_size=3),
)
def test_any_assessment_renders_plain_text(
    found: list[Finding], level: int, applicable: bool, root: str, coverages: list[float | None]
) -> None:
    failed = {n: tuple(f.rule.id for f in found if f.gate_failed and f.rule.level == n) + ("grp",) for n in (0, 1)}
    assessment = make_assessment(tuple(found), level=level, applicable=applicable, root=root,
                                 levels=level_scores(*coverages, failed=failed))
    plain = render(assessment)
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]", plain)
    assert ANSI.sub("", render(assessment, color=True)) == plain


PROJECTS = (
    ProjectResult("projects/fraud", 1, 1.375, True),
    ProjectResult("projects/churn", 0, 0.25, True),
    ProjectResult("tools/lint", 0, 0.0, False),
)


def test_monorepo_names_the_verdict_s_project_and_lists_every_project() -> None:
    lines = render(make_assessment(level1_findings(), projects=PROJECTS, project="projects/fraud")).splitlines()
    assert lines[2] == "verdict from project projects/fraud"
    start = lines.index("Projects (3)")
    assert lines[start + 1:start + 4] == [
        "  projects/churn  Level 0 · score 0.25",
        "  projects/fraud  Level 1 · score 1.38  ← verdict",
        "  tools/lint      no ML code",
    ]


def test_a_single_project_has_no_projects_block() -> None:
    output = render(make_assessment(level1_findings()))
    assert "Projects" not in output and "verdict from project" not in output
