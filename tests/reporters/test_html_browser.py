"""The HTML report in a real headless Chromium: it renders, fits a phone without sideways scrolling, screenshots.

Skipped when Chromium is not installed, except in CI (`CI=true`), where a missing browser is a failure.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from mlops_audit.audit import run_audit
from mlops_audit.dimensions import dimensions
from mlops_audit.reporters import html
from mlops_audit.testing import make_repo

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
MEASURE = (  # the page's policy forbids scripts: the measured copy allows this one
    "<script>document.body.dataset.overflow = "
    "String(document.documentElement.scrollWidth - document.documentElement.clientWidth);</script>"
)


def find_chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("Chromium is required in CI")
    pytest.skip("Chromium is not installed")


def chromium(browser: str, profile: Path, page: Path, *flags: str) -> str:
    command = [browser, *FLAGS, f"--user-data-dir={profile}", *flags, page.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("repo") / "level2-cicd-platform"
    shutil.copytree(FIXTURES / "level2-cicd-platform", root)
    assessment = run_audit(make_repo(root, {}, commits=3), shown_root="level2-cicd-platform")
    assessment = dataclasses.replace(assessment, dimensions=dimensions(assessment.findings))
    page = tmp_path_factory.mktemp("html") / "report.html"
    page.write_text(html.render(assessment), encoding="utf-8")
    return page


def test_the_level_is_rendered(report: Path, tmp_path: Path) -> None:
    dom = chromium(find_chromium(), tmp_path / "profile", report, "--window-size=1280,2000", "--dump-dom")
    assert "Level 2" in dom and "CI/CD pipeline automation" in dom
    assert "Where the repository stands" in dom


@pytest.mark.parametrize("width", [375, 1280])
def test_nothing_scrolls_sideways(report: Path, tmp_path: Path, width: int) -> None:
    measured = tmp_path / "measured.html"
    text = report.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>")
    measured.write_text(text.replace("default-src 'none'", "default-src 'none'; script-src 'unsafe-inline'"), "utf-8")
    dom = chromium(find_chromium(), tmp_path / "profile", measured, f"--window-size={width},1200", "--dump-dom")
    assert 'data-overflow="0"' in dom


@pytest.mark.parametrize(("name", "size"), [("desktop", (1280, 2000)), ("phone", (390, 2400))])
def test_screenshots(report: Path, tmp_path: Path, name: str, size: tuple[int, int]) -> None:
    shot = tmp_path / f"{name}.png"
    window = f"--window-size={size[0]},{size[1]}"
    chromium(find_chromium(), tmp_path / "profile", report, f"--screenshot={shot}", window)
    assert png_size(shot) == size
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
