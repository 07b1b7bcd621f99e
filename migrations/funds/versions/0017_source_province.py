"""funds: a provincial fund source names its province (F21, issue #17 point 10)

`fund_sources.province_code`: the province a provincial source belongs to (its money is appropriated there only);
none for a central source (checked). Sources recorded before have none: the API asks it of a provincial source from
now on. Written as autogenerate writes it against the models (checked by tests/platform/test_schema.py).

Revision ID: funds_0017_source_province
Revises: funds_0016_settlements
Create Date: 2026-12-05 01:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "funds_0017_source_province"
down_revision: str | None = "funds_0016_settlements"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("fund_sources", sa.Column("province_code", sa.String(length=6), nullable=True))
    op.create_check_constraint("ck_fund_sources_province", "fund_sources",
                               "province_code IS NULL OR level = 'provincial'")


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
