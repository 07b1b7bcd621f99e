"""registry: what changed since a transaction (issue #20: F10's incremental run asks POST /internal/households/changed)

`xid` on household_imports, household_status_history and cadre_exceptions: the transaction that recorded the row
(kernel/schema.recorded_xid_column), added without a default and then given it, so no table is rewritten (the rows
recorded before keep null: committed before any mark). `ix_history_xid` (partial: the rows that have one);
`ix_households_registered_by`: BRIN on households.registered_by (households are appended import by import), so the
households an import registered are found without reading the roster, and a roster's COPY maintains nearly nothing.
Written as autogenerate writes them against the models (checked by tests/platform/test_schema.py).

Revision ID: registry_0012_changed_since
Revises: registry_0011_import_progress
Create Date: 2026-12-06 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.online import build_index, wait_briefly_for_locks
from services.kernel.schema import XID8

revision: str = "registry_0012_changed_since"
down_revision: str | None = "registry_0011_import_progress"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    wait_briefly_for_locks()  # each column and its default: a brief exclusive lock, not a rewrite
    for table in ("household_imports", "household_status_history", "cadre_exceptions"):
        op.add_column(table, sa.Column("xid", XID8(), nullable=True))
        op.alter_column(table, "xid", server_default=sa.text("pg_current_xact_id()"))
    # after the commit, CONCURRENTLY: the roster is read and imported meanwhile (migrations/online.py)
    build_index("ix_history_xid", "household_status_history", ["xid"], postgresql_where=sa.text("xid IS NOT NULL"))
    build_index("ix_households_registered_by", "households", ["registered_by"], postgresql_using="brin")


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
