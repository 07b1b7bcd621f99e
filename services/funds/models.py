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
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from services.kernel.models import DETECTOR_MARKS_TABLE, KERNEL_TABLES, REFUSALS_TABLE
from services.kernel.schema import append_only, organisation_column, recorded_xid_column, schema_metadata, table_of


def _now() -> Column[Any]:
    return Column(DateTime(timezone=True), nullable=False, server_default=func.now())


class FundSource(SQLModel, table=True):
    """A fund (资金来源), central or provincial; `integrable` says whether it is inside the integration scope (F7); a
    provincial source names the province it belongs to (F21: its money is appropriated there only)."""

    __tablename__ = "fund_sources"
    __table_args__ = (
        CheckConstraint("level IN ('central', 'provincial')", name="ck_fund_sources_level"),
        CheckConstraint("province_code IS NULL OR level = 'provincial'", name="ck_fund_sources_province"),
    )
    code: str = Field(sa_column=Column(String(16), primary_key=True))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    level: str = Field(sa_column=Column(String(16), nullable=False))
    integrable: bool = Field(sa_column=Column(Boolean, nullable=False))
    updated_at: datetime = Field(sa_column=_now())
    province_code: str | None = Field(default=None, sa_column=Column(String(6), nullable=True))  # F21


class FundSourceScope(SQLModel, table=True):
    """F7 (extended, issue #17 point 10): whether a source is inside the integration scope in one year, where that
    year's scope differs from the source's own flag (seed 004's 2016 "整合所有涉农资金" is not seed 002's
    "中央20项、省级14项"). Money is judged by the scope of the year it moved (`reference.load_reference`)."""

    __tablename__ = "fund_source_scopes"
    fund_source: str = Field(sa_column=Column(String(16), ForeignKey("fund_sources.code"), primary_key=True))
    year: int = Field(sa_column=Column(Integer, primary_key=True))
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

    Distributed by region (deploy/SCALING.md, funds_0023): keyed by (region_code, id), which the legs of its
    transfers refer to. The id comes from an identity, so it is distinct by construction, no longer by an index (a
    distributed table keeps only unique indexes that hold its distribution column); what names an account by its id
    alone (a balance row's update, a trace's accounts) reads through the plain ix_accounts_id.
    """

    __tablename__ = "accounts"
    __table_args__ = (
        PrimaryKeyConstraint("region_code", "id"),
        Index("ix_accounts_id", "id"),
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
        # GET /funds/balances of a county, by id: its ~24,000 accounts of 3 million at a province (issue #20)
        Index("ix_accounts_region_id", "region_code", "id", postgresql_ops={"region_code": "text_pattern_ops"}),
    )
    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), nullable=False))
    region_code: str = Field(sa_column=Column(String(6), nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    fund_source: str = Field(sa_column=Column(String(16), nullable=False))
    ref: str = Field(sa_column=Column(String(64), nullable=False, server_default=""))
    balance_fen: int = Field(sa_column=Column(BigInteger, nullable=False, server_default="0"))
    # Derived, kept by ledger.move with the balance: the latest `occurred_on` of a transfer out of the account (null:
    # none yet). F3 reads it instead of the account's transfers (tests/funds/test_ledger.py checks it against them).
    last_out_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    # The same for transfers into it: a balance on a past day, and F3's recent inflows, need no probe of the
    # account's transfers when nothing came in after that day (services/funds/repository/transfers.py).
    last_in_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))


class TransferLeg(SQLModel, table=True):
    """One side of an immutable movement of money between two accounts (a transfer), belonging to one business record:
    the 'out' leg on the account the money left, the 'in' leg on the account it entered, each keyed with its
    account's region code, so a leg is on its account's shard (deploy/SCALING.md, funds_0023: a transfer names two
    accounts, often of two regions, and has no region of its own). Both legs of a transfer are written in one
    statement (repository/accounts.py `_WRITE`) and carry every figure of it (the other account as
    `counter_account_id`), so a leg answers a hop, or an account's movements, without its twin.

    `reverses_id` is the transfer a compensating one reverses, without a foreign key (the reversed legs may be on
    other shards): each leg of a reversal is on the region of the reversed transfer's leg on the same account, and
    the ledger makes it from the legs it read (services/funds/reversals.py); a record is reversed at most once by
    `uq_reversals_target`. `transfer_id` is unique by how it is made (kernel/ids.new_id), as the records' ids."""

    __tablename__ = "transfer_legs"
    __table_args__ = (
        PrimaryKeyConstraint("region_code", "transfer_id", "leg", "created_at"),
        # the account is on the leg's shard: (region_code, account_id), co-located with the account's row
        ForeignKeyConstraint(["region_code", "account_id"], ["accounts.region_code", "accounts.id"],
                             name="fk_transfer_legs_account"),
        CheckConstraint("leg IN ('out', 'in')", name="ck_transfer_legs_leg"),
        CheckConstraint("amount_fen > 0", name="ck_transfer_legs_positive"),
        CheckConstraint("account_id <> counter_account_id", name="ck_transfer_legs_two_accounts"),
        # an account's movements out of it or into it, by date (a trace's page, a balance on a past day, F3)
        Index("ix_transfer_legs_account", "account_id", "leg", "occurred_on"),
        Index("ix_transfer_legs_record", "record_id"),
        # a transfer named by its id alone (a reversal's target)
        Index("ix_transfer_legs_transfer", "transfer_id"),
        # the reversal of a transfer (a hop's `reversed_by`)
        Index("ix_transfer_legs_reverses", "reverses_id", postgresql_where=text("reverses_id IS NOT NULL")),
    )
    region_code: str = Field(sa_column=Column(String(6), nullable=False))
    transfer_id: str = Field(sa_column=Column(String(40), nullable=False))
    leg: str = Field(sa_column=Column(String(3), nullable=False))
    account_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    counter_account_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    fund_source: str = Field(sa_column=Column(String(16), nullable=False))
    record_id: str = Field(sa_column=Column(String(40), nullable=False))
    doc_no: str = Field(sa_column=Column(String(200), nullable=False))
    occurred_on: date = Field(sa_column=Column(Date, nullable=False))
    reverses_id: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
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
    __table_args__ = (
        # distributed by county (deploy/SCALING.md, funds_0022): keyed by (county_code, project_id); the projects
        # service asks a project's money by its id alone (U2, queries.project_money), through the plain index
        PrimaryKeyConstraint("county_code", "project_id"),
        Index("ix_project_ledgers_project_id", "project_id"),
    )
    project_id: str = Field(sa_column=Column(String(64), nullable=False))
    county_code: str = Field(sa_column=Column(String(6), nullable=False))
    arranged_fen: int = Field(sa_column=Column(BigInteger, nullable=False, server_default="0"))


class Arrangement(SQLModel, table=True):
    __tablename__ = "arrangements"
    __table_args__ = (
        # distributed by county (deploy/SCALING.md, funds_0022): keyed by (county_code, id). An id is unique by how it
        # is made (kernel/ids.new_id: the millisecond and 80 random bits), not by an index: a distributed table keeps
        # only unique indexes that hold its distribution column. A reversal names the record by its id alone: the
        # plain ix_arrangements_id finds it.
        PrimaryKeyConstraint("county_code", "id"),
        Index("ix_arrangements_id", "id"),
    )
    id: str = Field(sa_column=Column(String(40), nullable=False))
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
    __table_args__ = (
        # distributed by county (deploy/SCALING.md, funds_0022): keyed by (county_code, id), the id unique by how it is
        # made (as an arrangement's); lookups by id alone (a reversal's target, the detectors' touched payments) use
        # the plain ix_disbursements_id
        PrimaryKeyConstraint("county_code", "id"),
        Index("ix_disbursements_id", "id"),
        UniqueConstraint("county_code", "voucher_no", name="uq_disbursements_voucher"),
        # INELIGIBLE_PAYEE's incremental run (issue #20): the payments recorded since its mark (by transaction, the
        # rows from before the column was added left out) and those paid after its last as_of
        Index("ix_disbursements_xid", "xid", postgresql_where=text("xid IS NOT NULL")),
        Index("ix_disbursements_paid_on", "paid_on"),
        # DUPLICATE_PAYMENT (F8): the payments of one payee, project and amount in the order it pairs them, read by
        # group when its incremental run judges the groups touched since its mark (docs/rules.md F8 incremental)
        Index("ix_disbursements_repeats", "payee_id", "project_id", "amount_fen", "paid_on"),
    )
    id: str = Field(sa_column=Column(String(40), nullable=False))
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
    # issue #20: the transaction that recorded it (kernel/marks.py); null on the payments recorded before
    xid: int | None = Field(default=None, sa_column=recorded_xid_column())


class Reversal(SQLModel, table=True):
    """A correction (冲正): compensating transfers for every transfer of the target record; at most one per record.

    `county_code` is the region that answers for the reversed record (repository.reversals.answering_region): an
    arrangement's or a payment's county, so a reversal is on its record's shard (deploy/SCALING.md, funds_0022); for
    an appropriation or an allocation (reference records) the appropriating or issuing region. It is a function of
    the record, so the unique (county_code, target_id) keeps a record reversed at most once, as the unique target_id
    did. Lookups by the reversal's id or by the target's id alone use the plain ix_reversals_id and
    ix_reversals_target (a transfer's record, the detectors' anti-joins)."""

    __tablename__ = "reversals"
    __table_args__ = (
        PrimaryKeyConstraint("county_code", "id"),
        UniqueConstraint("county_code", "target_id", name="uq_reversals_target"),
        Index("ix_reversals_id", "id"),
        Index("ix_reversals_target", "target_id"),
        # DUPLICATE_PAYMENT's incremental run (issue #20): a reversal takes a payment out of the live ones, so the
        # reversals recorded since its mark (by transaction) and those dated after its last as_of touch a group
        Index("ix_reversals_xid", "xid", postgresql_where=text("xid IS NOT NULL")),
        Index("ix_reversals_reversed_on", "reversed_on"),
    )
    id: str = Field(sa_column=Column(String(40), nullable=False))
    target_id: str = Field(sa_column=Column(String(40), nullable=False))
    target_kind: str = Field(sa_column=Column(String(16), nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    reversed_on: date = Field(sa_column=Column(Date, nullable=False))
    created_by: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = Field(sa_column=_now())
    # issue #16 (O13): who recorded it and who answers for it; null on the rows recorded before organisations were
    # (last: added by a revision, which puts a column after the others)
    recorded_by_org: str | None = Field(default=None, sa_column=organisation_column())
    responsible_org: str | None = Field(default=None, sa_column=organisation_column())
    # issue #20: the transaction that recorded it (kernel/marks.py); null on the reversals recorded before
    xid: int | None = Field(default=None, sa_column=recorded_xid_column())
    # issue #15 (funds_0022): the region answering for the reversed record (the docstring); last: added by a revision
    county_code: str = Field(sa_column=Column(String(6), nullable=False))


class DisbursementBasis(SQLModel, table=True):
    """The basis of a payment (F11-F14; issue #17): the contract and stage an enterprise is paid against, or why a
    household is paid (wages, a subsidy of a published category, a dividend, other with its reason). One per
    disbursement, recorded with it; what a contract has paid and what a household received under a subsidy category
    are summed here (net of reversals)."""

    __tablename__ = "disbursement_bases"
    __table_args__ = (
        CheckConstraint("basis_kind IN ('contract', 'wages', 'subsidy', 'dividend', 'other')",
                        name="ck_disbursement_bases_kind"),
        CheckConstraint("(basis_kind = 'contract') = (contract_id IS NOT NULL)", name="ck_disbursement_bases_contract"),
        CheckConstraint("contract_stage IS NULL OR contract_stage IN ('progress', 'retention', 'final')",
                        name="ck_disbursement_bases_stage"),
        CheckConstraint("(basis_kind = 'subsidy') = (subsidy_category IS NOT NULL)",
                        name="ck_disbursement_bases_subsidy"),
        Index("ix_disbursement_bases_contract", "county_code", "contract_id"),
        Index("ix_disbursement_bases_subsidy", "county_code", "payee_id", "subsidy_category", "paid_on"),
    )
    county_code: str = Field(sa_column=Column(String(6), primary_key=True))
    disbursement_id: str = Field(sa_column=Column(String(40), primary_key=True))
    project_id: str = Field(sa_column=Column(String(64), nullable=False))
    payee_id: str = Field(sa_column=Column(String(64), nullable=False))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    paid_on: date = Field(sa_column=Column(Date, nullable=False))
    basis_kind: str = Field(sa_column=Column(String(16), nullable=False))
    contract_id: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    contract_stage: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    subsidy_category: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime | None = Field(default=None, sa_column=_now())


class SubsidyStandard(SQLModel, table=True):
    """F13: a county's published subsidy standard (分类补助标准, seed 003): the most one household receives in a
    calendar year under a category, from a day on; a new version supersedes it (the older ones are kept)."""

    __tablename__ = "subsidy_standards"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="ck_subsidy_standards_amount"),
        Index("ix_subsidy_standards_in_force", "county_code", "category", "effective_on"),
    )
    county_code: str = Field(sa_column=Column(String(6), primary_key=True))
    id: str = Field(sa_column=Column(String(40), primary_key=True))
    category: str = Field(sa_column=Column(String(64), nullable=False))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    effective_on: date = Field(sa_column=Column(Date, nullable=False))
    doc_no: str = Field(sa_column=Column(String(200), nullable=False))
    created_by: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=_now())


class DividendPayment(SQLModel, table=True):
    """P12: one household's part of an asset's dividend (资产收益, P6), paid by the ledger from the asset's income
    account into the household's registered 一卡通 account (F6), the household eligible on the day paid (F10)."""

    __tablename__ = "dividend_payments"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="ck_dividend_payments_amount"),)
    county_code: str = Field(sa_column=Column(String(6), primary_key=True))
    dividend_id: str = Field(sa_column=Column(String(40), primary_key=True))
    household_id: str = Field(sa_column=Column(String(64), primary_key=True))
    project_id: str = Field(sa_column=Column(String(64), nullable=False))
    asset_id: str = Field(sa_column=Column(String(40), nullable=False))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    account_no: str = Field(sa_column=Column(String(64), nullable=False))
    paid_on: date = Field(sa_column=Column(Date, nullable=False))
    created_by: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=_now())


class SubsidyPayment(SQLModel, table=True):
    """Issue #18 point 3 (loans' L13): the fiscal interest subsidy (财政贴息) of an approved claim, paid by the county
    from its account of the declared fund to the bank or to the households. One per claim: the loans service asks
    again with the same claim and is answered the payment made."""

    __tablename__ = "subsidy_payments"
    __table_args__ = (
        UniqueConstraint("county_code", "claim_id", name="uq_subsidy_payments_claim"),
        CheckConstraint("payee_kind IN ('bank', 'household')", name="ck_subsidy_payments_payee_kind"),
        CheckConstraint("amount_fen > 0", name="ck_subsidy_payments_positive"),
    )
    county_code: str = Field(sa_column=Column(String(6), primary_key=True))
    id: str = Field(sa_column=Column(String(40), primary_key=True))
    claim_id: str = Field(sa_column=Column(String(40), nullable=False))
    fund_source: str = Field(sa_column=Column(String(16), nullable=False))
    payee_kind: str = Field(sa_column=Column(String(16), nullable=False))
    payees: int = Field(sa_column=Column(Integer, nullable=False))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    paid_on: date = Field(sa_column=Column(Date, nullable=False))
    created_by: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=_now())


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


for _recorded in (TransferLeg, Appropriation, Allocation, Arrangement, Disbursement, Reversal, DisbursementBasis,
                  SubsidyStandard, DividendPayment, SubsidyPayment, RiskFundMove):
    append_only(table_of(_recorded))

metadata = schema_metadata(
    *KERNEL_TABLES,
    REFUSALS_TABLE,
    DETECTOR_MARKS_TABLE,
    *(
        table_of(model)
        for model in (
            FundSource,
            FundSourceScope,
            County,
            Account,
            TransferLeg,
            Appropriation,
            Allocation,
            ProjectLedger,
            Arrangement,
            Disbursement,
            Reversal,
            DisbursementBasis,
            SubsidyStandard,
            DividendPayment,
            SubsidyPayment,
            RiskFundMove,
        )
    ),
)


# Issue #17 point 1: the county's annual integration plan (统筹整合方案, F15–F16). A plan is one per county and
# year; each filing (the first, then every adjustment 调整 with its reason) is a new version with its own lines, and
# a version reported to the city and province (上报) is a new row too: nothing of a plan is edited.


class Plan(SQLModel, table=True):
    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("county_code", "fiscal_year", name="uq_plans_county_year"),)
    county_code: str = Field(sa_column=Column(String(6), primary_key=True))
    id: str = Field(sa_column=Column(String(40), primary_key=True))
    fiscal_year: int = Field(sa_column=Column(Integer, nullable=False))
    created_by: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = Field(sa_column=_now())
    recorded_by_org: str | None = Field(default=None, sa_column=organisation_column())


class PlanVersion(SQLModel, table=True):
    """A filing of a plan: version 1 is the plan as first filed, each later one an adjustment with its reason."""

    __tablename__ = "plan_versions"
    county_code: str = Field(sa_column=Column(String(6), primary_key=True))
    plan_id: str = Field(sa_column=Column(String(40), primary_key=True))
    version: int = Field(sa_column=Column(Integer, primary_key=True))
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    filed_on: date = Field(sa_column=Column(Date, nullable=False))
    created_by: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = Field(sa_column=_now())
    recorded_by_org: str | None = Field(default=None, sa_column=organisation_column())


class PlanLine(SQLModel, table=True):
    """One line of a plan version: a planned fund source (`kind` source, `ref` its code) or a planned library
    project (`kind` project, `ref` the projects service's id) and its amount."""

    __tablename__ = "plan_lines"
    __table_args__ = (
        CheckConstraint("kind IN ('source', 'project')", name="ck_plan_lines_kind"),
        CheckConstraint("amount_fen > 0", name="ck_plan_lines_positive"),
    )
    county_code: str = Field(sa_column=Column(String(6), primary_key=True))
    plan_id: str = Field(sa_column=Column(String(40), primary_key=True))
    version: int = Field(sa_column=Column(Integer, primary_key=True))
    kind: str = Field(sa_column=Column(String(16), primary_key=True))
    ref: str = Field(sa_column=Column(String(64), primary_key=True))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))


class PlanReport(SQLModel, table=True):
    """A version reported to the city and province (上报备案): at most once per version (the key)."""

    __tablename__ = "plan_reports"
    county_code: str = Field(sa_column=Column(String(6), primary_key=True))
    plan_id: str = Field(sa_column=Column(String(40), primary_key=True))
    version: int = Field(sa_column=Column(Integer, primary_key=True))
    reported_on: date = Field(sa_column=Column(Date, nullable=False))
    created_by: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = Field(sa_column=_now())
    recorded_by_org: str | None = Field(default=None, sa_column=organisation_column())


class Obligation(SQLModel, table=True):
    """Which policy obligation applies to which regions and years (F15's plan requirement, F17/F18's input
    obligations), as reference data: the regions under `region_code` (of `level`, any if null) from `from_year` to
    `to_year` (open if null); `share_bp` the share in basis points where the obligation has one."""

    __tablename__ = "obligations"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('county_plan', 'revenue_increment', 'recovered_idle', 'year_on_year_growth', 'industry_share')",
            name="ck_obligations_kind",
        ),
        Index("ix_obligations_region", "region_code"),
    )
    code: str = Field(sa_column=Column(String(64), primary_key=True))
    region_code: str = Field(sa_column=Column(String(6), nullable=False))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    level: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    share_bp: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    from_year: int = Field(sa_column=Column(Integer, nullable=False))
    to_year: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    doc_no: str = Field(sa_column=Column(String(200), nullable=False))
    updated_at: datetime = Field(sa_column=_now())


for _planned in (Plan, PlanVersion, PlanLine, PlanReport):
    append_only(table_of(_planned))
for _added in (Plan, PlanVersion, PlanLine, PlanReport, Obligation):
    table_of(_added).to_metadata(metadata)


# Issue #17 point 4: the figures the input obligations (F17, F18) are judged on, each a new row: a region's declared
# revenue for a year (the latest declaration counts, a correction is a new one) and its recoveries of idle money
# (清理回收存量资金) with the part of each put to targeted poverty work.


class RevenueDeclaration(SQLModel, table=True):
    __tablename__ = "revenue_declarations"
    __table_args__ = (
        CheckConstraint("revenue_fen >= 0", name="ck_revenue_declarations_not_negative"),
        Index("ix_revenue_declarations_year", "region_code", "fiscal_year"),
    )
    region_code: str = Field(sa_column=Column(String(6), primary_key=True))
    id: str = Field(sa_column=Column(String(40), primary_key=True))
    fiscal_year: int = Field(sa_column=Column(Integer, nullable=False))
    revenue_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    doc_no: str = Field(sa_column=Column(String(200), nullable=False))
    created_by: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = Field(sa_column=_now())
    recorded_by_org: str | None = Field(default=None, sa_column=organisation_column())


class Recovery(SQLModel, table=True):
    __tablename__ = "recoveries"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="ck_recoveries_positive"),
        CheckConstraint("to_poverty_fen >= 0 AND to_poverty_fen <= amount_fen", name="ck_recoveries_to_poverty"),
        Index("ix_recoveries_year", "region_code", "fiscal_year"),
    )
    region_code: str = Field(sa_column=Column(String(6), primary_key=True))
    id: str = Field(sa_column=Column(String(40), primary_key=True))
    fiscal_year: int = Field(sa_column=Column(Integer, nullable=False))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    to_poverty_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    recovered_on: date = Field(sa_column=Column(Date, nullable=False))
    doc_no: str = Field(sa_column=Column(String(200), nullable=False))
    created_by: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = Field(sa_column=_now())
    recorded_by_org: str | None = Field(default=None, sa_column=organisation_column())


for _declared in (RevenueDeclaration, Recovery):
    append_only(table_of(_declared))
    table_of(_declared).to_metadata(metadata)


class ClaimSettlement(SQLModel, table=True):
    """Issue #18 (loans' L9, L13): how a claim of the loans service is settled, decided once here: `paid` (its
    payment was made: a subsidy claim's, or a compensation claim's move to the bank) or `voided` (the claim was
    rejected: it will never be paid). `payment_key` is the key the claim is paid under (the subsidy claim's id, the
    compensation move's id); the key is unique in the county, so a claim is either paid or voided, never both."""

    __tablename__ = "claim_settlements"
    __table_args__ = (
        CheckConstraint("kind IN ('subsidy', 'compensation')", name="ck_claim_settlements_kind"),
        CheckConstraint("outcome IN ('paid', 'voided')", name="ck_claim_settlements_outcome"),
    )
    county_code: str = Field(sa_column=Column(String(6), primary_key=True))
    payment_key: str = Field(sa_column=Column(String(64), primary_key=True))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    outcome: str = Field(sa_column=Column(String(8), nullable=False))
    created_by: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=_now())


append_only(table_of(ClaimSettlement))
table_of(ClaimSettlement).to_metadata(metadata)
