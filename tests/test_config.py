"""Configuration from the audited repository's pyproject.toml or .mlops-audit.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_audit.config import Config, load_config
from mlops_audit.errors import ConfigError


def test_no_configuration_gives_defaults(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert load_config(tmp_path) == Config()


def test_pyproject_table(tmp_path: Path) -> None:
    (tmp_path / "packs").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        '[tool.mlops-audit]\nselect = ["L1"]\nignore = ["L1-DOC-02"]\nfail-under = 1.2\nmin-level = 1\n'
        'rules = ["packs/acme.yaml"]\nformat = "json"\n'
    )
    config = load_config(tmp_path)
    assert config.select == ("L1",) and config.ignore == ("L1-DOC-02",)
    assert (config.fail_under, config.min_level, config.format) == (1.2, 1, "json")
    assert config.rules == ((tmp_path / "packs" / "acme.yaml").resolve(),)
    assert config.source == "pyproject.toml [tool.mlops-audit]"


def test_dedicated_file_wins_and_may_use_top_level_keys(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.mlops-audit]\nmin-level = 2\n')
    (tmp_path / ".mlops-audit.toml").write_text("min-level = 1\n")
    assert load_config(tmp_path).min_level == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[tool.mlops-audit]\ncolour = 1\n", "unknown key `colour`"),
        ("[tool.mlops-audit]\nmin-level = 5\n", "`min-level` must be 0, 1 or 2"),
        ("[tool.mlops-audit]\nselect = 'L1'\n", "wrong type"),
        ("[tool.mlops-audit]\nfail-under = true\n", "wrong type"),
        ("[tool.mlops-audit]\nrules = ['../../etc/passwd']\n", "outside the audited repository"),
        ("[tool.mlops-audit\n", "not valid TOML"),
    ],
)
def test_bad_configuration_is_a_clear_error(tmp_path: Path, body: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(body)
    with pytest.raises(ConfigError, match="pyproject.toml") as error:
        load_config(tmp_path)
    assert message in str(error.value)
