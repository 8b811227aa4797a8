"""Chunks of several files embedded in one call, each file still written on its own (real
SQLite, real models)."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from ingest.reembed import passage_text
from rag.db.models import Chunk, Document

DOCS = {
    "leave.txt": "Leave policy\n\nEmployees get 28 days of paid annual leave per year.",
    "freezer.txt": "Facilities notes\n\nThe basement freezer reset code is FRZ-4471.",
    "travel.txt": "Travel policy\n\nMeals on business trips are reimbursed up to the per diem.",
    "gym.txt": "Benefits\n\nThe gym subsidy is 55 euros a month. " * 40,
}


class RecordingEmbedder:
    """The real embedder, recording how many passages each call gets; a passage holding
    `poison` makes a call fail, as a bad input would."""

    def __init__(self, embedder, poison: str | None = None):
        self._embedder, self.poison, self.calls = embedder, poison, []

    def __getattr__(self, name):
        return getattr(self._embedder, name)

    def embed(self, texts):
        self.calls.append(len(texts))
        if self.poison and any(self.poison in text for text in texts):
            raise ValueError("cannot embed this")
        return self._embedder.embed(texts)


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "docs"
    root.mkdir()
    for name, body in DOCS.items():
        (root / name).write_text(body)
    return root


def _stored(service) -> dict[str, list[tuple[str, str, np.ndarray]]]:
    with service.session_factory() as session:
        rows = session.execute(
            select(Document.path, Chunk.context, Chunk.text, Chunk.embedding)
            .join(Document)
            .order_by(Chunk.id)
        )
        stored: dict[str, list] = {}
        for path, context, text, blob in rows:
            vector = np.frombuffer(blob, dtype=np.float32)
            stored.setdefault(path, []).append((context, text, vector))
        return stored


def test_the_files_of_a_scan_are_embedded_in_one_call_each_chunk_keeping_its_vector(
    make_service, embedder, folder
):
    recording = RecordingEmbedder(embedder)
    service = make_service()
    service._embedder = recording
    report = service.pipeline.ingest_folder(folder)

    assert report.indexed == len(DOCS) and not report.failed
    stored = _stored(service)
    assert set(stored) == set(DOCS)
    assert recording.calls == [report.chunks] and report.chunks > len(DOCS)
    for path, chunks in stored.items():
        assert len(chunks) > 0 and all(text in DOCS[path] for _, text, _ in chunks)
        # Each stored vector is its own passage's: embedded alone, it points the same way.
        fresh = embedder.embed([passage_text(context, text) for context, text, _ in chunks])
        cosines = (np.stack([vector for _, _, vector in chunks]) * fresh).sum(axis=1)
        assert cosines.min() > 0.99, path


def test_a_batch_holds_files_until_their_chunks_reach_the_bound(
    make_service, settings, embedder, folder
):
    ingest = settings.ingest.model_copy(update={"embed_batch_chunks": 1})
    recording = RecordingEmbedder(embedder)
    service = make_service(ingest=ingest)
    service._embedder = recording
    report = service.pipeline.ingest_folder(folder)
    assert report.indexed == len(DOCS)
    assert len(recording.calls) == len(DOCS) and sum(recording.calls) == report.chunks


def test_a_file_that_cannot_be_embedded_fails_alone(make_service, embedder, folder):
    (folder / "bad.txt").write_text("Odd file\n\nThis passage holds POISON for the embedder.")
    recording = RecordingEmbedder(embedder, poison="POISON")
    service = make_service()
    service._embedder = recording
    report = service.pipeline.ingest_folder(folder)

    assert report.indexed == len(DOCS)
    assert [(f.path, f.reason) for f in report.failed] == [
        ("bad.txt", "internal error while indexing (ValueError)")
    ]
    # The joint call failed, then each file was embedded alone.
    assert len(recording.calls) == 1 + len(DOCS) + 1
    stored = _stored(service)
    assert set(stored) == set(DOCS)
    with service.session_factory() as session:
        bad = session.scalar(select(Document).where(Document.path == "bad.txt"))
    assert (bad.status, bad.chunk_count) == ("failed", 0)
