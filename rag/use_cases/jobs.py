"""Jobs: list, read (with the failed files' raw paths for admins who ask), count, cancel."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from rag import jobs
from rag.db.models import Job
from rag.db.session import transaction
from rag.privacy.path_vault import PathVault, with_raw_paths


class Jobs:
    def __init__(self, session_factory: sessionmaker[Session], path_vault: PathVault) -> None:
        self._sessions = session_factory
        self._vault = path_vault

    def list(self, limit: int = 50, status: str | None = None) -> list[dict[str, Any]]:
        """The newest jobs first, in their public shape (rag.jobs.job_as_dict)."""
        with self._sessions() as session:
            return [jobs.job_as_dict(j) for j in jobs.recent(session, limit, status)]

    def get(self, job_id: int, *, reveal_paths: bool = False) -> dict[str, Any]:
        """One job (JobNotFound); `reveal_paths` adds each failed file's raw path."""
        with self._sessions() as session:
            job = jobs.job_as_dict(jobs.get(session, job_id))
            if reveal_paths:
                job["errors"] = with_raw_paths(session, self._vault, job["errors"])
            return job

    def count_by_status(self) -> dict[str, int]:
        """How many jobs are in each state (those with none left out)."""
        with self._sessions() as session:
            rows = session.execute(select(Job.status, func.count()).group_by(Job.status))
            return {status: count for status, count in rows}

    def cancel(self, job_id: int) -> dict[str, Any]:
        """A queued job is cancelled at once; a running one stops after its current file."""
        with transaction(self._sessions) as session:
            return jobs.job_as_dict(jobs.request_cancel(session, job_id))
