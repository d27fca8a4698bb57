"""`init`: a commented starter configuration, appended to pyproject.toml or in .mlops-audit.toml, never overwriting."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlops_audit.config import load_config
from mlops_audit.errors import AuditError
from mlops_audit.init_config import init_config
from mlops_audit.testing import make_repo

PYPROJECT = '[project]\nname = "churn"\nversion = "0.1.0"\n\n[tool.ruff]\nline-length = 100'  # no final newline
KEY_LINE = re.compile(r"^# (?=[a-z-]+ = |  \{|\]|  +#)")


def uncommented(text: str) -> str:
    """The starter with every key line switched on."""
    return "\n".join(KEY_LINE.sub("", line) for line in text.splitlines()) + "\n"


def test_appends_a_table_to_pyproject_without_touching_its_content(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"pyproject.toml": PYPROJECT})
    written = init_config(root)
    assert written == root / "pyproject.toml"
    text = written.read_text(encoding="utf-8")
    assert text.startswith(PYPROJECT + "\n\n")
    assert "\n[tool.mlops-audit]\n" in text
    config = load_config(root)
    assert config.source == "pyproject.toml [tool.mlops-audit]" and config.select == () and config.suppress == ()


def test_every_key_is_shown_with_its_meaning_and_valid_when_switched_on(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"pyproject.toml": PYPROJECT})
    text = init_config(root).read_text(encoding="utf-8")
    starter = text[len(PYPROJECT):]
    for key in ("select", "ignore", "rules", "format", "min-level", "fail-under", "fail-on", "baseline", "suppress"):
        assert re.search(rf"^# {key} = .+#\s+\S", starter, re.MULTILINE), key
    (root / "pyproject.toml").write_text(uncommented(text), encoding="utf-8")
    config = load_config(root)
    assert config.fail_on == "gate" and config.min_level == 1 and config.fail_under == 1.2
    assert [entry.rule for entry in config.suppress] == ["L1-FS-01", "L0-NB-05"]
    assert config.suppress[1].paths == ("notebooks/explore/*",)


def test_keeps_windows_line_endings(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {}, use_git=False)
    (root / "pyproject.toml").write_bytes(b'[project]\r\nname = "churn"\r\n')
    data = init_config(root).read_bytes()
    assert data.startswith(b'[project]\r\nname = "churn"\r\n\r\n')
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_writes_a_dedicated_file_when_there_is_no_pyproject(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"src/train.py": "print('train')\n"})
    written = init_config(root)
    assert written == root / ".mlops-audit.toml"
    assert "[tool.mlops-audit]" not in written.read_text(encoding="utf-8")
    assert load_config(root).source == ".mlops-audit.toml"
    written.write_text(uncommented(written.read_text(encoding="utf-8")), encoding="utf-8")
    assert load_config(root).format == "text"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"pyproject.toml": '[tool.mlops-audit]\nmin-level = 1\n'}, "already has a [tool.mlops-audit] table"),
        ({".mlops-audit.toml": "min-level = 1\n"}, ".mlops-audit.toml already exists"),
        ({"pyproject.toml": "[project\n"}, "not valid TOML"),
        ({"pyproject.toml": 'tool = {black = {line-length = 88}}\n'}, "cannot be added after its `tool` inline"),
    ],
)
def test_never_overwrites_or_breaks_a_configuration(tmp_path: Path, files: dict[str, str], message: str) -> None:
    root = make_repo(tmp_path / "repo", files, use_git=False)
    before = {name: (root / name).read_bytes() for name in files}
    with pytest.raises(AuditError, match=re.escape(message)):
        init_config(root)
    assert {name: (root / name).read_bytes() for name in files} == before
    assert sorted(p.name for p in root.iterdir()) == sorted(files)


def test_a_second_init_is_refused(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {}, use_git=False)
    init_config(root)
    with pytest.raises(AuditError, match="already exists"):
        init_config(root)
