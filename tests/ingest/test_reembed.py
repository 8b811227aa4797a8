"""Re-embedding after a model change, on SQLite and PostgreSQL with the real MiniLM: the
fingerprint, the full-text-only guard, every FAISS copy made consistent, resuming, and a
change of dimension."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import func, select, update

from ingest.reembed import (
    FINGERPRINT_KEY,
    PROGRESS_KEY,
    embedding_fingerprint,
    passage_text,
    record_fingerprint,
    reembed_all,
    stored_fingerprint,
    vectors_match_config,
)
from rag.config import Settings
from rag.db.models import Chunk, Document, IndexLog, StoreMeta
from rag.db.session import transaction
from rag.embed import Embedder, load_embedder
from rag.embed.onnx_export import INT8_VECTORS
from rag.embed.openvino_export import quantization_key
from rag.index import VectorIndex

DOCS = {
    "leave.txt": "Leave policy\n\nEmployees get 28 days of paid annual leave per year. "
    + "Unused days may be carried over until March. " * 30,
    "freezer.txt": "Facilities notes\n\nThe basement freezer reset code is FRZ-4471.",
    "travel.txt": "Travel policy\n\nMeals on business trips are reimbursed up to the per diem.",
}


@pytest.fixture(scope="module")
def prefixed() -> Embedder:
    """A second embedding configuration: the same model with an e5-style passage prefix."""
    settings = Settings().embedding.model_copy(update={"passage_prefix": "passage: "})
    return load_embedder(settings)


@pytest.fixture
def service(make_indexed_service):
    return make_indexed_service(DOCS)


def _chunks(service) -> dict[int, tuple[str, str, bytes]]:
    """id -> (the header a chunk is embedded with, its text, its vector): its context header,
    or for a chunk stored before headers (empty context) its document's title."""
    with service.session_factory() as session:
        rows = session.execute(
            select(Chunk.id, Document.title, Chunk.context, Chunk.text, Chunk.embedding).join(
                Document
            )
        )
        return {row.id: (row.context or row.title, row.text, row.embedding) for row in rows}


def test_the_fingerprint_changes_with_what_changes_the_stored_vectors(embedder, prefixed):
    base = embedding_fingerprint(embedder.settings, embedder)
    assert json.loads(base)["dimension"] == embedder.dimension
    assert embedding_fingerprint(embedder.settings, embedder) == base  # stable
    assert embedding_fingerprint(prefixed.settings, prefixed) != base
    for change in (
        {"normalize": False},
        {"model": "/models/other"},
        {"backend": "torch" if embedder.settings.backend == "onnx" else "onnx"},
    ):
        assert embedding_fingerprint(embedder.settings.model_copy(update=change), embedder) != base
    onnx = embedder.settings.model_copy(update={"backend": "onnx"})
    # The backend and its quantization are part of what made the vectors.
    int8, fp32 = (
        embedding_fingerprint(onnx.model_copy(update={"onnx_quantization": q}), embedder)
        for q in ("int8", "none")
    )
    assert int8 != fp32
    # Int8 vectors of another quantization recipe (recipe 3 quantizes the attention too) are
    # other vectors: stores made with recipe 2 (no such fact) re-embed; float32 ones do not.
    assert json.loads(int8)["int8_vectors"] == INT8_VECTORS
    assert "int8_vectors" not in json.loads(fp32)
    # OpenVINO's int8 vectors are its own, and those of its calibration text.
    openvino = json.loads(
        embedding_fingerprint(onnx.model_copy(update={"backend": "openvino"}), embedder)
    )
    assert openvino["backend"] == "openvino-int8"
    assert openvino["openvino_int8"] == quantization_key()
    # Stores made before backends existed (torch) keep their fingerprint: no "backend" fact.
    torch = embedder.settings.model_copy(update={"backend": "torch"})
    assert "backend" not in json.loads(embedding_fingerprint(torch, embedder))
    # Pseudonyms read as stand-in words change the vectors; off, the fingerprint is as before.
    plain = embedder.settings.model_copy(update={"pseudonym_stand_ins": False})
    assert "pseudonym_stand_ins" not in json.loads(embedding_fingerprint(plain, embedder))
    stand_ins = embedder.settings.model_copy(update={"pseudonym_stand_ins": True})
    assert embedding_fingerprint(stand_ins, embedder) != embedding_fingerprint(plain, embedder)
    # The query prefix changes question vectors only: nothing stored needs re-embedding.
    query_only = embedder.settings.model_copy(update={"query_prefix": "query: "})
    assert embedding_fingerprint(query_only, embedder) == base


def test_a_model_change_is_detected_and_reembedding_makes_every_copy_consistent(
    service, embedder, prefixed
):
    factory = service.session_factory
    old_fp = embedding_fingerprint(embedder.settings, embedder)
    new_fp = embedding_fingerprint(prefixed.settings, prefixed)
    # A store from before fingerprints, with vectors of the configured size, adopts it.
    assert vectors_match_config(factory, old_fp)
    with factory() as session:
        assert stored_fingerprint(session) == old_fp
    index = service.index  # a FAISS copy loaded before the change, like a running API's
    before = _chunks(service)
    assert len(before) >= 4  # the long document makes several chunks

    # One chunk as stored before context headers: it is re-embedded with the title.
    with transaction(factory) as session:
        session.execute(update(Chunk).where(Chunk.id == min(before)).values(context=""))

    # The configuration changed: the dense leg must stay off until the re-embed is done.
    assert not vectors_match_config(factory, new_fp)
    progress = []
    report = reembed_all(factory, prefixed, on_progress=lambda d, t: progress.append((d, t)))
    assert report.finished and report.done == report.total == len(before)
    assert progress[0] == (0, len(before)) and progress[-1] == (len(before), len(before))

    after = _chunks(service)
    assert after.keys() == before.keys()
    texts = [passage_text(title, text) for title, text, _ in after.values()]
    expected = prefixed.embed(texts)
    for (chunk_id, (_, _, blob)), vector in zip(after.items(), expected, strict=True):
        stored = np.frombuffer(blob, dtype="<f4")
        assert stored == pytest.approx(vector, abs=1e-5)
        assert not np.allclose(stored, np.frombuffer(before[chunk_id][2], dtype="<f4"), atol=1e-4)

    # The running copy replays the log and holds the new vectors, each chunk once.
    with factory() as session:
        index.catch_up(session)
        assert session.scalar(select(func.count()).select_from(IndexLog)) >= 2 * len(before)
    assert sorted(index.ids().tolist()) == sorted(after)
    for chunk_id, vector in zip(after, expected, strict=True):
        assert index.search(vector, 1) == [(chunk_id, pytest.approx(1.0, abs=1e-4))]
    # A copy rebuilt from SQL agrees.
    fresh = VectorIndex(service.settings.index_dir / "fresh", prefixed.dimension, "fresh")
    with factory() as session:
        fresh.load(session)
    assert sorted(fresh.ids().tolist()) == sorted(after)

    assert vectors_match_config(factory, new_fp)
    with factory() as session:
        assert stored_fingerprint(session) == new_fp
        assert session.get(StoreMeta, PROGRESS_KEY) is None


def test_a_stopped_reembed_resumes_where_it_stopped(service, prefixed, monkeypatch):
    factory = service.session_factory
    total = len(_chunks(service))
    calls = iter([False, False, True])  # two batches of one chunk, then a stop
    report = reembed_all(factory, prefixed, should_stop=lambda: next(calls), batch_size=1)
    assert not report.finished and report.done == 2 and report.total == total
    with factory() as session:
        assert stored_fingerprint(session) != embedding_fingerprint(prefixed.settings, prefixed)
        progress = json.loads(session.get(StoreMeta, PROGRESS_KEY).value)
    first_two = sorted(_chunks(service))[:2]
    assert progress["after_id"] == first_two[1]

    embedded = []
    real_embed = prefixed.embed
    monkeypatch.setattr(
        prefixed, "embed", lambda texts: embedded.extend(texts) or real_embed(texts)
    )
    report = reembed_all(factory, prefixed, batch_size=2)
    assert report.finished and report.done == report.total == total - 2
    assert len(embedded) == total - 2  # the first two were not embedded again
    with factory() as session:
        assert stored_fingerprint(session) == embedding_fingerprint(prefixed.settings, prefixed)


def test_progress_for_another_configuration_starts_over(service, embedder, prefixed):
    factory = service.session_factory
    with transaction(factory) as session:
        other = {"fingerprint": "another configuration", "after_id": 10**9}
        session.add(StoreMeta(key=PROGRESS_KEY, value=json.dumps(other)))
    report = reembed_all(factory, prefixed)
    assert report.finished and report.done == len(_chunks(service))


def test_vectors_of_another_dimension_are_kept_out_of_the_index_until_reembedded(service, embedder):
    factory = service.session_factory
    fingerprint = embedding_fingerprint(embedder.settings, embedder)
    with transaction(factory) as session:  # as if another, 2-dimensional model made them
        for chunk in session.scalars(select(Chunk)):
            chunk.embedding = np.array([0.6, 0.8], dtype="<f4").tobytes()
        session.query(StoreMeta).filter(StoreMeta.key == FINGERPRINT_KEY).delete()
    # No fingerprint recorded, and vectors of another size: not the configured model's.
    assert not vectors_match_config(factory, fingerprint)
    index = VectorIndex(service.settings.index_dir / "dim", embedder.dimension, "dim")
    with factory() as session:
        index.load(session)  # must not fail on the other model's vectors
    assert index.size == 0

    report = reembed_all(factory, embedder)
    assert report.finished
    with factory() as session:
        index.catch_up(session)
    assert index.size == len(_chunks(service))
    assert vectors_match_config(factory, fingerprint)


def test_record_fingerprint_overwrites(database_url):
    from rag.db.session import make_engine, make_session_factory

    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        assert stored_fingerprint(session) is None
        record_fingerprint(session, "a")
        record_fingerprint(session, "b")
    with factory() as session:
        assert stored_fingerprint(session) == "b"
    engine.dispose()


def test_two_workers_adopting_the_fingerprint_at_once_both_start(database_url, monkeypatch):
    """Both read "none recorded", the other commits first: this one must not fail its job on
    the duplicate key (PostgreSQL CI saw a scan job fail with IntegrityError at start)."""
    from sqlalchemy.orm import Session

    from rag.db.session import make_engine, make_session_factory

    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    configured = json.dumps({"model": "configured", "dimension": 384})
    another = json.dumps({"model": "another", "dimension": 384})
    with transaction(factory) as session:
        record_fingerprint(session, configured)  # the other worker's commit
    real_get = Session.get
    unseen = {"reads": 0}

    def not_yet_recorded(self, entity, key, *args, **kwargs):
        if entity is StoreMeta and unseen["reads"]:
            unseen["reads"] -= 1
            return None  # what this worker read before the other's commit
        return real_get(self, entity, key, *args, **kwargs)

    monkeypatch.setattr(Session, "get", not_yet_recorded)
    unseen["reads"] = 1  # the check
    assert vectors_match_config(factory, configured) is True
    unseen["reads"] = 1
    assert vectors_match_config(factory, another) is False
    monkeypatch.undo()
    with factory() as session:
        assert stored_fingerprint(session) == configured
    engine.dispose()


def test_bad_batch_size_is_refused(service, prefixed):
    with pytest.raises(ValueError, match="batch_size"):
        reembed_all(service.session_factory, prefixed, batch_size=0)


def test_a_changed_model_queues_a_reembed_that_the_worker_runs(service, prefixed, make_service):
    """End to end: the service notices the new model, searches full-text only, queues one
    re-embed job; the worker runs it; then the dense leg is back."""
    from rag import jobs

    assert service.vectors_current()  # the first ingest recorded MiniLM without a prefix
    changed = make_service(embedding=prefixed.settings)
    changed._embedder = prefixed
    assert changed.vectors_current() is False
    assert changed.retriever.dense_enabled is False
    assert changed.retriever.search("What is the freezer reset code?")[0].path == "freezer.txt"
    with changed.session_factory() as session:
        queued = [j for j in jobs.recent(session) if j.kind == "reembed"]
    assert [j.status for j in queued] == ["queued"]
    changed.vectors_current()  # asking again does not queue a second job

    job = changed.worker().run_next()
    assert job is not None and job.kind == "reembed"
    with changed.session_factory() as session:
        done = jobs.get(session, job.id)
        assert done.status == "succeeded", done.error
        assert done.done == done.total == len(_chunks(changed))
        assert stored_fingerprint(session) == embedding_fingerprint(prefixed.settings, prefixed)
    changed._vectors_checked_at = None  # skip the 30 s wait between checks
    assert changed.vectors_current() and changed.retriever.dense_enabled


def test_a_reembed_stopped_by_its_worker_shutting_down_is_queued_again(
    service, prefixed, make_service
):
    import threading

    from rag import jobs

    changed = make_service(embedding=prefixed.settings)
    changed._embedder = prefixed
    assert changed.vectors_current() is False  # queues the re-embed
    stopping = threading.Event()
    stopping.set()
    job = changed.worker().run_next(stop=stopping)
    with changed.session_factory() as session:
        handed_back = jobs.get(session, job.id)
        assert (handed_back.status, handed_back.attempts) == ("queued", 0)
        assert stored_fingerprint(session) != embedding_fingerprint(prefixed.settings, prefixed)
    changed.worker().run_next(job.id)
    with changed.session_factory() as session:
        assert jobs.get(session, job.id).status == "succeeded"
        assert stored_fingerprint(session) == embedding_fingerprint(prefixed.settings, prefixed)
