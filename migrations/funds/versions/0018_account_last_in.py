"""accounts.last_in_on: the date of each account's latest inflow, kept by the ledger with its balance

The progress report of a province asked each of its ~30,000 pool, fund and project accounts for what came in after
the day asked (its balance then) and within F3's window (its recent inflows): two index probes an account, most of
the console's reports page at a province's size (issue #19). With the latest inflow on the row, an account nothing
came into since that day or within the window is answered from the row alone. The ledger keeps it in the transaction
that writes the transfer (services/funds/repository/accounts.py); this fills it from the transfers recorded so far
(one read of them and a rewrite of every account: 104 s at 5 million transfers and 3 million accounts, the accounts
locked meanwhile). A funds process older than this revision moves balances without the new date: upgrade with funds
stopped (README, "Run it in production"); `fundtrack doctor` finds dates left behind, `fundtrack repair-summaries`
moves them forward.

Revision ID: funds_0018_account_last_in
Revises: funds_0017_source_province
Create Date: 2026-12-06 01:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "funds_0018_account_last_in"
down_revision: str | None = "funds_0017_source_province"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("last_in_on", sa.Date(), nullable=True))
    op.execute(
        "UPDATE accounts AS a SET last_in_on = m.last_in FROM ("
        "SELECT destination_account_id AS id, max(occurred_on) AS last_in FROM transfers "
        "GROUP BY destination_account_id) m WHERE a.id = m.id"
    )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
