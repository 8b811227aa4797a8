"""Re-indexing and the chat page: source scheduling and state, job progress and cancellation,
a key-value store for facts about the index (e.g. which embedding model made its vectors),
and conversations with their messages.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        # Uploads land in a source the service manages itself (data_dir/uploads).
        batch.add_column(sa.Column("managed", sa.Boolean(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("scan_interval_s", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("last_scan_at", Timestamp, nullable=True))
        # Why the source is unavailable (folder unmounted); its documents are kept meanwhile.
        batch.add_column(sa.Column("error", sa.Text(), nullable=True))

    with op.batch_alter_table("jobs") as batch:
        batch.add_column(
            sa.Column(
                "source_id",
                sa.Integer(),
                sa.ForeignKey("sources.id", name="fk_jobs_source_id", ondelete="SET NULL"),
                nullable=True,
            )
        )
        batch.add_column(
            sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("chunks_written", sa.Integer(), nullable=False, server_default="0")
        )
        # Per-file errors: [{"path": ..., "reason": ...}]
        batch.add_column(sa.Column("errors", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("current", sa.Text(), nullable=True))
        batch.add_column(sa.Column("started_at", Timestamp, nullable=True))
        batch.add_column(sa.Column("finished_at", Timestamp, nullable=True))
        batch.create_index("ix_jobs_source_id", ["source_id"])

    op.create_table(
        "store_meta",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
    )

    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "api_key_id",
            sa.Integer(),
            sa.ForeignKey("api_keys.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
    )
    op.create_index("ix_conversations_api_key_id", "conversations", ["api_key_id"])
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "conversation_id",
            sa.Integer(),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("role", sa.String(20), nullable=False),
        # Pseudonymized text; the asker's own values, if kept, only encrypted.
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("originals_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("citations", sa.JSON(), nullable=False),
        sa.Column("found", sa.Boolean(), nullable=False, server_default="1"),
        sa.Column("created_at", Timestamp, nullable=False),
    )
    op.create_index("ix_messages_conversation_id", "messages", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("messages")
    op.drop_table("conversations")
    op.drop_table("store_meta")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_source_id")
        for column in (
            "finished_at", "started_at", "current", "errors", "chunks_written",
            "cancel_requested", "source_id",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("sources") as batch:
        for column in ("error", "last_scan_at", "scan_interval_s", "managed"):
            batch.drop_column(column)
