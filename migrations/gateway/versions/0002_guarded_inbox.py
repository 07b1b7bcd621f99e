"""gateway: nobody deletes an audit entry before it is chained (A1, S4)

The door's inbox is emptied by the sequencer once its entries are in the chain: the database now refuses to delete
an inbox row that no chained entry names (`audit_log.inbox_id`), and refuses UPDATE and TRUNCATE. The gateway's own
change outbox becomes permanent and acknowledged by insert, like every service's (migration_ops.permanent_outbox).

Revision ID: gateway_0002
Revises: gateway_0001
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.kernel.migration_ops import permanent_outbox

revision: str = "gateway_0002"
down_revision: str | None = "gateway_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    permanent_outbox()
    op.add_column("audit_log", sa.Column("inbox_id", sa.BigInteger, nullable=True))
    op.create_index(
        "uq_audit_log_inbox_id", "audit_log", ["inbox_id"], unique=True, postgresql_where=sa.text("inbox_id IS NOT NULL")
    )
    # What the sequencer asks before staging an outbox entry: is it waiting in the inbox already?
    op.create_index(
        "ix_audit_inbox_origin", "audit_inbox", ["origin", "origin_id"], postgresql_where=sa.text("origin_id IS NOT NULL")
    )
    # One set-based check per DELETE statement (a transition table), not a trigger call per row: the sequencer
    # deletes a batch of 2000 chained entries at a time.
    op.execute(
        """
        CREATE OR REPLACE FUNCTION audit_inbox_chained_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                IF NOT EXISTS (
                    SELECT 1 FROM gone g WHERE NOT EXISTS (SELECT 1 FROM gateway.audit_log l WHERE l.inbox_id = g.id)
                ) THEN
                    RETURN NULL;
                END IF;
            END IF;
            RAISE EXCEPTION 'audit_inbox: % refused (an entry leaves the inbox only once it is chained)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$;
        """
    )
    op.execute(
        "CREATE TRIGGER audit_inbox_delete_chained_only AFTER DELETE ON audit_inbox REFERENCING OLD TABLE AS gone "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_inbox_chained_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_inbox_no_update_or_truncate BEFORE UPDATE OR TRUNCATE ON audit_inbox "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_inbox_chained_only()"
    )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
