"""audit_log: where a time window lies in seq, for GET /audit?since=&until= (issue #20)

GET /audit found a time window by scanning the trail back from the newest entry, 25,000 entries a page. Two indexes
let it go straight to the window (gateway/audit_scan.py): `sequenced_at` (kept monotone in seq by the sequencer
from this revision on), and a partial index of the few entries chained more than a minute after their `at` (or
stamped before it). Built CONCURRENTLY, outside the migration's transaction: the gateway may keep writing the trail
meanwhile (each build is one pass over the trail). An earlier build that was interrupted leaves an invalid index of the
same name: it is dropped and built again.

Entries chained before this revision were stamped with the sequencer's transaction time: monotone unless the
database host's clock was set back while it ran. To check a trail (0 when monotone): `SELECT count(*) FROM (SELECT
sequenced_at < max(sequenced_at) OVER (ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS back FROM
gateway.audit_log) t WHERE back`.

Revision ID: gateway_0007_audit_time_window
Revises: gateway_0006_tree_records
Create Date: 2026-12-04 18:30:36.089541
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0007_audit_time_window"
down_revision: str | None = "gateway_0006_tree_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES: list[tuple[str, list[str], str | None]] = [
    ("ix_audit_log_sequenced_at", ["sequenced_at", "seq"], None),
    ("ix_audit_log_late", ["at", "seq"], "sequenced_at < at OR sequenced_at - at > interval '1 minute'"),
]


def upgrade() -> None:
    with op.get_context().autocommit_block():
        for name, columns, where in INDEXES:
            invalid = op.get_bind().execute(
                sa.text(
                    "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE c.relname = :name AND c.relnamespace = current_schema()::regnamespace "
                    "AND NOT i.indisvalid"
                ),
                {"name": name},
            ).first()
            if invalid is not None:
                op.drop_index(name, table_name="audit_log", postgresql_concurrently=True)
            op.create_index(
                name,
                "audit_log",
                columns,
                unique=False,
                postgresql_where=sa.text(where) if where else None,
                postgresql_concurrently=True,
                if_not_exists=True,
            )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
