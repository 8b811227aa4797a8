"""File and folder names are personal data: SQL holds them anonymized, the raw path only
encrypted and as a keyed hash; the scan still finds files, moves and renames by it."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from rag import jobs
from rag.db.models import Document, Job, Source
from rag.db.session import transaction
from rag.privacy.path_names import anonymize_path
from rag.privacy.path_vault import PathVault

PERSON_FILE = "reviews/Performance review of Priya Raman.md"
PERSON_FOLDER = "Lars Eriksen/notes.md"
EMAIL_FILE = "priya.raman@example.com.txt"
BROKEN = "Kenji Watanabe salary.pdf"  # not a PDF: fails, and an admin must find it
RAW_VALUES = ["Priya", "Raman", "Lars", "Eriksen", "priya.raman@example.com", "Kenji", "Watanabe"]


@pytest.fixture
def named_folder(tmp_path):
    root = tmp_path / "docs"
    for relative, body in {
        PERSON_FILE: "# Review\n\nGoals were met; the team grew by two engineers.",
        PERSON_FOLDER: "# Notes\n\nThe parking garage closes at nine in the evening.",
        EMAIL_FILE: "Mail folder rules\n\nArchive threads older than a year.",
        "handbook.txt": "Handbook\n\nOffice hours are nine to five.",
    }.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    (root / BROKEN).write_bytes(b"this is not a PDF at all")
    return root


def _rows(service) -> list[Document]:
    with service.session_factory() as session:
        return list(session.scalars(select(Document).order_by(Document.id)))


def _no_raw_value(text: str) -> None:
    leaked = [value for value in RAW_VALUES if value.lower() in text.lower()]
    assert not leaked, f"{leaked} in {text!r}"


def test_anonymized_names_keep_what_is_not_personal(anonymizer):
    assert anonymize_path(anonymizer, "handbook.txt") == "handbook.txt"
    assert anonymize_path(anonymizer, "hr/benefits-faq_2024.md") == "hr/benefits-faq_2024.md"
    for raw in (PERSON_FILE, PERSON_FOLDER, EMAIL_FILE, BROKEN, "Priya_Raman_review.txt"):
        shown = anonymize_path(anonymizer, raw)
        _no_raw_value(shown)
        assert shown.count("/") == raw.count("/") and shown.endswith(raw.rsplit(".", 1)[1])


def test_paths_and_titles_are_stored_anonymized_and_the_raw_path_only_encrypted(
    make_service, named_folder
):
    service = make_service()
    shown: list[str] = []
    report = service.pipeline.ingest_folder(
        named_folder, on_progress=lambda done, total, current, _: shown.append(current)
    )
    assert report.indexed == 4 and len(report.failed) == 1
    assert len(shown) == 6  # before each file, and once at the end
    _no_raw_value(" ".join(shown))
    rows = _rows(service)
    assert len(rows) == 5
    for doc in rows:
        _no_raw_value(f"{doc.path} {doc.title} {doc.error or ''}")
        assert doc.path_hash and doc.path_encrypted
    vault = service.path_vault
    raw_paths = {vault.open(doc.path_encrypted) for doc in rows}
    assert raw_paths == {PERSON_FILE, PERSON_FOLDER, EMAIL_FILE, BROKEN, "handbook.txt"}
    (failure,) = report.failed
    _no_raw_value(failure.path)
    failed = next(doc for doc in rows if doc.id == failure.document_id)
    assert failed.status == "failed" and vault.open(failed.path_encrypted) == BROKEN
    # A vault with another secret can neither read the paths nor match their hashes.
    other = PathVault(b"another secret")
    assert other.open(failed.path_encrypted) is None
    assert other.digest(BROKEN) != failed.path_hash


def test_rescan_moves_and_renames_work_by_the_hashed_path(make_service, named_folder):
    service = make_service()
    service.pipeline.ingest_folder(named_folder)
    before = {service.path_vault.open(d.path_encrypted): d for d in _rows(service)}

    again = service.pipeline.ingest_folder(named_folder)
    assert again.indexed == 0 and again.unchanged == 5 and not again.failed, again

    (named_folder / "archive").mkdir()
    (named_folder / PERSON_FOLDER).rename(named_folder / "archive" / "Lars Eriksen notes.md")
    (named_folder / "handbook.txt").rename(named_folder / "office-handbook.txt")
    moved = service.pipeline.ingest_folder(named_folder)
    assert moved.moved == 2 and moved.indexed == 0 and moved.deleted == 0, moved
    after = {service.path_vault.open(d.path_encrypted): d for d in _rows(service)}
    assert after["archive/Lars Eriksen notes.md"].id == before[PERSON_FOLDER].id
    assert after["office-handbook.txt"].id == before["handbook.txt"].id
    assert after["office-handbook.txt"].path == "office-handbook.txt"
    for doc in after.values():
        _no_raw_value(doc.path)


def test_job_progress_and_file_errors_hold_no_raw_name(make_service, named_folder, caplog):
    service = make_service()
    with transaction(service.session_factory) as session:
        source = Source(name="docs", path=str(named_folder.resolve()), groups=[])
        session.add(source)
        session.flush()
        job_id = jobs.enqueue(session, "scan", source_id=source.id).id
    caplog.set_level("DEBUG")
    service.worker().run(threading.Event(), once=True)
    with service.session_factory() as session:
        job = session.get(Job, job_id)
    assert job.status == "succeeded" and job.done == job.total == 5
    (error,) = job.errors
    _no_raw_value(str(job.errors) + str(job.current))
    _no_raw_value(caplog.text)
    assert error["document_id"]
