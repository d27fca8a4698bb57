"""The calibration script's statistics on tiny inputs (the corpus itself needs the network and is not run here)."""

from __future__ import annotations

import pytest
import yaml
from evaluate import CORPUS, LABELS, accuracy, average_ranks, confusion, spearman


def test_average_ranks_share_ties() -> None:
    assert average_ranks([10.0, 20.0, 20.0, 5.0]) == [2.0, 3.5, 3.5, 1.0]


def test_spearman_of_monotone_and_reversed_orders() -> None:
    assert spearman([1, 2, 3, 4], [10, 20, 30, 400]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)


def test_spearman_with_ties_matches_the_textbook_value() -> None:
    # ranks x: 1, 2.5, 2.5, 4; ranks y: 1, 2, 3, 4 -> Pearson of the ranks = 0.9486833
    assert spearman([0.1, 0.5, 0.5, 0.9], [1, 2, 3, 4]) == pytest.approx(0.9486833, abs=1e-6)


def test_spearman_is_undefined_for_constant_or_tiny_input() -> None:
    assert spearman([1, 1, 1], [1, 2, 3]) is None
    assert spearman([1], [2]) is None
    with pytest.raises(ValueError):
        spearman([1, 2], [1])


def test_confusion_counts_expected_rows_by_got_columns() -> None:
    pairs = [("0", "0"), ("1", "0"), ("1", "1"), ("2", "crash"), ("n/a", "n/a")]
    matrix = confusion(pairs, LABELS, LABELS)
    assert matrix["1"] == {"0": 1, "1": 1, "2": 0, "n/a": 0, "crash": 0}
    assert matrix["2"]["crash"] == 1
    assert sum(sum(row.values()) for row in matrix.values()) == len(pairs)
    assert accuracy(pairs) == pytest.approx(3 / 5)


def test_corpus_entries_are_labelled_and_pinned() -> None:
    corpus = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    assert len(corpus) >= 25
    assert len({entry["repo"] for entry in corpus}) == len(corpus)
    for entry in corpus:
        assert str(entry["expected_level"]) in LABELS
        assert len(entry["commit"]) == 40 and int(entry["commit"], 16) >= 0
        assert entry["why"] and isinstance(entry["label_changes"], list)
        if entry["expected_level"] == "n/a":
            assert entry["expected_score"] is None
        else:
            assert int(entry["expected_score"]) == entry["expected_level"]
