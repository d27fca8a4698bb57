"""Markdown for job summaries and PR comments: the level first, repository text inert, size capped at 1 MiB."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_audit.model import Assessment, Evidence, Finding, Note, Outcome, ProjectResult
from mlops_audit.reporters import markdown

ZWJ = "\u200d"
MARKUP = set("\\`*_[]|~$<>\n\r")


def unescaped_markup(text: str) -> set[str]:
    """Markup characters in `text` that are not preceded by an escaping backslash."""
    found, index = set(), 0
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] in MARKUP:
            found.add(text[index])
        index += 1
    return found


def test_escape_neutralises_injection_payloads() -> None:
    assert markdown.escape("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert markdown.escape("[click](javascript:alert(1))") == r"\[click\](javascript:alert(1))"
    assert markdown.escape("![img](http://x/a.png)") == r"!\[img\](http://x/a.png)"
    assert markdown.escape("a | b") == r"a \| b"
    assert markdown.escape("`code` and ```fence```") == r"\`code\` and \`\`\`fence\`\`\`"
    assert markdown.escape("thanks @octocat and @org/team") == f"thanks @{ZWJ}octocat and @{ZWJ}org/team"
    assert markdown.escape("fixes #12") == f"fixes #{ZWJ}12"
    assert markdown.escape("**bold** _it_ ~~gone~~ $x^2$") == r"\*\*bold\*\* \_it\_ \~\~gone\~\~ \$x^2\$"
    assert markdown.escape('<img src=x onerror="alert(1)">') == "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"
    assert markdown.escape("&lt; is already an entity") == "&amp;lt; is already an entity"
    assert markdown.escape("back\\slash") == "back\\\\slash"


def test_escape_keeps_one_clean_bounded_line() -> None:
    assert markdown.escape("line one\n# line two\r\n> three") == f"line one #{ZWJ} line two &gt; three"
    assert markdown.escape("red \x1b[31m bidi \u202e end") == "red \ufffd\\[31m bidi \ufffd end"
    assert markdown.escape("lone \udc80") == "lone \ufffd"
    assert markdown.escape("x" * 1000, 10) == "x" * 9 + "…"
    assert markdown.code("a|b") == r"<code>a\|b</code>"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=60))
def test_escape_leaves_no_live_markup(text: str) -> None:
    escaped = markdown.escape(text)
    assert not unescaped_markup(escaped)
    assert all(escaped[i + 1] == ZWJ for i, char in enumerate(escaped) if char in "@#")
    escaped.encode("utf-8")


def test_fixture_summaries_match_golden(
    fixture_name: str, audited: dict[str, Assessment], golden: Callable[[str, str, str], None]
) -> None:
    text = markdown.render(audited[fixture_name])
    assessment = audited[fixture_name]
    assert text.startswith(f"## MLOps maturity: Level {assessment.level} — ")
    assert f"score {assessment.score:.2f} / 2.00" in text.splitlines()[0]
    golden(fixture_name, "md", text)


def test_summary_shows_levels_gates_and_next_steps(sample: Assessment) -> None:
    text = markdown.render(sample)
    lines = text.splitlines()
    assert lines[0] == "## MLOps maturity: Level 1 — ML pipeline automation · score 1.38 / 2.00"
    assert "Repository <code>churn-model</code>, audited by mlops-audit." in lines
    table = [line for line in lines if line.startswith("|")]
    assert table == [
        "| Level | Coverage | Gates |",
        "| :-- | --: | :-- |",
        "| 0 — Manual process | 100% | ✅ passed |",
        "| **1 — ML pipeline automation** (reached) | 81% | ✅ passed |",
        "| 2 — CI/CD pipeline automation | 38% | ❌ 2 failed |",
    ]
    gates = text.split("### Failed gates for Level 2 — CI/CD pipeline automation\n\n")[1].split("\n\n")[0]
    assert gates.splitlines() == [
        "- ❌ **L2-CI-01** Title of L2-CI-01: No workflow runs tests on pull requests.  ",
        ("  Evidence: <code>.github/workflows/ci.yml:3</code> <code>on: push</code>; <code>Makefile:7</code> "
         "<code>test:</code>  "),
        "  Next step: Fix L2-CI-01.  ",
        "  [Documentation](https://example.org/ci)",
        "- 🟡 **L2-MV-03** Title of L2-MV-03: Comparison runs but does not block.  ",
        "  One rule of gate group <code>validated-promotion</code> must pass.  ",
        "  Evidence: <code>src/promote.py:12</code> <code>compare()</code>  ",
        "  Next step: Fix L2-MV-03.",
    ]


def test_other_findings_fold_per_level(sample: Assessment) -> None:
    text = markdown.render(sample)
    assert "<details><summary>Level 0 — Manual process: 0 failed, 1 partial</summary>\n\n" in text
    assert ("- 🟡 **L0-NB-04** Title of L0-NB-04: One notebook installs packages. "
            "(<code>train.ipynb cell 4:1</code> <code>!pip install xgboost</code>)") in text
    assert "<details><summary>Any level: 1 failed, 0 partial</summary>" in text
    assert "Level 2 — CI/CD pipeline automation: " not in text  # its problems are all gates, shown above
    assert text.count("<details>") == text.count("</details>") == 4  # levels 0, 1, any, notes
    assert "**Rules:** 1 passed · 2 partial · 3 failed · 1 n/a · 1 unknown" in text
    assert "**Stack:** mlflow (tracker, registry), wandb (tracker) *declared*" in text
    assert "<code>notebooks/broken.ipynb</code>: not valid JSON (unreadable)" in text


def test_hostile_repository_text_is_inert(hostile: Assessment) -> None:
    text = markdown.render(hostile)
    assert "<script" not in text and "<img" not in text and "<b>" not in text
    assert "](" not in text.replace("\\](", "") and "@octocat" not in text and "@evil" not in text
    assert "\x1b" not in text and "\x00" not in text
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert len(rows) == 9  # the projects (header, rule, 2 rows) and levels (header, rule, 3 rows) tables are intact
    assert all(len(re.findall(r"(?<!\\)\|", row)) == 4 for row in rows)
    for line in text.splitlines():
        assert not line.startswith(("#" + ZWJ, ">", "::", "<script")), line
    text.encode("utf-8")


def test_not_applicable_summary(sample: Assessment) -> None:
    text = markdown.render(replace(sample, applicable=False))
    assert text.startswith("## MLOps maturity: not applicable\n")
    assert "No ML code found" in text and "|" not in text and "❌" not in text


def test_output_stays_under_one_mebibyte(make_rule: Callable[..., Any], make_assessment: Callable[..., Any]) -> None:
    long = "x<y> @someone | `tick` " * 40
    findings = tuple(
        Finding(make_rule(f"L{n % 3}-CI-{n:05d}", title=long, remediation=long, gate=n % 7 == 0,
                          docs="https://example.org/" + "a" * 400),
                Outcome.FAIL if n % 2 else Outcome.PARTIAL, long,
                tuple(Evidence(f"src/{long}{i}.py", i + 1, None, long) for i in range(5)))
        for n in range(20_000)
    )
    failed = tuple(f.rule.id for f in findings if f.rule.gate)
    levels = tuple(replace(score, gate_passed=False, failed_gates=failed) for score in make_assessment().levels)
    assessment = make_assessment(findings, level=0, levels=levels, notes=tuple(Note(long, long) for _ in range(500)))
    text = markdown.render(assessment)
    assert len(text.encode("utf-8")) < markdown.MAX_BYTES
    assert "more (see the full report)" in text
    assert text.endswith("</details>\n")
    assert text.count("<details>") == text.count("</details>")


def test_monorepo_projects_table(sample: Assessment) -> None:
    projects = (ProjectResult("projects/fraud", 1, 1.375, True), ProjectResult("tools/lint", 0, 0.0, False))
    text = markdown.render(replace(sample, projects=projects, project="projects/fraud"))
    assert "The verdict comes from project <code>projects/fraud</code>." in text
    assert "| Project | Level | Score |\n| :-- | --: | --: |\n" in text
    assert "| <code>projects/fraud</code> (verdict) | 1 | 1.38 |\n| <code>tools/lint</code> | n/a | n/a |" in text
    assert "Projects" not in markdown.render(sample)
