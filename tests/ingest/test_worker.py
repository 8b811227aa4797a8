"""The worker runs scan jobs against a real database and the real models: progress, per-file
errors, moves without re-embedding, only changed files re-embedded, cancellation, an unmounted
folder, files that change or vanish while read, and queries during a re-index."""

from __future__ import annotations

import shutil
import threading

import pytest
from sqlalchemy import select

from rag import jobs
from rag.db.models import Chunk, Document, Job, Source
from rag.db.session import transaction
from tests.conftest import EXAMPLES


class CountingEmbedder:
    """The real embedder, counting the passages it is asked to embed."""

    def __init__(self, embedder):
        self._embedder = embedder
        self.passages = 0

    def __getattr__(self, name):
        return getattr(self._embedder, name)

    def embed(self, texts):
        self.passages += len(texts)
        return self._embedder.embed(texts)


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "docs"
    shutil.copytree(EXAMPLES, root)
    (root / "broken.pdf").write_bytes(b"%PDF-1.4\n garbage without any objects")
    return root


@pytest.fixture
def service(make_service):
    return make_service()


def _queue_scan(service, folder) -> int:
    with transaction(service.session_factory) as session:
        source = session.scalar(select(Source).where(Source.path == str(folder.resolve())))
        if source is None:
            source = Source(name=folder.name, path=str(folder.resolve()), groups=[])
            session.add(source)
            session.flush()
        return jobs.enqueue(session, "scan", source_id=source.id).id


def _scan(service, folder) -> Job:
    job_id = _queue_scan(service, folder)
    assert service.worker().run_next(job_id) is not None
    with service.session_factory() as session:
        return jobs.get(session, job_id)


def _chunks_by_path(service) -> dict[str, set[int]]:
    with service.session_factory() as session:
        rows = session.execute(select(Document.path, Chunk.id).join(Chunk)).all()
    found: dict[str, set[int]] = {}
    for path, chunk_id in rows:
        found.setdefault(path, set()).add(chunk_id)
    return found


def _assert_index_matches_sql(service) -> None:
    with service.session_factory() as session:
        service.index.catch_up(session)
        sql_ids = set(session.scalars(select(Chunk.id)))
    index_ids = service.index.ids().tolist()
    assert len(index_ids) == len(set(index_ids)), "a chunk is in the index twice"
    assert set(index_ids) == sql_ids


def test_a_scan_job_records_progress_and_per_file_errors(service, folder):
    job = _scan(service, folder)
    assert job.status == "succeeded", job.error
    assert (job.done, job.total) == (6, 6)
    assert job.chunks_written == sum(len(ids) for ids in _chunks_by_path(service).values())
    with service.session_factory() as session:
        broken_id = session.scalar(select(Document.id).where(Document.path == "broken.pdf"))
    assert job.errors == [
        {
            "path": "broken.pdf",
            "reason": "corrupt PDF: could not be parsed (PdfStreamError)",
            "document_id": broken_id,
        }
    ]
    assert job.finished_at is not None and job.lease_owner is not None
    with service.session_factory() as session:
        source = session.scalar(select(Source))
        assert source.status == "active" and source.last_scan_at is not None
    _assert_index_matches_sql(service)


def test_a_moved_file_keeps_its_chunks_and_is_not_embedded_again(make_service, embedder, folder):
    counting = CountingEmbedder(embedder)
    service = make_service()
    service._embedder = counting
    _scan(service, folder)
    before = _chunks_by_path(service)
    (folder / "archive").mkdir()
    shutil.move(folder / "onboarding.md", folder / "archive" / "onboarding-2025.md")
    counting.passages = 0

    job = _scan(service, folder)

    assert job.status == "succeeded" and job.total == 0
    assert counting.passages == 0
    after = _chunks_by_path(service)
    assert after["archive/onboarding-2025.md"] == before["onboarding.md"]
    assert "onboarding.md" not in after
    _assert_index_matches_sql(service)


def test_a_changed_file_re_embeds_only_its_own_chunks(make_service, embedder, folder):
    counting = CountingEmbedder(embedder)
    service = make_service()
    service._embedder = counting
    _scan(service, folder)
    before = _chunks_by_path(service)
    (folder / "benefits-faq.txt").write_text("Benefits FAQ\n\nThe gym subsidy is now 55 euros.\n")
    counting.passages = 0

    job = _scan(service, folder)

    after = _chunks_by_path(service)
    assert (job.done, job.total) == (1, 1)
    assert counting.passages == len(after["benefits-faq.txt"]) == job.chunks_written
    assert not after["benefits-faq.txt"] & before["benefits-faq.txt"]
    for path in before.keys() - {"benefits-faq.txt"}:
        assert after[path] == before[path], f"{path} was re-embedded"
    hits = service.retriever.search("How much is the gym subsidy now?")
    assert "55 euros" in hits[0].text
    _assert_index_matches_sql(service)


def test_an_unmounted_folder_keeps_its_documents(service, folder, tmp_path):
    _scan(service, folder)
    before = _chunks_by_path(service)
    folder.rename(tmp_path / "unmounted")

    job = _scan(service, folder)

    assert job.status == "failed"
    assert "not available" in job.error and "5 indexed documents are kept" in job.error
    with service.session_factory() as session:
        source = session.scalar(select(Source))
        assert source.status == "unavailable" and "not available" in source.error
    assert _chunks_by_path(service) == before
    (tmp_path / "unmounted").rename(folder)
    assert _scan(service, folder).status == "succeeded"
    with service.session_factory() as session:
        assert session.scalar(select(Source)).status == "active"


def test_unreadable_vanishing_and_changing_files_each_get_a_reason(service, folder, monkeypatch):
    import ingest.pipeline as pipeline_module

    real_read, real_prepare = pipeline_module.read_inside, pipeline_module.IngestPipeline._prepare
    changing = folder / "benefits-faq.txt"

    def read_or_deny(root, path):
        if path.name == "onboarding.md":  # root reads anything: the OS error is simulated
            raise PermissionError(13, "Permission denied")
        return real_read(root, path)

    def prepare(self, path, data):
        if path.name == "office-guide.html":
            path.unlink()  # vanishes between the scan and the read
        if path.name == "benefits-faq.txt":
            changing.write_text(changing.read_text() + "\nStill being written.")
        return real_prepare(self, path, data)

    monkeypatch.setattr(pipeline_module, "read_inside", read_or_deny)
    monkeypatch.setattr(pipeline_module.IngestPipeline, "_prepare", prepare)
    job = _scan(service, folder)

    reasons = {e["path"]: e["reason"] for e in job.errors}
    assert job.status == "succeeded"
    assert reasons["onboarding.md"] == "permission denied: the service cannot read this file"
    assert reasons["office-guide.html"] == "file disappeared while being read"
    assert reasons["benefits-faq.txt"].startswith("file changed while being read")
    with service.session_factory() as session:
        indexed = set(session.scalars(select(Document.path).where(Document.status == "indexed")))
    assert indexed == {"employee-handbook.pdf", "it-security-policy.docx"}


def test_a_file_that_settles_after_one_change_is_read_again(service, folder, monkeypatch):
    import ingest.pipeline as pipeline_module

    real_prepare = pipeline_module.IngestPipeline._prepare
    target = folder / "benefits-faq.txt"
    calls = []

    def prepare(self, path, data):
        if path == target and not calls:
            calls.append(path)
            target.write_text("Benefits FAQ\n\nParking costs 30 euros a month.\n")
        return real_prepare(self, path, data)

    monkeypatch.setattr(pipeline_module.IngestPipeline, "_prepare", prepare)
    job = _scan(service, folder)
    assert "benefits-faq.txt" not in {e["path"] for e in job.errors}
    with service.session_factory() as session:
        doc = session.scalar(select(Document).where(Document.path == "benefits-faq.txt"))
        texts = " ".join(session.scalars(select(Chunk.text).where(Chunk.document_id == doc.id)))
    assert doc.status == "indexed" and "30 euros" in texts


def test_a_running_job_is_cancelled_after_its_current_file(service, folder, monkeypatch):
    import ingest.pipeline as pipeline_module

    real_prepare = pipeline_module.IngestPipeline._prepare
    job_id = _queue_scan(service, folder)

    def prepare(self, path, data):
        with transaction(service.session_factory) as session:
            jobs.request_cancel(session, job_id)
        return real_prepare(self, path, data)

    monkeypatch.setattr(pipeline_module.IngestPipeline, "_prepare", prepare)
    service.settings.worker.lease_s = 0.6  # the heartbeat carries the request within ~0.2 s
    service.worker().run_next(job_id)
    with service.session_factory() as session:
        job = jobs.get(session, job_id)
        indexed = session.scalars(select(Document).where(Document.status == "indexed")).all()
    assert job.status == "cancelled"
    assert len(indexed) == 1 and job.done <= 2 < job.total


def test_queries_never_see_two_versions_of_a_document(service, folder):
    policy = folder / "travel-policy.txt"
    policy.write_text("Travel policy\n\nTrains are booked in second class. Version alpha.\n")
    _scan(service, folder)
    stop = threading.Event()
    problems: list[str] = []

    def ask_repeatedly() -> None:
        while not stop.is_set():
            try:
                hits = service.retriever.search("How are trains booked for travel?", top_k=10)
            except Exception as exc:  # a query must never fail because of a re-index
                problems.append(repr(exc))
                return
            versions = {
                word for hit in hits if hit.path == "travel-policy.txt"
                for word in ("alpha", "bravo", "charlie") if word in hit.text
            }  # fmt: skip
            if len(versions) > 1:
                problems.append(f"two versions at once: {versions}")

    reader = threading.Thread(target=ask_repeatedly)
    reader.start()
    try:
        for version in ("bravo", "charlie"):
            policy.write_text(
                f"Travel policy\n\nTrains are booked in second class. Version {version}.\n"
            )
            assert _scan(service, folder).status == "succeeded"
            hits = service.retriever.search("How are trains booked for travel?", top_k=10)
            assert any(version in h.text for h in hits if h.path == "travel-policy.txt")
    finally:
        stop.set()
        reader.join()
    assert problems == []


def test_a_stopping_worker_hands_its_job_back_after_the_current_file(service, folder, monkeypatch):
    """SIGTERM to `rag worker` (or the API shutting down its in-process worker) sets `stop`:
    the job ends after its current file and is queued again, not cancelled, so the next run
    carries on where this one stopped."""
    import ingest.pipeline as pipeline_module

    real_prepare = pipeline_module.IngestPipeline._prepare
    stop = threading.Event()
    job_id = _queue_scan(service, folder)

    def prepare(self, path, data):
        stop.set()
        return real_prepare(self, path, data)

    monkeypatch.setattr(pipeline_module.IngestPipeline, "_prepare", prepare)
    assert service.worker().run(stop) == 1
    with service.session_factory() as session:
        job = jobs.get(session, job_id)
        indexed = session.scalars(select(Document).where(Document.status == "indexed")).all()
    assert (job.status, job.lease_owner, job.attempts, job.finished_at) == ("queued", None, 0, None)
    assert len(indexed) == 1 and job.done == 0 < job.total

    monkeypatch.setattr(pipeline_module.IngestPipeline, "_prepare", real_prepare)
    service.worker().run_next(job_id)
    with service.session_factory() as session:
        job = jobs.get(session, job_id)
    assert (job.status, job.attempts) == ("succeeded", 1)
    assert job.done == job.total == len(list(folder.iterdir())) - 1  # the first file was done
    _assert_index_matches_sql(service)


def test_a_cancel_wins_over_a_stopping_worker(service, folder, monkeypatch):
    import ingest.pipeline as pipeline_module

    real_prepare = pipeline_module.IngestPipeline._prepare
    stop = threading.Event()
    job_id = _queue_scan(service, folder)

    def prepare(self, path, data):
        with transaction(service.session_factory) as session:
            jobs.request_cancel(session, job_id)
        stop.set()
        return real_prepare(self, path, data)

    monkeypatch.setattr(pipeline_module.IngestPipeline, "_prepare", prepare)
    service.worker().run(stop)
    with service.session_factory() as session:
        assert jobs.get(session, job_id).status == "cancelled"


def test_a_failing_job_records_and_logs_the_error_type_only(service, folder, caplog):
    """An exception's text may quote a value (a passage, a name): neither the job nor the log
    gets it, with or without a traceback."""
    from ingest.worker import Worker

    def pipeline_that_fails():
        raise RuntimeError("could not store the passage about Priya Raman")

    job_id = _queue_scan(service, folder)
    caplog.set_level("DEBUG")
    worker = Worker(service.settings.worker, service.session_factory, pipeline_that_fails)
    worker.run_next(job_id)
    with service.session_factory() as session:
        job = jobs.get(session, job_id)
    assert job.status == "failed" and job.error.startswith("internal error (RuntimeError)")
    assert "Priya" not in caplog.text and "Traceback" not in caplog.text, caplog.text
    assert "RuntimeError" in caplog.text
