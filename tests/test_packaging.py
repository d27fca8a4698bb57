"""The wheel ships the rule packs, the report schema and templates, and the tool's data files."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_packs_schema_and_data(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("mlops_audit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    packs = {f"mlops_audit/rules/{p.name}" for p in (ROOT / "rules").glob("*.yaml")}
    assert packs and packs <= names
    assert "mlops_audit/reports/report.schema.json" in names
    assert "mlops_audit/analyzers/signatures.yaml" in names
    html_templates = {f"mlops_audit/reports/html/{p.name}" for p in (ROOT / "reports" / "html").iterdir()}
    assert html_templates and html_templates <= names
    scaffold_dir = ROOT / "mlops_audit" / "scaffold" / "templates"
    scaffold_templates = {p.relative_to(ROOT).as_posix() for p in scaffold_dir.rglob("*.j2")}
    assert scaffold_templates and scaffold_templates <= names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "mlops-audit = mlops_audit.cli:run" in zipfile.ZipFile(wheel).read(entry_points).decode()
