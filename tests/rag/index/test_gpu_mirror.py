"""The GPU copy's search logic, against exact brute force.

No GPU is lent to CI: the copy is built here with faiss's CPU flat index in place of
GpuIndexFlatIP (the same interface), which is what every line below exercises except the
GPU allocation itself. What is tested is what could go wrong around it: position-to-id
mapping, the widened access-filtered search and when it must hand over to the CPU.
"""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from rag.index.gpu_mirror import GPU_MAX_K, GpuMirror

DIM = 16


def unit_rows(rng, n: int) -> np.ndarray:
    rows = rng.normal(size=(n, DIM)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def exact(vectors, ids, query, k, allowed=None) -> list[int]:
    """The true top k ids by inner product (ties are measure-zero with random vectors)."""
    scores = vectors @ query[0]
    order = np.argsort(-scores)
    ranked = ids[order]
    if allowed is not None:
        ranked = ranked[np.isin(ranked, allowed)]
    return ranked[:k].tolist()


@pytest.fixture
def corpus():
    rng = np.random.default_rng(11)
    vectors = unit_rows(rng, 3000)
    # Chunk ids are sparse and unordered, as after deletions: positions are not ids.
    ids = rng.choice(10**6, size=len(vectors), replace=False).astype(np.int64)
    mirror = GpuMirror(faiss.IndexFlatIP, refresh_s=5.0)
    mirror.build(vectors, ids, version=1, now=0.0)
    return rng, vectors, ids, mirror


def test_unfiltered_search_returns_chunk_ids_in_exact_order(corpus):
    rng, vectors, ids, mirror = corpus
    for query in unit_rows(rng, 5):
        query = query.reshape(1, -1)
        found = mirror.search(query, 10)
        assert [cid for cid, _ in found] == exact(vectors, ids, query, 10)
        scores = [score for _, score in found]
        assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("fraction", [0.02, 0.3, 0.99])
def test_filtered_search_is_exact_or_hands_over(corpus, fraction):
    rng, vectors, ids, mirror = corpus
    allowed = np.sort(rng.choice(ids, size=int(len(ids) * fraction), replace=False))
    answered = 0
    for query in unit_rows(rng, 20):
        query = query.reshape(1, -1)
        found = mirror.search(query, 10, allowed_ids=allowed)
        if found is None:
            continue  # the CPU's exact selector search answers instead
        answered += 1
        assert all(cid in set(allowed.tolist()) for cid, _ in found)
        assert [cid for cid, _ in found] == exact(vectors, ids, query, 10, allowed)
    assert answered >= 18, "with a 2x widened search, nearly every query is answered on the GPU"


def test_a_tiny_visible_share_goes_to_the_cpu_rather_than_past_the_gpu_limit(corpus):
    rng, _, ids, mirror = corpus
    allowed = ids[:5]  # 10 / (5/3000) * 2 = 12,000 neighbours: beyond GPU_MAX_K
    assert 10 / (5 / len(ids)) * 2 > GPU_MAX_K
    assert mirror.search(unit_rows(rng, 1), 10, allowed_ids=allowed) is None


def test_too_few_allowed_among_the_widened_results_hands_over(corpus):
    rng, vectors, ids, mirror = corpus
    query = unit_rows(rng, 1)
    # The allowed chunks are the ones farthest from the question: a widened search that looks
    # at the best few hundred sees none of them.
    farthest = ids[np.argsort(vectors @ query[0])[:300]]
    assert mirror.search(query, 10, allowed_ids=farthest) is None


def test_no_allowed_chunk_finds_nothing(corpus):
    rng, _, _, mirror = corpus
    assert mirror.search(unit_rows(rng, 1), 10, allowed_ids=np.zeros(0, np.int64)) == []


def test_rebuilds_for_a_new_version_at_most_once_per_refresh_interval():
    mirror = GpuMirror(faiss.IndexFlatIP, refresh_s=5.0)
    assert mirror.due(version=1, now=100.0), "never built"
    mirror.build(np.zeros((0, DIM), np.float32), np.zeros(0, np.int64), version=1, now=100.0)
    assert not mirror.due(version=1, now=200.0), "current: nothing to do"
    assert not mirror.due(version=2, now=102.0), "changed, but rebuilt 2 s ago"
    assert mirror.due(version=2, now=105.0)


def test_k_beyond_the_corpus_gives_all_of_it_in_order(corpus):
    rng, vectors, ids, _ = corpus
    small = GpuMirror(faiss.IndexFlatIP)
    small.build(vectors[:7], ids[:7], version=1, now=0.0)
    query = unit_rows(rng, 1)
    found = small.search(query, 10)
    assert [cid for cid, _ in found] == exact(vectors[:7], ids[:7], query, 10)
    assert len(found) == 7


def test_k_beyond_the_gpu_limit_hands_over(corpus):
    rng, _, _, mirror = corpus
    assert mirror.search(unit_rows(rng, 1), GPU_MAX_K + 1) is None
