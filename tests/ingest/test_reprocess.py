"""The pipeline version and the reprocess job, on SQLite and PostgreSQL with the real models.

The proof: a store built as today's code built it (a policy that lacks detections the new one
has, 32-bit pseudonyms, no recorded versions) is upgraded; after the reprocess job no raw
value is left in SQL (SQLite file and WAL, a dump of every PostgreSQL table) or in the FAISS
files, every document carries the new version, and questions move to 64-bit pseudonyms.
"""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import delete, func, inspect, select, text, update

from ingest.pipeline_version import pipeline_version
from ingest.reprocess import FILE_GONE, PSEUDONYM_CHARS_KEY, reprocess_all
from rag.config import ChunkingSettings, Settings
from rag.db.models import Chunk, Document, Job, StoreMeta
from rag.db.session import transaction
from rag.privacy.anonymizer import Anonymizer
from rag.service import RagService

# Detected by the current policy, not by the old one (it lacked e-mail and phone numbers).
RAW = [
    "priya.raman@example.com",
    "(206) 555-0198",
    "l.eriksen@northwind-robotics.com",
    "hannah.lindqvist@contoso.org",
]
DOCS = {
    "contacts.md": "# Payroll contacts\n\nPayroll questions go to Priya Raman, "
    "priya.raman@example.com, phone (206) 555-0198.\n",
    "travel.txt": "Travel policy\n\nTrips are booked by Lars Eriksen, "
    "l.eriksen@northwind-robotics.com, two weeks ahead.\n",
    "badges.txt": "Badge office\n\nLost badges are reported to Hannah Lindqvist, "
    "hannah.lindqvist@contoso.org.\n",
}
TOKEN = re.compile(r"<[A-Z_]+_([0-9a-f]+)>")


@pytest.fixture(scope="module")
def old_anonymizer() -> Anonymizer:
    """Today's pipeline with a policy that misses e-mail addresses and phone numbers, making
    32-bit pseudonyms."""
    policy = Settings().anonymize
    entities = [e for e in policy.entities if e not in ("EMAIL_ADDRESS", "PHONE_NUMBER")]
    old = Anonymizer(policy.model_copy(update={"entities": entities}), secret=b"test-secret-key")
    return old.with_pseudonym_chars(8)


@pytest.fixture
def old_store(settings, embedder, old_anonymizer, tmp_path):
    """A store as the code before pipeline versions left it; returns the docs folder."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, body in DOCS.items():
        (folder / name).write_text(body)
    old = RagService(settings, embedder=embedder, anonymizer=old_anonymizer)
    assert old.pipeline.ingest_folder(folder).indexed == len(DOCS)
    old.index.save()
    with transaction(old.session_factory) as session:
        session.execute(update(Document).values(pipeline_version=None))
        session.execute(delete(StoreMeta).where(StoreMeta.key == PSEUDONYM_CHARS_KEY))
        session.execute(delete(Job))
        texts = " ".join(session.scalars(select(Chunk.text)))
    assert all(value in texts for value in RAW), "the old policy was meant to miss these"
    old.close()
    return folder


def _raw_values_in(service, tmp_path, folder) -> list[str]:
    service.index.save()
    found = []
    for path in tmp_path.rglob("*"):
        if path.is_file() and folder not in path.parents:
            data = path.read_bytes()
            found += [f"{v} in {path.name}" for v in RAW if v.encode() in data]
    if service.engine.dialect.name == "postgresql":
        with service.engine.connect() as connection:
            for table in inspect(connection).get_table_names():
                rows = connection.execute(text(f'SELECT t::text FROM "{table}" t')).scalars()
                dump = "\n".join(rows)
                found += [f"{v} in table {table}" for v in RAW if v in dump]
    return found


def _ask_for(service, name: str) -> list[str]:
    service._pseudonyms_checked_at = None  # look the stored length up again now
    question = service.question_anonymizer.anonymize(f"What does {name} handle?").text
    assert name not in question
    return [hit.path for hit in service.search(question, 3)]


def test_an_upgraded_store_is_reprocessed_and_no_raw_value_is_left(
    old_store, make_service, tmp_path
):
    (old_store / "badges.txt").unlink()  # a file gone since it was indexed
    service = make_service()
    # The old store keeps answering: questions get its 32-bit pseudonyms.
    assert service.question_anonymizer.pseudonym_chars == 8
    assert "contacts.md" in _ask_for(service, "Priya Raman")

    assert service.pipeline.check_version() is False
    assert service.pipeline.check_version() is False  # asking again queues no second job
    with service.session_factory() as session:
        queued = list(session.scalars(select(Job)))
    assert [(j.kind, j.status) for j in queued] == [("reprocess", "queued")]

    job = service.worker().run_next()
    with service.session_factory() as session:
        job = session.get(Job, job.id)
        docs = {d.path: d for d in session.scalars(select(Document))}
        chunk_texts = list(session.scalars(select(Chunk.text)))
        badge_chunks = session.scalar(
            select(func.count()).where(Chunk.document_id == docs["badges.txt"].id)
        )
        chars = session.get(StoreMeta, PSEUDONYM_CHARS_KEY).value
    assert job.status == "succeeded" and (job.done, job.total) == (3, 3)
    badges = docs["badges.txt"].id
    assert job.errors == [{"path": "badges.txt", "reason": FILE_GONE, "document_id": badges}]

    assert _raw_values_in(service, tmp_path, old_store) == []
    assert docs["badges.txt"].status == "failed" and docs["badges.txt"].error == FILE_GONE
    assert badge_chunks == 0
    version = service.pipeline.version
    assert all(d.pipeline_version == version for d in docs.values())
    assert all(docs[p].status == "indexed" for p in ("contacts.md", "travel.txt"))
    digests = [m.group(1) for t in chunk_texts for m in TOKEN.finditer(t)]
    assert digests and all(len(d) == 16 for d in digests)
    # Once every document is made again, questions use the 64-bit pseudonyms.
    assert chars == "16"
    assert "contacts.md" in _ask_for(service, "Priya Raman")
    assert service.question_anonymizer.pseudonym_chars == 16
    assert service.pipeline.check_version() is True


def test_a_current_store_queues_nothing(make_indexed_service):
    service = make_indexed_service(DOCS)
    assert service.pipeline.check_version() is True
    with service.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0
        assert session.get(StoreMeta, PSEUDONYM_CHARS_KEY).value == "16"
    assert service.question_anonymizer.pseudonym_chars == 16


def test_two_workers_recording_the_pseudonym_length_at_once_both_start(
    make_indexed_service, monkeypatch
):
    """Both read "not recorded yet", the other commits first: this one must not crash on the
    duplicate key (PostgreSQL CI saw a worker exit with UniqueViolation at start)."""
    from sqlalchemy.orm import Session

    from ingest.reprocess import check_pipeline

    service = make_indexed_service(DOCS)
    assert service.pipeline.check_version() is True  # recorded now, as by the other worker
    real_get = Session.get

    def not_yet_recorded(self, entity, key, *args, **kwargs):
        if entity is StoreMeta and key == PSEUDONYM_CHARS_KEY:
            return None  # what this worker read before the other's commit
        return real_get(self, entity, key, *args, **kwargs)

    monkeypatch.setattr(Session, "get", not_yet_recorded)
    version = service.pipeline.version
    assert check_pipeline(service.session_factory, version, 16) is True
    monkeypatch.undo()
    with service.session_factory() as session:
        assert session.get(StoreMeta, PSEUDONYM_CHARS_KEY).value == "16"


def test_a_stopped_run_resumes_with_what_is_left(old_store, make_service):
    service = make_service()
    assert service.pipeline.check_version() is False
    asked = []

    def stop_after_one() -> bool:
        asked.append(1)
        return len(asked) > 1

    first = reprocess_all(service.pipeline, should_stop=stop_after_one)
    assert first.stopped and first.indexed == 1
    version = service.pipeline.version
    with service.session_factory() as session:
        # Until the last document is done, questions keep the stored documents' length.
        assert session.get(StoreMeta, PSEUDONYM_CHARS_KEY).value == "8"
    second = reprocess_all(service.pipeline)
    assert not second.stopped and second.indexed == len(DOCS) - 1
    with service.session_factory() as session:
        versions = set(session.scalars(select(Document.pipeline_version)))
        assert session.get(StoreMeta, PSEUDONYM_CHARS_KEY).value == "16"
    assert versions == {version}


def test_the_files_are_read_ahead_as_in_a_scan(old_store, make_service, monkeypatch):
    """The file workers read the next documents while one is embedded: the scan's read-ahead
    (ingest/read_ahead.py), given every stale document's file, in order."""
    pipeline = make_service().pipeline  # a new one on each access of the property
    read_ahead, asked = pipeline.read_ahead, []

    def recording(files):
        asked.append([entry.relative_path for _, entry in files])
        return read_ahead(files)

    monkeypatch.setattr(pipeline, "read_ahead", recording)
    report = reprocess_all(pipeline)
    assert report.indexed == len(DOCS) and not report.failed
    with pipeline.session_factory() as session:
        by_id = [
            pipeline.vault.open(p)
            for p in session.scalars(select(Document.path_encrypted).order_by(Document.id))
        ]
    assert asked == [by_id]


def test_a_worker_told_to_stop_hands_the_job_back(old_store, make_service):
    service = make_service()
    service.pipeline.check_version()
    stop = threading.Event()
    stop.set()
    job = service.worker().run_next(stop=stop)
    with service.session_factory() as session:
        job = session.get(Job, job.id)
        stale = session.scalar(select(func.count()).where(Document.pipeline_version.is_(None)))
    assert job.status == "queued" and job.attempts == 0
    assert stale == len(DOCS)


def test_the_version_changes_with_what_changes_the_stored_chunks(anonymizer):
    base_settings = Settings()
    base = pipeline_version(base_settings, anonymizer)
    assert pipeline_version(base_settings, anonymizer) == base  # stable
    changes = [
        base_settings.model_copy(update={"chunking": ChunkingSettings(chunk_tokens=150)}),
        base_settings.model_copy(
            update={"anonymize": base_settings.anonymize.model_copy(update={"min_score": 0.6})}
        ),
    ]
    for changed in changes:
        assert pipeline_version(changed, anonymizer) != base
    assert pipeline_version(base_settings, anonymizer.with_pseudonym_chars(8)) != base
    other_key = Anonymizer(base_settings.anonymize, b"another-key", analyzer=anonymizer._analyzer)
    assert pipeline_version(base_settings, other_key) != base
    # How many values an answer restores changes nothing stored.
    cap = base_settings.anonymize.model_copy(update={"max_restored_values": 3})
    assert pipeline_version(base_settings.model_copy(update={"anonymize": cap}), anonymizer) == base
    # Nor does what the dense leg embeds of a question.
    asked = base_settings.anonymize.model_copy(update={"typed_words_embedded": "off"})
    assert (
        pipeline_version(base_settings.model_copy(update={"anonymize": asked}), anonymizer) == base
    )


def test_the_version_changes_with_the_name_lists(anonymizer, monkeypatch, tmp_path):
    """A word list edited (a name added) makes every document again: the version reads the
    lists where they are (they moved once, and the digest silently covered nothing)."""
    import ingest.pipeline_version as versions

    base = pipeline_version(Settings(), anonymizer)
    edited = tmp_path / "lists"
    edited.mkdir()
    for path in versions.WORD_LISTS.glob("*.txt"):
        (edited / path.name).write_bytes(path.read_bytes())
    first = sorted(edited.glob("*.txt"))[0]
    first.write_text(first.read_text() + "\nZephyrina\n")
    monkeypatch.setattr(versions, "WORD_LISTS", edited)
    assert pipeline_version(Settings(), anonymizer) != base
