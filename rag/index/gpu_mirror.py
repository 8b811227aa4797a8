"""A read-only copy of the index's vectors on a GPU, for exact search with faiss-gpu. Why the CPU
index stays the one updated and trusted (GPU flat indexes cannot remove ids and ignore ID
selectors: faiss issues #3114, #3924), when the copy is rebuilt and how an access-filtered
search stays exact: docs/architecture.md ("The index").
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import faiss
import numpy as np

log = logging.getLogger(__name__)

# faiss-gpu's flat search returns at most this many neighbours per query.
GPU_MAX_K = 2048
# A filtered search asks for this many times k / (visible fraction), so that k allowed chunks
# are very likely among the results even when they cluster away from the question.
WIDEN = 2.0


def gpu_flat_factory(device: int = 0) -> Callable[[int], faiss.Index]:
    """Makes empty inner-product flat indexes on one GPU, sharing one set of GPU resources
    (scratch memory, streams) across rebuilds."""
    resources = faiss.StandardGpuResources()

    def make(dimension: int) -> faiss.Index:
        config = faiss.GpuIndexFlatConfig()
        config.device = device
        return faiss.GpuIndexFlatIP(resources, dimension, config)

    return make


class GpuMirror:
    """Vectors and their chunk ids, copied from the CPU index at one point of its history."""

    def __init__(self, make_flat: Callable[[int], faiss.Index], refresh_s: float = 5.0) -> None:
        self.make_flat = make_flat
        self.refresh_s = refresh_s
        self.version: int | None = None  # the CPU index version it was built from
        self.built_at: float | None = None  # time.monotonic() of the last build
        self.searches = 0  # how many searches it answered (for tests and /metrics)
        self._index: faiss.Index | None = None
        self._ids = np.zeros(0, dtype=np.int64)

    def due(self, version: int, now: float) -> bool:
        """Whether to rebuild now for this CPU index version."""
        if self.version == version:
            return False
        return self.built_at is None or now - self.built_at >= self.refresh_s

    def build(self, vectors: np.ndarray, ids: np.ndarray, version: int, now: float) -> None:
        # The old copy goes first: two at once could need twice the GPU memory.
        self._index, self._ids, self.version = None, np.zeros(0, dtype=np.int64), None
        index = self.make_flat(vectors.shape[1])
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        self._index, self._ids = index, np.asarray(ids, dtype=np.int64)
        self.version, self.built_at = version, now
        log.debug("GPU copy of the index rebuilt: %d vectors", len(ids))

    def search(
        self, query: np.ndarray, k: int, allowed_ids: np.ndarray | None = None
    ) -> list[tuple[int, float]] | None:
        """The k best (chunk id, score), or None when this copy cannot answer exactly (too few
        allowed chunks came back, or the widened search would exceed GPU_MAX_K)."""
        total = len(self._ids)
        if self._index is None or total == 0:
            return []
        if allowed_ids is None:
            wide = min(k, total)
        else:
            if len(allowed_ids) == 0:
                return []
            fraction = min(1.0, len(allowed_ids) / total)
            wide = min(total, max(k, math.ceil(k / fraction * WIDEN)))
        if wide > GPU_MAX_K:
            return None
        scores, positions = self._index.search(query, wide)
        found = positions[0] >= 0
        ids, scores = self._ids[positions[0][found]], scores[0][found]
        if allowed_ids is not None:
            keep = np.isin(ids, allowed_ids)
            ids, scores = ids[keep], scores[keep]
        # Fewer than k allowed among all that were looked at: the CPU answers exactly.
        if len(ids) < k and wide < total:
            return None
        self.searches += 1
        return [(int(i), float(s)) for i, s in zip(ids[:k], scores[:k], strict=True)]
