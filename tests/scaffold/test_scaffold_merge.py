"""Safe merges only add: every line a user wrote stays, a second merge changes nothing, and what cannot be added
safely is reported for a person."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_audit.scaffold.merge import merge_gitlab_include, merge_lines, merge_requirements, merge_yaml_keys

GITIGNORE = "# Python\n__pycache__/\n*.pyc\n# Data\n/data/\n"
PARAMS = "# Parameters\nseed: 42\n\ntrain:\n  epochs: 3\n\n# Evaluation gate\nthresholds:\n  auc: 0.8\n"


def test_line_merge_appends_missing_entries_under_their_comment() -> None:
    merged = merge_lines(".venv/\n*.pyc\n", GITIGNORE).text
    assert merged == ".venv/\n*.pyc\n\n# Python\n__pycache__/\n# Data\n/data/\n"
    assert merge_lines(merged, GITIGNORE).text == merged


def test_yaml_merge_appends_missing_top_level_keys_with_their_comments() -> None:
    merge = merge_yaml_keys("seed: 1\ntrain:\n  lr: 0.1\n", PARAMS, {"seed", "train", "thresholds"})
    assert merge.text == "seed: 1\ntrain:\n  lr: 0.1\n\n# Evaluation gate\nthresholds:\n  auc: 0.8\n"
    assert yaml.safe_load(merge.text) == {"seed": 1, "train": {"lr": 0.1}, "thresholds": {"auc": 0.8}}
    assert merge.by_hand == "add under the existing keys: train.epochs: 3"
    assert merge_yaml_keys(merge.text, PARAMS, {"thresholds"}).text == merge.text


def test_yaml_merge_refuses_files_it_cannot_read() -> None:
    assert merge_yaml_keys("a: [1\n", PARAMS, {"seed"}).text is None
    assert merge_yaml_keys("- a\n- b\n", PARAMS, {"seed"}).text is None
    assert merge_yaml_keys("", PARAMS, {"seed"}).text == "# Parameters\nseed: 42\n"


def test_requirements_merge_matches_names_not_versions() -> None:
    existing = "pandas>=2  # data\nScikit_Learn==1.4.0\n-r dev.txt\n"
    merged = merge_requirements(existing, ["pandas==2.2.3", "scikit-learn==1.5.2", "mlflow==2.17.2"]).text
    assert merged == existing + "\nmlflow==2.17.2\n"


def test_gitlab_include_is_appended_once_or_left_to_a_person() -> None:
    files = [".gitlab/ci/ci.yml", ".gitlab/ci/cd.yml"]
    merged = merge_gitlab_include("test:\n  script: [pytest]\n", files).text
    assert yaml.safe_load(merged)["include"] == [{"local": path} for path in files]
    assert merge_gitlab_include(merged, files).text == merged
    existing = merge_gitlab_include("include:\n  - local: other.yml\n", files)
    assert existing.text is None and ".gitlab/ci/ci.yml" in existing.by_hand
    staged = merge_gitlab_include("stages: [lint]\n", files)
    assert staged.text is None and "stages" in staged.by_hand


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_merges_keep_every_line_and_settle(existing: str) -> None:
    for merge in (
        lambda text: merge_lines(text, GITIGNORE).text,
        lambda text: merge_requirements(text, ["mlflow==2.17.2"]).text,
        lambda text: merge_yaml_keys(text, PARAMS, {"seed", "thresholds"}).text,
    ):
        merged = merge(existing)
        if merged is None:
            continue
        assert merged.startswith(existing)
        assert merge(merged) == merged
