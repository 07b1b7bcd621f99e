"""gateway: a door entry leaves the inbox only for a chained copy of itself (A1, S4)

0002's trigger let an inbox row go once *some* chained row named its id: whoever could insert into the chain (the
gateway's login) could chain a forged entry naming the inbox id and then delete the real one. Now every row a DELETE
removes must be named by a chained row that carries the same entry, field by field (AUDIT_FIELDS).

`uq_audit_log_origin` becomes a plain index: a chained row claiming a service's outbox entry with other content must
not keep the real entry out of the chain (gateway.audit: the sequencer chains the real one and says so loudly).

Revision ID: gateway_0003
Revises: gateway_0002
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0003"
down_revision: str | None = "gateway_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every audited column of the inbox (gateway.models.AUDIT_FIELDS), compared NULL-safely.
SAME_ENTRY = " AND ".join(
    f"l.{c} IS NOT DISTINCT FROM g.{c}"
    for c in (
        "at",
        "principal_id",
        "role",
        "region_code",
        "method",
        "path",
        "query",
        "entity_ids",
        "body_sha256",
        "status",
        "code",
        "request_id",
        "origin",
        "origin_id",
    )
)


def upgrade() -> None:
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION audit_inbox_chained_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                IF NOT EXISTS (
                    SELECT 1 FROM gone g WHERE NOT EXISTS (
                        SELECT 1 FROM gateway.audit_log l WHERE l.inbox_id = g.id AND {SAME_ENTRY}
                    )
                ) THEN
                    RETURN NULL;
                END IF;
            END IF;
            RAISE EXCEPTION 'audit_inbox: % refused (an entry leaves the inbox only once it is chained, as it is)',
                TG_OP USING ERRCODE = 'insufficient_privilege';
        END $$;
        """
    )
    op.drop_index("uq_audit_log_origin", table_name="audit_log")
    op.create_index(
        "ix_audit_log_origin", "audit_log", ["origin", "origin_id"], postgresql_where=sa.text("origin_id IS NOT NULL")
    )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
