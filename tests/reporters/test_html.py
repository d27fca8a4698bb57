"""The HTML report: a well-formed page that loads nothing, escapes the repository's text and says the level."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from mlops_audit.audit import run_audit
from mlops_audit.dimensions import dimensions
from mlops_audit.model import Assessment, Evidence, Outcome, ProjectResult, Suppression
from mlops_audit.reporters import html
from mlops_audit.testing import make_repo

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
NAMES = ("level0-notebook-churn", "level1-dvc-pipeline", "level2-cicd-platform")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
EVIL_FILE = "<img src=x onerror=alert(1)>.py"
EVIL_CODE = "</script><script>alert(1)</script>"


class Page(HTMLParser):
    """Every tag and attribute of a document, and whether its tags nest and close properly."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.open[-1] if self.open else 'nothing'}>")
            return
        self.open.pop()

    def handle_data(self, data: str) -> None:
        if self.open and self.open[-1] == "style":
            self.styles.append(data)
        self.text.append(data)

    def names(self) -> list[str]:
        return [tag for tag, _ in self.tags]

    def plain_text(self) -> str:
        return " ".join("".join(self.text).split())


def fixture_assessment(name: str, root: Path) -> Assessment:
    shutil.copytree(FIXTURES / name, root)
    assessment = run_audit(make_repo(root, {}, commits=3), shown_root=name)
    return dataclasses.replace(assessment, dimensions=dimensions(assessment.findings))


@pytest.fixture(scope="module")
def fixture_pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Assessment, str]]:
    pages = {}
    for name in NAMES:
        assessment = fixture_assessment(name, tmp_path_factory.mktemp("fixtures") / name)
        pages[name] = (assessment, html.render(assessment))
    return pages


@pytest.mark.parametrize("name", NAMES)
def test_the_page_is_well_formed(name: str, fixture_pages: dict[str, tuple[Assessment, str]]) -> None:
    text = fixture_pages[name][1]
    assert text.startswith("<!DOCTYPE html>")
    page = Page(text)
    assert page.errors == []
    assert page.open == []
    for tag in ("html", "head", "title", "body", "main", "style"):
        assert page.names().count(tag) == 1, tag
    ids = [attrs["id"] for _, attrs in page.tags if "id" in attrs]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", NAMES)
def test_the_page_loads_nothing(name: str, fixture_pages: dict[str, tuple[Assessment, str]]) -> None:
    assessment, text = fixture_pages[name]
    page = Page(text)
    docs = {f.rule.docs for f in assessment.findings}
    assert not {"script", "link", "img", "iframe", "object", "embed", "base"} & set(page.names())
    for tag, attrs in page.tags:
        for key in ("src", "href", "srcset", "action", "xlink:href"):
            value = attrs.get(key) or ""
            if re.match(r"\s*(https?:)?//", value):
                assert (tag, key, attrs.get("class")) == ("a", "href", "docs") and value in docs, value
            assert not value.strip().lower().startswith(("javascript:", "data:", "file:")), value
    policy = [a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert policy == ["default-src 'none'; style-src 'unsafe-inline'"]
    css = "".join(page.styles)
    assert "@import" not in css and "url(" not in css
    assert "style=" not in text


def test_the_level_and_score_are_in_words_and_on_the_gauge(
    fixture_pages: dict[str, tuple[Assessment, str]],
) -> None:
    words = Page(fixture_pages["level2-cicd-platform"][1]).plain_text()
    assert "Level 2 CI/CD pipeline automation" in words
    assert "Score 2.00 of 2.00" in words
    assert 'aria-label="Score 2.00 out of 2.00"' in fixture_pages["level2-cicd-platform"][1]
    words = Page(fixture_pages["level0-notebook-churn"][1]).plain_text()
    assert "Level 0 Manual process" in words
    assert "What stands between this repository and Level 1" in words


def test_the_comparison_table_highlights_the_repository_column(
    fixture_pages: dict[str, tuple[Assessment, str]],
) -> None:
    assessment, text = fixture_pages["level1-dvc-pipeline"]
    page = Page(text)
    here = [attrs for tag, attrs in page.tags if tag == "td" and "here" in (attrs.get("class") or "").split()]
    decided = [d for d in assessment.dimensions if d.level is not None]
    assert [attrs["data-level"] for attrs in here] == [f"Level {d.level}" for d in decided]
    words = page.plain_text()
    assert "Modular packages" in words and "Deploy the model from a registry" in words
    for dimension in assessment.dimensions:
        assert dimension.summary in words


def test_problems_show_the_next_step_and_scaffold_and_the_rest_is_folded(
    fixture_pages: dict[str, tuple[Assessment, str]],
) -> None:
    assessment, text = fixture_pages["level0-notebook-churn"]
    by_id = {f.rule.id: f for f in assessment.findings}
    assert by_id["L1-PIPE-01"].outcome is Outcome.FAIL and by_id["L1-PIPE-01"].rule.scaffold
    assert "mlops-audit scaffold --rule L1-PIPE-01" in Page(text).plain_text()
    assert re.search(r'<article class="finding fail" id="rule-L1-PIPE-01">', text)
    assert re.search(r'<details class="finding folded pass" id="rule-L0-VCS-01">', text)
    handoff = Page(text).plain_text()
    assert "models/churn_model.pkl" in handoff
    assert re.search(r"notebooks/\S+\.ipynb cell \d+:\d+", handoff)


def test_rendering_is_deterministic(tmp_path: Path) -> None:
    first = fixture_assessment("level1-dvc-pipeline", tmp_path / "a")
    second = fixture_assessment("level1-dvc-pipeline", tmp_path / "b")
    assert html.render(first) == html.render(second)


def injected_assessment(root: Path) -> Assessment:
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": 1,
                "metadata": {},
                "outputs": [],
                "source": ["import pandas as pd\n", f'df = pd.read_csv("/home/alice/{EVIL_CODE}.csv")\n'],
            }
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    training = (
        "import pandas as pd\nfrom sklearn.linear_model import LogisticRegression\n\n"
        'df = pd.read_csv("data.csv")\nmodel = LogisticRegression().fit(df[["a"]], df["y"])\n'
    )
    files = {EVIL_FILE: training, "notebooks/explore.ipynb": json.dumps(notebook), "<i>broken</i>.ipynb": "{"}
    make_repo(root, files)
    assessment = run_audit(root, shown_root="<b>repo</b>")
    return dataclasses.replace(assessment, dimensions=dimensions(assessment.findings))


def test_text_from_the_repository_is_escaped(tmp_path: Path) -> None:
    assessment = injected_assessment(tmp_path / "repo")
    shown = {e.path for f in assessment.findings for e in f.evidence} | {
        e.snippet for f in assessment.findings for e in f.evidence
    }
    assert EVIL_FILE in shown and any(EVIL_CODE in (s or "") for s in shown)
    text = html.render(assessment)
    page = Page(text)
    assert page.errors == [] and page.open == []
    assert not {"script", "img", "b", "i"} & set(page.names())
    assert "<img" not in text and "<script" not in text and "<b>" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;.py" in text
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert EVIL_FILE in page.plain_text() and EVIL_CODE in page.plain_text()
    assert any(note.path == "<i>broken</i>.ipynb" for note in assessment.notes)
    assert "<i>" not in text and "<i>broken</i>.ipynb" in page.plain_text()


def test_rule_docs_are_linked_only_when_they_are_web_addresses(
    fixture_pages: dict[str, tuple[Assessment, str]],
) -> None:
    assessment = fixture_pages["level0-notebook-churn"][0]
    finding = next(f for f in assessment.findings if f.rule.id == "L1-PIPE-01")
    evil = dataclasses.replace(finding, rule=dataclasses.replace(finding.rule, docs="javascript:alert(1)"))
    findings = tuple(evil if f is finding else f for f in assessment.findings)
    text = html.render(dataclasses.replace(assessment, findings=findings))
    assert "javascript:" not in text
    assert finding.rule.docs and f'href="{finding.rule.docs}"' not in text  # its own link is gone with it
    assert 'class="docs" href="https://' in text  # the other rules keep theirs


def test_a_repository_without_ml_code_gets_a_banner_and_no_level(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "site", {"README.md": "# A website\n", "app.py": "print('hello')\n"})
    assessment = run_audit(root)
    assert not assessment.applicable
    page = Page(html.render(assessment))
    words = page.plain_text()
    assert "Not applicable: no ML code found" in words
    assert "Maturity level reached" not in words and "gauge" not in " ".join(
        attrs.get("class") or "" for _, attrs in page.tags
    )
    assert page.errors == [] and page.open == []


def test_a_suppressed_problem_is_folded_with_the_team_s_reason(
    fixture_pages: dict[str, tuple[Assessment, str]],
) -> None:
    assessment = fixture_pages["level0-notebook-churn"][0]
    accepted = Suppression("<em>we retrain by hand</em>", Evidence(".mlops-audit.toml", 4))
    findings = tuple(
        dataclasses.replace(f, suppression=accepted) if f.rule.id == "L0-NB-06" else f for f in assessment.findings
    )
    text = html.render(dataclasses.replace(assessment, findings=findings))
    assert re.search(r'<details class="finding folded fail" id="rule-L0-NB-06">', text)
    words = Page(text).plain_text()
    assert "Accepted by the team: <em>we retrain by hand</em> .mlops-audit.toml:4" in words
    assert "<em>" not in text


def test_a_monorepo_lists_its_projects_and_names_the_verdict_s(
    fixture_pages: dict[str, tuple[Assessment, str]],
) -> None:
    assessment, single = fixture_pages["level1-dvc-pipeline"]
    assert "projects-title" not in single
    projects = (ProjectResult("projects/churn", 1, 1.04, True), ProjectResult("tools/<b>lint</b>", 0, 0.0, False))
    text = html.render(dataclasses.replace(assessment, projects=projects, project="projects/churn"))
    page = Page(text)
    assert page.errors == [] and page.open == []
    words = page.plain_text()
    assert "Verdict from project projects/churn" in words
    assert "Projects This repository holds 2 projects" in words
    assert "projects/churn ◆ Verdict Level 1 Pipeline 1.04" in words
    assert "tools/<b>lint</b> No ML code" in words and "<b>lint" not in text
