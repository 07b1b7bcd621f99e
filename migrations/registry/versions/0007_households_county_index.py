"""registry: an index on households (county_code, household_id), for a county's page of the roster (issue #20)

GET /registry/households?county= read the roster in household id order and kept the county's rows: a county late
in a province's roster of 2 million read most of it first (~0.8 s). The index gives the county's households in id
order. Built while `fundtrack migrate` runs (one read of the roster: seconds at 2 million).

Revision ID: registry_0007_households_county
Revises: registry_0006
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "registry_0007_households_county"
down_revision: str | None = "registry_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_households_county", "households", ["county_code", "household_id"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
