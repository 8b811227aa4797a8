"""A store made before migration 0006 held raw paths and titles: after the upgrade the first
start encrypts, hashes and anonymizes them, and the scan still knows every file."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import MetaData, create_engine, select

from rag.db.migrate import upgrade
from rag.db.models import Document, Job
from tests.conftest import PG_URL, _fresh_postgres_schema

RAW_PATH = "Lars Eriksen/Performance review of Priya Raman.md"
RAW_TITLE = "Performance review of Priya Raman"
FAILED_PATH = "Kenji Watanabe salary.pdf"
RAW_VALUES = ["Priya", "Raman", "Lars", "Eriksen", "Kenji", "Watanabe"]


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database_url(request, tmp_path) -> str:
    """A database at revision 0004: before paths were protected."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        if not PG_URL:
            pytest.skip("set RAG_TEST_DATABASE_URL to run the storage tests on PostgreSQL")
        url = _fresh_postgres_schema(PG_URL)
    upgrade(url, "0004")
    return url


def _store_the_old_way(url: str, folder) -> None:
    """Rows as the code before 0006 wrote them: raw path, raw title, raw path in a job."""
    file = folder / RAW_PATH
    stat = file.stat()
    now = datetime.now(UTC)
    engine = create_engine(url)
    tables = MetaData()
    tables.reflect(engine)
    document = {
        "sha256": "",
        "pages": 1,
        "groups": [],
        "pii_counts": {},
        "chunk_count": 0,
        "created_at": now,
        "updated_at": now,
    }
    with engine.begin() as connection:
        connection.execute(
            tables.tables["sources"].insert(),
            {"id": 1, "name": "docs", "path": str(folder), "groups": [], "status": "active",
             "created_at": now},
        )  # fmt: skip
        connection.execute(
            tables.tables["documents"].insert(),
            [
                {**document, "source_id": 1, "path": RAW_PATH, "title": RAW_TITLE,
                 "size_bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns, "format": "md",
                 "status": "indexed"},
                {**document, "source_id": 1, "path": FAILED_PATH, "title": FAILED_PATH,
                 "size_bytes": 3, "mtime_ns": 1, "format": "pdf", "status": "failed",
                 "error": "not a PDF: no %PDF header"},
            ],
        )  # fmt: skip
        connection.execute(
            tables.tables["jobs"].insert(),
            {"kind": "scan", "source_id": 1, "payload": {}, "status": "succeeded",
             "attempts": 1, "done": 2, "total": 2, "current": RAW_PATH,
             "errors": [{"path": FAILED_PATH, "reason": "not a PDF: no %PDF header"}],
             "created_at": now, "updated_at": now},
        )  # fmt: skip
    engine.dispose()


def test_old_rows_are_protected_at_the_first_scan_and_stay_known(
    old_database_url, tmp_path, make_service
):
    folder = tmp_path / "docs"
    (folder / RAW_PATH).parent.mkdir(parents=True)
    (folder / RAW_PATH).write_text("# Review\n\nGoals were met.")
    _store_the_old_way(old_database_url, folder)
    upgrade(old_database_url)

    service = make_service(database_url=old_database_url)
    report = service.pipeline.ingest_source(1)
    # The file is recognised by its hashed path: unchanged, not new (nor its row deleted).
    assert report.unchanged == 1 and report.indexed == 0 and report.deleted == 1, report

    with service.session_factory() as session:
        docs = {service.path_vault.open(d.path_encrypted): d for d in session.scalars(
            select(Document))}  # fmt: skip
        job = session.scalar(select(Job))
    assert set(docs) == {RAW_PATH, FAILED_PATH}
    stored = " ".join(f"{d.path} {d.title}" for d in docs.values())
    stored += f" {job.current} {job.errors}"
    assert not [v for v in RAW_VALUES if v in stored], stored
    assert docs[RAW_PATH].path.count("/") == 1 and docs[RAW_PATH].path.endswith(".md")
    assert job.errors[0]["document_id"] == docs[FAILED_PATH].id
