"""Per-file worker processes: a file past its time budget or memory limit fails alone with
the reason, its worker is replaced, and the other files are indexed.

No wall-clock assertion: the files that overrun never finish at all (an endless loop, a 1 GB
allocation), so they fail at any machine speed; the budgets of the good files are generous."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from ingest.file_workers import (
    FileLimits,
    FileOverBudget,
    FileWorkerPool,
    HostCapacity,
    WorkerConfig,
    worker_count,
)
from ingest.loaders import LoaderError
from ingest.pipeline import IngestPipeline
from rag.config import IngestSettings
from rag.db.models import Document
from tests.conftest import EXAMPLES
from tests.ingest.file_worker_loaders import register

LIMITS = FileLimits(seconds_per_file=3, seconds_per_page=3, max_memory_mb=512)


@pytest.fixture(scope="module")
def make_pool(anonymizer):
    pools: dict[FileLimits, FileWorkerPool] = {}

    def make(limits: FileLimits = LIMITS) -> FileWorkerPool:
        if limits not in pools:
            config = WorkerConfig(anonymizer.settings, anonymizer.secret, limits, setup=register)
            pools[limits] = FileWorkerPool(config)
        return pools[limits]

    yield make
    for pool in pools.values():
        pool.close()


def test_a_file_is_parsed_and_anonymized_in_a_worker(make_pool, anonymizer, tmp_path):
    path = tmp_path / "note.txt"
    path.write_text("Contact Jane Doe at jane.doe@example.com about the parking rules.")
    prepared = make_pool().prepare(path)
    assert prepared.pages[0].text == anonymizer.anonymize(path.read_text()).text
    assert "jane.doe@example.com" not in prepared.pages[0].text
    assert prepared.pii_counts["EMAIL_ADDRESS"] == 1
    # The words of the hidden name, as tokens, for the chunk headers.
    jane, doe = (anonymizer.pseudonymize("PERSON", v) for v in ("Jane", "Doe"))
    assert prepared.name_parts == {anonymizer.pseudonymize("PERSON", "Jane Doe"): (jane, doe)}


def test_a_file_that_never_finishes_parsing_fails_and_its_worker_is_replaced(make_pool, tmp_path):
    pool = make_pool()
    (tmp_path / "stuck.endless").write_text("x")
    (tmp_path / "fine.txt").write_text("The office opens at nine.")
    with pytest.raises(FileOverBudget) as failure:
        pool.prepare(tmp_path / "stuck.endless")
    assert str(failure.value) == (
        "took longer than 6 s to read, estimated at 1 pages from its size (ingest.seconds_per_page)"
    )
    assert pool.prepare(tmp_path / "fine.txt").pages[0].text == "The office opens at nine."


def test_the_budget_grows_with_the_pages_once_they_are_known(make_pool, tmp_path):
    (tmp_path / "slow.slowpages").write_text("x")
    with pytest.raises(FileOverBudget) as failure:
        make_pool().prepare(tmp_path / "slow.slowpages")
    assert str(failure.value) == "took longer than 9 s for 2 pages (ingest.seconds_per_page)"


def test_a_file_that_needs_too_much_memory_fails(make_pool, tmp_path):
    pool = make_pool()
    (tmp_path / "big.hog").write_text("x")
    (tmp_path / "fine.txt").write_text("The office opens at nine.")
    with pytest.raises(FileOverBudget) as failure:
        pool.prepare(tmp_path / "big.hog")
    assert str(failure.value) == "needed more than 512 MB (ingest.max_file_memory_mb)"
    assert pool.prepare(tmp_path / "fine.txt").pages[0].text == "The office opens at nine."


def test_loader_errors_and_missing_files_come_back_as_themselves(make_pool, tmp_path):
    pool = make_pool()
    (tmp_path / "empty.md").write_bytes(b"")
    with pytest.raises(LoaderError, match="^file is empty$"):
        pool.prepare(tmp_path / "empty.md")
    with pytest.raises(FileNotFoundError):
        pool.prepare(tmp_path / "gone.txt")


def test_a_stuck_and_a_hungry_file_fail_alone_and_the_folder_is_indexed(
    make_service, make_pool, tmp_path
):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("benefits-faq.txt", "onboarding.md", "employee-handbook.pdf"):
        (folder / name).write_bytes((EXAMPLES / name).read_bytes())
    (folder / "a-stuck.endless").write_text("x")  # first: the files after it need a new worker
    (folder / "b-big.hog").write_text("x")
    service = make_service()
    limits = FileLimits(seconds_per_file=3, seconds_per_page=10, max_memory_mb=512)
    pipeline = IngestPipeline(
        service.settings,
        service.session_factory,
        service.embedder,
        service.anonymizer,
        file_workers=make_pool(limits),
    )

    report = pipeline.ingest_folder(folder)

    assert {f.path: f.reason for f in report.failed} == {
        "a-stuck.endless": (
            "took longer than 13 s to read, estimated at 1 pages from its size "
            "(ingest.seconds_per_page)"
        ),
        "b-big.hog": "needed more than 512 MB (ingest.max_file_memory_mb)",
    }
    assert report.indexed == 3
    with service.session_factory() as session:
        statuses = dict(session.execute(select(Document.path, Document.status)).all())
    assert statuses == {
        "a-stuck.endless": "failed",
        "b-big.hog": "failed",
        "benefits-faq.txt": "indexed",
        "onboarding.md": "indexed",
        "employee-handbook.pdf": "indexed",
    }


def test_the_pool_the_ingest_command_starts_first_is_the_one_its_pipeline_uses(settings, embedder):
    """`rag ingest` starts the file workers before loading its own models, so both load at
    once; the pipeline must then find that pool, not start another."""
    from ingest.file_workers import start_ingest_pool
    from rag.service import RagService

    settings = settings.model_copy(
        update={"ingest": settings.ingest.model_copy(update={"file_workers": 2})}
    )
    pool = start_ingest_pool(settings)
    service = RagService(settings, embedder=embedder)
    try:
        assert pool.children_running == 2  # before any file was asked for
        assert service.pipeline.file_workers is pool
        report = service.pipeline.ingest_folder(EXAMPLES)
        assert report.failed == [] and report.indexed > 0
        assert pool.children_running == 2  # the same children served the files
        processes = [child.process for child in list(pool._idle.queue)]
        pool.close()  # asks every child to stop, then waits for them
        assert all(process.poll() is not None for process in processes)
        assert pool.children_running == 0
        pool.start()  # and the pool starts again after a close
        assert pool.children_running == 2
    finally:
        pool.close()
        service.engine.dispose()


# -- how many workers --------------------------------------------------------------------------


def test_a_configured_number_of_workers_is_taken_as_it_is():
    ingest = IngestSettings(file_workers=3)
    assert worker_count(ingest, HostCapacity(cpus=64, free_mib=100)) == 3


@pytest.mark.parametrize(
    ("cpus", "free_mib", "workers"),
    [
        (8, 64_000, 8),  # one per CPU where memory is plenty
        (8, 5_000, 2),  # 440 MiB of models + 2,048 MiB one file may take: 2 fit in 5 GB
        (8, 1_000, 1),  # never none
        (4, None, 4),  # memory unknown (not Linux): the CPUs decide
        (1, 64_000, 1),
    ],
)
def test_auto_takes_one_worker_per_cpu_as_far_as_memory_holds(cpus, free_mib, workers):
    ingest = IngestSettings(file_workers="auto", max_file_memory_mb=2048)
    assert worker_count(ingest, HostCapacity(cpus, free_mib)) == workers


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="pins a process: Linux only")
def test_auto_is_the_default_and_follows_the_cpus_a_process_may_use():
    """A process pinned to one CPU (taskset, a cpuset) counts one and runs one worker; the
    real host is read."""
    assert IngestSettings().file_workers == "auto"
    script = (
        "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))});"
        "from rag.config import IngestSettings;"
        "from ingest.file_workers import host_capacity, worker_count;"
        "print(host_capacity().cpus, worker_count(IngestSettings()))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["1", "1"]


def test_an_invalid_number_of_workers_is_refused():
    for value in (0, -1, "many"):
        with pytest.raises(ValidationError):
            IngestSettings(file_workers=value)
