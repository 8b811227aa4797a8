"""A folder ingest against a real database (SQLite and PostgreSQL) and the real models."""

from __future__ import annotations

import shutil

import pytest
from fpdf import FPDF
from pypdf import PdfWriter
from sqlalchemy import func, select

from ingest.scan import SourceUnavailable
from rag.db.models import Chunk, Document
from tests.conftest import EXAMPLES


def _encrypted_pdf(path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt(user_password="secret", owner_password="owner")
    with path.open("wb") as handle:
        writer.write(handle)


def _scanned_pdf(path) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 100, style="F")  # a drawing, no text: what a scan looks like
    pdf.output(str(path))


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "docs"
    shutil.copytree(EXAMPLES, root)
    (root / "empty.pdf").write_bytes(b"")
    (root / "photo.pdf").write_bytes(bytes(range(256)) * 40)  # binary data named .pdf
    (root / "archive.xyz").write_bytes(b"not a document")
    _encrypted_pdf(root / "locked.pdf")
    _scanned_pdf(root / "scan.pdf")
    (root / ".hidden.txt").write_text("hidden files are not documents")
    return root


def _documents(service) -> dict[str, Document]:
    with service.session_factory() as session:
        return {doc.path: doc for doc in session.scalars(select(Document))}


def _sql_chunk_ids(service) -> set[int]:
    with service.session_factory() as session:
        return set(session.scalars(select(Chunk.id)))


def _index_ids(service) -> set[int]:
    with service.session_factory() as session:
        service.index.catch_up(session)
    ids = service.index.ids()
    assert len(ids) == len(set(ids)), "a chunk is in the index twice"
    return set(ids.tolist())


def test_bad_files_fail_alone_with_actionable_reasons(make_service, folder):
    service = make_service()
    report = service.pipeline.ingest_folder(folder)

    assert report.indexed == 5
    failed = {f.path: f.reason for f in report.failed}
    assert failed == {
        "empty.pdf": "file is empty",
        "photo.pdf": "not a PDF: no %PDF header (is it another format renamed to .pdf?)",
        "locked.pdf": (
            "PDF is encrypted with a password: remove the password or provide an unencrypted copy"
        ),
        "scan.pdf": "PDF has no text layer: scanned images need OCR",
    }
    assert [(s.path, s.reason) for s in report.skipped] == [
        ("archive.xyz", "unsupported file type '.xyz'")
    ]
    docs = _documents(service)
    assert ".hidden.txt" not in docs
    assert docs["scan.pdf"].status == "failed"
    assert docs["scan.pdf"].error == failed["scan.pdf"]
    assert docs["archive.xyz"].status == "skipped"
    assert docs["employee-handbook.pdf"].status == "indexed"
    assert docs["employee-handbook.pdf"].pages == 4
    assert docs["employee-handbook.pdf"].chunk_count > 0
    assert _sql_chunk_ids(service) == _index_ids(service)


def test_personal_data_is_counted_and_pseudonymized(make_service, folder):
    service = make_service()
    service.pipeline.ingest_folder(folder)
    handbook = _documents(service)["employee-handbook.pdf"]
    assert handbook.pii_counts.get("EMAIL_ADDRESS") == 1
    assert handbook.pii_counts.get("PHONE_NUMBER") == 1
    with service.session_factory() as session:
        texts = " ".join(session.scalars(select(Chunk.text)))
    assert "maria.jensen@northwind-robotics.com" not in texts
    assert "206-555-0142" not in texts
    assert "<EMAIL_ADDRESS_" in texts


def test_reingest_processes_only_what_changed(make_service, folder):
    service = make_service()
    first = service.pipeline.ingest_folder(folder)
    before = _sql_chunk_ids(service)

    again = service.pipeline.ingest_folder(folder)
    assert again.indexed == 0
    # Files that failed for their content are not read again until they change.
    assert again.unchanged == first.indexed + len(first.skipped) + len(first.failed)
    assert _sql_chunk_ids(service) == before

    with service.session_factory() as session:
        txt_doc = session.scalar(select(Document).where(Document.path == "benefits-faq.txt"))
        old_txt_chunks = set(
            session.scalars(select(Chunk.id).where(Chunk.document_id == txt_doc.id))
        )
    (folder / "benefits-faq.txt").write_text("Benefits FAQ\n\nThe gym subsidy is now 55 euros.\n")
    (folder / "onboarding.md").unlink()
    changed = service.pipeline.ingest_folder(folder)

    assert changed.indexed == 1
    assert changed.deleted == 1
    docs = _documents(service)
    assert docs["onboarding.md"].status == "deleted"
    assert docs["onboarding.md"].chunk_count == 0
    index_ids = _index_ids(service)
    assert index_ids == _sql_chunk_ids(service)
    assert not old_txt_chunks & index_ids, "a chunk of the old version is still searchable"
    with service.session_factory() as session:
        md_chunks = session.scalar(
            select(func.count())
            .select_from(Chunk)
            .where(Chunk.document_id == docs["onboarding.md"].id)
        )
    assert md_chunks == 0


def test_a_fixed_file_is_retried(make_service, folder):
    service = make_service()
    service.pipeline.ingest_folder(folder)
    (folder / "empty.pdf").unlink()
    shutil.copy(EXAMPLES / "employee-handbook.pdf", folder / "empty.pdf")
    report = service.pipeline.ingest_folder(folder)
    assert report.indexed == 1
    assert _documents(service)["empty.pdf"].status == "indexed"


def test_vanished_source_folder_deletes_nothing(make_service, folder):
    service = make_service()
    service.pipeline.ingest_folder(folder)
    before = _sql_chunk_ids(service)
    shutil.rmtree(folder)
    with pytest.raises(SourceUnavailable, match="not available"):
        service.pipeline.ingest_folder(folder)
    assert _sql_chunk_ids(service) == before
    assert all(d.status != "deleted" for d in _documents(service).values())


def test_file_over_the_size_limit_fails_alone(make_service, folder):
    service = make_service()
    service.settings.ingest.max_file_mb = 0.001  # ~1 KB: the PDF and DOCX examples exceed it
    report = service.pipeline.ingest_folder(folder)
    reasons = {f.path: f.reason for f in report.failed}
    assert reasons["it-security-policy.docx"] == (
        "file is larger than the 0.001 MB limit (ingest.max_file_mb)"
    )
    assert _documents(service)["onboarding.md"].status == "indexed"
