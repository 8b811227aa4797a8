"""Ingest the real-world broken and tricky PDFs: nothing crashes, every failure says why."""

from __future__ import annotations

from sqlalchemy import func, select

from rag.config import Settings
from rag.db.migrate import upgrade
from rag.db.models import Chunk, Document
from rag.service import RagService
from tests.conftest import shared_eval


def test_eval_pdfs_ingest_without_crash_and_with_reasons(tmp_path, embedder, anonymizer):
    folder = shared_eval("pdfs")
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'rag.db'}")
    upgrade(settings.resolved_database_url)
    service = RagService(settings, embedder=embedder, anonymizer=anonymizer)

    report = service.pipeline.ingest_folder(folder)

    pdf_count = sum(1 for p in folder.rglob("*.pdf") if not p.name.startswith("."))
    assert report.indexed + len(report.failed) + len(report.skipped) >= pdf_count
    assert report.indexed > 100  # most of them are readable
    for failure in report.failed:
        assert failure.reason and "\n" not in failure.reason and len(failure.reason) < 200
        assert "internal error" not in failure.reason, (failure.path, failure.reason)
    reasons = {f.reason for f in report.failed}
    assert "PDF has no text layer: scanned images need OCR" in reasons
    assert any(r.startswith("PDF is encrypted with a password") for r in reasons)
    with service.session_factory() as session:
        failed_without_reason = session.scalar(
            select(func.count())
            .select_from(Document)
            .where(Document.status == "failed", Document.error.is_(None))
        )
        chunks = session.scalar(select(func.count()).select_from(Chunk))
    assert failed_without_reason == 0
    assert chunks == service.index.size
