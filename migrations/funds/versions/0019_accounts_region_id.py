"""accounts (region_code text_pattern_ops, id): a county's balances, a page by id, from its own accounts

GET /funds/balances?region=<a county> asked for the accounts under the county's prefix by id (a page of 500):
`region_code LIKE $1 || '%'`, which no index serves in a prepared statement's generic plan (nor, the collation not
being C, a plain index in any plan). The service's cached plan walked the primary key through a province's 3 million
accounts until it had 500 of the county's ~24,000 (spread over the whole id range): 140 ms warm, 2.8 s cold (issue
#20, the province benchmark through the gateway). A county's prefix is now asked as an equality
(services/kernel/scope.py `in_region`, as the loans service asks it), and this index gives its rows in id order; a
prefix range (custom plans) is served by it too, as loans' ix_loans_county_id serves its.

Revision ID: funds_0019_accounts_region_id
Revises: funds_0018_account_last_in
Create Date: 2026-12-06 01:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "funds_0019_accounts_region_id"
down_revision: str | None = "funds_0018_account_last_in"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_accounts_region_id", "accounts", ["region_code", "id"], unique=False,
                    postgresql_ops={"region_code": "text_pattern_ops"})


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
