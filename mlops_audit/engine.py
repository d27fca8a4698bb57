"""Judge facts with rules: each rule becomes a finding with an outcome, a message and evidence."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mlops_audit.conditions import Builtin, Evaluator, Verdict, compile_patterns
from mlops_audit.facts import Facts
from mlops_audit.model import Finding, Outcome, Rule

DEFAULT_MESSAGES = {
    Outcome.PASS: "{title}: found.",
    Outcome.PARTIAL: "{title}: only partly in place.",
    Outcome.FAIL: "{title}: not found.",
    Outcome.NOT_APPLICABLE: "{title}: does not apply to this repository.",
    Outcome.UNKNOWN: "{title}: cannot be decided from the repository alone.",
}


def judge(rules: Iterable[Rule], facts: Facts, builtins: Mapping[str, Builtin]) -> list[Finding]:
    evaluate = Evaluator(facts, builtins)
    return [judge_rule(rule, evaluate) for rule in rules]


def compile_rules(rules: Iterable[Rule]) -> None:
    """Compile the patterns of every condition of the rules now, once (see `compile_patterns`)."""
    for rule in rules:
        for condition in (rule.applies, rule.check, rule.partial):
            if condition is not None:
                compile_patterns(condition)


def judge_rule(rule: Rule, evaluate: Evaluator) -> Finding:
    outcome, verdict = _decide(rule, evaluate)
    template = rule.messages.get(outcome.value) or DEFAULT_MESSAGES[outcome]
    message = template.format_map(
        {"title": rule.title, "detail": verdict.detail or "none", "count": len(verdict.evidence)}
    )
    return Finding(rule, outcome, message, verdict.evidence)


def _decide(rule: Rule, evaluate: Evaluator) -> tuple[Outcome, Verdict]:
    if rule.applies is not None:
        applies = evaluate(rule.applies)
        if applies.value is False:
            return Outcome.NOT_APPLICABLE, applies
    verdict = evaluate(rule.check)
    if verdict.value:
        return Outcome.PASS, verdict
    if rule.partial is not None:
        partial = evaluate(rule.partial)
        if partial.value:
            return Outcome.PARTIAL, partial
    if verdict.value is None:
        return Outcome.UNKNOWN, verdict
    return Outcome.FAIL, verdict
