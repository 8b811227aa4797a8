"""Engine and session factory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

# Every engine: an error's text never carries the values bound to its statement (chunk text,
# paths). The database's own message may still quote a value: log an error's type only.
ENGINE_OPTIONS = {"hide_parameters": True}


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **ENGINE_OPTIONS
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **ENGINE_OPTIONS)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the API read while the ingester writes; foreign keys make deletes cascade.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted rows are overwritten, not left in free pages: replaced chunks held text that a
    # newer anonymizer would remove (rag/db/scrub.py).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on any error."""
    with factory() as session, session.begin():
        yield session


# Any fixed number: the advisory lock that orders writes to index_log.
INDEX_LOG_LOCK = 7_243_001


def lock_index_log(session: Session) -> None:
    """Hold, until this transaction ends, the right to append to index_log.

    Readers replay the log by seq. On PostgreSQL a seq is drawn at insert but becomes visible at
    commit, so two overlapping writers could commit out of order and a reader could move past
    an entry not yet visible. Serializing the writers makes commit order equal seq order.
    SQLite already allows one writer at a time.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": INDEX_LOG_LOCK})


def insert_unless_present(session: Session, row: object) -> bool:
    """Insert `row` in a savepoint; False when its key is there already: another process
    (a second worker starting at the same moment) wrote it first, and the caller's
    transaction goes on."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True
