"""audit_log: `inbox_id` indexed, no longer unique, so the trail can be partitioned by seq (issue #15)

A unique index of a table partitioned by `seq` must hold `seq` (deploy/SCALING.md, step 3), and `uq_audit_log_inbox_id`
held `inbox_id` alone. It was one of the guards against chaining a door entry twice; the guard that stays is the
sequencer's: the transaction that chains an entry deletes it from the inbox and rolls back unless it deleted every
entry it chained (gateway/sequencer.py `take_from_inbox`), and one transaction only can delete a row. The inbox's
delete guard (an entry leaves the inbox only for a chained copy of itself, S4) still finds that copy by `inbox_id`:
`ix_audit_log_inbox_id`, a plain partial index, is built first, then the unique one is dropped; both CONCURRENTLY
(migrations/online.py), so the door and the sequencer go on meanwhile. A sequencer of the version before, still
running while the new one starts, chains under the same advisory lock, one turn at a time, so the two cannot chain
an entry twice either.

Revision ID: gateway_0013_inbox_id_not_unique
Revises: gateway_0012_totp
Create Date: 2026-12-06 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.online import LOCK_TIMEOUT, build_index

revision: str = "gateway_0013_inbox_id_not_unique"
down_revision: str | None = "gateway_0012_totp"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    build_index("ix_audit_log_inbox_id", "audit_log", ["inbox_id"], postgresql_where=sa.text("inbox_id IS NOT NULL"))
    with op.get_context().autocommit_block():
        op.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        op.drop_index("uq_audit_log_inbox_id", table_name="audit_log", postgresql_concurrently=True, if_exists=True)
        op.execute("RESET lock_timeout")


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
