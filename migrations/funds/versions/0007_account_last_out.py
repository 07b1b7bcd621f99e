"""accounts.last_out_on: the date of each account's latest outflow, kept by the ledger with its balance

F3 (idle money) and the progress report asked every pool and project account of a province for its last outflow
(an index probe each, ~30,000 at a province's size: most of the report's time). The ledger now keeps it on the
account's row in the transaction that writes the transfer (services/funds/ledger.py `move`); this fills it from the
transfers recorded so far (one read of them: ~5 s at 5 million).

Revision ID: funds_0007_account_last_out
Revises: funds_0006_report_indexes
Create Date: 2026-12-04 16:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "funds_0007_account_last_out"
down_revision: str | None = "funds_0006_report_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("last_out_on", sa.Date(), nullable=True))
    op.execute(
        "UPDATE accounts AS a SET last_out_on = m.last_out FROM ("
        "SELECT source_account_id AS id, max(occurred_on) AS last_out FROM transfers GROUP BY source_account_id"
        ") m WHERE a.id = m.id"
    )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
