"""The SQL job queue: leases, take-over, cancellation, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from rag import jobs
from rag.db.models import Job, Source, utcnow
from rag.db.session import make_engine, make_session_factory, transaction


@pytest.fixture
def session_factory(database_url):
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def source_id(session_factory, tmp_path):
    with transaction(session_factory) as session:
        source = Source(name="docs", path=str(tmp_path), groups=[])
        session.add(source)
        session.flush()
        return source.id


def _expire(session_factory, job_id):
    with transaction(session_factory) as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )


def test_one_active_scan_per_source(session_factory, source_id):
    with transaction(session_factory) as session:
        first = jobs.enqueue(session, "scan", source_id=source_id)
        again = jobs.enqueue(session, "scan", source_id=source_id)
        assert first.id == again.id
        with pytest.raises(ValueError, match="unknown job kind"):
            jobs.enqueue(session, "explode")


def test_a_leased_job_is_not_claimed_twice_until_its_lease_expires(session_factory, source_id):
    with transaction(session_factory) as session:
        job_id = jobs.enqueue(session, "scan", source_id=source_id).id
    claimed = jobs.claim(session_factory, "w1", lease_s=60)
    assert claimed.id == job_id and claimed.status == "running" and claimed.attempts == 1
    assert jobs.claim(session_factory, "w2", lease_s=60) is None

    _expire(session_factory, job_id)  # w1 died
    taken = jobs.claim(session_factory, "w2", lease_s=60)
    assert taken.id == job_id and taken.lease_owner == "w2" and taken.attempts == 2
    # w1 comes back to life: its progress reports tell it the job is not its own any more.
    with pytest.raises(jobs.LeaseLost):
        jobs.report_progress(session_factory, job_id, "w1", 60, done=1)
    assert jobs.report_progress(session_factory, job_id, "w2", 60, done=1) is False


def test_concurrent_claims_hand_each_job_to_exactly_one_worker(session_factory, tmp_path):
    with transaction(session_factory) as session:
        for i in range(6):
            session.add(Source(name=f"s{i}", path=str(tmp_path / str(i)), groups=[]))
        session.flush()
        ids = [jobs.enqueue(session, "scan", source_id=i + 1).id for i in range(6)]
    won: list[int] = []
    lock = threading.Lock()

    def claim_all(name: str) -> None:
        while (job := jobs.claim(session_factory, name, lease_s=60)) is not None:
            with lock:
                won.append(job.id)

    threads = [threading.Thread(target=claim_all, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won) == sorted(ids)


def test_a_job_whose_worker_keeps_dying_is_failed(session_factory, source_id):
    with transaction(session_factory) as session:
        job_id = jobs.enqueue(session, "scan", source_id=source_id).id
    for attempt in range(2):
        assert jobs.claim(session_factory, f"w{attempt}", 60, max_attempts=2).id == job_id
        _expire(session_factory, job_id)
    assert jobs.claim(session_factory, "w9", 60, max_attempts=2) is None
    with session_factory() as session:
        job = session.get(Job, job_id)
        assert job.status == "failed" and "stopped 2 times" in job.error


def test_cancel_a_queued_job_at_once_and_a_running_one_through_its_worker(
    session_factory, source_id, tmp_path
):
    with transaction(session_factory) as session:
        queued = jobs.enqueue(session, "scan", source_id=source_id)
        assert jobs.request_cancel(session, queued.id).status == "cancelled"
        running_id = jobs.enqueue(session, "scan", source_id=source_id).id
    jobs.claim(session_factory, "w1", 60)
    with transaction(session_factory) as session:
        assert jobs.request_cancel(session, running_id).status == "running"
    assert jobs.report_progress(session_factory, running_id, "w1", 60, done=2) is True
    jobs.finish(session_factory, running_id, "w1", "cancelled")
    with session_factory() as session:
        job = jobs.get(session, running_id)
        assert job.status == "cancelled" and job.done == 2 and job.finished_at is not None
        with pytest.raises(jobs.JobNotFound):
            jobs.get(session, 999)


def test_due_scans_follow_each_source_interval(session_factory, source_id):
    with transaction(session_factory) as session:
        assert jobs.enqueue_due_scans(session, default_interval_s=None) == []
        due = jobs.enqueue_due_scans(session, default_interval_s=3600)
        assert [j.source_id for j in due] == [source_id]  # never scanned
        source = session.get(Source, source_id)
        source.last_scan_at = utcnow()
    time.sleep(0.01)
    with transaction(session_factory) as session:
        jobs.request_cancel(session, due[0].id)
        assert jobs.enqueue_due_scans(session, default_interval_s=3600) == []
        session.get(Source, source_id).status = "paused"
        session.get(Source, source_id).last_scan_at = utcnow() - timedelta(hours=2)
        assert jobs.enqueue_due_scans(session, default_interval_s=3600) == []
