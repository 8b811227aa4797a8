"""Rank fusion and near-duplicate removal for retrieval, free of storage and models.

Two fusion functions:

* Convex combination of normalized scores (`convex`, the default): each leg's scores are
  min-max normalized over the candidates of this query, then combined as
  sum(weight_leg * normalized_leg) / sum(weights). Unlike rank fusion it keeps how far apart
  the candidates are: a passage the full-text leg scores far above the rest stays on top even
  when the dense leg ranks it fifth, and a leg that cannot tell its candidates apart moves
  them little. Bruch, Gai and Ingber ("An Analysis of Fusion Functions for Hybrid Retrieval",
  ACM TOIS 2023) found it better than RRF in and out of domain and robust to its weight.
  It works best when every candidate has a score from both legs (the retriever computes the
  cosine and the full-text score of every candidate either leg proposed); an item a leg did
  not score gets that leg's lowest normalized score, 0.
* Reciprocal rank fusion (`rrf`; Cormack et al., 2009): an item's fused score is
  sum(weight_leg / (k + rank_leg)) over the legs that ranked it (rank 1 = best). It needs no
  score calibration between legs (cosine vs BM25), and k damps the head: with k = 60 rank 1 and
  rank 5 differ by 6%, so agreement between legs outweighs one leg's strong preference, and a
  weaker leg's mistakes pull the fused list down as much as its finds lift it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


def rrf(legs: Sequence[tuple[Sequence[K], float]], k: int = 60) -> list[tuple[K, float]]:
    """Fuse ranked lists (each with its weight) best first; ties keep first-seen order."""
    scores: dict[K, float] = {}
    for ranked, weight in legs:
        for rank, item in enumerate(ranked, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda pair: pair[1], reverse=True)


def min_max(scores: Mapping[K, float]) -> dict[K, float]:
    """Scores mapped onto [0, 1] (best 1, worst 0); all equal: every item 1 (none is worse)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high <= low:
        return dict.fromkeys(scores, 1.0)
    return {item: (score - low) / (high - low) for item, score in scores.items()}


def convex(legs: Sequence[tuple[Mapping[K, float], float]]) -> list[tuple[K, float]]:
    """Fuse scored legs (item -> raw score, higher is better, each with its weight) by the
    weighted mean of their min-max normalized scores, best first; ties keep first-seen order."""
    total_weight = sum(weight for _, weight in legs)
    if total_weight <= 0:
        raise ValueError("fusion weights must not all be zero")
    fused: dict[K, float] = {}
    for scores, weight in legs:
        for item, normalized in min_max(scores).items():
            # An item another leg did not score gets 0 from it: nothing is added.
            fused[item] = fused.get(item, 0.0) + weight * normalized
    return sorted(
        ((item, score / total_weight) for item, score in fused.items()),
        key=lambda pair: pair[1],
        reverse=True,
    )


def normalized_text_key(text: str) -> str:
    """Chunks whose text differs only in case and whitespace share this key."""
    normalized = " ".join(text.casefold().split())
    return hashlib.sha1(normalized.encode()).hexdigest()


def first_per_key(ranked: Iterable[T], key: Callable[[T], K]) -> list[T]:
    """The ranked items with every later item of an already seen key left out."""
    seen: set[K] = set()
    kept = []
    for item in ranked:
        item_key = key(item)
        if item_key not in seen:
            seen.add(item_key)
            kept.append(item)
    return kept
