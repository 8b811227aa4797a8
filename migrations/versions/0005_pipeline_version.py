"""The pipeline version of each document, 64-bit pseudonyms in PostgreSQL's full-text column,
and the encrypted originals of a conversation title.

* documents.pipeline_version: which pipeline (anonymizer policy, recognizers, chunking,
  pseudonym length, code) made the document's chunks; NULL for documents made before, which
  the reprocess job (ingest/reprocess.py) runs through the pipeline again.
* PostgreSQL's generated tsvector column read pseudonyms of exactly 8 hex digits; it is made
  again for 8 to 64, so a store holds old and new tokens while it is being re-processed.
* conversations.title_originals_encrypted: a title given through the API is stored
  pseudonymized; the asker's values behind it are kept encrypted, as a message's are.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

# Frozen copies (a migration must not change after release); see rag/db/fulltext.py.
TSV_COLUMN = "text_tsv"
TSV_INDEX = "ix_chunks_text_tsv"


def _tsv_expression(digits: str) -> str:
    return (
        "to_tsvector('english'::regconfig, regexp_replace(regexp_replace(text, "
        rf"'<([A-Z]+)_?([A-Z]*)_?([A-Z]*)_([0-9a-f]{digits})>', 'pii0\1\2\3x\4', 'g'), "
        "'[^[:alnum:]]+', ' ', 'g'))"
    )


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("pipeline_version", sa.String(64), nullable=True))
    op.add_column(
        "conversations", sa.Column("title_originals_encrypted", sa.LargeBinary(), nullable=True)
    )
    if op.get_bind().dialect.name == "postgresql":
        _remake_tsv("{8,64}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _remake_tsv("{8}")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("title_originals_encrypted")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("pipeline_version")


def _remake_tsv(digits: str) -> None:
    op.execute(f"DROP INDEX IF EXISTS {TSV_INDEX}")
    op.execute(f"ALTER TABLE chunks DROP COLUMN IF EXISTS {TSV_COLUMN}")
    op.execute(
        f"ALTER TABLE chunks ADD COLUMN {TSV_COLUMN} tsvector "
        f"GENERATED ALWAYS AS ({_tsv_expression(digits)}) STORED"
    )
    op.execute(f"CREATE INDEX {TSV_INDEX} ON chunks USING gin ({TSV_COLUMN})")
