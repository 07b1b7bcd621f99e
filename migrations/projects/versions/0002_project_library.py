"""projects: the county project library (projects, lifecycle events, announcements, objections, assets, dividends)

Revision ID: projects_0002
Revises: projects_0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from services.kernel.migration_ops import append_only

revision: str = "projects_0002"
down_revision: str | None = "projects_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = (
    "project_events",
    "announcements",
    "objections",
    "objection_resolutions",
    "assets",
    "asset_shares",
    "dividends",
    "dividend_payouts",
)
CATEGORIES = (
    "industry", "employment", "infrastructure", "relocation_followup", "education", "health", "housing",
    "social_security", "other", "administrative_costs", "vehicles_equipment", "wages_allowances", "enterprise_losses",
    "office_building", "debt_repayment", "large_construction", "urban_infrastructure", "image_project",
)
STATUSES = (
    "draft", "submitted", "reviewed", "announced", "approved", "in_progress", "completed", "accepted", "rejected",
    "withdrawn",
)


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _now() -> sa.Column[object]:
    return sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _projects() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("village_code", sa.String(12), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("budget_fen", sa.BigInteger, nullable=False),
        sa.Column("start_on", sa.Date, nullable=False),
        sa.Column("end_on", sa.Date, nullable=False),
        sa.Column("beneficiary_household_ids", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("benefit_mechanism", sa.Text, nullable=False),
        sa.Column("performance_targets", pg.JSONB, nullable=False),
        sa.Column("fund_sources", pg.JSONB, nullable=False),
        sa.Column("responsible_unit", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("budget_fen > 0", name="ck_projects_budget_positive"),
        sa.CheckConstraint("end_on >= start_on", name="ck_projects_period"),
        sa.CheckConstraint("village_code LIKE county_code || '%'", name="ck_projects_village_in_county"),
        sa.CheckConstraint(_in("category", CATEGORIES), name="ck_projects_category"),
        sa.CheckConstraint(_in("status", STATUSES), name="ck_projects_status"),
    )
    op.create_index("ix_projects_county", "projects", ["county_code", "id"])
    op.create_index("ix_projects_village_category", "projects", ["village_code", "category"])
    op.create_table(
        "project_events",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("project_id", sa.String(40), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("principal_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        _now(),
    )
    op.create_index("ix_project_events_project", "project_events", ["project_id", "id"])
    op.create_table(
        "announcements",
        sa.Column("project_id", sa.String(40), sa.ForeignKey("projects.id"), primary_key=True),
        sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False, unique=True),
        sa.Column("start_on", sa.Date, nullable=False),
        sa.Column("days", sa.Integer, nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("principal_id", sa.String(64), nullable=False),
        _now(),
        sa.CheckConstraint("days >= 10", name="ck_announcements_p1_days"),
    )


def _objections() -> None:
    op.create_table(
        "objections",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("project_id", sa.String(40), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("principal_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("channel IN ('public', 'principal')", name="ck_objections_channel"),
    )
    op.create_index("ix_objections_project", "objections", ["project_id", "raised_at"])
    op.create_table(
        "objection_resolutions",
        sa.Column("objection_id", sa.String(40), sa.ForeignKey("objections.id"), primary_key=True),
        sa.Column("resolution", sa.Text, nullable=False),
        sa.Column("principal_id", sa.String(64), nullable=False),
        _now(),
        sa.CheckConstraint("length(btrim(resolution)) > 0", name="ck_objection_resolutions_text"),
    )


def _assets() -> None:
    op.create_table(
        "assets",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("project_id", sa.String(40), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("value_fen", sa.BigInteger, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("principal_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("kind IN ('income_generating', 'public_benefit', 'household')", name="ck_assets_kind"),
        sa.CheckConstraint("value_fen > 0", name="ck_assets_value"),
    )
    op.create_index("ix_assets_project", "assets", ["project_id", "id"])
    op.create_table(
        "asset_shares",
        sa.Column("asset_id", sa.String(40), sa.ForeignKey("assets.id"), primary_key=True),
        sa.Column("household_id", sa.String(64), primary_key=True),
        sa.Column("shares", sa.BigInteger, nullable=False),
        sa.CheckConstraint("shares > 0", name="ck_asset_shares_positive"),
    )
    op.create_table(
        "dividends",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("asset_id", sa.String(40), sa.ForeignKey("assets.id"), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("paid_on", sa.Date, nullable=False),
        sa.Column("principal_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("amount_fen > 0", name="ck_dividends_amount"),
    )
    op.create_index("ix_dividends_asset", "dividends", ["asset_id", "id"])
    op.create_table(
        "dividend_payouts",
        sa.Column("dividend_id", sa.String(40), sa.ForeignKey("dividends.id"), primary_key=True),
        sa.Column("household_id", sa.String(64), primary_key=True),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.CheckConstraint("amount_fen >= 0", name="ck_dividend_payouts_amount"),
    )


def upgrade() -> None:
    _projects()
    _objections()
    _assets()
    append_only(*APPEND_ONLY)


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
