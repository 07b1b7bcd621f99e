"""accounts: an index on (kind, region_code), for the reports and the idle/held-money detectors at a province's size

The progress report and F3/F9 read the pool, fund, project or treasury accounts under a region prefix; without this
index each read every account of the region, the payees' (millions in a province) with them (issue #20).

Revision ID: funds_0006_report_indexes
Revises: funds_0005
Create Date: 2026-12-04 16:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "funds_0006_report_indexes"
down_revision: str | None = "funds_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_accounts_kind_region", "accounts", ["kind", "region_code"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
