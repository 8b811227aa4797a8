"""Each chunk's context header (document title, section heading, page), kept apart from its text.

chunks.context is embedded and full-text indexed with the chunk, while chunks.text stays the
passage alone (quotes, snippets). The full-text index is made again over both: SQLite's FTS5
table gets a second column (`context`, read from chunks as `text` is), PostgreSQL's generated
tsvector reads `text || ' ' || context`. Existing chunks get an empty context until the
reprocess job makes their documents again (the pipeline version changed with this).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Frozen copies (a migration must not change after release); see rag/db/fulltext/.
FTS_TABLE = "chunks_fts"
SQLITE_TOKENIZER = "porter unicode61 remove_diacritics 2 tokenchars '<>_'"
TSV_COLUMN = "text_tsv"
TSV_INDEX = "ix_chunks_text_tsv"


def _tsv_expression(document: str) -> str:
    return (
        "to_tsvector('english'::regconfig, regexp_replace(regexp_replace("
        f"{document}, "
        r"'<([A-Z]+)_?([A-Z]*)_?([A-Z]*)_([0-9a-f]{8,64})>', 'pii0\1\2\3x\4', 'g'), "
        "'[^[:alnum:]]+', ' ', 'g'))"
    )


def upgrade() -> None:
    op.add_column(
        "chunks", sa.Column("context", sa.Text(), nullable=False, server_default=sa.text("''"))
    )
    if op.get_bind().dialect.name == "sqlite":
        _remake_fts(["text", "context"])
    else:
        _remake_tsv("text || ' ' || context")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _drop_fts()
        op.execute("ALTER TABLE chunks DROP COLUMN context")  # SQLite 3.35+, table kept
        _remake_fts(["text"])
    else:
        _remake_tsv("text")
        op.drop_column("chunks", "context")


def _drop_fts() -> None:
    for suffix in ("ai", "ad", "au"):
        op.execute(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{suffix}")
    op.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")


def _remake_fts(columns: list[str]) -> None:
    _drop_fts()
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    op.execute(
        f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
        f"{names}, content='chunks', content_rowid='id', tokenize=\"{SQLITE_TOKENIZER}\")"
    )
    op.execute(
        f"CREATE TRIGGER {FTS_TABLE}_ai AFTER INSERT ON chunks BEGIN "
        f"INSERT INTO {FTS_TABLE}(rowid, {names}) VALUES (new.id, {new}); END"
    )
    op.execute(
        f"CREATE TRIGGER {FTS_TABLE}_ad AFTER DELETE ON chunks BEGIN "
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {names}) "
        f"VALUES ('delete', old.id, {old}); END"
    )
    op.execute(
        f"CREATE TRIGGER {FTS_TABLE}_au AFTER UPDATE OF {names} ON chunks BEGIN "
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {names}) "
        f"VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {FTS_TABLE}(rowid, {names}) VALUES (new.id, {new}); END"
    )
    op.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")


def _remake_tsv(document: str) -> None:
    op.execute(f"DROP INDEX IF EXISTS {TSV_INDEX}")
    op.execute(f"ALTER TABLE chunks DROP COLUMN IF EXISTS {TSV_COLUMN}")
    op.execute(
        f"ALTER TABLE chunks ADD COLUMN {TSV_COLUMN} tsvector "
        f"GENERATED ALWAYS AS ({_tsv_expression(document)}) STORED"
    )
    op.execute(f"CREATE INDEX {TSV_INDEX} ON chunks USING gin ({TSV_COLUMN})")
