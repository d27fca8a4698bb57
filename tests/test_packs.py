"""Rule packs: validation on load with errors naming the file and the rule, selection by id, prefix or slug."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mlops_audit.errors import PackError
from mlops_audit.packs import find_rule, load_pack, select_rules

VALID = {
    "id": "ACME-PIPE-01",
    "slug": "acme-pipeline",
    "title": "Pipelines live under pipelines/",
    "level": 1,
    "category": "PIPE",
    "weight": 1,
    "gate": False,
    "confidence": "A",
    "rationale": "Our platform deploys what is under pipelines/.",
    "source": "ACME platform handbook",
    "check": {"file": "pipelines/*.py"},
    "remediation": "Move the pipeline definition to pipelines/.",
    "examples": {"pass": [{"files": {"pipelines/train.py": ""}}], "fail": [{"files": {"train.py": ""}}]},
}


def write_pack(tmp_path: Path, *rules: dict, name: str = "acme.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"pack": "acme", "rules": list(rules)}))
    return path


def test_valid_pack_loads(tmp_path: Path) -> None:
    [rule] = load_pack(write_pack(tmp_path, VALID), {})
    assert (rule.id, rule.level, rule.pack, rule.gate_group) == ("ACME-PIPE-01", 1, "acme.yaml", None)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "pipe1"}, "`id` must look like"),
        ({"slug": "Not A Slug"}, "kebab-case"),
        ({"level": 3}, "`level` must be"),
        ({"category": "XYZ"}, "`category` must be one of"),
        ({"weight": 0}, "positive number"),
        ({"confidence": "D"}, "A, B or C"),
        ({"level": 0, "gate": True}, "only Level 1 and Level 2"),
        ({"gate": True, "confidence": "C"}, "cannot gate"),
        ({"gate_group": "x"}, "needs `gate: true`"),
        ({"colour": "red"}, "unknown key `colour`"),
        ({"check": {"fils": "x"}}, "check: expected exactly one of"),
        ({"examples": {"pass": []}}, "`pass` and a `fail`"),
        ({"messages": {"win": "x"}}, "`messages` keys"),
    ],
)
def test_invalid_rule_names_file_rule_and_problem(tmp_path: Path, change: dict, message: str) -> None:
    path = write_pack(tmp_path, {**VALID, **change})
    with pytest.raises(PackError) as error:
        load_pack(path, {})
    assert str(path) in str(error.value) and message in str(error.value)
    assert "rule " in str(error.value)


def test_missing_fields_are_all_listed(tmp_path: Path) -> None:
    path = write_pack(tmp_path, {"id": "ACME-PIPE-02"})
    with pytest.raises(PackError, match="missing `slug`.*missing `title`"):
        load_pack(path, {})


def test_not_yaml_and_wrong_shape(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("rules: [\n")
    with pytest.raises(PackError, match="not valid YAML"):
        load_pack(broken, {})
    listy = tmp_path / "list.yaml"
    listy.write_text("- a\n- b\n")
    with pytest.raises(PackError, match="mapping with a `rules` list"):
        load_pack(listy, {})


def test_selection_by_id_prefix_and_slug(tmp_path: Path) -> None:
    rules = load_pack(
        write_pack(tmp_path, VALID, {**VALID, "id": "ACME-DOC-01", "slug": "acme-docs", "category": "DOC"}), {}
    )
    assert [r.id for r in select_rules(rules, ["ACME-PIPE"], [])] == ["ACME-PIPE-01"]
    assert [r.id for r in select_rules(rules, [], ["acme-docs"])] == ["ACME-PIPE-01"]
    assert [r.id for r in select_rules(rules, ["acme"], ["ACME-PIPE-01"])] == ["ACME-DOC-01"]
    with pytest.raises(PackError, match="`L9` matches no rule"):
        select_rules(rules, ["L9"], [])
    assert find_rule(rules, "acme-pipe-01").id == "ACME-PIPE-01"
    assert find_rule(rules, "acme-docs").id == "ACME-DOC-01"
