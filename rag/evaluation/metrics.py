"""Ranking metrics, as BEIR / TREC define them, over document ids.

`ranked` is one query's documents best first (each once); `qrels` maps a relevant document to
its graded relevance (> 0; BEIR's binary datasets use 1). Gains are the grades, discounted by
log2(rank + 1) (rank 1 = best), the ideal ranking sorting all judged documents by grade.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def ndcg_at(ranked: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    dcg = sum(
        qrels.get(doc, 0) / math.log2(rank + 1) for rank, doc in enumerate(ranked[:k], start=1)
    )
    ideal_gains = sorted((g for g in qrels.values() if g > 0), reverse=True)[:k]
    ideal = sum(g / math.log2(rank + 1) for rank, g in enumerate(ideal_gains, start=1))
    return dcg / ideal if ideal else 0.0


def recall_at(ranked: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    relevant = {doc for doc, grade in qrels.items() if grade > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def mrr_at(ranked: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    for rank, doc in enumerate(ranked[:k], start=1):
        if qrels.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def documents_from_chunks(chunk_docs: Sequence[str]) -> list[str]:
    """Chunk-level ranking to document level: a document ranks where its best chunk does."""
    return list(dict.fromkeys(chunk_docs))


METRICS = {
    "nDCG@10": lambda r, q: ndcg_at(r, q, 10),
    "Recall@10": lambda r, q: recall_at(r, q, 10),
    "Recall@100": lambda r, q: recall_at(r, q, 100),
    "MRR@10": lambda r, q: mrr_at(r, q, 10),
}
