"""A static proxy of the ML Test Score (Breck et al., IEEE BigData 2017): 28 tests in four sections.

Each test maps to rules. A test earns 0.5 when a rule shows the check exists (passes or partly passes) and 1 when
it is also automated: run by CI, by the pipeline or on a schedule (one of its automation rules passes). Sections
sum their tests; the final score is the minimum of the four sums, as in the paper. Tests no rule can observe
(feature cost, offline/online metric correlation, ...) are left out, so each section also reports its observable
maximum: "Model: 1.5 of 2 observable" reads better than a floor of zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mlops_audit.model import Finding, MLTestResult, MLTestScore, MLTestSection, Outcome


@dataclass(frozen=True, slots=True)
class _Test:
    id: str
    title: str
    evidence: tuple[str, ...]  # rules whose pass (or partial pass) shows the check exists
    automation: tuple[str, ...] = ()  # rules whose pass shows it runs automatically


TESTS = (
    _Test("Data 1", "Feature expectations are captured in a schema", ("L1-DV-01", "L1-DV-02", "L2-DV-05"),
          ("L1-DV-02", "L2-DV-05")),
    _Test("Data 2", "All features are beneficial", ("ANY-MV-07",)),
    _Test("Data 3", "No feature's cost is too much", ()),
    _Test("Data 4", "Features adhere to meta-level requirements", ("L1-DOC-02", "ANY-SEC-04")),
    _Test("Data 5", "The data pipeline has appropriate privacy controls", ("ANY-SEC-01", "ANY-SEC-04"),
          ("ANY-SEC-03",)),
    _Test("Data 6", "New features can be added quickly", ("L1-FS-01", "L1-CODE-02")),
    _Test("Data 7", "All input feature code is tested", ("L1-DV-04",), ("L2-CI-01",)),
    _Test("Model 1", "Model specs are reviewed and submitted", ("L0-VCS-01",), ("L2-CI-01",)),
    _Test("Model 2", "Offline and online metrics correlate", ()),
    _Test("Model 3", "All hyperparameters have been tuned", ("ANY-EXP-05",)),
    _Test("Model 4", "The impact of model staleness is known", ("L2-MON-06",)),
    _Test("Model 5", "A simpler model is not better", ("ANY-MV-05",)),
    _Test("Model 6", "Model quality is sufficient on all important data slices", ("L1-MV-04",)),
    _Test("Model 7", "The model is tested for considerations of inclusion", ("ANY-MV-06",)),
    _Test("Infra 1", "Training is reproducible", ("L1-ENV-02", "L1-ENV-04", "L1-DATA-02", "L1-REPRO-02"),
          ("L1-PIPE-01",)),
    _Test("Infra 2", "Model specs are unit tested", ("L1-TEST-02",), ("L2-CI-01",)),
    _Test("Infra 3", "The full ML pipeline is integration tested", ("L2-TEST-03",), ("L2-CI-01",)),
    _Test("Infra 4", "Model quality is validated before attempting to serve it", ("L1-MV-02", "L2-MV-03"),
          ("L1-PIPE-01", "L2-CI-03")),
    _Test("Infra 5", "The model allows debugging on a single example", ("ANY-MV-07",)),
    _Test("Infra 6", "Models are tested via a canary process before production", ("L2-DEP-04",), ("L2-CI-03",)),
    _Test("Infra 7", "Models can be quickly and safely rolled back", ("L2-DEP-05", "L1-REG-03", "L1-REG-04"),
          ("L2-CI-03",)),
    _Test("Monitor 1", "Dependency changes result in notification", ("L2-CI-06",), ("L2-CI-06",)),
    _Test("Monitor 2", "Data invariants hold in training and serving inputs", ("L1-DV-02", "L2-MON-02"),
          ("L1-DV-02", "L2-MON-02")),
    _Test("Monitor 3", "Training and serving features compute the same values", ("L1-FS-02", "L2-MON-02"),
          ("L2-MON-02",)),
    _Test("Monitor 4", "Models are not too stale", ("L1-CT-01", "L2-MON-06"), ("L1-CT-01",)),
    _Test("Monitor 5", "The model is numerically stable", ("ANY-MON-05",)),
    _Test("Monitor 6", "No regressions in training speed, serving latency, throughput or RAM", ("L1-MON-04",)),
    _Test("Monitor 7", "No regression in prediction quality on served data", ("L2-MON-03",), ("L2-MON-03",)),
)
SECTIONS = ("Data", "Model", "Infra", "Monitor")
BANDS = (
    (0.0, "more of a research project than a productionized system"),
    (1.0, "not totally untested, but there may be serious holes in reliability"),
    (2.0, "a first pass at basic productionization"),
    (3.0, "reasonably tested; more may be automated"),
    (5.0, "strong automated testing and monitoring, fit for mission-critical systems"),
)
EXCEPTIONAL = "exceptional"
COUNTED = (Outcome.PASS, Outcome.PARTIAL, Outcome.FAIL)


def ml_test_score(findings: Sequence[Finding]) -> MLTestScore:
    outcomes = {f.rule.id: f.outcome for f in findings if f.suppression is None}
    sections = tuple(
        _section(name, [_result(test, outcomes) for test in TESTS if test.id.split()[0] == name])
        for name in SECTIONS
    )
    final = min(section.score for section in sections)
    return MLTestScore(final=final, band=band(final), sections=sections)


def band(score: float) -> str:
    """The paper's reading of a final score (its Table V)."""
    for ceiling, meaning in BANDS:
        if score <= ceiling:
            return meaning
    return EXCEPTIONAL


def _result(test: _Test, outcomes: dict[str, Outcome]) -> MLTestResult:
    seen = [rule for rule in test.evidence if outcomes.get(rule) in COUNTED]
    if not seen:
        return MLTestResult(test.id, test.title, None, ())
    exists = any(outcomes[rule] in (Outcome.PASS, Outcome.PARTIAL) for rule in seen)
    automated = any(outcomes.get(rule) is Outcome.PASS for rule in test.automation)
    passed = any(outcomes[rule] is Outcome.PASS for rule in seen)
    value = 1.0 if passed and automated else 0.5 if exists else 0.0
    return MLTestResult(test.id, test.title, value, tuple(seen))


def _section(name: str, results: list[MLTestResult]) -> MLTestSection:
    observed = [r for r in results if r.value is not None]
    return MLTestSection(
        name=name,
        score=sum(r.value or 0.0 for r in observed),
        observable_max=float(len(observed)),
        tests=tuple(results),
    )
