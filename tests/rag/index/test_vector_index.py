"""The FAISS index derived from SQL: rebuild, log replay, snapshots and search, on both DBs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import delete, func, select

from rag.db.models import Chunk, Document, IndexLog, Source
from rag.db.session import make_engine, make_session_factory, transaction
from rag.index import vector_index
from rag.index.vector_index import META_FILE, VectorIndex

DIM = 8
MODEL = "test-model"


class Store:
    """Chunk rows with random unit vectors, and the index_log entries beside them."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.factory = make_session_factory(self.engine)
        self.rng = np.random.default_rng(7)
        self.vectors: dict[int, np.ndarray] = {}
        with transaction(self.factory) as session:
            source = Source(name="s", path="/docs")
            document = Document(source=source, path="a.txt", sha256="0" * 64, format="txt")
            session.add(document)
            session.flush()
            self.document_id = document.id

    def add(self, n: int, log: bool = True, ids: list[int] | None = None) -> list[int]:
        vectors = self.rng.normal(size=(n, DIM)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        with transaction(self.factory) as session:
            same = {"document_id": self.document_id, "page_start": 1, "page_end": 1}
            same |= {"text": "a chunk", "token_count": 2}
            chunks = [
                Chunk(id=ids and ids[i], ordinal=i, embedding=vector.tobytes(), **same)
                for i, vector in enumerate(vectors)
            ]
            session.add_all(chunks)
            session.flush()
            ids = [chunk.id for chunk in chunks]
            if log:
                session.add_all(IndexLog(op="add", chunk_id=cid) for cid in ids)
        self.vectors.update(zip(ids, vectors, strict=True))
        return ids

    def remove(self, ids: list[int]) -> None:
        with transaction(self.factory) as session:
            session.execute(delete(Chunk).where(Chunk.id.in_(ids)))
            session.add_all(IndexLog(op="remove", chunk_id=cid) for cid in ids)
        for cid in ids:
            self.vectors.pop(cid)

    def log(self, op: str, ids: list[int]) -> None:
        with transaction(self.factory) as session:
            session.add_all(IndexLog(op=op, chunk_id=cid) for cid in ids)

    def chunk_ids(self) -> set[int]:
        with self.factory() as session:
            return set(session.scalars(select(Chunk.id)))

    def max_seq(self) -> int:
        with self.factory() as session:
            return session.scalar(select(func.coalesce(func.max(IndexLog.seq), 0)))

    def load(self, index: VectorIndex) -> VectorIndex:
        with self.factory() as session:
            index.load(session)
        return index

    def catch_up(self, index: VectorIndex) -> int:
        with self.factory() as session:
            return index.catch_up(session)

    def new_index(self, directory, model: str = MODEL) -> VectorIndex:
        return self.load(VectorIndex(directory, DIM, model))


@pytest.fixture
def store(database_url):
    store = Store(database_url)
    yield store
    store.engine.dispose()


def ids_of(index: VectorIndex) -> list[int]:
    return sorted(index.ids().tolist())


def stored(index: VectorIndex, chunk_id: int) -> np.ndarray:
    return index._index.reconstruct(chunk_id)


def spy_replays(index: VectorIndex) -> list[int]:
    """The seqs of the log entries the index applies from now on."""
    replayed: list[int] = []
    real_apply = index._apply

    def spy(session, rows):
        replayed.extend(row.seq for row in rows)
        real_apply(session, rows)

    index._apply = spy
    return replayed


def assert_matches_sql(index: VectorIndex, store: Store) -> None:
    ids = index.ids().tolist()
    assert len(ids) == len(set(ids)) == index.size
    assert set(ids) == store.chunk_ids()


def test_load_without_snapshot_rebuilds_from_chunks(store, tmp_path):
    logged = store.add(4)
    unlogged = store.add(3, log=False)  # only a rebuild from the chunks table can know these
    index = VectorIndex(tmp_path, DIM, MODEL)
    replayed = spy_replays(index)
    store.load(index)
    assert replayed == [], "the rebuild already covers the log up to its start"
    assert ids_of(index) == sorted(logged + unlogged)
    assert index.last_seq == store.max_seq() == 4
    assert_matches_sql(index, store)


def test_catch_up_applies_adds_and_removes(store, tmp_path):
    index = store.new_index(tmp_path)
    assert index.size == 0 and index.last_seq == 0
    first = store.add(5)
    assert store.catch_up(index) == 5
    assert ids_of(index) == sorted(first)
    store.remove(first[1:3])
    second = store.add(2)
    assert store.catch_up(index) == 4
    assert ids_of(index) == sorted([first[0], *first[3:], *second])
    assert store.catch_up(index) == 0
    assert index.last_seq == store.max_seq()
    assert_matches_sql(index, store)


@pytest.mark.parametrize("batch", [1, 3, 5000])
def test_replaying_twice_never_duplicates(store, tmp_path, monkeypatch, batch):
    monkeypatch.setattr(vector_index, "CATCH_UP_BATCH", batch)
    ids = store.add(6)
    store.log("add", ids[:3])  # the same add logged twice
    index = store.new_index(tmp_path)
    index.last_seq = 0  # as if the snapshot were older than what it holds
    assert store.catch_up(index) == 9
    index.last_seq = 0
    assert store.catch_up(index) == 9
    assert index.size == 6
    assert_matches_sql(index, store)


@pytest.mark.parametrize("batch", [1, 5000])
def test_add_then_remove_leaves_nothing(store, tmp_path, monkeypatch, batch):
    monkeypatch.setattr(vector_index, "CATCH_UP_BATCH", batch)
    index = store.new_index(tmp_path)
    kept = store.add(2)
    gone = store.add(3)
    store.remove(gone)
    assert store.catch_up(index) == 8
    assert ids_of(index) == sorted(kept)
    assert_matches_sql(index, store)


def test_last_operation_on_a_reused_id_wins(store, tmp_path):
    # SQLite may hand a deleted chunk's id to a new chunk: remove then add again, one batch.
    index = store.new_index(tmp_path)
    (reused, other) = store.add(2)
    assert store.catch_up(index) == 2
    store.remove([reused])
    store.add(1, ids=[reused])
    assert store.catch_up(index) == 2
    assert ids_of(index) == sorted([reused, other])
    np.testing.assert_allclose(stored(index, reused), store.vectors[reused], rtol=1e-6)


@pytest.mark.parametrize("when", ["before", "after"])
def test_rebuild_keeps_chunks_written_while_it_reads(store, tmp_path, monkeypatch, when):
    """A writer commits during the rebuild's scan of the chunks table."""
    existing = store.add(3)
    written: list[int] = []
    real_chunk_vectors = vector_index._chunk_vectors

    def racing(session, query, batch=2048):
        if when == "before" and not written:
            written.extend(store.add(2))  # after the max(seq) read: scanned and replayed
        yield from real_chunk_vectors(session, query, batch)
        if when == "after" and not written:
            written.extend(store.add(2))  # missed by the scan: only the log brings it

    monkeypatch.setattr(vector_index, "_chunk_vectors", racing)
    index = store.new_index(tmp_path)
    assert ids_of(index) == sorted(existing + written)
    assert index.last_seq == store.max_seq()
    assert_matches_sql(index, store)


def test_snapshot_round_trip_replays_only_newer_entries(store, tmp_path):
    old = store.add(5)
    index = store.new_index(tmp_path)
    index.save()
    saved_seq = index.last_seq
    orphan = store.add(1, log=False)  # in SQL but not in the log: a snapshot load misses it
    store.remove(old[:1])
    new = store.add(2)

    reloaded = VectorIndex(tmp_path, DIM, MODEL)
    replayed = spy_replays(reloaded)
    store.load(reloaded)
    assert replayed == list(range(saved_seq + 1, store.max_seq() + 1))
    assert reloaded.last_seq == store.max_seq()
    assert ids_of(reloaded) == sorted(old[1:] + new)
    assert orphan[0] not in ids_of(reloaded)
    for cid in ids_of(reloaded):
        np.testing.assert_allclose(stored(reloaded, cid), store.vectors[cid], rtol=1e-6)


@pytest.mark.parametrize("change", ["model", "dimension", "no-index-file"])
def test_mismatched_snapshot_triggers_a_rebuild(store, tmp_path, change):
    store.add(3)
    store.new_index(tmp_path).save()
    orphan = store.add(2, log=False)  # only a rebuild picks these up
    model = MODEL
    if change == "model":
        model = "another-model"
    elif change == "dimension":
        meta = json.loads((tmp_path / META_FILE).read_text())
        (tmp_path / META_FILE).write_text(json.dumps({**meta, "dimension": DIM * 2}))
    else:
        (tmp_path / vector_index.INDEX_FILE).unlink()
    reloaded = store.new_index(tmp_path, model)
    assert set(orphan) <= set(ids_of(reloaded))
    assert_matches_sql(reloaded, store)


def test_search_is_best_first_cosine(store, tmp_path):
    ids = store.add(20)
    index = store.new_index(tmp_path)
    for target in (ids[0], ids[7], ids[-1]):
        query = store.vectors[target]
        results = index.search(query, k=5)
        assert len(results) == 5
        assert results[0][0] == target
        assert results[0][1] == pytest.approx(1.0, abs=1e-5)
        scores = [score for _, score in results]
        assert scores == sorted(scores, reverse=True)
        for cid, score in results:
            assert score == pytest.approx(float(query @ store.vectors[cid]), abs=1e-5)
        expected = sorted(ids, key=lambda c: -float(query @ store.vectors[c]))[:5]
        assert [cid for cid, _ in results] == expected
    # Asking for more than there is gives what there is, with no -1 placeholders.
    assert sorted(cid for cid, _ in index.search(store.vectors[ids[0]], k=50)) == sorted(ids)


def test_search_on_an_empty_index(store, tmp_path):
    index = store.new_index(tmp_path)
    assert index.size == 0
    assert index.search(np.ones(DIM, dtype=np.float32) / np.sqrt(DIM), k=5) == []
    assert index.ids().tolist() == []


def test_size_follows_sql_through_a_mixed_sequence(store, tmp_path):
    rng = np.random.default_rng(3)
    index = store.new_index(tmp_path)
    for step in range(12):
        store.add(int(rng.integers(1, 6)))
        live = sorted(store.vectors)
        if live and step % 2:
            store.remove([int(c) for c in rng.choice(live, size=min(3, len(live)), replace=False)])
        if step % 3 == 0:
            store.catch_up(index)
        if step == 6:
            index.save()
            index = store.new_index(tmp_path)
    store.catch_up(index)
    assert index.size == len(store.chunk_ids())
    assert_matches_sql(index, store)
    rebuilt = store.new_index(tmp_path / "fresh")
    assert ids_of(rebuilt) == ids_of(index)


def test_searches_use_the_gpu_copy_only_while_it_is_current(store, tmp_path):
    """The CPU flat index stands in for GpuIndexFlatIP (no GPU in CI; tests/rag/index/
    test_gpu_mirror.py). After a change, results stay current: the CPU answers until the
    copy's refresh interval allows a rebuild."""
    import faiss

    from rag.index.gpu_mirror import GpuMirror

    store.add(50)
    mirror = GpuMirror(faiss.IndexFlatIP, refresh_s=3600)
    index = store.load(VectorIndex(tmp_path, DIM, MODEL, gpu_mirror=mirror))
    plain = store.new_index(tmp_path / "plain")
    query = next(iter(store.vectors.values()))

    assert index.search(query, 5) == plain.search(query, 5)
    assert mirror.searches == 1
    allowed = np.array(sorted(store.vectors)[:40], dtype=np.int64)
    assert index.search(query, 5, allowed) == plain.search(query, 5, allowed)
    assert mirror.searches == 2

    new = store.add(1)
    store.remove([next(iter(store.vectors))])
    store.catch_up(index)
    store.catch_up(plain)
    newest = store.vectors[new[0]]
    found = index.search(newest, 3)
    assert found[0][0] == new[0], "the CPU index answers with the new chunk at once"
    assert found == plain.search(newest, 3)
    assert mirror.searches == 2, "the stale GPU copy was not asked"

    mirror.refresh_s = 0
    assert index.search(newest, 3) == found
    assert mirror.searches == 3, "rebuilt, then the copy answers again"


def test_a_failing_gpu_copy_moves_search_to_the_cpu_for_good(store, tmp_path):
    """A CUDA error (out of memory while vLLM holds the GPU) must not fail questions."""
    from rag.index.gpu_mirror import GpuMirror

    def out_of_memory(dimension):
        raise RuntimeError("cudaMalloc error out of memory")

    store.add(20)
    index = store.load(VectorIndex(tmp_path, DIM, MODEL, gpu_mirror=GpuMirror(out_of_memory)))
    plain = store.new_index(tmp_path / "plain")
    query = next(iter(store.vectors.values()))
    assert index.search(query, 5) == plain.search(query, 5)
    assert index.gpu_mirror is None, "not retried at every question"
