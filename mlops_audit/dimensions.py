"""Where the repository stands on each row of the maturity model's comparison table (code, training, ...).

Each row lists, for Levels 1 and 2, the practices it needs; a practice is met when one of its rules passes. A
row's level is the highest whose practices are all met, stopping at the first level with a practice that is not
met (failed or partial). A level whose rules are all absent (ignored), unknown or not applicable decides
nothing: it neither raises nor stops the row. When Level 1 is not met the row is at Level 0, unless the row's
Level 0 cannot be told from files (release cadence); when nothing decides, the level is None. Failing "signs"
(rules whose failure shows the Level-0 practice, e.g. a committed model file) decide Level 0 when Levels 1 and 2
decide nothing, and are its evidence.

When git history gives the change cadence, the release-cycle row is measured instead: Level 2 when continuous
deployment delivers pipeline or training-code changes made at least weekly on median; Level 1 when pipeline or
data-pointer changes are at least weekly on median, or retraining is scheduled; Level 0 when ML paths changed
fewer than `MIN_CHANGES` times in the year or less often than every `MONTHLY_DAYS` days on median. Between
weekly and monthly, the rules decide as without history, but never above Level 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import zip_longest

from mlops_audit.analyzers.git_history import PIPELINE, POINTERS, TRAINING, Cadence, ChangeRate, GitFacts
from mlops_audit.model import Dimension, Evidence, Finding, Outcome

MAX_EVIDENCE = 5
UNKNOWN = "Unknown from static evidence"
RELEASE_CYCLE = "Release cycle"
SCHEDULED = "L1-CT-01"
WEEKLY_DAYS = 7
MONTHLY_DAYS = 30
MIN_CHANGES = 6  # fewer ML changes in a year is a release cycle of months


@dataclass(frozen=True, slots=True)
class Practice:
    label: str  # a noun phrase: "an orchestrated pipeline"
    rules: tuple[str, ...]  # met when one of them passes


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    columns: tuple[str, str, str]  # the model's wording for Levels 0, 1 and 2
    phrases: tuple[str | None, str, str]  # the repository at each level; None: Level 0 is not visible in files
    needs: tuple[tuple[Practice, ...], tuple[Practice, ...]]  # practices of Levels 1 and 2
    signs: tuple[str, ...] = ()  # rules whose failure shows the Level-0 practice


def _practice(label: str, *rules: str) -> Practice:
    return Practice(label, rules)


RETRAINING = ("L1-CT-01", "L1-CT-02")
ROWS: tuple[Row, ...] = (
    Row(
        "Code",
        ("Notebooks and monolithic scripts", "Modular scripts (containerized)", "Modular packages"),
        ("Notebooks or monolithic scripts", "Modular pipeline steps", "Modular steps in an importable package"),
        ((_practice("modular pipeline steps", "L1-CODE-02"),), (_practice("an importable package", "L1-CODE-03"),)),
        signs=("L0-NB-01",),
    ),
    Row(
        "Training",
        ("Manual", "Automated (scheduled or triggered)", "Automated and tested"),
        ("Manual training runs", "Orchestrated pipeline, scheduled or triggered", "Automated pipeline, tested in CI"),
        (
            (
                _practice("an orchestrated pipeline", "L1-PIPE-01"),
                _practice("scheduled or triggered retraining", *RETRAINING),
            ),
            (
                _practice("tests in CI on every change", "L2-CI-01"),
                _practice("the pipeline built or integration-tested in CI", "L2-CI-02", "L2-TEST-03"),
            ),
        ),
    ),
    Row(
        "Versioning",
        ("None", "Data and code versioned, metadata store", "+ Feature store"),
        (
            "Versioning incomplete",
            "Data and code versioned, runs recorded",
            "Data, code and runs versioned, feature store",
        ),
        (
            (
                _practice("data versioning", "L1-DATA-02"),
                _practice("a metadata store", "L1-EXP-04", "L1-EXP-01"),
                _practice("code versioning", "L0-VCS-01"),
            ),
            (_practice("a feature store", "L1-FS-01"),),
        ),
        signs=("L0-DATA-01",),
    ),
    Row(
        "Deployment",
        ("“Here is the .pkl file”", "Deploy the model from a registry", "Deploy the pipeline code"),
        ("Model files handed off", "Models deployed from a registry or by automation", "CI/CD deploys with promotion"),
        (
            (_practice("deployment from a registry or by automation", "L1-REG-04", "L1-DEP-02"),),
            (
                _practice("continuous deployment", "L2-CI-03"),
                _practice("promotion through environments or against production", "L2-DEP-03", "L2-MV-03"),
            ),
        ),
        signs=("L0-REG-01",),
    ),
    Row(
        "Testing",
        ("None (visual check)", "Model validation", "CI (unit) + CD (integration)"),
        ("Models checked by hand", "Models validated on metrics", "Unit, data and integration tests in CI"),
        (
            (_practice("an offline evaluation that keeps metrics, or a metric gate", "L1-MV-01", "L1-MV-02"),),
            (
                _practice("unit tests in CI", "L2-CI-01"),
                _practice("data tests in CI", "L2-DV-05"),
                _practice("integration tests", "L2-TEST-03"),
            ),
        ),
        signs=("L0-TEST-01",),
    ),
    Row(
        "Release cycle",
        ("Weeks or months", "Daily or weekly (data refresh)", "Hourly (code changes)"),
        (None, "Releases follow data refreshes", "Releases follow code changes"),
        (
            (_practice("scheduled or triggered retraining, or continuous deployment", *RETRAINING, "L2-CI-03"),),
            (_practice("continuous deployment", "L2-CI-03"),),
        ),
    ),
)


def dimensions(findings: Sequence[Finding], git: GitFacts | None = None) -> tuple[Dimension, ...]:
    """One `Dimension` per row of `ROWS`, in order; rules that were not run (ignored) are simply absent.

    `git` gives the release-cycle row its measured cadence, when history could be read."""
    by_id = {finding.rule.id: finding for finding in findings}
    cadence = git.cadence if git is not None else None
    return tuple(
        _release_cycle(row, by_id, cadence) if row.name == RELEASE_CYCLE and cadence is not None
        else _dimension(row, by_id)
        for row in ROWS
    )


def _met(practice: Practice, by_id: dict[str, Finding]) -> bool | None:
    """True when one of its rules passes, False when one fails or is partial, None when none decides."""
    outcomes = {by_id[rule].outcome for rule in practice.rules if rule in by_id}
    if Outcome.PASS in outcomes:
        return True
    return False if outcomes & {Outcome.FAIL, Outcome.PARTIAL} else None


def _climb(row: Row, by_id: dict[str, Finding]) -> tuple[int | None, int | None, list[Practice]]:
    """The highest level met, the level where the climb stopped (None: it did not) and that level's unmet practices."""
    level = None
    for number, practices in enumerate(row.needs, start=1):
        met = [_met(practice, by_id) for practice in practices]
        if False in met:
            return level, number, [p for p, ok in zip(practices, met) if ok is False]
        if all(met):
            level = number
    return level, None, []


def _dimension(row: Row, by_id: dict[str, Finding]) -> Dimension:
    level, stop, missing = _climb(row, by_id)
    signs = [by_id[rule] for rule in row.signs if rule in by_id and by_id[rule].outcome is Outcome.FAIL]
    if level is None and row.phrases[0] is not None and (stop == 1 or signs):
        level = 0
    if level is None:
        return Dimension(row.name, None, UNKNOWN, ())
    if stop != level + 1:
        missing = []
    deciding = _passing(row, level, by_id) + (signs if level == 0 else [])
    deciding += [by_id[rule] for practice in missing for rule in practice.rules if rule in by_id]
    return Dimension(
        row.name,
        level,
        _summary(row.phrases[level] or UNKNOWN, level, missing),
        tuple(dict.fromkeys(f.rule.id for f in deciding)),
        _evidence(deciding),
    )


def _release_cycle(row: Row, by_id: dict[str, Finding], cadence: Cadence) -> Dimension:
    """The release-cycle row from how often ML paths changed, with the rules for delivery and schedules."""
    delivered = cadence.rate(PIPELINE, TRAINING)
    refreshed = cadence.rate(PIPELINE, POINTERS)
    shown = refreshed if refreshed.commits else delivered
    measured = _measured(shown, "pipeline and data pointers" if refreshed.commits else "pipeline and training code",
                         cadence.truncated)
    deploys = all(_met(practice, by_id) is True for practice in row.needs[1])
    deploy_rules = [by_id[rule] for practice in row.needs[1] for rule in practice.rules if rule in by_id]
    if deploys and _weekly(delivered):
        said = _measured(delivered, "pipeline and training code", cadence.truncated)
        return _cadence_row(row, 2, f"{row.phrases[2]}: {said}, delivered by continuous deployment", deploy_rules,
                            delivered)
    missing = "; missing for Level 2: " + (
        "pipeline or training-code changes at least weekly" if deploys else "continuous deployment"
    )
    if _weekly(refreshed):
        return _cadence_row(row, 1, f"{row.phrases[1]}: {measured}{missing}", deploy_rules, refreshed)
    if SCHEDULED in by_id and by_id[SCHEDULED].outcome is Outcome.PASS:
        summary = f"Retraining is scheduled: {measured}{missing}"
        return _cadence_row(row, 1, summary, [by_id[SCHEDULED], *deploy_rules], shown)
    everything = cadence.rate(TRAINING, PIPELINE, POINTERS)
    if everything.commits < MIN_CHANGES or (everything.median_days or 0) > MONTHLY_DAYS:
        said = _measured(everything, "training code, pipeline and data pointers", cadence.truncated)
        return _cadence_row(row, 0, f"Releases weeks or months apart: {said}", [], everything)
    ruled = _dimension(row, by_id)  # between weekly and monthly: the rules decide, up to Level 1
    if ruled.level is None:
        return _cadence_row(row, None, f"Changes between weekly and monthly: {measured}", [], shown)
    return replace(ruled, level=min(ruled.level, 1), summary=f"{row.phrases[1]}: {measured}{missing}")


def _weekly(rate: ChangeRate) -> bool:
    return rate.commits >= MIN_CHANGES and rate.median_days is not None and rate.median_days <= WEEKLY_DAYS


def _cadence_row(row: Row, level: int | None, summary: str, deciding: list[Finding], rate: ChangeRate) -> Dimension:
    """A release-cycle row decided by the cadence: its evidence is the paths changed most often."""
    return Dimension(row.name, level, summary, tuple(dict.fromkeys(f.rule.id for f in deciding)), rate.top_paths)


def _measured(rate: ChangeRate, subject: str, truncated: bool) -> str:
    """What was measured: "pipeline and data pointers changed 48 times in the last year, every 6 days on median"."""
    if rate.commits == 0:
        return f"{subject} did not change in the last year"
    if rate.commits == 1:
        return f"{subject} changed once in the last year"
    said = f"{subject} changed {'at least ' if truncated else ''}{rate.commits} times in the last year"
    if rate.median_days is not None:
        said += f", {_every(rate.median_days)} on median"
    if rate.bot_share:
        said += f" ({rate.bot_share:.0%} by bots)"
    return said


def _every(days: float) -> str:
    if days < 1:
        hours = max(1, round(days * 24))
        return "every hour" if hours == 1 else f"every {hours} hours"
    whole = round(days)
    return "every day" if whole == 1 else f"every {whole} days"


def _passing(row: Row, level: int, by_id: dict[str, Finding]) -> list[Finding]:
    """The passing findings behind the practices met up to `level`, highest level first."""
    return [
        by_id[rule]
        for practices in reversed(row.needs[:level])
        for practice in practices
        for rule in practice.rules
        if rule in by_id and by_id[rule].outcome is Outcome.PASS
    ]


def _summary(phrase: str, level: int, missing: list[Practice]) -> str:
    if not missing:
        return phrase
    labels = [practice.label for practice in missing]
    listed = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    return f"{phrase}; missing for Level {level + 1}: {listed}"


def _evidence(findings: list[Finding]) -> tuple[Evidence, ...]:
    """Up to `MAX_EVIDENCE` items taken in turn from each finding: its first, then its second, ..."""
    turns = zip_longest(*(finding.evidence for finding in findings))
    unique = dict.fromkeys(item for turn in turns for item in turn if item is not None)
    return tuple(unique)[:MAX_EVIDENCE]
