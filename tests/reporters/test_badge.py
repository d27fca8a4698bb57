"""The SVG badge: well-formed, self-contained, coloured by level, sized to its text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace

import pytest

from mlops_audit.model import Assessment
from mlops_audit.reporters import badge

SVG = "{http://www.w3.org/2000/svg}"


def parse(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return [element.text or "" for element in root.iter(f"{SVG}text")]


def test_fixture_badges_match_golden(
    fixture_name: str, audited: dict[str, Assessment], golden: Callable[[str, str, str], None]
) -> None:
    text = badge.render(audited[fixture_name])
    parse(text)
    golden(fixture_name, "svg", text)


@pytest.mark.parametrize(("level", "colour"), [(0, "#e05d44"), (1, "#dfb317"), (2, "#4c1")])
def test_badge_shows_level_and_score_in_the_level_colour(sample: Assessment, level: int, colour: str) -> None:
    root = parse(badge.render(replace(sample, level=level)))
    value = f"{level} · 1.38"
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == f"mlops level: {value}"
    assert root.get("aria-label") == f"mlops level: {value}" and root.get("role") == "img"
    assert texts(root) == ["mlops level", "mlops level", value, value]  # each with its shadow
    fills = [rect.get("fill") for rect in root.iter(f"{SVG}rect")]
    assert fills == ["#fff", "#555", colour, "url(#s)"]


def test_not_applicable_badge_is_grey(sample: Assessment) -> None:
    root = parse(badge.render(replace(sample, applicable=False)))
    assert texts(root)[2] == "n/a"
    assert "#9f9f9f" in [rect.get("fill") for rect in root.iter(f"{SVG}rect")]


def test_width_follows_the_text(sample: Assessment) -> None:
    root = parse(badge.render(sample))
    rects = list(root.iter(f"{SVG}rect"))
    label, value = int(rects[1].get("width", "")), int(rects[2].get("width", ""))
    assert int(root.get("width", "")) == label + value == int(rects[0].get("width", ""))
    assert rects[2].get("x") == str(label)
    assert label == round(badge.text_width("mlops level")) + 2 * badge.PADDING
    assert 50 < badge.text_width("mlops level") < 80  # about what Verdana 11px gives
    assert badge.text_width("mmm") > badge.text_width("iii")
    text_x = [float(t.get("x", "")) for t in root.iter(f"{SVG}text")]
    assert text_x == [label / 2, label / 2, label + value / 2, label + value / 2]


def test_badge_is_self_contained_and_holds_no_repository_text(hostile: Assessment) -> None:
    text = badge.render(hostile)
    root = parse(text)
    assert "href" not in text and "<script" not in text and "<image" not in text
    assert hostile.root not in text and "@" not in text
    assert text.endswith("</svg>\n") and int(root.get("height", "")) == 20
