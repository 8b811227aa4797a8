"""Rows stored before migration 0006 held raw paths: encrypt, hash and anonymize them.

A migration has neither the service secret nor the anonymizer's models, so this runs at
startup (the server's load_all, and every scan before it plans) and does nothing once done.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rag.db.models import Document, Job, StoreMeta
from rag.db.session import insert_unless_present, transaction
from rag.privacy.anonymizer import Anonymizer
from rag.privacy.path_names import anonymize_path
from rag.privacy.path_vault import PathVault

log = logging.getLogger(__name__)
# Set once the jobs' progress and per-file errors of before 0006 are anonymized.
JOBS_DONE_KEY = "private_paths_jobs"


def protect_stored_paths(
    session_factory: sessionmaker[Session], vault: PathVault, anonymizer: Anonymizer
) -> int:
    """Convert what is left of the old rows; the number of documents converted."""
    with session_factory() as session:
        pending = session.scalar(select(Document.id).where(Document.path_hash.is_(None)).limit(1))
        jobs_done = session.get(StoreMeta, JOBS_DONE_KEY) is not None
    if pending is None and jobs_done:
        return 0
    with transaction(session_factory) as session:
        converted = _protect_documents(session, vault, anonymizer)
        if not jobs_done:
            _protect_jobs(session, vault, anonymizer)
            insert_unless_present(session, StoreMeta(key=JOBS_DONE_KEY, value="1"))
    if converted:
        log.info("%d stored document paths encrypted and anonymized", converted)
    return converted


def _protect_documents(session: Session, vault: PathVault, anonymizer: Anonymizer) -> int:
    rows = list(session.scalars(select(Document).where(Document.path_hash.is_(None))))
    for doc in rows:
        raw = doc.path
        doc.path_hash, doc.path_encrypted = vault.digest(raw), vault.seal(raw)
        doc.path = anonymize_path(anonymizer, raw)
        doc.title = anonymizer.anonymize(doc.title or "").text
    session.flush()
    return len(rows)


def _protect_jobs(session: Session, vault: PathVault, anonymizer: Anonymizer) -> None:
    for job in session.scalars(select(Job).where(Job.kind == "scan")):
        if job.current:
            job.current = anonymize_path(anonymizer, job.current)
        if job.errors:
            job.errors = [_protect_error(session, job, item, vault, anonymizer)
                          for item in job.errors]  # fmt: skip


def _protect_error(
    session: Session, job: Job, item: dict, vault: PathVault, anonymizer: Anonymizer
) -> dict:
    raw = str(item.get("path", ""))
    doc = session.scalar(
        select(Document).where(
            Document.source_id == job.source_id, Document.path_hash == vault.digest(raw)
        )
    )
    if doc is not None:
        return {"path": doc.path, "reason": item.get("reason", ""), "document_id": doc.id}
    return {"path": anonymize_path(anonymizer, raw), "reason": item.get("reason", "")}
