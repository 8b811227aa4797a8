"""SQLAlchemy models. The schema itself is made only by the Alembic migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a real int64.
BigId = BigInteger().with_variant(Integer, "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {
        dict[str, Any]: JSON,
        list[str]: JSON,
        list[dict[str, Any]]: JSON,
    }


class Source(Base):
    """A registered folder of documents."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    path: Mapped[str] = mapped_column(Text, unique=True)
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    # active / paused / unavailable (the folder is gone: its documents are kept)
    status: Mapped[str] = mapped_column(String(20), default="active")
    # Uploads land in a source the service manages itself (data_dir/uploads).
    managed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Re-scan every this many seconds; None: only on demand.
    scan_interval_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_scan_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    documents: Mapped[list[Document]] = relationship(back_populates="source")


class Document(Base):
    __tablename__ = "documents"
    # A path is unique per source; SQL knows it only by its keyed hash (rag/privacy/path_vault.py).
    __table_args__ = (
        UniqueConstraint("source_id", "path_hash", name="uq_documents_source_id_path_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    # Relative to the source folder, file and folder names anonymized: what readers see.
    path: Mapped[str] = mapped_column(Text)
    # HMAC of the raw relative path, and the raw path encrypted: the scan finds a file's
    # document by the one, the file is read again (and shown to an admin) by the other.
    # NULL only in rows stored before migration 0006, until ingest/protect_paths.py ran.
    path_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    path_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    # With size, a shortcut that spares hashing a file that has not been touched.
    mtime_ns: Mapped[int] = mapped_column(BigInteger, default=0)
    format: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(Text, default="")  # anonymized
    pages: Mapped[int] = mapped_column(Integer, default=0)
    # queued / indexed / failed / skipped / deleted
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Counts of personal data found, by entity type. Never the values.
    pii_counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    # Which pipeline made the chunks (ingest/pipeline_version.py); another version is run
    # through the pipeline again by the reprocess job. None: made before versions existed.
    pipeline_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    source: Mapped[Source] = relationship(back_populates="documents")


class Chunk(Base):
    """A pseudonymized passage. Its id is also its id in the FAISS index."""

    __tablename__ = "chunks"
    # Never reuse a deleted chunk's id on SQLite: it is also the id in every FAISS copy.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    ordinal: Mapped[int] = mapped_column(Integer)
    page_start: Mapped[int] = mapped_column(Integer)
    page_end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    # The header embedded and full-text indexed with the text (title, section, page), kept
    # apart so that quotes and snippets show the passage alone. Empty: made before 0007.
    context: Mapped[str] = mapped_column(Text, default="", server_default="")
    token_count: Mapped[int] = mapped_column(Integer)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)  # float32, little-endian


class IndexLog(Base):
    """Append-only log of index changes; each FAISS copy replays it from its last seq."""

    __tablename__ = "index_log"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    op: Mapped[str] = mapped_column(String(10))  # add / remove
    chunk_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Job(Base):
    """Work for the workers, claimed with a lease so a killed worker's job is taken over."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", name="fk_jobs_source_id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    )
    # queued / running / succeeded / failed / cancelled
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    done: Mapped[int] = mapped_column(Integer, default=0)  # files done
    total: Mapped[int] = mapped_column(Integer, default=0)  # files to do
    chunks_written: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    current: Mapped[str | None] = mapped_column(Text, nullable=True)  # the file being read
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Per-file errors: [{"path": ..., "reason": ...}]; the job goes on past them.
    errors: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ApiKey(Base):
    """An API key. Only its hash is stored; the key is shown once, when made."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))  # reader / admin
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StoreMeta(Base):
    """Facts about the store, e.g. which embedding model made the vectors in it."""

    __tablename__ = "store_meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class RateLimitBucket(Base):
    """A key's request budget, shared by every API replica (rag/api/rate_limit/database.py)."""

    __tablename__ = "rate_limit_buckets"

    api_key_id: Mapped[int] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True
    )
    tokens: Mapped[float] = mapped_column(Float)
    # Seconds since the epoch of the last refill (a number, so the refill is plain arithmetic
    # in one UPDATE on both databases).
    refilled_at: Mapped[float] = mapped_column(Float)


class Conversation(Base):
    """A chat-page conversation, kept per API key."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    api_key_id: Mapped[int] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), index=True
    )
    # Pseudonymized, like messages; the values of a title given through the API are kept
    # encrypted (a title taken from the first question uses that question's).
    title: Mapped[str] = mapped_column(Text, default="")
    title_originals_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", order_by="Message.id", cascade="all, delete-orphan"
    )


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20))  # user / assistant
    # Pseudonymized text: SQL never holds a raw personal value. The asker's own values, needed
    # to show the conversation back to them, are kept only encrypted.
    content: Mapped[str] = mapped_column(Text)
    originals_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    found: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


__all__ = [
    "ApiKey",
    "Base",
    "Chunk",
    "Conversation",
    "Document",
    "IndexLog",
    "Job",
    "Message",
    "Source",
    "StoreMeta",
]
