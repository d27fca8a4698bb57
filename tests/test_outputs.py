"""Pairing report formats with files: FORMAT:FILE, -o by extension, one stream to stdout."""

from __future__ import annotations

import pytest

from mlops_audit.errors import AuditError
from mlops_audit.outputs import Output, plan_outputs


def test_default_is_text_to_stdout() -> None:
    assert plan_outputs([], []) == [Output("text", None)]


def test_single_format_pairs_with_single_file() -> None:
    assert plan_outputs(["json"], ["out.txt"]) == [Output("json", "out.txt")]


def test_several_outputs_in_one_run() -> None:
    planned = plan_outputs(["html:report.html", "text"], ["report.sarif", "summary.md"])
    assert planned == [
        Output("html", "report.html"),
        Output("sarif", "report.sarif"),
        Output("markdown", "summary.md"),
        Output("text", None),
    ]


@pytest.mark.parametrize(
    ("formats", "files", "message"),
    [
        (["yaml"], [], "unknown format `yaml`"),
        ([], ["report.pdf"], "cannot tell the format"),
        (["json", "text"], [], "only one format can go to standard output"),
        (["json:a.json"], ["a.json"], "same file"),
    ],
)
def test_ambiguous_requests_are_errors(formats: list[str], files: list[str], message: str) -> None:
    with pytest.raises(AuditError, match=message):
        plan_outputs(formats, files)
