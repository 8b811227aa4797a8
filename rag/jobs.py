"""The job queue, in SQL: enqueue, claim with a lease, report progress, finish, cancel.

A worker owns a job while its lease lasts and renews the lease as it works. A worker that dies
stops renewing; once the lease has expired any worker may claim the job again and redo it. That
is safe because a job's effects are per-document transactions and a re-run skips what is done.
Claiming is one conditional UPDATE, so two workers can never both win the same job; on
PostgreSQL the candidate is also picked with FOR UPDATE SKIP LOCKED so workers do not queue up
behind each other's row locks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from rag.db.models import Job, Source, utcnow
from rag.db.session import transaction

KINDS = ("scan", "reembed", "reprocess")
ACTIVE = ("queued", "running")
FINISHED = ("succeeded", "failed", "cancelled")
MAX_RECORDED_ERRORS = 1000


class JobNotFound(LookupError):
    pass


class LeaseLost(RuntimeError):
    """Another worker took the job over (this one was presumed dead): stop working on it."""


def enqueue(
    session: Session,
    kind: str,
    *,
    source_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> Job:
    """Queue a job. There is at most one active job of a kind per source (or one without a
    source, e.g. a re-embed or a reprocess): asking again returns it."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind '{kind}'; known: {', '.join(KINDS)}")
    same_source = Job.source_id.is_(None) if source_id is None else Job.source_id == source_id
    active = session.scalar(
        select(Job).where(
            Job.kind == kind,
            same_source,
            Job.status.in_(ACTIVE),
            Job.cancel_requested.is_(False),
        )
    )
    if active is not None:
        return active
    job = Job(kind=kind, source_id=source_id, payload=payload or {}, status="queued", errors=[])
    session.add(job)
    session.flush()
    return job


def claim(
    session_factory: sessionmaker[Session],
    owner: str,
    lease_s: float,
    *,
    max_attempts: int = 3,
    job_id: int | None = None,
) -> Job | None:
    """Take the oldest queued job, or one whose worker's lease expired; None if there is none."""
    with transaction(session_factory) as session:
        now = utcnow()
        _fail_abandoned(session, now, max_attempts)
        claimable = or_(
            Job.status == "queued",
            and_(Job.status == "running", Job.lease_expires_at < now),
        )
        query = select(Job.id).where(claimable).order_by(Job.id).limit(1)
        if job_id is not None:
            query = query.where(Job.id == job_id)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        candidate = session.scalar(query)
        if candidate is None:
            return None
        won = session.execute(
            update(Job)
            .where(Job.id == candidate, claimable)
            .values(
                status="running",
                lease_owner=owner,
                lease_expires_at=now + timedelta(seconds=lease_s),
                attempts=Job.attempts + 1,
                started_at=now,
                finished_at=None,
            )
        ).rowcount
        if not won:
            return None
        return session.get(Job, candidate, populate_existing=True)


def _fail_abandoned(session: Session, now: datetime, max_attempts: int) -> None:
    session.execute(
        update(Job)
        .where(
            Job.status == "running",
            Job.lease_expires_at < now,
            Job.attempts >= max_attempts,
        )
        .values(
            status="failed",
            error=f"the worker running this job stopped {max_attempts} times; giving up",
            finished_at=now,
            lease_owner=None,
        )
    )


def report_progress(
    session_factory: sessionmaker[Session],
    job_id: int,
    owner: str,
    lease_s: float,
    **fields: Any,
) -> bool:
    """Record progress and renew the lease. Returns True when cancellation was requested.
    Raises LeaseLost when the job is no longer this worker's."""
    with transaction(session_factory) as session:
        renewed = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.lease_owner == owner, Job.status == "running")
            .values(lease_expires_at=utcnow() + timedelta(seconds=lease_s), **fields)
        ).rowcount
        if not renewed:
            raise LeaseLost(f"job {job_id} was taken over by another worker")
        return bool(session.scalar(select(Job.cancel_requested).where(Job.id == job_id)))


def finish(
    session_factory: sessionmaker[Session],
    job_id: int,
    owner: str,
    status: str,
    error: str | None = None,
) -> None:
    if status not in FINISHED:
        raise ValueError(f"a job finishes as one of {FINISHED}, not '{status}'")
    with transaction(session_factory) as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id, Job.lease_owner == owner)
            .values(status=status, error=error, finished_at=utcnow(), current=None)
        )


def release(session_factory: sessionmaker[Session], job_id: int, owner: str) -> None:
    """Hand a running job back to the queue (its worker is shutting down): any worker takes it
    at once instead of after the lease expires, and a re-run skips what is done. A clean hand
    back is not a failed attempt, so it does not count towards max_attempts."""
    with transaction(session_factory) as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id, Job.lease_owner == owner, Job.status == "running")
            .values(
                status="queued",
                lease_owner=None,
                lease_expires_at=None,
                current=None,
                attempts=Job.attempts - 1,
            )
        )


def request_cancel(session: Session, job_id: int) -> Job:
    """A queued job is cancelled at once; a running one stops after its current file."""
    job = get(session, job_id)
    if job.status == "queued":
        job.status, job.finished_at = "cancelled", utcnow()
    elif job.status == "running":
        job.cancel_requested = True
    return job


def get(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise JobNotFound(f"no job with id {job_id}")
    return job


def recent(session: Session, limit: int = 50, status: str | None = None) -> list[Job]:
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if status:
        query = query.where(Job.status == status)
    return list(session.scalars(query))


def enqueue_due_scans(session: Session, default_interval_s: int | None) -> list[Job]:
    """Queue a scan for every active source whose interval has passed since its last scan."""
    now = utcnow()
    queued = []
    for source in session.scalars(select(Source).where(Source.status != "paused")):
        interval = source.scan_interval_s or default_interval_s
        if not interval:
            continue
        last = as_utc(source.last_scan_at)
        if last is None or now - last >= timedelta(seconds=interval):
            queued.append(enqueue(session, "scan", source_id=source.id))
    return queued


def as_utc(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; every time this service writes is UTC.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def job_as_dict(job: Job) -> dict[str, Any]:
    """The public shape of a job (API and CLI)."""
    return {
        "id": job.id,
        "kind": job.kind,
        "source_id": job.source_id,
        "status": job.status,
        "done": job.done,
        "total": job.total,
        "chunks_written": job.chunks_written,
        "current": job.current,
        "errors": job.errors or [],
        "error": job.error,
        "attempts": job.attempts,
        "cancel_requested": job.cancel_requested,
        "created_at": as_utc(job.created_at),
        "started_at": as_utc(job.started_at),
        "finished_at": as_utc(job.finished_at),
    }
