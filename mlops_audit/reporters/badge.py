"""A flat, shields-style SVG badge: "mlops level | 1 · 1.38", coloured by level.

The badge holds no repository text, only the level and score, so it is safe to publish. Text widths are
estimated from Verdana 11px character widths, as badge renderers do, since no font is measured here.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from mlops_audit.model import Assessment

LABEL = "mlops level"
HEIGHT = 20
PADDING = 6  # each side of a text
COLOURS = {0: "#e05d44", 1: "#dfb317", 2: "#4c1"}
GREY = "#9f9f9f"
FONT = "Verdana,Geneva,DejaVu Sans,sans-serif"

# Approximate advance widths in pixels of Verdana at 11px; other characters count as DEFAULT_WIDTH.
_WIDTHS = {
    **dict.fromkeys("0123456789", 7.0),
    **dict.fromkeys(" .,:;·|!'", 3.9),
    **dict.fromkeys("il", 3.0),
    **dict.fromkeys("fjt", 4.0),
    **dict.fromkeys("r/-()", 4.8),
    **dict.fromkeys("cksvxyz", 6.0),
    **dict.fromkeys("abdeghnopqu", 6.8),
    "m": 10.7,
    "w": 9.0,
}
DEFAULT_WIDTH = 7.5


def text_width(text: str) -> float:
    """Estimated width in pixels of `text` in Verdana 11px."""
    return sum(_WIDTHS.get(char, DEFAULT_WIDTH) for char in text)


def render(assessment: Assessment) -> str:
    """The badge as a self-contained SVG document ending with a newline."""
    if assessment.applicable:
        value, colour = f"{assessment.level} · {assessment.score:.2f}", COLOURS.get(assessment.level, GREY)
    else:
        value, colour = "n/a", GREY
    left = round(text_width(LABEL)) + 2 * PADDING
    right = round(text_width(value)) + 2 * PADDING
    width = left + right
    svg = ET.Element(
        "svg",
        xmlns="http://www.w3.org/2000/svg",
        width=str(width),
        height=str(HEIGHT),
        role="img",
        **{"aria-label": f"{LABEL}: {value}"},
    )
    ET.SubElement(svg, "title").text = f"{LABEL}: {value}"
    gradient = ET.SubElement(svg, "linearGradient", id="s", x2="0", y2="100%")
    ET.SubElement(gradient, "stop", offset="0", **{"stop-color": "#bbb", "stop-opacity": ".1"})
    ET.SubElement(gradient, "stop", offset="1", **{"stop-opacity": ".1"})
    clip = ET.SubElement(svg, "clipPath", id="r")
    ET.SubElement(clip, "rect", width=str(width), height=str(HEIGHT), rx="3", fill="#fff")
    shapes = ET.SubElement(svg, "g", **{"clip-path": "url(#r)"})
    ET.SubElement(shapes, "rect", width=str(left), height=str(HEIGHT), fill="#555")
    ET.SubElement(shapes, "rect", x=str(left), width=str(right), height=str(HEIGHT), fill=colour)
    ET.SubElement(shapes, "rect", width=str(width), height=str(HEIGHT), fill="url(#s)")
    texts = ET.SubElement(svg, "g", fill="#fff", **{"text-anchor": "middle", "font-family": FONT, "font-size": "11"})
    for text, centre in ((LABEL, left / 2), (value, left + right / 2)):
        _text(texts, text, centre)
    return ET.tostring(svg, encoding="unicode") + "\n"


def _text(parent: ET.Element, text: str, centre: float) -> None:
    """The text with its 1px drop shadow, as flat badges draw it."""
    x = f"{centre:g}"
    ET.SubElement(parent, "text", x=x, y="15", fill="#010101", **{"fill-opacity": ".3"}).text = text
    ET.SubElement(parent, "text", x=x, y="14").text = text
