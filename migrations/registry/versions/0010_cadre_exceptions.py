"""registry: the county's approved exceptions for village cadres' households (R1, issue #17 point 11)

`cadre_exceptions`: who approved the exception, on which day, under which document, with the household it lets
through L1/F10 from that day on. Append-only (corrections are new rows), keyed by (county_code, id) so it is
distributed with the roster, and read by household through ix_cadre_exceptions_household (the eligibility check).
Written as autogenerate writes it against the models (checked by tests/platform/test_schema.py).

Revision ID: registry_0010_cadre_exceptions
Revises: registry_0009_organisations
Create Date: 2026-12-05 00:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0010_cadre_exceptions"
down_revision: str | None = "registry_0009_organisations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cadre_exceptions",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("household_id", sa.String(length=64), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=False),
        sa.Column("approved_on", sa.Date(), nullable=False),
        sa.Column("doc_no", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_by_org", sa.String(length=64), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("county_code", "id"),
    )
    op.create_index("ix_cadre_exceptions_household", "cadre_exceptions", ["household_id", "approved_on"],
                    unique=False)
    op.execute(
        "CREATE TRIGGER cadre_exceptions_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON cadre_exceptions "
        "FOR EACH STATEMENT EXECUTE FUNCTION append_only()"
    )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
