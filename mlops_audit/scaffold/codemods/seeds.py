"""Seed the randomness of training: `random_state=SEED` where a split or estimator accepts it and lacks it, and
`SEED = <seed>` plus `random.seed(SEED)` after the imports when the module sets no seed itself."""

from __future__ import annotations

import libcst as cst
from libcst.helpers import get_full_name_for_node

from mlops_audit.scaffold.codemods import Rewrite, parse
from mlops_audit.scaffold.codemods.module_top import assigned_names, imported_names, insert_after_imports

SEED_NAME = "SEED"

# Callables (by their last name) that take `random_state`: scikit-learn splits and estimators, boosting libraries.
SEEDABLE = frozenset(
    {
        "train_test_split", "KFold", "StratifiedKFold", "GroupShuffleSplit", "ShuffleSplit",
        "StratifiedShuffleSplit", "RepeatedKFold", "RepeatedStratifiedKFold", "RandomizedSearchCV",
        "RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor",
        "GradientBoostingClassifier", "GradientBoostingRegressor", "HistGradientBoostingClassifier",
        "HistGradientBoostingRegressor", "AdaBoostClassifier", "AdaBoostRegressor", "BaggingClassifier",
        "BaggingRegressor", "DecisionTreeClassifier", "DecisionTreeRegressor", "IsolationForest",
        "LogisticRegression", "SGDClassifier", "SGDRegressor", "Perceptron", "PassiveAggressiveClassifier",
        "MLPClassifier", "MLPRegressor", "KMeans", "MiniBatchKMeans", "GaussianMixture", "PCA", "TruncatedSVD",
        "TSNE", "XGBClassifier", "XGBRegressor", "XGBRanker", "LGBMClassifier", "LGBMRegressor", "LGBMRanker",
        "resample", "shuffle", "make_classification", "make_regression",
    }
)
SEED_CALLS = frozenset({"seed", "manual_seed", "manual_seed_all", "seed_everything", "set_seed", "set_random_seed"})


def _last_name(node: cst.BaseExpression) -> str:
    return (get_full_name_for_node(node) or "").rsplit(".", 1)[-1]


class _SeedCalls(cst.CSTVisitor):
    """Whether the module already calls a seed-setting function anywhere."""

    def __init__(self) -> None:
        self.found = False

    def visit_Call(self, node: cst.Call) -> None:
        self.found = self.found or _last_name(node.func) in SEED_CALLS


class _AddRandomState(cst.CSTTransformer):
    def __init__(self) -> None:
        self.seeded: list[str] = []

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        name = _last_name(updated_node.func)
        args = list(updated_node.args)
        if name not in SEEDABLE or any(
            arg.star == "**" or (arg.keyword is not None and arg.keyword.value == "random_state") for arg in args
        ):
            return updated_node
        self.seeded.append(name)
        keyword = cst.Arg(
            keyword=cst.Name("random_state"),
            value=cst.Name(SEED_NAME),
            equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
        )
        return updated_node.with_changes(args=_appended(args, keyword))


def _appended(args: list[cst.Arg], new: cst.Arg) -> list[cst.Arg]:
    """`new` after the arguments, keeping a multi-line call's trailing comma and layout."""
    if not args:
        return [new]
    last = args[-1]
    if isinstance(last.comma, cst.Comma):  # trailing comma: the new argument takes it, the last takes its neighbour's
        previous = args[-2].comma if len(args) > 1 and isinstance(args[-2].comma, cst.Comma) else None
        spacing = previous or cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        return [*args[:-1], last.with_changes(comma=spacing), new.with_changes(comma=last.comma)]
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    spaced = last.with_changes(comma=comma, whitespace_after_arg=cst.SimpleWhitespace(""))
    return [*args[:-1], spaced, new.with_changes(whitespace_after_arg=last.whitespace_after_arg)]


def add_seeds(source: str, seed: int) -> Rewrite:
    """The source with seeded randomness; unchanged when it already is (or does not parse)."""
    module = parse(source)
    if module is None:
        return Rewrite(source)
    transformer = _AddRandomState()
    module = module.visit(transformer)
    calls = _SeedCalls()
    module.visit(calls)
    defined = SEED_NAME in assigned_names(module)
    statements = [] if defined or not (transformer.seeded or not calls.found) else [f"{SEED_NAME} = {seed}"]
    imports = []
    changes = [f"random_state={SEED_NAME} added to {name}()" for name in transformer.seeded]
    if not calls.found:
        names = imported_names(module)
        if names.get("random") != "random":
            imports.append("import random")
        statements.append(f"random.seed({SEED_NAME})")
        statements += [f"{alias}.random.seed({SEED_NAME})" for alias, full in sorted(names.items()) if full == "numpy"]
        changes.append("seeds set after the imports")
    if not changes:
        return Rewrite(source)
    return Rewrite(insert_after_imports(module, imports, statements).code, tuple(changes))
