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


def test_gate_baseline_and_suppress_keys(tmp_path: Path) -> None:
    (tmp_path / ".mlops-audit.toml").write_text(
        'fail-on = "error"\nbaseline = "ci/baseline.json"\n\n'
        "[[suppress]]\n"
        "rule = 'l1-fs-01'\n"
        'reason = " batch only "\n\n'
        "[[suppress]]\n"
        'rule = "L0-NB-05"\n'
        'reason = "exploration"\n'
        'paths = ["notebooks/*"]\n'
    )
    config = load_config(tmp_path)
    assert config.fail_on == "error"
    assert config.baseline == (tmp_path / "ci" / "baseline.json").resolve()
    first, second = config.suppress
    assert (first.rule, first.reason, first.paths) == ("L1-FS-01", "batch only", ())
    assert (first.source.path, first.source.line) == (".mlops-audit.toml", 5)
    assert (second.rule, second.paths, second.source.line) == ("L0-NB-05", ("notebooks/*",), 9)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[tool.mlops-audit]\nfail-on = "fatal"\n', "`fail-on` must be one of gate, error, warning"),
        ('[tool.mlops-audit]\nbaseline = "../b.json"\n', "baseline `../b.json` lies outside"),
        ('[tool.mlops-audit]\nsuppress = ["L1-FS-01"]\n', "each `suppress` entry must be a table"),
        ('[tool.mlops-audit]\nsuppress = [{rule = "L1-FS-01"}]\n', "entry for L1-FS-01 needs a `reason`"),
        ('[tool.mlops-audit]\nsuppress = [{rule = "L1-FS-01", reason = "  "}]\n', "needs a `reason`"),
        ('[tool.mlops-audit]\nsuppress = [{reason = "x"}]\n', "needs a `rule` id"),
        ('[tool.mlops-audit]\nsuppress = [{rule = "A", reason = "x", why = 1}]\n', "unknown key `why`"),
        ('[tool.mlops-audit]\nsuppress = [{rule = "A", reason = "x", paths = "src"}]\n', "`paths` must be a list"),
        ('[tool.mlops-audit]\nsuppress = {rule = "A"}\n', "`suppress` has the wrong type"),
    ],
)
def test_bad_gate_and_suppress_configuration(tmp_path: Path, body: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(body)
    with pytest.raises(ConfigError, match="pyproject.toml") as error:
        load_config(tmp_path)
    assert message in str(error.value)
