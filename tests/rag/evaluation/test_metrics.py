"""Ranking metrics against a hand-computed example."""

from __future__ import annotations

import math

import pytest

from rag.evaluation.metrics import documents_from_chunks, mrr_at, ndcg_at, recall_at

# Relevant: d1 (grade 2), d3 (grade 1), d9 (grade 1, never retrieved).
QRELS = {"d1": 2, "d3": 1, "d9": 1}
RANKED = ["d2", "d1", "d4", "d3"]


def test_ndcg_by_hand():
    # DCG = 2/log2(3) + 1/log2(5) = 1.6925
    # ideal order d1, d3, d9: 2/log2(2) + 1/log2(3) + 1/log2(4) = 3.1309
    dcg = 2 / math.log2(3) + 1 / math.log2(5)
    ideal = 2 / 1 + 1 / math.log2(3) + 1 / 2
    assert ndcg_at(RANKED, QRELS, 10) == pytest.approx(dcg / ideal)
    assert ndcg_at(RANKED, QRELS, 10) == pytest.approx(0.5406, abs=1e-4)
    # At k = 2 only d1 counts, and the ideal holds two documents.
    assert ndcg_at(RANKED, QRELS, 2) == pytest.approx((2 / math.log2(3)) / (2 + 1 / math.log2(3)))


def test_perfect_and_empty_rankings():
    assert ndcg_at(["d1", "d3", "d9"], QRELS, 10) == pytest.approx(1.0)
    assert ndcg_at([], QRELS, 10) == 0.0
    assert ndcg_at(["d1"], {}, 10) == 0.0


def test_recall_and_mrr_by_hand():
    assert recall_at(RANKED, QRELS, 10) == pytest.approx(2 / 3)
    assert recall_at(RANKED, QRELS, 2) == pytest.approx(1 / 3)
    assert mrr_at(RANKED, QRELS, 10) == pytest.approx(1 / 2)
    assert mrr_at(RANKED, QRELS, 1) == 0.0
    # A grade of 0 in the qrels is judged not relevant.
    assert mrr_at(["d0", "d1"], {"d0": 0, "d1": 1}, 10) == pytest.approx(1 / 2)


def test_a_document_ranks_where_its_best_chunk_does():
    assert documents_from_chunks(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]
