"""The file-level lint for pre-commit: only the checks that a single file can fail, on the files given.

The inventory holds the files given plus the few files that decide whether they are fine: `.dvc` pointers,
`dvc.yaml` and `.gitattributes` in their folders (DVC and git-lfs coverage), and the pre-commit and jupytext
configuration (stripped notebook outputs). Its cost grows with the files given, never with the repository.
The analyzers and the rules are those of the audit: each problem is a piece of a failing rule's evidence, and
suppressions (inline or configured) silence it as they do in the audit. One check is the lint's own: a Python file
that calls a randomised splitter or estimator without `random_state` and sets no seed (reported as L1-ENV-04).
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath

from mlops_audit.audit import AuditOptions
from mlops_audit.checks import BUILTINS
from mlops_audit.engine import judge
from mlops_audit.facts import Facts, collect_facts
from mlops_audit.inventory import inventory_of
from mlops_audit.model import Evidence, Outcome, Rule
from mlops_audit.packs import load_rules, select_rules
from mlops_audit.suppressions import scan_inline

# The rules a file can fail on its own, with the terse problem each piece of evidence is.
LINT_RULES = {
    "ANY-SEC-01": "hard-coded secret or credential file",
    "L0-VCS-04": "notebook saved with outputs; strip them (nbstripout) or pair it with jupytext",
    "L0-NB-02": "notebook executed out of order; restart the kernel and run all cells",
    "L0-NB-05": "machine-specific absolute path",
    "L0-DATA-01": "large dataset committed outside DVC or git-lfs",
    "L0-REG-01": "model file committed outside DVC or git-lfs",
}
ARTIFACT_RULES = frozenset({"L0-DATA-01", "L0-REG-01"})
SEED_RULE = "L1-ENV-04"
SEED_MESSAGE = "no random_state and no seed set in this file"
# Calls whose result changes from run to run unless `random_state` is given (resolved dotted names, globs).
RANDOM_CALLS = (
    "sklearn.model_selection.train_test_split", "sklearn.model_selection.*ShuffleSplit", "sklearn.utils.shuffle",
    "sklearn.utils.resample", "sklearn.ensemble.RandomForest*", "sklearn.ensemble.ExtraTrees*",
    "sklearn.ensemble.*GradientBoosting*", "sklearn.ensemble.AdaBoost*", "sklearn.ensemble.Bagging*",
    "sklearn.ensemble.IsolationForest", "sklearn.tree.DecisionTree*", "sklearn.tree.ExtraTree*",
    "sklearn.linear_model.SGD*", "sklearn.cluster.KMeans", "sklearn.cluster.MiniBatchKMeans",
    "sklearn.neural_network.MLP*",
)
ROOT_CONTEXT = (".pre-commit-config.yaml", ".pre-commit-config.yml", "jupytext.toml", ".jupytext.toml", ".jupytext")


@dataclass(frozen=True, slots=True)
class Problem:
    rule: str
    message: str
    evidence: Evidence

    def render(self) -> str:
        snippet = self.evidence.snippet
        detail = f": {snippet}" if snippet and snippet != self.evidence.path else ""
        return f"{self.evidence.where()}: {self.rule} {self.message}{detail}"


@dataclass(frozen=True, slots=True)
class LintResult:
    files: tuple[str, ...]  # the files linted, relative to the root
    problems: tuple[Problem, ...]


def lint(root: str | Path, files: Sequence[str], options: AuditOptions = AuditOptions()) -> LintResult:
    """Lint `files` (relative to `root`, or absolute; files outside it are left out) with the file-level rules.

    The options' selection and suppressions apply as in the audit, and inline `ignore[...]` comments in the files.
    """
    root = Path(root).resolve()
    linted = sorted({rel for name in files if (rel := _relative(root, name)) is not None})
    inventory = inventory_of(root, [*linted, *_context(root, linted)])
    linted = [path for path in linted if inventory.get(path) is not None]
    facts = collect_facts(inventory)
    rules = select_rules(load_rules(options.extra_packs, BUILTINS), options.select, options.ignore)
    problems = [*_rule_problems(facts, [rule for rule in rules if rule.id in LINT_RULES], set(linted))]
    if SEED_RULE in {rule.id for rule in rules}:
        problems += _unseeded(facts, set(linted))
    inline, _ = scan_inline(inventory)
    suppressions = [*inline, *options.suppress]
    kept = {p for p in problems if not any(s.covers(p.rule, p.evidence) for s in suppressions)}
    return LintResult(tuple(linted), tuple(sorted(kept, key=lambda p: (p.evidence.sort_key, p.rule))))


def render_lint(result: LintResult, terse: bool) -> str:
    """One line per problem, `path[ cell N][:line]: RULE-ID message`; a summary line unless `terse`."""
    lines = [problem.render() for problem in result.problems]
    if not terse:
        count, files = len(result.problems), len(result.files)
        lines.append(f"{count} problem{'s' * (count != 1)} in {files} file{'s' * (files != 1)} checked")
    return "".join(line + "\n" for line in lines)


def _relative(root: Path, name: str) -> str | None:
    """`name` as a POSIX path relative to `root`, or None when it lies outside."""
    relative = os.path.relpath(os.path.normpath(os.path.join(root, name)), root)
    pure = PurePath(relative)
    return None if pure.parts[:1] == ("..",) or pure.is_absolute() else pure.as_posix()


def _context(root: Path, paths: Iterable[str]) -> set[str]:
    """The files that decide whether the given ones pass: DVC pointers and pipelines, git-lfs patterns, configs."""
    found = set(ROOT_CONTEXT)
    for path in paths:
        parts = PurePosixPath(path).parts
        found.add(path + ".dvc")
        for depth in range(len(parts)):
            folder = "/".join(parts[:depth])
            prefix = folder + "/" if folder else ""
            found.update({prefix + ".gitattributes", prefix + "dvc.yaml"})
            if folder:
                found.add(folder + ".dvc")
    return {path for path in found if (root / path).is_file()}


def _rule_problems(facts: Facts, rules: Iterable[Rule], linted: set[str]) -> Iterator[Problem]:
    """Each piece of evidence of a failing rule that lies in a linted file."""
    cells = {notebook.path: notebook.out_of_order_cell for notebook in facts.notebooks.notebooks}
    for finding in judge(rules, facts, BUILTINS):
        rule = finding.rule
        if finding.outcome not in (Outcome.FAIL, Outcome.PARTIAL):
            continue
        for evidence in finding.evidence:
            if evidence.path not in linted:
                continue
            if rule.id in ARTIFACT_RULES and _lfs_tracked(evidence.path, facts.data.lfs_patterns):
                continue
            if rule.id == "L0-NB-02" and evidence.cell is None:
                evidence = Evidence(evidence.path, cell=cells.get(evidence.path))
            yield Problem(rule.id, LINT_RULES[rule.id], evidence)


def _lfs_tracked(path: str, patterns: Iterable[Evidence]) -> bool:
    """A `.gitattributes` pattern with `filter=lfs` covers the path (the work tree holds the real file, not the
    pointer git stores)."""
    import pathspec  # imported here: most runs never need it, and its import takes 15 ms

    for pattern in patterns:
        folder = posixpath.dirname(pattern.path)
        if folder and not path.startswith(folder + "/"):
            continue
        relative = path[len(folder) + 1:] if folder else path
        if pattern.snippet and pathspec.GitIgnoreSpec.from_lines([pattern.snippet]).match_file(relative):
            return True
    return False


def _unseeded(facts: Facts, linted: set[str]) -> list[Problem]:
    """Calls of `RANDOM_CALLS` without `random_state` in Python files (not tests or examples) that set no seed."""
    problems = []
    for unit in facts.code_units():
        if unit.kind != "python" or unit.path not in linted or unit.roles or unit.code.seed_calls:
            continue
        for call in unit.code.calls:
            random = any(fnmatch.fnmatchcase(call.name, pattern) for pattern in RANDOM_CALLS)
            if random and "random_state" not in call.keywords and "**" not in call.snippet:
                evidence = Evidence(unit.path, call.line, call.cell, call.snippet or call.name)
                problems.append(Problem(SEED_RULE, SEED_MESSAGE, evidence))
    return problems
