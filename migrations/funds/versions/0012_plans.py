"""funds: the county's annual integration plan (统筹整合方案) and the obligations declared as reference data (issue #17
points 1 and 4, rules F15–F18)

plans (one per county and year), plan_versions (the first filing and every adjustment with its reason), plan_lines
(each version's planned fund sources and library projects with their amounts) and plan_reports (a version reported
to the city and province): all new rows, append-only, keyed by county code first. obligations: which policy
obligation applies to which regions and years (reference data, kept up to date like the counties).

Written as autogenerate writes it against the models, with the append-only triggers the models' `append_only`
attaches.

Revision ID: funds_0012_plans
Revises: funds_0011_scope
Create Date: 2026-12-05 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "funds_0012_plans"
down_revision: str | None = "funds_0011_scope"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOW = sa.text("now()")


def _recorded() -> list[sa.Column[object]]:
    return [
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.Column("recorded_by_org", sa.String(length=64), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        *_recorded(),
        sa.PrimaryKeyConstraint("county_code", "id"),
        sa.UniqueConstraint("county_code", "fiscal_year", name="uq_plans_county_year"),
    )
    op.create_table(
        "plan_versions",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("plan_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("filed_on", sa.Date(), nullable=False),
        *_recorded(),
        sa.PrimaryKeyConstraint("county_code", "plan_id", "version"),
    )
    op.create_table(
        "plan_lines",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("plan_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name="ck_plan_lines_positive"),
        sa.CheckConstraint("kind IN ('source', 'project')", name="ck_plan_lines_kind"),
        sa.PrimaryKeyConstraint("county_code", "plan_id", "version", "kind", "ref"),
    )
    op.create_table(
        "plan_reports",
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("plan_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=False),
        *_recorded(),
        sa.PrimaryKeyConstraint("county_code", "plan_id", "version"),
    )
    op.create_table(
        "obligations",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=True),
        sa.Column("share_bp", sa.Integer(), nullable=True),
        sa.Column("from_year", sa.Integer(), nullable=False),
        sa.Column("to_year", sa.Integer(), nullable=True),
        sa.Column("doc_no", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.CheckConstraint(
            "kind IN ('county_plan', 'revenue_increment', 'recovered_idle', 'year_on_year_growth', 'industry_share')",
            name="ck_obligations_kind",
        ),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index("ix_obligations_region", "obligations", ["region_code"], unique=False)
    for table in ("plans", "plan_versions", "plan_lines", "plan_reports"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION append_only()"
        )


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
