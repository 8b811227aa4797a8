"""Text that was deleted must not linger in the database files.

When the reprocess job has replaced chunks made by an older anonymizer, their old text may
still sit in the files: SQLite keeps freed pages (zeroed as they are freed, since every
connection sets `secure_delete`), old page images in the write-ahead log until it is
checkpointed, and FTS5 keeps deleted terms in its older index segments until they are merged.
`purge_deleted_text` merges the segments and checkpoints the WAL into the database, truncating
it. PostgreSQL keeps dead row versions in its data files until they are reused; that needs a
`VACUUM FULL chunks` by the operator (docs/architecture.md), whose lock would stop every
reader meanwhile, so it is not run from here.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine

from rag.db.fulltext import FTS_TABLE

log = logging.getLogger(__name__)


def purge_deleted_text(engine: Engine) -> bool:
    """Best effort on SQLite (a reader holding an old snapshot keeps the WAL): False then."""
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect() as connection:
        connection.exec_driver_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')")
        connection.commit()
        busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    if busy:
        log.warning("the write-ahead log could not be emptied now (a reader is busy)")
    return not busy
