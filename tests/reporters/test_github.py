"""GitHub workflow commands: kinds by severity, escaping per GitHub's rules, ten of each kind and a summary."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_audit.model import Assessment, Evidence, Finding, Outcome
from mlops_audit.reporters import github

COMMAND = re.compile(r"::(error|warning|notice) ((?:[a-z]+=[^,:]*)(?:,[a-z]+=[^,:]*)*)::([^\r\n]*)")


def commands(text: str) -> list[tuple[str, dict[str, str], str]]:
    """Each line parsed as GitHub does: kind, decoded properties, decoded message."""
    assert text.endswith("\n")
    parsed = []
    for line in text[:-1].split("\n"):
        match = COMMAND.fullmatch(line)
        assert match, line
        properties = dict(item.split("=", 1) for item in match.group(2).split(","))
        parsed.append((match.group(1), {k: unquote(v) for k, v in properties.items()}, unquote(match.group(3))))
    return parsed


def test_fixture_annotations_match_golden(
    fixture_name: str, audited: dict[str, Assessment], golden: Callable[[str, str, str], None]
) -> None:
    text = github.render(audited[fixture_name])
    kinds = Counter(kind for kind, _, _ in commands(text))
    assert kinds["error"] <= 10 and kinds["warning"] <= 10 and kinds["notice"] <= 10
    golden(fixture_name, "github.txt", text)


def test_kinds_follow_gates_failures_and_partials(sample: Assessment) -> None:
    parsed = commands(github.render(sample))
    assert [(kind, props["title"].split()[0]) for kind, props, _ in parsed] == [
        ("error", "L2-CI-01"),
        ("error", "L2-MV-03"),  # a partial gate whose group failed is still a failed gate
        ("warning", "L1-EXP-02"),
        ("warning", "ANY-DOC-04"),
        ("notice", "L0-NB-04"),
        ("notice", "mlops-audit"),
    ]
    _, props, message = parsed[0]
    assert props == {"file": ".github/workflows/ci.yml", "line": "3", "title": "L2-CI-01 Title of L2-CI-01"}
    assert message == "No workflow runs tests on pull requests.\nNext step: Fix L2-CI-01."
    assert parsed[2][1] == {"title": "L1-EXP-02 Title of L1-EXP-02"}  # repository-level: shown on the run
    assert parsed[4][1] == {"file": "train.ipynb", "title": "L0-NB-04 Title of L0-NB-04"}  # no file line in a cell
    assert parsed[4][2].startswith("One notebook installs packages. (partly met)")
    assert parsed[-1][2] == (
        "Level 1 (ML pipeline automation), score 1.38 / 2.00. 2 failed gates, 2 other failures, 1 partial."
    )


def test_escaping_follows_github_rules() -> None:
    assert github.escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert github.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    cleaned = github.escape_data("colour \x1b[31m, bidi \u202e, lone \udc80")
    assert cleaned == "colour \ufffd[31m, bidi \ufffd, lone \ufffd"


def test_hostile_text_cannot_start_a_command(hostile: Assessment) -> None:
    text = github.render(hostile)
    lines = text.splitlines()
    assert len(lines) == 3  # two findings and the summary: no injected line
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    parsed = commands(text)
    assert parsed[0][1]["file"] == hostile.findings[0].evidence[0].path
    assert parsed[0][2].startswith(hostile.findings[0].message.replace("\x1b", "\ufffd"))
    text.encode("utf-8")


def test_at_most_ten_of_each_kind_and_a_summary_with_totals(
    make_rule: Callable[..., Any], make_assessment: Callable[..., Any]
) -> None:
    findings = tuple(
        Finding(make_rule(f"L1-CI-{n:02d}", gate=n < 15), Outcome.PARTIAL if n >= 40 else Outcome.FAIL, f"m{n}",
                (Evidence(f"f{n}.py", n + 1),))
        for n in range(60)
    )
    gates = tuple(f.rule.id for f in findings if f.rule.gate)
    levels = tuple(replace(score, gate_passed=score.level != 1, failed_gates=gates if score.level == 1 else ())
                   for score in make_assessment().levels)
    parsed = commands(github.render(make_assessment(findings, level=0, levels=levels)))
    assert Counter(kind for kind, _, _ in parsed) == {"error": 10, "warning": 10, "notice": 10}
    assert parsed[-1][2] == ("Level 0 (Manual process), score 1.38 / 2.00. 15 failed gates, 25 other failures, "
                             "20 partial. 31 not annotated here: see the full report.")


def test_not_applicable_gives_only_the_summary(sample: Assessment) -> None:
    assert github.render(replace(sample, applicable=False)) == (
        "::notice title=mlops-audit::No ML code found: the MLOps maturity levels do not apply. "
        "0 failed gates, 0 other failures, 0 partial.\n"
    )


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_any_assessment_gives_one_command_a_line(
    data: st.DataObject, assessments: st.SearchStrategy[Assessment]
) -> None:
    assessment = data.draw(assessments)
    parsed = commands(github.render(assessment))
    assert parsed[-1][1] == {"title": "mlops-audit"}
    counts = Counter(kind for kind, _, _ in parsed)
    assert counts["error"] <= 10 and counts["warning"] <= 10 and counts["notice"] <= 10
