"""funds: reference data (fund sources, counties), the double-entry ledger and its business records

Revision ID: funds_0002
Revises: funds_0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "funds_0002"
down_revision: str | None = "funds_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _now() -> sa.Column[object]:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _reference() -> None:
    op.create_table(
        "fund_sources",
        sa.Column("code", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("integrable", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("level IN ('central', 'provincial')", name="ck_fund_sources_level"),
    )
    op.create_table(
        "counties",
        sa.Column("code", sa.String(6), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("poor", sa.Boolean, nullable=False),
        sa.Column("integration_pilot", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def _ledger() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("fund_source", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(64), nullable=False, server_default=""),
        sa.Column("balance_fen", sa.BigInteger, nullable=False, server_default="0"),
        sa.UniqueConstraint("region_code", "kind", "fund_source", "ref", name="uq_accounts_key"),
        sa.CheckConstraint("kind = 'budget' OR balance_fen >= 0", name="ck_accounts_not_negative"),
        sa.CheckConstraint(
            "kind IN ('budget', 'treasury', 'fund', 'pool', 'project', 'payee')", name="ck_accounts_kind"
        ),
    )
    op.create_index("ix_accounts_ref", "accounts", ["ref"], postgresql_where=sa.text("ref <> ''"))
    op.create_table(
        "transfers",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("source_account_id", sa.BigInteger, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("destination_account_id", sa.BigInteger, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("fund_source", sa.String(16), nullable=False),
        sa.Column("record_id", sa.String(40), nullable=False),
        sa.Column("doc_no", sa.String(200), nullable=False),
        sa.Column("occurred_on", sa.Date, nullable=False),
        sa.Column("reverses_id", sa.String(40), sa.ForeignKey("transfers.id"), nullable=True, unique=True),
        _now(),
        sa.CheckConstraint("amount_fen > 0", name="ck_transfers_positive"),
        sa.CheckConstraint("source_account_id <> destination_account_id", name="ck_transfers_two_accounts"),
    )
    op.create_index("ix_transfers_source", "transfers", ["source_account_id", "occurred_on"])
    op.create_index("ix_transfers_destination", "transfers", ["destination_account_id", "occurred_on"])
    op.create_index("ix_transfers_record", "transfers", ["record_id"])


def _records() -> None:
    op.create_table(
        "appropriations",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("fund_source", sa.String(16), sa.ForeignKey("fund_sources.code"), nullable=False),
        sa.Column("fiscal_year", sa.Integer, nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("doc_no", sa.String(200), nullable=False),
        sa.Column("appropriated_on", sa.Date, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _now(),
        sa.UniqueConstraint("region_code", "doc_no", "fund_source", name="uq_appropriations_doc"),
    )
    op.create_table(
        "allocations",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("fund_source", sa.String(16), sa.ForeignKey("fund_sources.code"), nullable=False),
        sa.Column("fiscal_year", sa.Integer, nullable=False),
        sa.Column("from_region", sa.String(6), nullable=False),
        sa.Column("to_region", sa.String(6), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("doc_no", sa.String(200), nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("designated_project_id", sa.String(64), nullable=True),
        sa.Column("tasks", pg.JSONB, nullable=False),
        sa.Column("destination_kind", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _now(),
        sa.UniqueConstraint("from_region", "doc_no", "fund_source", name="uq_allocations_doc"),
    )
    op.create_index("ix_allocations_to_region", "allocations", ["to_region"])
    op.create_index("ix_allocations_from_region", "allocations", ["from_region", "fiscal_year"])
    op.create_table(
        "project_ledgers",
        sa.Column("project_id", sa.String(64), primary_key=True),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("arranged_fen", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "arrangements",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False, index=True),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("fund_source", sa.String(16), nullable=True),
        sa.Column("arranged_on", sa.Date, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _now(),
    )
    op.create_table(
        "disbursements",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("project_id", sa.String(64), nullable=False, index=True),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("voucher_no", sa.String(200), nullable=False),
        sa.Column("payee_kind", sa.String(16), nullable=False),
        sa.Column("payee_id", sa.String(64), nullable=False, index=True),
        sa.Column("payee_name", sa.String(200), nullable=False),
        sa.Column("payee_account_no", sa.String(64), nullable=False),
        sa.Column("paid_on", sa.Date, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _now(),
        sa.UniqueConstraint("county_code", "voucher_no", name="uq_disbursements_voucher"),
    )
    op.create_table(
        "reversals",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("target_id", sa.String(40), nullable=False, unique=True),
        sa.Column("target_kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("reversed_on", sa.Date, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _now(),
    )


def upgrade() -> None:
    _reference()
    _ledger()
    _records()


def downgrade() -> None:
    raise NotImplementedError("FundTrack migrations only go forward: nothing recorded is deleted")
