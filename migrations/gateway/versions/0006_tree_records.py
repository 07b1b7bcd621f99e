"""gateway: the trail's tree stored one row per record (`audit_tree_records`) instead of one row per hash

The sequencer wrote two rows per entry into `audit_tree_hashes` (a record's leaf hash and, on average, one subtree
hash), and that write was most of what the tree cost it; a row per record holds the same hashes (those the record
stores, consecutive in tlog's order) in half the rows. The tree is derived from the trail: the old table is dropped
and the gateway's `backfill_tree` rebuilds the new one from the entries when it starts (the same hashes: every
checkpoint signed before stays provable, and a tree rebuilt from a rewritten trail fails against the checkpoints
and the witness, as A7 says). Append-only like the trail.

Revision ID: gateway_0006_tree_records
Revises: gateway_0005_audit_indexes
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0006_tree_records"
down_revision: str | None = "gateway_0005_audit_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_tree_records",
        sa.Column("record", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hashes", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint(
            "octet_length(hashes) >= 32 AND mod(octet_length(hashes), 32) = 0", name="ck_audit_tree_records_hashes"
        ),
        sa.PrimaryKeyConstraint("record"),
    )
    op.execute(
        "CREATE TRIGGER audit_tree_records_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_tree_records "
        "FOR EACH STATEMENT EXECUTE FUNCTION append_only()"
    )
    op.drop_table("audit_tree_hashes")


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
