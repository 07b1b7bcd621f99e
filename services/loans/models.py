"""Tables of the loans schema. Append-only: a loan, its repayments, its extension and its usage reports are
recorded once and never edited (the database refuses it: `append_only`); outstanding principal and status are
derived from them. `metadata` is the loans schema.

Every table is keyed by county code first, to be distributed by county (deploy/SCALING.md): a loan by
(county_code, id), and what is recorded of a loan carries the loan's county code and refers to it through both
(`_loan_key`), so the database refuses a row whose county is not its loan's."""

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
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from services.kernel.models import KERNEL_TABLES, REFUSALS_TABLE
from services.kernel.schema import after_create, append_only, organisation_column, schema_metadata, table_of


def _str(length: int, *, nullable: bool = False, primary_key: bool = False) -> Column[str]:
    return Column(String(length), nullable=nullable, primary_key=primary_key)


def _loan_key(kind: str) -> ForeignKeyConstraint:
    """A loan's row's foreign key to its loan through the county code on both sides, so that on Citus a loan and
    what is recorded of it are on one shard (deploy/SCALING.md): a row naming another county than its loan's is
    refused by the database."""
    return ForeignKeyConstraint(["county_code", "loan_id"], ["loans.county_code", "loans.id"], name=f"fk_{kind}_loan")


def _loan_county() -> Column[str]:
    """The county code of the loan a repayment, extension or usage report is of, first in its key (loans_0014
    added it, last)."""
    return Column(String(6), nullable=False)


class Loan(SQLModel, table=True):
    __tablename__ = "loans"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="ck_loans_amount_positive"),
        CheckConstraint("mode IN ('self', 'partnership', 'cooperative')", name="ck_loans_mode"),
        CheckConstraint("maturity_on > issued_on", name="ck_loans_maturity_after_issue"),
        # distributed by county (deploy/SCALING.md): keyed by (county_code, id). An id is unique by how it is made
        # (kernel/ids.new_id: the millisecond and 80 random bits), not by an index: a distributed table can only
        # keep a unique index that holds its distribution column. Lookups by id alone use the plain ix_loans_id.
        PrimaryKeyConstraint("county_code", "id"),
        Index("ix_loans_id", "id"),
        Index("ix_loans_household", "household_id"),
        Index("ix_loans_county_id", "county_code", "id", postgresql_ops={"county_code": "text_pattern_ops"}),
    )
    id: str = Field(sa_column=_str(40))
    household_id: str = Field(sa_column=_str(64))
    county_code: str = Field(sa_column=_str(6))
    village_code: str = Field(sa_column=_str(12))
    borrower_id_number: str = Field(sa_column=_str(18))
    borrower_name: str = Field(sa_column=_str(200))
    lender_name: str = Field(sa_column=_str(200))
    product_name: str = Field(sa_column=_str(200))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    term_months: int = Field(sa_column=Column(Integer, nullable=False))
    annual_rate_bp: int = Field(sa_column=Column(Integer, nullable=False))
    benchmark_rate_bp: int = Field(sa_column=Column(Integer, nullable=False))
    fees_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    collateral_required: bool = Field(sa_column=Column(Boolean, nullable=False))
    guarantee_required: bool = Field(sa_column=Column(Boolean, nullable=False))
    mode: str = Field(sa_column=_str(16))
    purpose: str = Field(sa_column=_str(32))
    cooperative_uscc: str | None = Field(default=None, sa_column=_str(18, nullable=True))
    account_holder_id_number: str | None = Field(default=None, sa_column=_str(18, nullable=True))
    account_holder_uscc: str | None = Field(default=None, sa_column=_str(18, nullable=True))
    account_no: str = Field(sa_column=_str(64))
    issued_on: date = Field(sa_column=Column(Date, nullable=False))
    maturity_on: date = Field(sa_column=Column(Date, nullable=False))
    created_by: str = Field(sa_column=_str(64))
    created_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
    # issue #16 (O13): who recorded it and who answers for it (the lending branch); null on loans recorded before
    # (last: added by a revision, which puts a column after the others)
    recorded_by_org: str | None = Field(default=None, sa_column=organisation_column())
    responsible_org: str | None = Field(default=None, sa_column=organisation_column())


class Repayment(SQLModel, table=True):
    __tablename__ = "loan_repayments"
    __table_args__ = (
        CheckConstraint("principal_fen >= 0 AND interest_fen >= 0", name="ck_repayments_not_negative"),
        PrimaryKeyConstraint("county_code", "id"),
        _loan_key("repayments"),
        # a loan's repayments by day, with their principal: read alone (index-only) by L6's subsidy report
        Index("ix_repayments_loan_paid", "loan_id", "paid_on", postgresql_include=["principal_fen"]),
    )
    id: str = Field(sa_column=_str(40))
    loan_id: str = Field(sa_column=_str(40))
    principal_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    interest_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    paid_on: date = Field(sa_column=Column(Date, nullable=False))
    created_by: str = Field(sa_column=_str(64))
    created_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
    county_code: str = Field(sa_column=_loan_county())


class Extension(SQLModel, table=True):
    __tablename__ = "loan_extensions"
    __table_args__ = (
        CheckConstraint("new_maturity_on > original_maturity_on", name="ck_extensions_later"),
        PrimaryKeyConstraint("county_code", "id"),
        _loan_key("extensions"),
        UniqueConstraint("county_code", "loan_id", name="uq_extensions_loan"),  # one per loan (L5)
    )
    id: str = Field(sa_column=_str(40))
    loan_id: str = Field(sa_column=_str(40))
    original_maturity_on: date = Field(sa_column=Column(Date, nullable=False))
    new_maturity_on: date = Field(sa_column=Column(Date, nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    created_by: str = Field(sa_column=_str(64))
    created_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
    # issue #18 (L14): the day the extension was agreed; null on extensions recorded before (last: added by a revision)
    extended_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    county_code: str = Field(sa_column=_loan_county())


class UsageReport(SQLModel, table=True):
    __tablename__ = "loan_usage_reports"
    __table_args__ = (
        CheckConstraint("recipient_kind IN ('household', 'cooperative', 'enterprise')", name="ck_usage_kind"),
        PrimaryKeyConstraint("county_code", "id"),
        _loan_key("usage"),
        Index("ix_usage_loan", "loan_id", "reported_on"),
        Index("ix_usage_recipient", "recipient_id", "reported_on"),
    )
    id: str = Field(sa_column=_str(40))
    loan_id: str = Field(sa_column=_str(40))
    recipient_kind: str = Field(sa_column=_str(16))
    recipient_id: str = Field(sa_column=_str(64))
    recipient_name: str = Field(sa_column=_str(200))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    purpose: str = Field(sa_column=_str(32))
    reported_on: date = Field(sa_column=Column(Date, nullable=False))
    breaks_enterprise_rule: bool = Field(sa_column=Column(Boolean, nullable=False))
    breaks_purpose_rule: bool = Field(sa_column=Column(Boolean, nullable=False))
    created_by: str = Field(sa_column=_str(64))
    created_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
    county_code: str = Field(sa_column=_loan_county())


class Balance(SQLModel, table=True):
    """Derived, not recorded: each loan's principal repaid (every repayment recorded so far), the day of its latest
    repayment and its maturity in force, kept by the service in the same transaction as the loan, repayment or
    extension that changes them (service.py; a trigger moves the county totals with them: `CountyTotal`), so the
    overdue report and the detectors read one row per loan instead of summing millions of repayments. A read as of
    a day before `last_paid_on` sums that loan's repayments itself (repository.positions).
    tests/loans/test_balances.py checks it always equals the recomputation from the facts. Keyed, as its loan, by
    (county_code, loan_id), and read with its loan through both (repository.balance_of_loan)."""

    __tablename__ = "loan_balances"
    __table_args__ = (
        CheckConstraint("repaid_fen >= 0 AND repaid_fen <= amount_fen", name="ck_balances_repaid"),
        # the loans owing principal, by maturity in force: an overdue report or scan as of today reads only these
        Index("ix_balances_owing", "maturity_in_force", "county_code", postgresql_where="repaid_fen < amount_fen",
              postgresql_ops={"county_code": "text_pattern_ops"}),
        Index("ix_balances_last_paid", "last_paid_on"),
        # L6: a county's (or a city's) loans repaid since a day, for its subsidy report
        Index("ix_balances_county_paid", "county_code", "last_paid_on",
              postgresql_ops={"county_code": "text_pattern_ops"}),
        # the loans issued after a day: what the outstanding report as of that day takes out of the county totals
        Index("ix_balances_issued", "issued_on"),
        PrimaryKeyConstraint("county_code", "loan_id"),
        _loan_key("balances"),
    )
    loan_id: str = Field(sa_column=_str(40))
    county_code: str = Field(sa_column=_str(6))
    household_id: str = Field(sa_column=_str(64))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    issued_on: date = Field(sa_column=Column(Date, nullable=False))
    maturity_in_force: date = Field(sa_column=Column(Date, nullable=False))
    extended: bool = Field(sa_column=Column(Boolean, nullable=False))
    repaid_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_paid_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))


class CountyTotal(SQLModel, table=True):
    """Derived, not recorded: per county, the loans, those owing principal and the principal owed, as their balances
    say now, so the outstanding report as of today reads a few rows per county instead of every loan (issue #20
    point 4). Each county's figures are spread over eight rows (the slot: hashtext(loan_id) & 7), so concurrent
    repayments in one county do not all wait on one row's lock; a county's figure is the sum of its slots.

    Kept by a trigger on loan_balances (`TOTALS_FUNCTION`), in the transaction of each statement that changes a
    balance: every writer of a balance (the service, a bulk load, a repair by hand) moves the totals with it, and one
    statement of many rows (a load) is one aggregate. tests/loans/test_county_totals.py checks they always equal the
    recomputation from the balances (`repository.county_totals_differing`, which `fundtrack doctor` runs too)."""

    __tablename__ = "loan_county_totals"
    county_code: str = Field(sa_column=_str(6, primary_key=True))
    slot: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    loans: int = Field(sa_column=Column(BigInteger, nullable=False))
    owing_loans: int = Field(sa_column=Column(BigInteger, nullable=False))
    owed_fen: int = Field(sa_column=Column(BigInteger, nullable=False))


# The slot of a loan's row among its county's eight (the trigger's and the repair's).
TOTALS_SLOT = "hashtext(loan_id) & 7"

# The change of each statement on loan_balances, added to the totals: its new rows counted in, its old rows out, per
# county and slot, in key order (two bulk writers lock slots in one order), the
# slots a statement leaves unchanged (an extension, an interest-only repayment) not written at all. The search_path
# is the schema's, whoever's session writes the balance; a TRUNCATE of the balances empties the totals.
TOTALS_FUNCTION = f"""
CREATE OR REPLACE FUNCTION loan_county_totals_kept() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
        DECLARE
            changed text := CASE TG_OP
                WHEN 'INSERT' THEN 'SELECT 1 AS sign, * FROM new_rows'
                WHEN 'DELETE' THEN 'SELECT -1 AS sign, * FROM old_rows'
                ELSE 'SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows' END;
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                DELETE FROM loan_county_totals;
                RETURN NULL;
            END IF;
            EXECUTE format($q$
                INSERT INTO loan_county_totals AS t (county_code, slot, loans, owing_loans, owed_fen)
                SELECT county_code, {TOTALS_SLOT}, sum(sign), sum(sign * (repaid_fen < amount_fen)::int),
                       sum(sign * (amount_fen - repaid_fen))
                FROM (%s) c
                GROUP BY 1, 2
                HAVING sum(sign) <> 0 OR sum(sign * (repaid_fen < amount_fen)::int) <> 0
                    OR sum(sign * (amount_fen - repaid_fen)) <> 0
                ORDER BY 1, 2
                ON CONFLICT (county_code, slot) DO UPDATE SET loans = t.loans + excluded.loans,
                    owing_loans = t.owing_loans + excluded.owing_loans, owed_fen = t.owed_fen + excluded.owed_fen
            $q$, changed);
            RETURN NULL;
        END $$
"""
TOTALS_TRIGGERS = (
    "CREATE TRIGGER loan_balances_totals_insert AFTER INSERT ON loan_balances REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION loan_county_totals_kept()",
    "CREATE TRIGGER loan_balances_totals_update AFTER UPDATE ON loan_balances REFERENCING OLD TABLE AS old_rows "
    "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION loan_county_totals_kept()",
    "CREATE TRIGGER loan_balances_totals_delete AFTER DELETE ON loan_balances REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION loan_county_totals_kept()",
    "CREATE TRIGGER loan_balances_totals_truncate AFTER TRUNCATE ON loan_balances "
    "FOR EACH STATEMENT EXECUTE FUNCTION loan_county_totals_kept()",
)
after_create(table_of(Balance), TOTALS_FUNCTION, *TOTALS_TRIGGERS)

# `fundtrack repair-summaries`: every county's totals set to its balances' again, after `fundtrack doctor` found
# them drifted (the trigger disabled or bypassed by hand). The writers of balances wait while it runs (SHARE: no
# balance changes between its read and its write, and a writer's trigger runs after it, on the repaired rows;
# seconds at millions); a row is set, never deleted (a slot none of the county's loans has any more is set to
# zeros); only the rows that differ are written, and their number is the command's answer. In the loans schema.
TOTALS_REPAIR = (
    "SET LOCAL lock_timeout = '10s'",  # behind a long transaction: fail (run it again), not hold repayments off
    "LOCK TABLE loan_balances IN SHARE MODE",
    f"""
    INSERT INTO loan_county_totals AS t (county_code, slot, loans, owing_loans, owed_fen)
    SELECT coalesce(r.county_code, k.county_code), coalesce(r.slot, k.slot), coalesce(r.loans, 0),
           coalesce(r.owing_loans, 0), coalesce(r.owed_fen, 0)
    FROM (
        SELECT county_code, {TOTALS_SLOT} AS slot, count(*) AS loans,
               count(*) FILTER (WHERE repaid_fen < amount_fen) AS owing_loans, sum(amount_fen - repaid_fen) AS owed_fen
        FROM loan_balances GROUP BY 1, 2
    ) r FULL JOIN loan_county_totals k ON k.county_code = r.county_code AND k.slot = r.slot
    ORDER BY 1, 2
    ON CONFLICT (county_code, slot) DO UPDATE
        SET loans = excluded.loans, owing_loans = excluded.owing_loans, owed_fen = excluded.owed_fen
        WHERE (t.loans, t.owing_loans, t.owed_fen) IS DISTINCT FROM (excluded.loans, excluded.owing_loans,
                                                                     excluded.owed_fen)
    """,
)


class SubsidyVersion(SQLModel, table=True):
    """Derived, not recorded: per county, the version of the facts L6's report reads (L6a). A statement that changes
    a subsidy fact of a day before today moves it, in the statement's own transaction, by a trigger
    (`SUBSIDY_VERSIONS_FUNCTION`): every writer (the service, a bulk load, a repair by hand) moves it. Today's writes
    (the day's repayments and loans) leave it: they change no closed period's figure. A version is never reused
    (greatest of the last plus one and the transaction's id), so a row deleted and made again cannot make an old
    kept figure valid; only the owner may delete one."""

    __tablename__ = "loan_subsidy_versions"
    county_code: str = Field(sa_column=_str(6, primary_key=True))
    version: int = Field(sa_column=Column(BigInteger, nullable=False))


class CountySubsidy(SQLModel, table=True):
    """Derived, not recorded: L6's per-county figure of a closed calendar period at a rate, as the report computed it
    at the county's version (`SubsidyVersion`), kept so that a province's report of a closed period is read, not
    recomputed loan by loan (issue #20). Valid while its version is the county's (L6a); may be deleted or replaced
    at any time (the report computes what it does not find valid). tests/loans/test_subsidy_kept.py checks the
    report equals the recomputation from the facts after each kind of write."""

    __tablename__ = "loan_county_subsidies"
    county_code: str = Field(sa_column=_str(6, primary_key=True))
    period_from: date = Field(sa_column=Column(Date, primary_key=True))
    period_to: date = Field(sa_column=Column(Date, primary_key=True))
    rate_bp: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    loans: int = Field(sa_column=Column(BigInteger, nullable=False))
    subsidy_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    version: int = Field(sa_column=Column(BigInteger, nullable=False))


# L6a: what moves a county's subsidy version. "Today" is the database's date in China (the writing transaction's
# start); a kept figure is only of a period ending a day before the reader's (reads.subsidy_report), so a writer that
# began before midnight and commits after it is covered. What the report reads (repository._subsidy_sums) and
# which change of it can touch a closed period ([from, to) with to ≤ today):
# - loan_repayments (append-only: INSERT): principal_fen > 0 paid_on < today. One paid today moves the balance's
#   repaid principal and the repayments since `from` by the same amount: every day's principal owed is unchanged.
# - loan_usage_reports (append-only: INSERT): a breach of L2 (breaks_*) reported_on < today (misuse_from is the
#   first such day: a later one moves no period's end before today).
# - loan_balances INSERT / DELETE: issued_on < today (a loan issued today is counted in no closed period). UPDATE,
#   old and new rows paired by key: its key, amount or issue day changed (an issue day before today on either side);
#   its maturity in force changed with either one's next day before today (an extension of an overdue loan); its
#   last repayment day changed to none or a day before today (the report skips a repaid loan last paid before
#   `from`); its repaid principal changed other than as the service's own update after a repayment of today (an
#   increase, the last repayment today or later, no more than the loan's repayments dated today or later, and the
#   balance then equal to the loan's repayments in all): a decrease, or any other change by hand, moves it. Left: a
#   repair by hand that sets a drifted balance to its facts on a day the loan was repaid by at least the drift
#   (`fundtrack doctor` finds drifted balances: repository.balances_differing). TRUNCATE: every county.
# - loan_county_totals (its loans count the loans issued before `to`): written by hand (not from the balances'
#   trigger: depth 1), every county it touches; TRUNCATE: every county.
# The loans, extensions and the rest are read by the report only through the balances.
# Static statements (each table's own compiled copy of the function caches their plans), the counties gathered first:
# a statement that moves nothing (the day's repayment) writes nothing. A version is never one the county had.
SUBSIDY_VERSIONS_FUNCTION = """
CREATE OR REPLACE FUNCTION loan_subsidy_versions_moved() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
        DECLARE
            today date := (now() AT TIME ZONE 'Asia/Shanghai')::date;
            touched text[];
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                UPDATE loan_subsidy_versions SET version = greatest(version + 1, pg_current_xact_id()::text::bigint);
                RETURN NULL;
            ELSIF TG_TABLE_NAME = 'loan_repayments' THEN
                touched := ARRAY(SELECT DISTINCT county_code FROM new_rows WHERE paid_on < today AND principal_fen > 0);
            ELSIF TG_TABLE_NAME = 'loan_usage_reports' THEN
                touched := ARRAY(SELECT DISTINCT county_code FROM new_rows
                                 WHERE reported_on < today AND (breaks_enterprise_rule OR breaks_purpose_rule));
            ELSIF TG_TABLE_NAME = 'loan_county_totals' THEN
                IF pg_trigger_depth() > 1 THEN
                    RETURN NULL;  -- kept from the balances, whose own trigger judged the change
                ELSIF TG_OP = 'INSERT' THEN
                    touched := ARRAY(SELECT DISTINCT county_code FROM new_rows);
                ELSIF TG_OP = 'DELETE' THEN
                    touched := ARRAY(SELECT DISTINCT county_code FROM old_rows);
                ELSE
                    touched := ARRAY(SELECT county_code FROM new_rows UNION SELECT county_code FROM old_rows);
                END IF;
            ELSIF TG_OP = 'INSERT' THEN
                touched := ARRAY(SELECT DISTINCT county_code FROM new_rows WHERE issued_on < today);
            ELSIF TG_OP = 'DELETE' THEN
                touched := ARRAY(SELECT DISTINCT county_code FROM old_rows WHERE issued_on < today);
            ELSE
                touched := ARRAY(
                    SELECT DISTINCT unnest(ARRAY[o.county_code, n.county_code])
                    FROM old_rows o FULL JOIN new_rows n ON n.county_code = o.county_code AND n.loan_id = o.loan_id
                    WHERE least(o.issued_on, n.issued_on) < today AND (
                        o.loan_id IS NULL OR n.loan_id IS NULL
                        OR (o.amount_fen, o.issued_on) IS DISTINCT FROM (n.amount_fen, n.issued_on)
                        OR (o.maturity_in_force <> n.maturity_in_force
                            AND least(o.maturity_in_force, n.maturity_in_force) + 1 < today)
                        OR (o.last_paid_on IS DISTINCT FROM n.last_paid_on
                            AND NOT coalesce(n.last_paid_on >= today, false))
                        OR (o.repaid_fen <> n.repaid_fen AND NOT coalesce(
                            n.repaid_fen > o.repaid_fen AND n.last_paid_on >= today AND (
                                SELECT n.repaid_fen - o.repaid_fen <= sum(r.principal_fen) FILTER (
                                           WHERE r.paid_on >= today)
                                       AND n.repaid_fen = sum(r.principal_fen)
                                FROM loan_repayments r
                                WHERE r.county_code = n.county_code AND r.loan_id = n.loan_id),
                            false))));
            END IF;
            IF cardinality(touched) > 0 THEN
                INSERT INTO loan_subsidy_versions AS v (county_code, version)
                SELECT county_code, pg_current_xact_id()::text::bigint
                FROM unnest(touched) AS c (county_code)
                WHERE county_code IS NOT NULL
                ORDER BY county_code
                ON CONFLICT (county_code) DO UPDATE SET version = greatest(v.version + 1, excluded.version);
            END IF;
            RETURN NULL;
        END $$
"""


def _subsidy_triggers(table: str, *operations: str) -> tuple[str, ...]:
    transition = {"INSERT": "REFERENCING NEW TABLE AS new_rows ",
                  "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows ",
                  "DELETE": "REFERENCING OLD TABLE AS old_rows ", "TRUNCATE": ""}
    return tuple(
        f"CREATE TRIGGER {table}_subsidy_{operation.lower()} AFTER {operation} ON {table} {transition[operation]}"
        "FOR EACH STATEMENT EXECUTE FUNCTION loan_subsidy_versions_moved()"
        for operation in operations
    )


ALL_WRITES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")
SUBSIDY_VERSIONS_TRIGGERS = (
    *_subsidy_triggers("loan_repayments", "INSERT"),  # append-only: the rest is refused
    *_subsidy_triggers("loan_usage_reports", "INSERT"),
    *_subsidy_triggers("loan_balances", *ALL_WRITES),
    *_subsidy_triggers("loan_county_totals", *ALL_WRITES),
)


def _created_at() -> Column[Any]:
    return Column(DateTime(timezone=True), nullable=False, server_default=func.now())


class SubsidyRate(SQLModel, table=True):
    """L11 (issue #18 point 3): a county's fiscal interest subsidy (财政贴息) rate for a period, and whom the county
    pays it to (the bank, or the borrowing households), from which fund. Reference data, declared, never edited: a
    period of a county has one rate (declarations do not overlap)."""

    __tablename__ = "subsidy_rates"
    __table_args__ = (
        CheckConstraint("period_to > period_from", name="ck_subsidy_rates_period"),
        CheckConstraint("paid_to IN ('bank', 'household')", name="ck_subsidy_rates_paid_to"),
        Index("ix_subsidy_rates_county", "county_code", "period_from"),
    )
    county_code: str = Field(sa_column=_str(6, primary_key=True))
    id: str = Field(sa_column=_str(40, primary_key=True))
    period_from: date = Field(sa_column=Column(Date, nullable=False))
    period_to: date = Field(sa_column=Column(Date, nullable=False))
    rate_bp: int = Field(sa_column=Column(Integer, nullable=False))
    paid_to: str = Field(sa_column=_str(16))
    fund_source: str = Field(sa_column=_str(16))
    declared_by: str = Field(sa_column=_str(64))
    created_at: datetime | None = Field(default=None, sa_column=_created_at())


class SubsidyClaim(SQLModel, table=True):
    """L12: a bank's claim of the subsidy of its loans in a county for a period, with the rate and payee in force
    (L11) when it was submitted and its totals; its loans are its lines, its outcome a decision (L13)."""

    __tablename__ = "subsidy_claims"
    __table_args__ = (CheckConstraint("period_to > period_from", name="ck_subsidy_claims_period"),)
    county_code: str = Field(sa_column=_str(6, primary_key=True))
    id: str = Field(sa_column=_str(40, primary_key=True))
    lender_name: str = Field(sa_column=_str(200))
    period_from: date = Field(sa_column=Column(Date, nullable=False))
    period_to: date = Field(sa_column=Column(Date, nullable=False))
    rate_bp: int = Field(sa_column=Column(Integer, nullable=False))
    paid_to: str = Field(sa_column=_str(16))
    fund_source: str = Field(sa_column=_str(16))
    bank_account_no: str = Field(sa_column=_str(64))
    loans: int = Field(sa_column=Column(Integer, nullable=False))
    subsidy_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    submitted_by: str = Field(sa_column=_str(64))
    recorded_by_org: str | None = Field(default=None, sa_column=organisation_column())
    created_at: datetime | None = Field(default=None, sa_column=_created_at())


class SubsidyClaimLine(SQLModel, table=True):
    """L12: one loan of a claim with its figures (L6) and the days excluded from it, each stretch with its reason."""

    __tablename__ = "subsidy_claim_lines"
    __table_args__ = (
        ForeignKeyConstraint(["county_code", "claim_id"], ["subsidy_claims.county_code", "subsidy_claims.id"],
                             name="fk_subsidy_claim_lines_claim"),
        # SUBSIDY_ALREADY_CLAIMED: a loan's earlier claims, by loan and period
        Index("ix_subsidy_claim_lines_loan", "loan_id", "period_from"),
    )
    county_code: str = Field(sa_column=_str(6, primary_key=True))
    claim_id: str = Field(sa_column=_str(40, primary_key=True))
    loan_id: str = Field(sa_column=_str(40, primary_key=True))
    household_id: str = Field(sa_column=_str(64))
    borrower_name: str = Field(sa_column=_str(200))
    period_from: date = Field(sa_column=Column(Date, nullable=False))
    period_to: date = Field(sa_column=Column(Date, nullable=False))
    days: int = Field(sa_column=Column(Integer, nullable=False))
    subsidised_days: int = Field(sa_column=Column(Integer, nullable=False))
    overdue_days: int = Field(sa_column=Column(Integer, nullable=False))
    misuse_days: int = Field(sa_column=Column(Integer, nullable=False))
    excluded: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    principal_fen_days: int = Field(sa_column=Column(BigInteger, nullable=False))
    subsidy_fen: int = Field(sa_column=Column(BigInteger, nullable=False))


class SubsidyDecision(SQLModel, table=True):
    """L13: a step of finance on a claim, each once: `checked` by one person, then `approved` (paid through the funds
    ledger, `payment_id` its record) or `rejected` by another (the service checks the order under the claim's lock)."""

    __tablename__ = "subsidy_claim_decisions"
    __table_args__ = (
        ForeignKeyConstraint(["county_code", "claim_id"], ["subsidy_claims.county_code", "subsidy_claims.id"],
                             name="fk_subsidy_claim_decisions_claim"),
        CheckConstraint("decision IN ('checked', 'approved', 'rejected')", name="ck_subsidy_claim_decisions_decision"),
    )
    county_code: str = Field(sa_column=_str(6, primary_key=True))
    claim_id: str = Field(sa_column=_str(40, primary_key=True))
    decision: str = Field(sa_column=_str(16, primary_key=True))
    note: str = Field(sa_column=Column(Text, nullable=False))
    paid_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    payment_id: str | None = Field(default=None, sa_column=_str(40, nullable=True))
    decided_by: str = Field(sa_column=_str(64))
    recorded_by_org: str | None = Field(default=None, sa_column=organisation_column())
    created_at: datetime | None = Field(default=None, sa_column=_created_at())


SUBSIDY_MODELS = (SubsidyRate, SubsidyClaim, SubsidyClaimLine, SubsidyDecision)

class RiskFund(SQLModel, table=True):
    """Issue #18 (L7): a county's risk-compensation fund (风险补偿金) with a partner bank, as agreed: the deposit (moved
    in the funds ledger into the fund's `risk_fund` account), the leverage multiple (放大倍数), the fund's share of a
    loss (the bank bears the rest), how long a loan is overdue before the bank may claim, and the share of the
    deposit whose loss raises RISK_FUND_DEPLETED. One per county and bank (`bank_name`, the loans' `lender_name`)."""

    __tablename__ = "risk_funds"
    __table_args__ = (
        CheckConstraint("deposit_fen > 0", name="ck_risk_funds_deposit"),
        CheckConstraint("leverage BETWEEN 1 AND 20", name="ck_risk_funds_leverage"),
        CheckConstraint("fund_share_bp BETWEEN 1 AND 10000", name="ck_risk_funds_share"),
        CheckConstraint("depleted_share_bp BETWEEN 1 AND 10000", name="ck_risk_funds_depleted"),
        CheckConstraint("claim_after_days >= 1", name="ck_risk_funds_claim_after"),
        UniqueConstraint("county_code", "bank_name", name="uq_risk_funds_bank"),
    )
    county_code: str = Field(sa_column=_str(6, primary_key=True))
    id: str = Field(sa_column=_str(40, primary_key=True))
    bank_name: str = Field(sa_column=_str(200))
    fund_source: str = Field(sa_column=_str(16))
    deposit_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    leverage: int = Field(sa_column=Column(Integer, nullable=False))
    fund_share_bp: int = Field(sa_column=Column(Integer, nullable=False))
    claim_after_days: int = Field(sa_column=Column(Integer, nullable=False))
    depleted_share_bp: int = Field(sa_column=Column(Integer, nullable=False))
    agreement_no: str = Field(sa_column=_str(200))
    established_on: date = Field(sa_column=Column(Date, nullable=False))
    deposit_transfer_ids: str = Field(sa_column=Column(Text, nullable=False))  # the ledger's transfers, comma-separated
    created_by: str = Field(sa_column=_str(64))
    recorded_by_org: str | None = Field(default=None, sa_column=organisation_column())
    created_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )


class CompensationClaim(SQLModel, table=True):
    """Issue #18 (L8): a bank's claim on the risk fund for the principal it lost on an overdue loan."""

    __tablename__ = "compensation_claims"
    __table_args__ = (
        CheckConstraint("principal_lost_fen > 0", name="ck_claims_positive"),
        ForeignKeyConstraint(["county_code", "fund_id"], ["risk_funds.county_code", "risk_funds.id"],
                             name="fk_claims_fund"),
        Index("ix_claims_loan", "county_code", "loan_id"),
        Index("ix_claims_fund", "county_code", "fund_id"),
    )
    county_code: str = Field(sa_column=_str(6, primary_key=True))
    id: str = Field(sa_column=_str(40, primary_key=True))
    fund_id: str = Field(sa_column=_str(40))
    loan_id: str = Field(sa_column=_str(40))
    principal_lost_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    outstanding_fen: int = Field(sa_column=Column(BigInteger, nullable=False))  # on the loan when claimed
    days_overdue: int = Field(sa_column=Column(Integer, nullable=False))
    claimed_on: date = Field(sa_column=Column(Date, nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    created_by: str = Field(sa_column=_str(64))
    recorded_by_org: str | None = Field(default=None, sa_column=organisation_column())
    created_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )


class ClaimDecision(SQLModel, table=True):
    """Issue #18 (L9): finance's one decision on a claim, by another person than its recorder; an approval's
    compensation (the fund's share of the principal lost) is paid in the funds ledger (`transfer_ids`)."""

    __tablename__ = "compensation_decisions"
    __table_args__ = (
        CheckConstraint("decision IN ('approved', 'rejected')", name="ck_decisions_decision"),
        CheckConstraint("paid_fen >= 0", name="ck_decisions_paid"),
        ForeignKeyConstraint(["county_code", "claim_id"], ["compensation_claims.county_code", "compensation_claims.id"],
                             name="fk_decisions_claim"),
    )
    county_code: str = Field(sa_column=_str(6, primary_key=True))
    claim_id: str = Field(sa_column=_str(40, primary_key=True))
    decision: str = Field(sa_column=_str(16))
    paid_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    decided_on: date = Field(sa_column=Column(Date, nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False))
    transfer_ids: str = Field(sa_column=Column(Text, nullable=False))
    decided_by: str = Field(sa_column=_str(64))
    recorded_by_org: str | None = Field(default=None, sa_column=organisation_column())
    created_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )


class Recovery(SQLModel, table=True):
    """Issue #18 (L9): principal the bank recovered on a compensated loan; the fund's share of it is returned to
    the fund in the funds ledger (`returned_fen`, `transfer_ids`)."""

    __tablename__ = "compensation_recoveries"
    __table_args__ = (
        CheckConstraint("amount_fen > 0 AND returned_fen >= 0", name="ck_recoveries_amounts"),
        ForeignKeyConstraint(["county_code", "claim_id"], ["compensation_claims.county_code", "compensation_claims.id"],
                             name="fk_recoveries_claim"),
        Index("ix_recoveries_claim", "county_code", "claim_id"),
    )
    county_code: str = Field(sa_column=_str(6, primary_key=True))
    id: str = Field(sa_column=_str(40, primary_key=True))
    claim_id: str = Field(sa_column=_str(40))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    returned_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    recovered_on: date = Field(sa_column=Column(Date, nullable=False))
    transfer_ids: str = Field(sa_column=Column(Text, nullable=False))
    created_by: str = Field(sa_column=_str(64))
    created_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )


def _county() -> Column[str]:
    """The county code leading the primary key of issue #18's tables: distributed by county (deploy/SCALING.md)."""
    return Column(String(6), primary_key=True)


class Renewal(SQLModel, table=True):
    """L14: a renewal (续贷) links the new loan to the old one, repaid in full by the new one's issue date; at most
    one per old loan (the unique key; codes.RENEWAL_LIMIT)."""

    __tablename__ = "loan_renewals"
    __table_args__ = (
        UniqueConstraint("county_code", "old_loan_id", name="uq_renewals_old_loan"),
        UniqueConstraint("county_code", "new_loan_id", name="uq_renewals_new_loan"),
    )
    county_code: str = Field(sa_column=_county())
    id: str = Field(sa_column=_str(40, primary_key=True))
    old_loan_id: str = Field(sa_column=_str(40))
    new_loan_id: str = Field(sa_column=_str(40))
    household_id: str = Field(sa_column=_str(64))
    renewed_on: date = Field(sa_column=Column(Date, nullable=False))
    created_by: str = Field(sa_column=_str(64))
    created_at: datetime | None = Field(default=None, sa_column=_created_at())


class Agreement(SQLModel, table=True):
    """L15: the entrustment agreement (委托协议) behind a cooperative-mode loan (户贷社管), one per loan."""

    __tablename__ = "loan_agreements"
    __table_args__ = (CheckConstraint("annual_return_fen >= 0", name="ck_agreements_return"),)
    county_code: str = Field(sa_column=_county())
    loan_id: str = Field(sa_column=_str(40, primary_key=True))
    signed_on: date = Field(sa_column=Column(Date, nullable=False))
    cooperative_uscc: str = Field(sa_column=_str(18))
    return_terms: str = Field(sa_column=Column(Text, nullable=False))
    annual_return_fen: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    document_sha256: str = Field(sa_column=_str(64))
    created_by: str = Field(sa_column=_str(64))
    created_at: datetime | None = Field(default=None, sa_column=_created_at())


class Partner(SQLModel, table=True):
    """L16: a partner household of a partnership-mode loan (户贷户用合伙发展)."""

    __tablename__ = "loan_partners"
    county_code: str = Field(sa_column=_county())
    loan_id: str = Field(sa_column=_str(40, primary_key=True))
    partner_household_id: str = Field(sa_column=_str(64, primary_key=True))
    created_at: datetime | None = Field(default=None, sa_column=_created_at())


class HouseholdReturn(SQLModel, table=True):
    """L17: a return (分红/收益) the cooperative paid the household of a cooperative-mode loan."""

    __tablename__ = "loan_household_returns"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="ck_household_returns_amount"),
        Index("ix_household_returns_loan", "county_code", "loan_id", "paid_on"),
    )
    county_code: str = Field(sa_column=_county())
    id: str = Field(sa_column=_str(40, primary_key=True))
    loan_id: str = Field(sa_column=_str(40))
    household_id: str = Field(sa_column=_str(64))
    cooperative_uscc: str = Field(sa_column=_str(18))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    paid_on: date = Field(sa_column=Column(Date, nullable=False))
    created_by: str = Field(sa_column=_str(64))
    created_at: datetime | None = Field(default=None, sa_column=_created_at())


class ProductName(SQLModel, table=True):
    """L18: a province's official name of the product (L2e), reference data; 扶贫小额信贷 is valid everywhere."""

    __tablename__ = "loan_product_names"
    province_code: str = Field(sa_column=_str(6, primary_key=True))
    name: str = Field(sa_column=_str(200, primary_key=True))
    created_by: str = Field(sa_column=_str(64))
    created_at: datetime | None = Field(default=None, sa_column=_created_at())


class CreditLine(SQLModel, table=True):
    """L19: a household's credit evaluation (授信) by a bank: limit, date, grade; the latest before a loan counts."""

    __tablename__ = "loan_credit_lines"
    __table_args__ = (
        CheckConstraint("limit_fen >= 0", name="ck_credit_lines_limit"),
        Index("ix_credit_lines_household", "county_code", "household_id", "evaluated_on"),
    )
    county_code: str = Field(sa_column=_county())
    id: str = Field(sa_column=_str(40, primary_key=True))
    household_id: str = Field(sa_column=_str(64))
    lender_name: str = Field(sa_column=_str(200))
    limit_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    evaluated_on: date = Field(sa_column=Column(Date, nullable=False))
    grade: str = Field(sa_column=_str(16))
    created_by: str = Field(sa_column=_str(64))
    created_at: datetime | None = Field(default=None, sa_column=_created_at())


RECORDS = (Renewal, Agreement, Partner, HouseholdReturn, ProductName, CreditLine)  # issue #18 points 4–7

RISK_MODELS = (RiskFund, CompensationClaim, ClaimDecision, Recovery)
for _recorded in (Repayment, Extension, UsageReport, *SUBSIDY_MODELS, *RISK_MODELS, *RECORDS):
    append_only(table_of(_recorded))

metadata = schema_metadata(
    *KERNEL_TABLES, REFUSALS_TABLE,
    *(table_of(model) for model in (Loan, Repayment, Extension, UsageReport, Balance, CountyTotal, SubsidyVersion,
                                    CountySubsidy, *SUBSIDY_MODELS, *RISK_MODELS, *RECORDS)),
)
# after every table: the triggers are on four of them, the function writes a fifth
after_create(metadata, SUBSIDY_VERSIONS_FUNCTION, *SUBSIDY_VERSIONS_TRIGGERS)
