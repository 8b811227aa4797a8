"""Documents' raw paths kept only encrypted, found by a keyed hash; the unique key moves to it.

The conversion of rows stored before (encrypt the path, hash it, anonymize the shown path and
the title) needs the service secret and the anonymizer's models, which a migration does not
have: ingest/protect_paths.py does it at the first start after this upgrade (server, worker or
`rag ingest`) for every row whose path_hash is still NULL.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

NEW_UNIQUE = "uq_documents_source_id_path_hash"
# SQLite reflects the old (unnamed) unique constraint; batch mode names it by this convention.
OLD_UNIQUE = "uq_documents_source_id_path"
NAMING = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}


def _old_unique_name() -> str:
    for constraint in sa.inspect(op.get_bind()).get_unique_constraints("documents"):
        if constraint["column_names"] == ["source_id", "path"]:
            return constraint["name"] or OLD_UNIQUE
    return OLD_UNIQUE


def upgrade() -> None:
    old_unique = _old_unique_name()
    with op.batch_alter_table("documents", naming_convention=NAMING) as batch:
        batch.add_column(sa.Column("path_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("path_encrypted", sa.LargeBinary(), nullable=True))
        batch.drop_constraint(old_unique, type_="unique")
        batch.create_unique_constraint(NEW_UNIQUE, ["source_id", "path_hash"])


def downgrade() -> None:
    # The shown (anonymized) paths stay: the raw ones cannot be decrypted here.
    with op.batch_alter_table("documents", naming_convention=NAMING) as batch:
        batch.drop_constraint(NEW_UNIQUE, type_="unique")
        batch.drop_column("path_encrypted")
        batch.drop_column("path_hash")
        batch.create_unique_constraint(OLD_UNIQUE, ["source_id", "path"])
