"""A scan reads files ahead of the embedding (ingest/read_ahead.py), against a real database,
real file workers and the real models: files are still written and reported in folder order,
a bad file still fails alone, and a stop still writes only the files the scan had reached.
Threads are synchronized by events, never by sleeping."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from ingest.file_workers import FileLimits, FileWorkerPool, WorkerConfig
from ingest.pipeline import IngestPipeline
from ingest.sources import add_source
from rag.db.models import Document
from rag.db.session import transaction
from tests.ingest.file_worker_loaders import register

WAIT_S = 120  # only a failing test waits this long

DOCS = {
    "a-leave.txt": "Leave policy\n\nEmployees get 28 days of paid annual leave per year.",
    "b-freezer.txt": "Facilities notes\n\nThe basement freezer reset code is FRZ-4471.",
    "c-travel.txt": "Travel policy\n\nMeals on business trips are reimbursed up to the per diem.",
    "d-gym.txt": "Benefits\n\nThe gym subsidy is 55 euros a month.",
    "e-parking.txt": "Parking\n\nThe car park opens at seven in the morning.",
}
NAMES = sorted(DOCS)


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "docs"
    root.mkdir()
    for name, body in DOCS.items():
        (root / name).write_text(body)
    return root


def _paths_in_write_order(service) -> list[tuple[str, str]]:
    with service.session_factory() as session:
        return list(session.execute(select(Document.path, Document.status).order_by(Document.id)))


def test_files_are_written_in_folder_order_when_a_later_one_is_read_first(
    make_service, settings, folder, monkeypatch
):
    real_prepare = IngestPipeline._prepare
    second_read = threading.Event()
    finished: list[str] = []

    def prepare(self, path, data):
        if path.name == NAMES[0]:  # the first file is held until the second is read
            assert second_read.wait(WAIT_S)
        text = real_prepare(self, path, data)
        finished.append(path.name)
        if path.name == NAMES[1]:
            second_read.set()
        return text

    monkeypatch.setattr(IngestPipeline, "_prepare", prepare)
    ingest = settings.ingest.model_copy(update={"file_workers": 2, "embed_batch_chunks": 1})
    service = make_service(ingest=ingest)
    progress: list[tuple[int, str]] = []
    report = service.pipeline.ingest_folder(
        folder, on_progress=lambda done, _total, shown, _report: progress.append((done, shown))
    )

    assert finished.index(NAMES[1]) < finished.index(NAMES[0])
    assert report.indexed == len(DOCS) and not report.failed
    assert progress == [*enumerate(NAMES), (len(NAMES), "")]
    assert _paths_in_write_order(service) == [(name, "indexed") for name in NAMES]


def test_a_stuck_file_fails_alone_while_the_files_after_it_are_read_ahead(
    make_service, anonymizer, folder
):
    (folder / "b-stuck.endless").write_text("x")  # never finishes parsing
    limits = FileLimits(seconds_per_file=3, seconds_per_page=3, max_memory_mb=512)
    config = WorkerConfig(anonymizer.settings, anonymizer.secret, limits, setup=register)
    pool = FileWorkerPool(config, size=2)
    service = make_service()
    pipeline = IngestPipeline(
        service.settings,
        service.session_factory,
        service.embedder,
        service.anonymizer,
        file_workers=pool,
    )
    try:
        report = pipeline.ingest_folder(folder)
    finally:
        pool.close()

    assert [(f.path, f.reason) for f in report.failed] == [
        (
            "b-stuck.endless",
            "took longer than 6 s to read, estimated at 1 pages from its size "
            "(ingest.seconds_per_page)",
        )
    ]
    assert report.indexed == len(DOCS)
    # A failure is written when its turn comes; indexed files wait for their batch's vectors.
    written = _paths_in_write_order(service)
    assert ("b-stuck.endless", "failed") in written
    assert [path for path, status in written if status == "indexed"] == NAMES


def test_a_stop_writes_the_files_reached_and_drops_those_read_ahead(
    make_service, folder, monkeypatch
):
    real_prepare = IngestPipeline._prepare
    read: list[str] = []
    # The readers run side by side: the third file may finish after the fourth.
    read_ahead = threading.Event()

    def prepare(self, path, data):
        text = real_prepare(self, path, data)
        read.append(path.name)
        if {NAMES[2], NAMES[3]} <= set(read):
            read_ahead.set()
        return text

    asked = []

    def should_stop() -> bool:
        # Asked before each file: the stop comes before the third, once the third and the
        # fourth are read.
        asked.append(True)
        if len(asked) < 3:
            return False
        assert read_ahead.wait(WAIT_S)
        return True

    monkeypatch.setattr(IngestPipeline, "_prepare", prepare)
    service = make_service()
    with transaction(service.session_factory) as session:
        source_id = add_source(session, folder.resolve()).id
    progress: list[int] = []

    report = service.pipeline.ingest_source(
        source_id,
        on_progress=lambda done, _total, _shown, _report: progress.append(done),
        should_stop=should_stop,
    )

    assert report.stopped and report.indexed == 2
    assert NAMES[2] in read and NAMES[3] in read  # read ahead, then dropped
    assert progress == [0, 1]
    assert _paths_in_write_order(service) == [(name, "indexed") for name in NAMES[:2]]

    # The next scan reads the others again and writes them.
    report = service.pipeline.ingest_source(source_id)
    assert not report.stopped and (report.unchanged, report.indexed) == (2, len(NAMES) - 2)
    assert _paths_in_write_order(service) == [(name, "indexed") for name in NAMES]
