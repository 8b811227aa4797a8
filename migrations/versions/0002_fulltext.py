"""Full-text search over chunks(text), kept current by the same writes as the chunks.

SQLite: an FTS5 external-content table `chunks_fts` (text lives once, in chunks) with
insert/delete/update triggers; filled from the existing rows here. PostgreSQL: a generated
tsvector column `chunks.text_tsv` with a GIN index (PostgreSQL fills it for existing rows).
Dialect details (tokenizer, pseudonym handling) are in rag/db/fulltext.py.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op

# Frozen copies of rag/db/fulltext.py's names: a migration must not change after release.
FTS_TABLE = "chunks_fts"
TSV_COLUMN = "text_tsv"
TSV_INDEX = "ix_chunks_text_tsv"
# Letters and digits are tokens; so are `<`, `>` and `_`, which keeps a pseudonym such as
# <PERSON_3fa9c2d1> one token that the Porter stemmer leaves alone. Accents folded.
SQLITE_TOKENIZER = "porter unicode61 remove_diacritics 2 tokenchars '<>_'"
# PostgreSQL would parse a pseudonym as an XML tag and drop it: rewrite it to one word with a
# digit (indexed unstemmed), e.g. <EMAIL_ADDRESS_3fa9c2d1> -> pii0emailaddressx3fa9c2d1; then
# other punctuation becomes spaces, as questions are split ("FRZ-4471" is not "frz", "-4471").
PG_TSV_EXPRESSION = (
    "to_tsvector('english'::regconfig, regexp_replace(regexp_replace(text, "
    r"'<([A-Z]+)_?([A-Z]*)_?([A-Z]*)_([0-9a-f]{8})>', 'pii0\1\2\3x\4', 'g'), "
    "'[^[:alnum:]]+', ' ', 'g'))"
)

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
            f"text, content='chunks', content_rowid='id', tokenize=\"{SQLITE_TOKENIZER}\")"
        )
        op.execute(
            f"CREATE TRIGGER {FTS_TABLE}_ai AFTER INSERT ON chunks BEGIN "
            f"INSERT INTO {FTS_TABLE}(rowid, text) VALUES (new.id, new.text); END"
        )
        op.execute(
            f"CREATE TRIGGER {FTS_TABLE}_ad AFTER DELETE ON chunks BEGIN "
            f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text) "
            f"VALUES ('delete', old.id, old.text); END"
        )
        op.execute(
            f"CREATE TRIGGER {FTS_TABLE}_au AFTER UPDATE OF text ON chunks BEGIN "
            f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text) "
            f"VALUES ('delete', old.id, old.text); "
            f"INSERT INTO {FTS_TABLE}(rowid, text) VALUES (new.id, new.text); END"
        )
        op.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
    else:
        op.execute(
            f"ALTER TABLE chunks ADD COLUMN {TSV_COLUMN} tsvector "
            f"GENERATED ALWAYS AS ({PG_TSV_EXPRESSION}) STORED"
        )
        op.execute(f"CREATE INDEX {TSV_INDEX} ON chunks USING gin ({TSV_COLUMN})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
    else:
        op.execute(f"DROP INDEX IF EXISTS {TSV_INDEX}")
        op.execute(f"ALTER TABLE chunks DROP COLUMN IF EXISTS {TSV_COLUMN}")
