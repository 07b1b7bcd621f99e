"""Tables of the funds service: reference data, the double-entry ledger (accounts and immutable transfers) and the
business records each transfer belongs to. Nothing recorded is edited or deleted: a correction is a reversal (the
recorded tables refuse UPDATE and DELETE themselves: `append_only`). `metadata` is the funds schema."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from services.kernel.models import KERNEL_TABLES, REFUSALS_TABLE
from services.kernel.schema import append_only, organisation_column, schema_metadata, table_of


def _now() -> Column[Any]:
    return Column(DateTime(timezone=True), nullable=False, server_default=func.now())


class FundSource(SQLModel, table=True):
    """A fund (资金来源), central or provincial; `integrable` says whether it is inside the integration scope (F7)."""

    __tablename__ = "fund_sources"
    __table_args__ = (CheckConstraint("level IN ('central', 'provincial')", name="ck_fund_sources_level"),)
    code: str = Field(sa_column=Column(String(16), primary_key=True))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    level: str = Field(sa_column=Column(String(16), nullable=False))
    integrable: bool = Field(sa_column=Column(Boolean, nullable=False))
    updated_at: datetime = Field(sa_column=_now())


class County(SQLModel, table=True):
    __tablename__ = "counties"
    code: str = Field(sa_column=Column(String(6), primary_key=True))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    poor: bool = Field(sa_column=Column(Boolean, nullable=False))
    integration_pilot: bool = Field(sa_column=Column(Boolean, nullable=False))
    updated_at: datetime = Field(sa_column=_now())


class Account(SQLModel, table=True):
    """A ledger account and its balance row: (region, kind, fund source, ref = project id or payee id).

    The balance (and the date of the last outflow) is updated in the transaction that writes the transfer, under a row
    lock taken in id order.
    Only the external `budget` account may go negative: it is where appropriated money comes from.
    """

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("region_code", "kind", "fund_source", "ref", name="uq_accounts_key"),
        CheckConstraint("kind = 'budget' OR balance_fen >= 0", name="ck_accounts_not_negative"),
        # issue #18: `risk_fund` (a county's risk-compensation fund with a bank, ref = the fund's id) and `bank` (the
        # partner bank of that fund, ref = the fund's id): compensation paid to the bank and recoveries returned
        CheckConstraint(
            "kind IN ('budget', 'treasury', 'fund', 'pool', 'project', 'payee', 'risk_fund', 'bank')",
            name="ck_accounts_kind",
        ),
        Index("ix_accounts_ref", "ref", postgresql_where=text("ref <> ''")),
        # the accounts of some kinds under a region prefix (reports, F3/F9): not the millions of payee accounts
        Index("ix_accounts_kind_region", "kind", "region_code"),
    )
    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    region_code: str = Field(sa_column=Column(String(6), nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    fund_source: str = Field(sa_column=Column(String(16), nullable=False))
    ref: str = Field(sa_column=Column(String(64), nullable=False, server_default=""))
    balance_fen: int = Field(sa_column=Column(BigInteger, nullable=False, server_default="0"))
    # Derived, kept by ledger.move with the balance: the latest `occurred_on` of a transfer out of the account (null:
    # none yet). F3 reads it instead of the account's transfers (tests/funds/test_ledger.py checks it against them).
    last_out_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))


class Transfer(SQLModel, table=True):
    """One immutable movement of money from one account to another, belonging to one business record."""

    __tablename__ = "transfers"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="ck_transfers_positive"),
        CheckConstraint("source_account_id <> destination_account_id", name="ck_transfers_two_accounts"),
        Index("ix_transfers_source", "source_account_id", "occurred_on"),
        Index("ix_transfers_destination", "destination_account_id", "occurred_on"),
        Index("ix_transfers_record", "record_id"),
    )
    id: str = Field(sa_column=Column(String(40), primary_key=True))
    source_account_id: int = Field(sa_column=Column(BigInteger, ForeignKey("accounts.id"), nullable=False))
    destination_account_id: int = Field(sa_column=Column(BigInteger, ForeignKey("accounts.id"), nullable=False))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    fund_source: str = Field(sa_column=Column(String(16), nullable=False))
    record_id: str = Field(sa_column=Column(String(40), nullable=False))
    doc_no: str = Field(sa_column=Column(String(200), nullable=False))
    occurred_on: date = Field(sa_column=Column(Date, nullable=False))
    reverses_id: str | None = Field(
        default=None, sa_column=Column(String(40), ForeignKey("transfers.id"), nullable=True, unique=True)
    )
    created_at: datetime = Field(sa_column=_now())


class Appropriation(SQLModel, table=True):
    __tablename__ = "appropriations"
    __table_args__ = (UniqueConstraint("region_code", "doc_no", "fund_source", name="uq_appropriations_doc"),)
    id: str = Field(sa_column=Column(String(40), primary_key=True))
    fund_source: str = Field(sa_column=Column(String(16), ForeignKey("fund_sources.code"), nullable=False))
    fiscal_year: int = Field(sa_column=Column(Integer, nullable=False))
    region_code: str = Field(sa_column=Column(String(6), nullable=False))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    doc_no: str = Field(sa_column=Column(String(200), nullable=False))
    appropriated_on: date = Field(sa_column=Column(Date, nullable=False))
    created_by: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = Field(sa_column=_now())
    # issue #16 (O13): who recorded it and who answers for it; null on the rows recorded before organisations were
    # (last: added by a revision, which puts a column after the others)
    recorded_by_org: str | None = Field(default=None, sa_column=organisation_column())
    responsible_org: str | None = Field(default=None, sa_column=organisation_column())


class Allocation(SQLModel, table=True):
    __tablename__ = "allocations"
    __table_args__ = (
        UniqueConstraint("from_region", "doc_no", "fund_source", name="uq_allocations_doc"),
        Index("ix_allocations_from_region", "from_region", "fiscal_year"),
    )
    id: str = Field(sa_column=Column(String(40), primary_key=True))
    fund_source: str = Field(sa_column=Column(String(16), ForeignKey("fund_sources.code"), nullable=False))
    fiscal_year: int = Field(sa_column=Column(Integer, nullable=False))
    from_region: str = Field(sa_column=Column(String(6), nullable=False))
    to_region: str = Field(sa_column=Column(String(6), nullable=False, index=True))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    doc_no: str = Field(sa_column=Column(String(200), nullable=False))
    issued_on: date = Field(sa_column=Column(Date, nullable=False))
    designated_project_id: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    tasks: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    destination_kind: str = Field(sa_column=Column(String(16), nullable=False))
    created_by: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = Field(sa_column=_now())
    # issue #16 (O13): who recorded it and who answers for it; null on the rows recorded before organisations were
    # (last: added by a revision, which puts a column after the others)
    recorded_by_org: str | None = Field(default=None, sa_column=organisation_column())
    responsible_org: str | None = Field(default=None, sa_column=organisation_column())


class ProjectLedger(SQLModel, table=True):
    """Per project: its budget as last seen and the net amount arranged to it. Its row is the lock that keeps
    concurrent arrangements within the budget (F4)."""

    __tablename__ = "project_ledgers"
    project_id: str = Field(sa_column=Column(String(64), primary_key=True))
    county_code: str = Field(sa_column=Column(String(6), nullable=False))
    arranged_fen: int = Field(sa_column=Column(BigInteger, nullable=False, server_default="0"))


class Arrangement(SQLModel, table=True):
    __tablename__ = "arrangements"
    id: str = Field(sa_column=Column(String(40), primary_key=True))
    county_code: str = Field(sa_column=Column(String(6), nullable=False))
    project_id: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    fund_source: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    arranged_on: date = Field(sa_column=Column(Date, nullable=False))
    created_by: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = Field(sa_column=_now())
    # issue #16 (O13): who recorded it and who answers for it; null on the rows recorded before organisations were
    # (last: added by a revision, which puts a column after the others)
    recorded_by_org: str | None = Field(default=None, sa_column=organisation_column())
    responsible_org: str | None = Field(default=None, sa_column=organisation_column())


class Disbursement(SQLModel, table=True):
    __tablename__ = "disbursements"
    __table_args__ = (UniqueConstraint("county_code", "voucher_no", name="uq_disbursements_voucher"),)
    id: str = Field(sa_column=Column(String(40), primary_key=True))
    project_id: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    county_code: str = Field(sa_column=Column(String(6), nullable=False))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    voucher_no: str = Field(sa_column=Column(String(200), nullable=False))
    payee_kind: str = Field(sa_column=Column(String(16), nullable=False))
    payee_id: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    payee_name: str = Field(sa_column=Column(String(200), nullable=False))
    payee_account_no: str = Field(sa_column=Column(String(64), nullable=False))
    paid_on: date = Field(sa_column=Column(Date, nullable=False))
    created_by: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = Field(sa_column=_now())
    # issue #16 (O13): who recorded it and who answers for it; null on the rows recorded before organisations were
    # (last: added by a revision, which puts a column after the others)
    recorded_by_org: str | None = Field(default=None, sa_column=organisation_column())
    responsible_org: str | None = Field(default=None, sa_column=organisation_column())


class Reversal(SQLModel, table=True):
    """A correction (冲正): compensating transfers for every transfer of the target record; at most one per record."""

    __tablename__ = "reversals"
    id: str = Field(sa_column=Column(String(40), primary_key=True))
    target_id: str = Field(sa_column=Column(String(40), nullable=False, unique=True))
    target_kind: str = Field(sa_column=Column(String(16), nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    reversed_on: date = Field(sa_column=Column(Date, nullable=False))
    created_by: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = Field(sa_column=_now())
    # issue #16 (O13): who recorded it and who answers for it; null on the rows recorded before organisations were
    # (last: added by a revision, which puts a column after the others)
    recorded_by_org: str | None = Field(default=None, sa_column=organisation_column())
    responsible_org: str | None = Field(default=None, sa_column=organisation_column())


class RiskFundMove(SQLModel, table=True):
    """Issue #18 (L7, L9): money the loans service moved for a county's risk-compensation fund (风险补偿金): the
    deposit from the county's accounts, a compensation paid to the partner bank, a recovery's share returned. Its id
    is the loans service's record id (deterministic there), so a call repeated after a failure finds the move made
    and moves nothing twice; its transfers carry it as their `record_id` (A4)."""

    __tablename__ = "risk_fund_moves"
    __table_args__ = (
        CheckConstraint("kind IN ('deposit', 'compensation', 'return')", name="ck_risk_fund_moves_kind"),
        CheckConstraint("amount_fen > 0", name="ck_risk_fund_moves_positive"),
        Index("ix_risk_fund_moves_fund", "county_code", "fund_id"),
    )
    county_code: str = Field(sa_column=Column(String(6), primary_key=True))
    id: str = Field(sa_column=Column(String(64), primary_key=True))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    fund_id: str = Field(sa_column=Column(String(64), nullable=False))
    fund_source: str = Field(sa_column=Column(String(16), nullable=False))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    doc_no: str = Field(sa_column=Column(String(200), nullable=False))
    occurred_on: date = Field(sa_column=Column(Date, nullable=False))
    created_by: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=_now())


for _recorded in (Transfer, Appropriation, Allocation, Arrangement, Disbursement, Reversal, RiskFundMove):
    append_only(table_of(_recorded))

metadata = schema_metadata(
    *KERNEL_TABLES,
    REFUSALS_TABLE,
    *(
        table_of(model)
        for model in (
            FundSource,
            County,
            Account,
            Transfer,
            Appropriation,
            Allocation,
            ProjectLedger,
            Arrangement,
            Disbursement,
            Reversal,
            RiskFundMove,
        )
    ),
)
