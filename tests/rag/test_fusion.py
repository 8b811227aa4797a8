"""Rank fusion (RRF, convex combination) and near-duplicate keys: pure functions with
hand-checked numbers, then fusion inside the retriever on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from rag.fusion import convex, first_per_key, min_max, normalized_text_key, rrf


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


def test_min_max_maps_best_to_one_and_worst_to_zero():
    assert min_max({"a": 12.0, "b": 3.0, "c": 6.0}) == pytest.approx(
        {"a": 1.0, "b": 0.0, "c": 1 / 3}
    )
    # No spread: no item is worse than another.
    assert min_max({"a": 0.4, "b": 0.4}) == {"a": 1.0, "b": 1.0}
    assert min_max({}) == {}


def test_convex_is_the_weighted_mean_of_normalized_scores():
    dense = {"a": 0.9, "b": 0.5, "c": 0.7}  # normalized: a 1, b 0, c 0.5
    full = {"b": 20.0, "c": 10.0, "d": 0.0}  # normalized: b 1, c 0.5, d 0
    fused = dict(convex([(dense, 1.0), (full, 3.0)]))
    assert fused["a"] == pytest.approx(1.0 / 4)  # the full-text leg did not score it: 0 there
    assert fused["b"] == pytest.approx(3.0 / 4)
    assert fused["c"] == pytest.approx((0.5 + 1.5) / 4)
    assert fused["d"] == 0.0


def test_convex_keeps_score_gaps_that_rank_fusion_loses():
    # The full-text leg is sure of "x" (far ahead); the dense leg barely prefers "y" over "x".
    dense = {"y": 0.80, "x": 0.79, "z": 0.20}
    full = {"x": 30.0, "y": 5.0, "z": 4.0}
    assert convex([(dense, 1.0), (full, 1.0)])[0][0] == "x"
    # RRF sees only ranks: first and second in one leg each, a tie broken by order.
    ranked = rrf([(["y", "x", "z"], 1.0), (["x", "y", "z"], 1.0)])
    assert ranked[0][1] == pytest.approx(ranked[1][1])


def test_convex_with_one_leg_keeps_its_order_and_rejects_zero_weights():
    assert [i for i, _ in convex([({"c": 3.0, "a": 2.0, "b": 1.0}, 1.0), ({}, 1.0)])] == [
        "c",
        "a",
        "b",
    ]
    assert convex([({}, 1.0)]) == []
    with pytest.raises(ValueError, match="weights"):
        convex([({"a": 1.0}, 0.0), ({"a": 1.0}, 0.0)])


# -- fusion inside the retriever, on a real database with the real embedder ------------------

DOCS = {
    "leave.txt": "Leave policy\n\nEmployees get 28 days of paid annual leave per year.",
    "freezer.txt": "Facilities notes\n\nThe basement freezer reset code is FRZ-4471.",
    "travel.txt": "Travel policy\n\nMeals on business trips are reimbursed up to the per diem.",
    "canteen.txt": "Canteen\n\nThe canteen opens at 8am; the annual party is in the canteen.",
}


@pytest.fixture
def service(make_indexed_service):
    return make_indexed_service(DOCS)


def _retriever(service, dense_enabled=True, **settings):
    from rag.retrieve import Retriever

    retrieval = service.settings.retrieval.model_copy(update=settings)
    return Retriever(
        service.session_factory, service.index, service.embedder, retrieval, dense_enabled
    )


def test_fulltext_scores_are_the_search_scores_and_zero_for_no_match(service):
    from sqlalchemy import select

    from rag.db.fulltext import fulltext_scores, fulltext_search
    from rag.db.models import Chunk

    with service.session_factory() as session:
        ids = list(session.scalars(select(Chunk.id)))
        found = dict(fulltext_search(session, "annual leave days", 10))
        scores = fulltext_scores(session, "annual leave days", ids)
        assert fulltext_scores(session, "the of and", ids) == dict.fromkeys(ids, 0.0)
        assert fulltext_scores(session, "annual", []) == {}
    assert set(scores) == set(ids) and len(found) == 2  # leave.txt and canteen.txt match
    for chunk_id in ids:
        assert scores[chunk_id] == pytest.approx(found.get(chunk_id, 0.0))


def test_convex_hybrid_finds_what_either_leg_is_sure_of(service):
    for fusion in ("convex", "rrf"):
        hybrid = _retriever(service, fusion=fusion, mode="hybrid")
        assert hybrid.rank("FRZ-4471", 4)[0].path == "freezer.txt", fusion  # full-text only
        assert hybrid.rank("How much vacation do staff have?", 4)[0].path == "leave.txt", fusion
        hits = hybrid.rank("annual leave days", 4)
        assert hits[0].path == "leave.txt" and len(hits) == 4, fusion
        # Citation scores stay cosine similarities, whatever the fusion.
        assert all(-1.0 <= h.score <= 1.0 for h in hits)


def test_with_the_dense_leg_disabled_no_question_is_embedded(service, monkeypatch, caplog):
    import rag.retrieve

    def no_embedding(texts):
        raise AssertionError("a question was embedded while the stored vectors are stale")

    monkeypatch.setattr(service.embedder, "embed_query", no_embedding)
    monkeypatch.setattr(rag.retrieve, "_dense_warning_given", False)
    retriever = _retriever(service, dense_enabled=False, mode="hybrid")
    with caplog.at_level("WARNING", logger="rag.retrieve"):
        assert retriever.rank("reset code FRZ-4471", 3)[0].path == "freezer.txt"
        assert retriever.search("freezer reset code")[0].path == "freezer.txt"
        assert retriever.rank("freezer", 3, mode="dense")[0].path == "freezer.txt"
    warnings = [r for r in caplog.records if "dense retrieval is off" in r.getMessage()]
    assert len(warnings) == 1  # once per process, not once per question


def test_fusion_settings_are_checked():
    from rag.config import RetrievalSettings

    with pytest.raises(ValueError, match="both be 0"):
        RetrievalSettings(dense_weight=0, fulltext_weight=0)
    with pytest.raises(ValueError):
        RetrievalSettings(fusion="max")
    with pytest.raises(ValueError):
        RetrievalSettings(dense_weight=-1)
