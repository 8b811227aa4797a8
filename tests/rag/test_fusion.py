"""Reciprocal rank fusion and near-duplicate keys: pure functions, hand-checked numbers."""

from __future__ import annotations

import pytest

from rag.fusion import first_per_key, normalized_text_key, rrf


def test_rrf_sums_weighted_reciprocal_ranks():
    fused = dict(rrf([(["a", "b", "c"], 1.0), (["c", "a"], 0.5)], k=60))
    assert fused["a"] == pytest.approx(1 / 61 + 0.5 / 62)
    assert fused["b"] == pytest.approx(1 / 62)
    assert fused["c"] == pytest.approx(1 / 63 + 0.5 / 61)


def test_rrf_orders_by_fused_score_and_agreement_beats_one_strong_leg():
    # "x" is first in one leg only; "y" is second in both: agreement wins with k = 60.
    fused = rrf([(["x", "y"], 1.0), (["z", "y"], 1.0)], k=60)
    assert [item for item, _ in fused][0] == "y"
    assert [score for _, score in fused] == sorted((s for _, s in fused), reverse=True)


def test_rrf_with_one_leg_keeps_its_order_and_empty_legs_are_harmless():
    assert [i for i, _ in rrf([(["c", "a", "b"], 1.0), ([], 1.0)])] == ["c", "a", "b"]
    assert rrf([([], 1.0)]) == []


def test_zero_weight_leg_does_not_change_the_order():
    fused = rrf([(["a", "b"], 1.0), (["b", "a"], 0.0)], k=10)
    assert [i for i, _ in fused] == ["a", "b"]


def test_near_duplicates_share_a_key_and_only_the_first_is_kept():
    boilerplate = "Confidential.  Internal use ONLY.\n"
    same = "confidential. internal use only."
    assert normalized_text_key(boilerplate) == normalized_text_key(same)
    assert normalized_text_key("Internal use only.") != normalized_text_key(boilerplate)
    ranked = [(1, boilerplate), (2, "other text"), (3, "CONFIDENTIAL. Internal use only.")]
    kept = first_per_key(ranked, lambda pair: normalized_text_key(pair[1]))
    assert [chunk_id for chunk_id, _ in kept] == [1, 2]
