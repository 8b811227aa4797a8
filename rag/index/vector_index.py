"""A FAISS index derived from the chunks table.

SQL is the source of truth. The index remembers the last index_log seq it applied; on start it
loads its snapshot and replays the log from there, and it can always be rebuilt from the chunks.
Replaying is idempotent (an add first removes the id), so replaying an entry twice is harmless.
With a GPU (`retrieval.index_device`), searches go to a copy of the vectors there
(rag/index/gpu_mirror.py) whenever that copy is as current as this index.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path

import faiss
import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rag.db.models import Chunk, IndexLog
from rag.index.gpu_mirror import GpuMirror
from rag.private_files import FILE_MODE, private_folder

log = logging.getLogger(__name__)

INDEX_FILE = "faiss.index"
META_FILE = "faiss.meta.json"
CATCH_UP_BATCH = 5000


class VectorIndex:
    def __init__(
        self,
        directory: Path,
        dimension: int,
        model_name: str,
        gpu_mirror: GpuMirror | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.dimension = dimension
        self.model_name = model_name
        self.last_seq = 0
        self.gpu_mirror = gpu_mirror
        self._lock = threading.RLock()
        self._index = self._empty()
        # Counts changes to the vectors, so a GPU copy knows whether it is current.
        self._version = 0
        # Per group set, the chunk ids a caller may search (filled by rag/retrieve.py).
        self.visible_cache: dict[tuple, np.ndarray] = {}

    def _empty(self) -> faiss.IndexIDMap2:
        # Exact inner-product search over normalized vectors = cosine similarity.
        return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dimension))

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    # -- lifecycle -------------------------------------------------------------------------

    def load(self, session: Session) -> None:
        """Load the snapshot if it matches this model, else rebuild; then catch up."""
        meta_path = self.directory / META_FILE
        index_path = self.directory / INDEX_FILE
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else None
        if (
            meta
            and index_path.is_file()
            and meta.get("dimension") == self.dimension
            and meta.get("model") == self.model_name
        ):
            with self._lock:
                self._index = faiss.read_index(str(index_path))
                self.last_seq = int(meta["last_seq"])
                self._version += 1
            applied = self.catch_up(session)
            log.info("index loaded: %d vectors, %d log entries replayed", self.size, applied)
        else:
            self.rebuild(session)

    def rebuild(self, session: Session) -> None:
        """Rebuild from the chunks table; the log up to now is covered by it."""
        last_seq = session.scalar(select(func.coalesce(func.max(IndexLog.seq), 0))) or 0
        index = self._empty()
        query = select(Chunk.id, Chunk.embedding)
        for ids, vectors in _chunk_vectors(session, query, self.dimension):
            index.add_with_ids(vectors, ids)
        with self._lock:
            self._index = index
            self.last_seq = int(last_seq)
            self._version += 1
        # Chunks written while we read are in the log after last_seq: replay them too.
        self.catch_up(session)
        log.info("index rebuilt from SQL: %d vectors", self.size)

    def catch_up(self, session: Session) -> int:
        """Apply index_log entries newer than the last applied one. Returns how many."""
        applied = 0
        with self._lock:
            while True:
                rows = session.execute(
                    select(IndexLog.seq, IndexLog.op, IndexLog.chunk_id)
                    .where(IndexLog.seq > self.last_seq)
                    .order_by(IndexLog.seq)
                    .limit(CATCH_UP_BATCH)
                ).all()
                if not rows:
                    return applied
                self._apply(session, rows)
                self.last_seq = int(rows[-1].seq)
                applied += len(rows)

    def _apply(self, session: Session, rows) -> None:
        # Within a batch only the last operation on each chunk matters.
        final_op = {row.chunk_id: row.op for row in rows}
        touched = np.fromiter(final_op.keys(), dtype=np.int64)
        self._version += 1
        self._index.remove_ids(touched)
        to_add = [chunk_id for chunk_id, op in final_op.items() if op == "add"]
        if to_add:
            # A chunk removed again later is simply gone from SQL: nothing to add.
            query = select(Chunk.id, Chunk.embedding).where(Chunk.id.in_(to_add))
            for ids, vectors in _chunk_vectors(session, query, self.dimension):
                self._index.add_with_ids(vectors, ids)

    def save(self) -> None:
        """Write the snapshot atomically: index first, then the meta that vouches for it."""
        private_folder(self.directory)
        with self._lock:
            tmp_index = self.directory / (INDEX_FILE + ".tmp")
            faiss.write_index(self._index, str(tmp_index))
            os.chmod(tmp_index, FILE_MODE)
            meta = {
                "last_seq": self.last_seq,
                "dimension": self.dimension,
                "model": self.model_name,
                "count": self.size,
            }
        os.replace(tmp_index, self.directory / INDEX_FILE)
        tmp_meta = self.directory / (META_FILE + ".tmp")
        tmp_meta.write_text(json.dumps(meta))
        os.chmod(tmp_meta, FILE_MODE)
        os.replace(tmp_meta, self.directory / META_FILE)

    # -- search ----------------------------------------------------------------------------

    def search(
        self, vector: np.ndarray, k: int, allowed_ids: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """The k nearest chunk ids with their cosine similarity, best first.

        With `allowed_ids`, only those chunks compete: FAISS skips the others inside the exact
        scan (an ID selector), so k results come back whenever k allowed chunks exist, however
        few of the index they are.
        """
        query = vector.reshape(1, -1).astype(np.float32)
        with self._lock:
            if self.size == 0:
                return []
            on_gpu = self._search_gpu(query, k, allowed_ids)
            if on_gpu is not None:
                return on_gpu
            if allowed_ids is None:
                scores, ids = self._index.search(query, k)
            else:
                if len(allowed_ids) == 0:
                    return []
                bitmap, selector = _bitmap_selector(allowed_ids)
                params = faiss.SearchParameters(sel=selector)
                scores, ids = self._index.search(query, k, params=params)
                del bitmap  # the selector reads it during the search only
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i != -1]

    def _search_gpu(
        self, query: np.ndarray, k: int, allowed_ids: np.ndarray | None
    ) -> list[tuple[int, float]] | None:
        """The GPU copy's answer, or None: no copy, not current yet, or it cannot answer
        exactly. Called with the lock held."""
        mirror = self.gpu_mirror
        if mirror is None:
            return None
        try:
            now = time.monotonic()
            if mirror.due(self._version, now):
                flat = faiss.downcast_index(self._index.index)
                ids = faiss.vector_to_array(self._index.id_map)
                mirror.build(flat.reconstruct_n(0, flat.ntotal), ids, self._version, now)
            if mirror.version != self._version:
                return None
            return mirror.search(query, k, allowed_ids)
        except RuntimeError as exc:  # faiss reports CUDA errors (out of memory, ...) this way
            # The CPU index is complete and current: search there from now on rather than
            # fail every question, and say so once.
            self.gpu_mirror = None
            log.error("dense search moves to the CPU: the GPU copy failed (%s)", exc)
            return None

    def ids(self) -> np.ndarray:
        """Every chunk id in the index (for consistency checks)."""
        with self._lock:
            return faiss.vector_to_array(self._index.id_map).astype(np.int64)


def _bitmap_selector(allowed_ids: np.ndarray) -> tuple[np.ndarray, faiss.IDSelector]:
    """An ID selector over a bitmap of the allowed ids: one bit per id up to the largest, so
    membership is a shift and a mask, cheaper than a hash set for the scan of every vector.
    The bitmap must outlive the search (FAISS keeps a pointer, not a copy)."""
    ids = np.asarray(allowed_ids, dtype=np.int64)
    if ids.min() < 0:
        raise ValueError("chunk ids are never negative")
    bits = np.zeros(int(ids.max()) + 1, dtype=bool)
    bits[ids] = True
    bitmap = np.packbits(bits, bitorder="little")
    return bitmap, faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap))


def _chunk_vectors(session: Session, query, dimension: int, batch: int = 2048):
    """(ids, vectors) batches of chunks whose vector has this index's dimension. While a
    re-embed to a model of another dimension runs (ingest/reembed.py), the chunks not yet done
    hold the old model's vectors: they are left out, and come in as the re-embed logs them."""
    result = session.execute(query.execution_options(yield_per=batch))
    for rows in result.partitions(batch):
        rows = [row for row in rows if len(row[1]) == dimension * 4]
        if not rows:
            continue
        ids = np.array([row[0] for row in rows], dtype=np.int64)
        vectors = np.vstack([np.frombuffer(row[1], dtype=np.float32) for row in rows])
        yield ids, vectors
