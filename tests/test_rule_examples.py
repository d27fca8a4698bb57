"""Every built-in rule's own examples: each `pass` example passes, each `fail` example fails, and so on."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_audit.checks import BUILTINS
from mlops_audit.packs import load_rules
from mlops_audit.testing import judge_example

RULES = load_rules([], BUILTINS)
CASES = [
    pytest.param(rule, outcome, example, id=f"{rule.id}-{outcome}-{number}")
    for rule in RULES
    for outcome, examples in rule.examples.items()
    for number, example in enumerate(examples, 1)
]


@pytest.mark.parametrize(("rule", "outcome", "example"), CASES)
def test_rule_example(rule, outcome, example, tmp_path: Path) -> None:
    finding = judge_example(rule, example, tmp_path / "repo")
    assert finding.outcome.value == outcome, f"{rule.id}: {finding.message} {finding.evidence}"


def test_every_rule_has_passing_and_failing_examples() -> None:
    assert len(RULES) >= 40
    for rule in RULES:
        assert rule.examples.get("pass") and rule.examples.get("fail"), rule.id
