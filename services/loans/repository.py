"""Every query of the loans service, and the only module that names its tables.

One access-scoped base statement per entity: a loan is read through `get_loan` (404, then the principal must cover
its county: kernel/scope.check_covers) and lists and reports through `positions`, whose region filter is the kernel's
`within`. Columns are named one way, `col(Model.field)`. The repository reads and writes; the rules stay in rules.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Row,
    Select,
    String,
    Subquery,
    and_,
    bindparam,
    case,
    cast,
    distinct,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine
from sqlmodel import SQLModel, col

from services.kernel import locks
from services.kernel.clock import CHINA
from services.kernel.db import any_of
from services.kernel.identity import Principal
from services.kernel.scope import check_covers, in_region, within
from services.loans import problems
from services.loans.models import (
    Agreement,
    Balance,
    ClaimDecision,
    CompensationClaim,
    CountySubsidy,
    CountyTotal,
    CreditLine,
    Extension,
    HouseholdReturn,
    Loan,
    Partner,
    ProductName,
    Recovery,
    Renewal,
    Repayment,
    RiskFund,
    SubsidyVersion,
    UsageReport,
)

Record = Row[*tuple[Any, ...]]  # a row of a statement of columns (read by name)

# ---------------------------------------------------------------------------------------------------------- loans


async def get_loan(session: AsyncSession, principal: Principal, loan_id: str, *, lock: bool = False) -> Loan:
    """The loan, locked FOR UPDATE when asked: 404 when there is none, 403 when the principal does not cover its
    county (the one place a single loan's jurisdiction is checked)."""
    query = select(Loan).where(col(Loan.id) == loan_id)
    if lock:
        query = query.with_for_update()
    loan = (await session.execute(query)).scalar_one_or_none()
    if loan is None:
        raise problems.loan_not_found(loan_id)
    check_covers(principal, loan.county_code, subject=f"loan {loan.id}")
    return loan


def balance_of_loan() -> Any:
    """A loan joined to its balance through its key, county code first: one shard's join once both are distributed by
    county (deploy/SCALING.md), and the balances' primary key serves it."""
    return and_(col(Balance.county_code) == col(Loan.county_code), col(Balance.loan_id) == col(Loan.id))


def extension_of_loan() -> Any:
    """A loan joined to its extension, if any, through its unique key (county code, loan): `uq_extensions_loan`."""
    return and_(col(Extension.county_code) == col(Loan.county_code), col(Extension.loan_id) == col(Loan.id))


def loan_of_usage() -> Any:
    """A usage report joined to its loan through the loan's key (county code, id)."""
    return and_(col(Loan.county_code) == col(UsageReport.county_code), col(Loan.id) == col(UsageReport.loan_id))


def repaid_as_of(as_of: date) -> Any:
    """The principal repaid on a loan by `as_of` (repayments dated ≤ as_of): its balance's total, unless the loan has
    a repayment dated after `as_of`, then that loan's repayments summed (only then: a CASE evaluates the sum lazily)."""
    summed = (
        select(func.coalesce(cast(func.sum(col(Repayment.principal_fen)), BigInteger), 0))
        .where(col(Repayment.loan_id) == col(Balance.loan_id), col(Repayment.paid_on) <= as_of)
        .scalar_subquery()
    )
    return case((col(Balance.last_paid_on) > as_of, summed), else_=col(Balance.repaid_fen))


def owing_as_of(as_of: date) -> Any:
    """A condition every loan owing principal on `as_of` meets (owing now, or repaid only after `as_of`): what the
    partial index ix_balances_owing and ix_balances_last_paid find."""
    return or_(col(Balance.repaid_fen) < col(Balance.amount_fen), col(Balance.last_paid_on) > as_of)


def positions(as_of: date, prefix: str) -> Subquery:
    """The loans under a region prefix (kernel/scope.within) as of `as_of`: each loan's columns, the principal
    repaid by then (`repaid_fen`, repayments dated ≤ as_of), its extension (`extended_to`) and the maturity in force,
    read from its balance (`repaid_as_of`). Every list and report of loans reads this one statement."""
    return (
        select(
            Loan,
            repaid_as_of(as_of).label("repaid_fen"),
            case((col(Balance.extended), col(Balance.maturity_in_force))).label("extended_to"),
            col(Balance.maturity_in_force).label("maturity_in_force"),
        )
        .select_from(Loan)
        .join(Balance, balance_of_loan())
        .where(in_region(col(Loan.county_code), prefix))
        .subquery("p")
    )


def overdue_ids(
    as_of: date, prefix: str, *, household_id: str | None, after: str | None, limit: int
) -> Any:
    """The ids of a keyset page (newest first) of the loans overdue on `as_of` (L5, as `_status` says it), read from
    the balances of the loans owing alone: a list filtered by the status expression leaves the planner guessing how
    many loans match, and a province's guess read every loan."""
    query = select(col(Balance.loan_id)).where(
        in_region(col(Balance.county_code), prefix), col(Balance.maturity_in_force) < as_of, owing_as_of(as_of),
        col(Balance.amount_fen) - repaid_as_of(as_of) > 0,
    )
    if household_id:
        query = query.where(col(Balance.household_id) == household_id)
    if after is not None:
        query = query.where(col(Balance.loan_id) < after)
    return query.order_by(col(Balance.loan_id).desc()).limit(limit + 1)


def _status(p: Subquery, as_of: date) -> Any:
    """L5 in SQL, as rules.status_of reads it in Python (a list filtered by status)."""
    return case(
        (p.c.amount_fen - p.c.repaid_fen == 0, "repaid"),
        (p.c.maturity_in_force < as_of, "overdue"),
        (p.c.extended_to.is_not(None), "extended"),
        else_="active",
    )


# A page filtered by another status is read loan by loan, newest first, until it is full: the planner cannot
# estimate the status expression (it guesses 0.5 %), and on a connection's first runs (custom plans) it hashed every
# balance of the table for it: 100 ms a county, 1 s a province. Set for that statement only (as the registry's
# import sets its joins).
NESTED_LOOPS = "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off"
# An overdue page after a cursor, once its prepared statement has run five times, got PostgreSQL's generic plan: it
# cannot see that `loan_id < $after` within one county's owing loans is a few hundred rows, and read ~300 ms where
# the custom plan reads 10 ms (2,400,000 loans, bench/province_loans.py --scale 3). Planned for its values each time.
CUSTOM_PLANS = "SET LOCAL plan_cache_mode = force_custom_plan"
PLANNER_DEFAULTS = "RESET enable_hashjoin; RESET enable_mergejoin; RESET plan_cache_mode"


async def loan_page(
    session: AsyncSession, *, prefix: str, as_of: date, status: str | None, household_id: str | None,
    after: str | None, limit: int,
) -> list[Record]:
    """A keyset page (newest id first, limit + 1 rows) of the loans under `prefix`, with their position."""
    p = positions(as_of, prefix)
    query = select(p)
    if status == "overdue":
        query = query.where(p.c.id.in_(overdue_ids(as_of, prefix, household_id=household_id, after=after, limit=limit)))
    if status:
        query = query.where(_status(p, as_of) == status)
    if household_id:
        query = query.where(p.c.household_id == household_id)
    if after is not None:
        query = query.where(p.c.id < after)
    settings = (NESTED_LOOPS if status != "overdue" else CUSTOM_PLANS) if status is not None else None
    if settings:
        for statement in settings.split("; "):
            await session.execute(text(statement))
    rows = list((await session.execute(query.order_by(p.c.id.desc()).limit(limit + 1))).all())
    if settings:
        for statement in PLANNER_DEFAULTS.split("; "):
            await session.execute(text(statement))
    return rows


async def loan_position(session: AsyncSession, loan: Loan, as_of: date) -> Row[Any]:
    p = positions(as_of, "")
    return (await session.execute(select(p).where(p.c.county_code == loan.county_code, p.c.id == loan.id))).one()


async def overdue_by_maturity(session: AsyncSession, *, prefix: str, as_of: date) -> list[Record]:
    """L5: the loans issued by `as_of`, past the maturity in force, principal outstanding, counted and summed per
    maturity in force (`maturity_in_force`, `loans`, `owed`): read from the balances of the loans owing."""
    repaid = repaid_as_of(as_of)
    owing = (
        select(col(Balance.maturity_in_force), (col(Balance.amount_fen) - repaid).label("owed"))
        .where(
            in_region(col(Balance.county_code), prefix), col(Balance.issued_on) <= as_of,
            col(Balance.maturity_in_force) < as_of, owing_as_of(as_of),
        )
        .subquery("o")
    )
    query = (
        select(owing.c.maturity_in_force, func.count().label("loans"),
               cast(func.sum(owing.c.owed), BigInteger).label("owed"))
        .where(owing.c.owed > 0)
        .group_by(owing.c.maturity_in_force)
    )
    return list((await session.execute(query)).all())


async def outstanding_by_county(session: AsyncSession, *, prefix: str, as_of: date) -> list[Record]:
    """Per county, the loans issued by `as_of`, those still owing principal then, and what they owe: the totals kept
    per county (loan_county_totals, the balances as they are now: a few rows a county), corrected by the loans that
    differ on `as_of`: each loan issued after it counted out, each repaid after it counted as it stood that day
    instead of now (`repaid_as_of`). Those are found by ix_balances_issued and ix_balances_last_paid: none for today,
    few for a recent day (a province's 2,400,000 balances read for every report took 1.8 s, issue #20 point 4). The
    same figures as `outstanding_recomputed` (tests/loans/test_county_totals.py)."""
    kept: Any = select(
        col(CountyTotal.county_code), col(CountyTotal.loans), col(CountyTotal.owing_loans).label("outstanding_loans"),
        col(CountyTotal.owed_fen).label("outstanding_fen"),
    ).where(in_region(col(CountyTotal.county_code), prefix))
    differing = (
        select(
            col(Balance.county_code), (col(Balance.issued_on) <= as_of).label("issued"),
            (col(Balance.amount_fen) - repaid_as_of(as_of)).label("owed_then"),
            (col(Balance.amount_fen) - col(Balance.repaid_fen)).label("owed_now"),
        )
        .where(
            in_region(col(Balance.county_code), prefix),
            or_(col(Balance.issued_on) > as_of, col(Balance.last_paid_on) > as_of),
        )
        .cte("d")
        .prefix_with("MATERIALIZED")
    )
    d = differing.c  # each loan's repayments by `as_of` summed once (inlined, the sum named twice was run twice)
    corrections = select(
        d.county_code,
        case((d.issued, 0), else_=-1).label("loans"),
        (case((and_(d.issued, d.owed_then > 0), 1), else_=0) - case((d.owed_now > 0, 1), else_=0))
        .label("outstanding_loans"),
        (case((d.issued, d.owed_then), else_=0) - d.owed_now).label("outstanding_fen"),
    )
    both = kept.union_all(corrections).subquery("t")
    query = (
        select(
            both.c.county_code, cast(func.sum(both.c.loans), BigInteger).label("loans"),
            cast(func.sum(both.c.outstanding_loans), BigInteger).label("outstanding_loans"),
            cast(func.sum(both.c.outstanding_fen), BigInteger).label("outstanding_fen"),
        )
        .group_by(both.c.county_code)
        .having(func.sum(both.c.loans) > 0)
        .order_by(both.c.county_code)
    )
    return list((await session.execute(query)).all())


async def outstanding_recomputed(session: AsyncSession, *, prefix: str, as_of: date) -> list[Record]:
    """`outstanding_by_county`'s figures read from every loan's balance (the report's statement before the county
    totals): what the report must equal (tests/loans/test_county_totals.py)."""
    owed = (col(Balance.amount_fen) - repaid_as_of(as_of)).label("owed")
    balances = (
        select(col(Balance.county_code), owed)
        .where(in_region(col(Balance.county_code), prefix), col(Balance.issued_on) <= as_of)
        .subquery("b")
    )
    query = (
        select(
            balances.c.county_code,
            func.count().label("loans"),
            func.count().filter(balances.c.owed > 0).label("outstanding_loans"),
            func.coalesce(func.sum(balances.c.owed), 0).label("outstanding_fen"),
        )
        .group_by(balances.c.county_code)
        .order_by(balances.c.county_code)
    )
    return list((await session.execute(query)).all())


async def principal_repaid(session: AsyncSession, loan_id: str) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(col(Repayment.principal_fen)), 0)).where(col(Repayment.loan_id) == loan_id)
    )
    return int(total or 0)


async def household_outstanding(session: AsyncSession, household_id: str) -> int:
    """L4: the principal still owed on every loan of the household (all recorded repayments counted)."""
    repaid = (
        select(cast(func.sum(col(Repayment.principal_fen)), BigInteger).label("repaid"))
        .where(col(Repayment.loan_id) == col(Loan.id))
        .lateral("r")
    )
    total = await session.scalar(
        select(func.coalesce(func.sum(col(Loan.amount_fen) - func.coalesce(repaid.c.repaid, 0)), 0))
        .select_from(Loan)
        .outerjoin(repaid, true())
        .where(col(Loan.household_id) == household_id)
    )
    return int(total or 0)


async def lock_household(session: AsyncSession, household_id: str) -> None:
    """Serialise originations for one household until the transaction ends, so two concurrent loans cannot both
    pass the household cap (L4)."""
    key = f"loans:household:{household_id}"
    await locks.hold(session, key)


async def add(
    session: AsyncSession,
    record: Loan | Repayment | Extension | UsageReport | Balance | RiskFund | CompensationClaim | ClaimDecision
    | Recovery,
) -> None:
    """Record a new row (nothing recorded is edited: every write of this service is an insert, but for the derived
    balances, kept beside the facts)."""
    session.add(record)
    await session.flush()


# ------------------------------------------------------------------------------------- repayments, extensions, use


async def repayments_of(session: AsyncSession, loan_id: str) -> Sequence[Repayment]:
    query = (
        select(Repayment).where(col(Repayment.loan_id) == loan_id).order_by(col(Repayment.paid_on), col(Repayment.id))
    )
    return (await session.execute(query)).scalars().all()


async def extension_of(session: AsyncSession, loan: Loan) -> Extension | None:
    query = select(Extension).where(col(Extension.county_code) == loan.county_code, col(Extension.loan_id) == loan.id)
    return (await session.execute(query)).scalar_one_or_none()


async def usage_reports_of(session: AsyncSession, loan_id: str) -> Sequence[UsageReport]:
    query = (
        select(UsageReport)
        .where(col(UsageReport.loan_id) == loan_id)
        .order_by(col(UsageReport.reported_on), col(UsageReport.id))
    )
    return (await session.execute(query)).scalars().all()


# ------------------------------------------------------------------------------------------------------ subsidies


async def subsidy_loan(session: AsyncSession, loan_id: str) -> Record:
    """L6 of one loan: its amount, issue day, maturity in force and the first day a usage report showed misuse
    (`misuse_from`)."""
    misuse_from = (
        select(func.min(col(UsageReport.reported_on)))
        .where(
            col(UsageReport.loan_id) == col(Loan.id),
            or_(col(UsageReport.breaks_enterprise_rule), col(UsageReport.breaks_purpose_rule)),
        )
        .scalar_subquery()
    )
    query = (
        select(
            col(Loan.id), col(Loan.county_code), col(Loan.amount_fen), col(Loan.issued_on),
            func.coalesce(col(Extension.new_maturity_on), col(Loan.maturity_on)).label("maturity_in_force"),
            misuse_from.label("misuse_from"),
        )
        .select_from(Loan)
        .outerjoin(Extension, extension_of_loan())
        .where(col(Loan.id) == loan_id)
    )
    return (await session.execute(query)).one()


def _misuse_from() -> Subquery:
    """L6: each loan's first usage report that breaks L2 (`misuse_from`): no subsidy from that day on."""
    return (
        select(col(UsageReport.loan_id).label("loan_id"), func.min(col(UsageReport.reported_on)).label("misuse_from"))
        .where(or_(col(UsageReport.breaks_enterprise_rule), col(UsageReport.breaks_purpose_rule)))
        .group_by(col(UsageReport.loan_id))
        .subquery("misuse")
    )


Region = Callable[[Any], ColumnElement[bool]]  # a report's counties, as a condition on a county code column


async def subsidy_by_county(
    session: AsyncSession, *, prefix: str, period_from: date, period_to: date, rate_bp: int
) -> list[tuple[str, int, int]]:
    """L6 per county of the region, in the database, in one computation on the request's session: (`county_code`,
    the loans issued before `to`, `subsidy_fen`), the sum of each loan's subsidy rounded half up to the fen, the
    figure `rules.subsidy_of` gives loan by loan (tests/loans/test_subsidy_report.py checks the two agree); counties
    with no loan issued before `to` left out. `subsidy_of_counties` over the counties the totals know, unsplit and
    with nothing kept: what the report answers split (reads._computed) and what a kept figure (L6a) must equal."""
    counties = [county_code for county_code, _ in await subsidy_counties(session, prefix=prefix)]
    rows = await subsidy_of_counties(session, counties, period_from=period_from, period_to=period_to, rate_bp=rate_bp)
    return [(str(row.county_code), int(row.loans), int(row.subsidy_fen)) for row in rows if row.loans > 0]


def _subsidy_sums(region: Region, period_from: date, period_to: date, rate_bp: int) -> Select[str, int]:
    """Per county of the region with a loan that earned: (`county_code`, `subsidy_fen`).

    A loan earns over [s, e): s is `from` or its issue day, e the first of `to`, the day after its maturity in force
    and its first misuse. Its principal-days are the principal owed at each day's end, Σ over [s, e) of
    (amount − repaid by then) = (owed now + repaid since `from`) × (e − s) − Σ p × max(0, e − max(day, s)) over its
    repayments since `from` (one repaid before `from` is owed on no day of the period). Only the loans that can earn
    are read: owing now or repaid since `from`, and not past their maturity before it (a province's half year:
    ~187,000 of 800,000), each with its
    repayments since `from` from `ix_repayments_loan_paid` alone, so the work grows with the loans alive in the
    period, not with the repayments recorded since (nor with the age of the period)."""
    misuse = _misuse_from()
    start = func.greatest(period_from, col(Balance.issued_on))
    end = func.least(period_to, col(Balance.maturity_in_force) + 1, func.coalesce(misuse.c.misuse_from, period_to))
    spans = (
        select(
            col(Balance.loan_id), col(Balance.county_code),
            (col(Balance.amount_fen) - col(Balance.repaid_fen)).label("owed"), start.label("s"), end.label("e"),
        )
        .select_from(Balance)
        .outerjoin(misuse, misuse.c.loan_id == col(Balance.loan_id))
        .where(
            region(col(Balance.county_code)), col(Balance.issued_on) < period_to,
            # a loan past its maturity in force before `from` earns nothing in the period (e ≤ s): the province's
            # overdue loans, one probe each for nothing (~12 % of the probes of a half year)
            col(Balance.maturity_in_force) >= period_from,
            or_(col(Balance.repaid_fen) < col(Balance.amount_fen), col(Balance.last_paid_on) >= period_from),
        )
        # in loan id order, so that each loan's repayments are read next to the last one's in ix_repayments_loan_paid
        # rather than anywhere in it: at 2,400,000 loans (the index past the shared buffers) 5.7 s → 3.0 s
        .order_by(col(Balance.loan_id))
        .subquery("spans")
    )
    principal, day = col(Repayment.principal_fen), col(Repayment.paid_on)
    since = (
        select(
            cast(func.coalesce(func.sum(principal), 0), BigInteger).label("repaid"),
            cast(func.coalesce(func.sum(principal * func.greatest(0, spans.c.e - func.greatest(day, spans.c.s))), 0),
                 BigInteger).label("repaid_days"),
        )
        .where(col(Repayment.loan_id) == spans.c.loan_id, day >= period_from, principal > 0)
        .lateral("since")
    )
    fen_days = case(
        (spans.c.e <= spans.c.s, 0),
        else_=(spans.c.owed + since.c.repaid) * (spans.c.e - spans.c.s) - since.c.repaid_days,
    )
    per_loan = (select(spans.c.county_code, fen_days.label("fen_days")).select_from(spans.join(since, true()))
                .subquery("per_loan"))
    # rules.round_half_up per loan (principal-days are never negative: ck_balances_repaid), then totalled
    subsidy = (per_loan.c.fen_days * rate_bp * 2 + 10000 * 360) // (10000 * 360 * 2)
    return (select(per_loan.c.county_code, cast(func.sum(subsidy), BigInteger).label("subsidy_fen"))
            .where(per_loan.c.fen_days > 0)
            .group_by(per_loan.c.county_code))


def _issued_before(region: Region, day: date) -> Select[str, int]:
    """Per county of the region, its loans issued before `day` (counties with none left out): the loans the totals
    keep per county now (loan_county_totals: a few rows a county) less those issued on or after `day`
    (ix_balances_issued), instead of counting every balance of the region (a province's 800,000: 0.2 s of the
    subsidy report's 1 s)."""
    kept = select(col(CountyTotal.county_code), col(CountyTotal.loans)).where(region(col(CountyTotal.county_code)))
    later = select(col(Balance.county_code), literal(-1).label("loans")).where(
        region(col(Balance.county_code)), col(Balance.issued_on) >= day)
    both = kept.union_all(later).subquery("issued")
    total = cast(func.sum(both.c.loans), BigInteger)
    return (select(both.c.county_code, total.label("loans")).group_by(both.c.county_code).having(total > 0)
            .order_by(both.c.county_code))


# ------------------------------------------------------------------------------- kept subsidy figures (L6a)


async def database_today(session: AsyncSession) -> date:
    """The database's date in China (its transaction's start): the day the subsidy version triggers compare with
    (models.SUBSIDY_VERSIONS_FUNCTION), so the report and the triggers never disagree on what is closed."""
    today: date = (await session.execute(select(cast(func.timezone(CHINA.key, func.now()), Date)))).scalar_one()
    return today


async def subsidy_counties(session: AsyncSession, *, prefix: str) -> list[tuple[str, int]]:
    """The counties of the region the county totals know, each with its loans owing now: what computing its subsidy
    figure weighs (the loans that can earn in a period are those owing now and those repaid since it began), by
    which the province's report is split (`reads.subsidy_report`)."""
    counties = _counties_owing(prefix)
    rows = await session.execute(select(counties.c.county_code, counties.c.owing).order_by(counties.c.county_code))
    return [(str(county_code), int(owing)) for county_code, owing in rows]


def _counties_owing(prefix: str) -> Subquery:
    """(`county_code`, `owing`) per county of the region in loan_county_totals (a few rows a county)."""
    owing = cast(func.sum(col(CountyTotal.owing_loans)), BigInteger).label("owing")
    return (select(col(CountyTotal.county_code), owing).where(in_region(col(CountyTotal.county_code), prefix))
            .group_by(col(CountyTotal.county_code)).subquery("counties"))


async def kept_subsidies(
    session: AsyncSession, *, prefix: str, period_from: date, period_to: date, rate_bp: int
) -> list[Record]:
    """L6a: each county of the region (those the county totals know) with its kept figure of the period and rate
    (`loans`, `subsidy_fen`) if it is still valid, at the county's version; null figures when it is not; and its
    loans owing now (`owing`, what computing its figure weighs)."""
    counties = _counties_owing(prefix)
    query = (
        select(counties.c.county_code, col(CountySubsidy.loans), col(CountySubsidy.subsidy_fen), counties.c.owing)
        .select_from(counties)
        .outerjoin(SubsidyVersion, col(SubsidyVersion.county_code) == counties.c.county_code)
        .outerjoin(CountySubsidy, and_(
            col(CountySubsidy.county_code) == counties.c.county_code, col(CountySubsidy.period_from) == period_from,
            col(CountySubsidy.period_to) == period_to, col(CountySubsidy.rate_bp) == rate_bp,
            col(CountySubsidy.version) == col(SubsidyVersion.version),
        ))
        .order_by(counties.c.county_code)
    )
    return list((await session.execute(query)).all())


async def subsidy_of_counties(
    session: AsyncSession, counties: Sequence[str], *, period_from: date, period_to: date, rate_bp: int
) -> list[Record]:
    """L6 of these counties (`_subsidy_sums`, `_issued_before`), with each county's version, in one statement (one
    snapshot): (`county_code`, `version` or null, `loans`, `subsidy_fen`), a county with no loan before `to` too
    (zeros), so the figures kept with the version are those of the facts at that version, never older (L6a)."""
    def region(column: Any) -> ColumnElement[bool]:
        return any_of(column, counties)

    asked = select(func.unnest(bindparam("counties", list(counties), type_=ARRAY(String()))).label("county_code")
                   ).subquery("asked")
    sums = _subsidy_sums(region, period_from, period_to, rate_bp).subquery("sums")
    issued = _issued_before(region, period_to).subquery("issued")
    query = (
        select(asked.c.county_code, col(SubsidyVersion.version), func.coalesce(issued.c.loans, 0).label("loans"),
               func.coalesce(sums.c.subsidy_fen, 0).label("subsidy_fen"))
        .select_from(asked)
        .outerjoin(SubsidyVersion, col(SubsidyVersion.county_code) == asked.c.county_code)
        .outerjoin(issued, issued.c.county_code == asked.c.county_code)
        .outerjoin(sums, sums.c.county_code == asked.c.county_code)
        .order_by(asked.c.county_code)
    )
    return list((await session.execute(query)).all())


async def keep_subsidies(
    session: AsyncSession, computed: Sequence[Record], *, period_from: date, period_to: date, rate_bp: int,
    rates_kept: int,
) -> None:
    """L6a: the figures `subsidy_of_counties` computed, kept at the version they were computed at, in key order (two
    reports keeping the same counties wait on each other, never in a cycle); a county that has no version yet is
    given one (the transaction's id: never one a county had), and its figure is kept by its next report."""
    versionless = sorted(row.county_code for row in computed if row.version is None)
    if versionless:
        xid = cast(cast(func.pg_current_xact_id(), String), BigInteger)
        await session.execute(
            insert(SubsidyVersion).from_select(
                ["county_code", "version"],
                select(func.unnest(bindparam("versionless", versionless, type_=ARRAY(String()))), xid),
            ).on_conflict_do_nothing(index_elements=["county_code"])
        )
    # a county with no loan before `to` is computed each time (nothing to read), not kept
    rows = [row for row in sorted(computed, key=lambda r: str(r.county_code))
            if row.version is not None and int(row.loans) > 0]
    if rows:
        # one statement whatever the number of counties (arrays, not a VALUES list of as many rows: issue #14)
        columns: dict[str, tuple[TypeEngine[Any], list[Any]]] = {
            "county_code": (String(), [r.county_code for r in rows]),
            "loans": (BigInteger(), [int(r.loans) for r in rows]),
            "subsidy_fen": (BigInteger(), [int(r.subsidy_fen) for r in rows]),
            "version": (BigInteger(), [int(r.version) for r in rows]),
        }
        figures = select(*(func.unnest(bindparam(name, values, type_=ARRAY(kind))).label(name)
                           for name, (kind, values) in columns.items())).subquery("figures")
        stored = insert(CountySubsidy).from_select(
            ["county_code", "period_from", "period_to", "rate_bp", "loans", "subsidy_fen", "version"],
            select(figures.c.county_code, literal(period_from, Date), literal(period_to, Date), literal(rate_bp),
                   figures.c.loans, figures.c.subsidy_fen, figures.c.version)
            .where(select(func.count()).where(  # at most `rates_kept` rates of a county's period
                col(CountySubsidy.county_code) == figures.c.county_code,
                col(CountySubsidy.period_from) == period_from, col(CountySubsidy.period_to) == period_to,
                col(CountySubsidy.rate_bp) != rate_bp).scalar_subquery() < rates_kept),
        )
        await session.execute(stored.on_conflict_do_update(
            index_elements=["county_code", "period_from", "period_to", "rate_bp"],
            set_={"loans": stored.excluded.loans, "subsidy_fen": stored.excluded.subsidy_fen,
                  "version": stored.excluded.version},
        ))


async def principal_repayments(
    session: AsyncSession, loan_ids: Sequence[str], *, before: date
) -> list[Record]:
    """(loan_id, paid_on, principal_fen) of the repayments of principal of these loans dated before a day."""
    rows: list[Record] = []
    for start in range(0, len(loan_ids), 10_000):
        chunk = list(loan_ids[start:start + 10_000])
        query = select(col(Repayment.loan_id), col(Repayment.paid_on), col(Repayment.principal_fen)).where(
            any_of(col(Repayment.loan_id), chunk), col(Repayment.paid_on) < before, col(Repayment.principal_fen) > 0
        )
        rows += (await session.execute(query)).all()
    return rows


# ------------------------------------------------------------------------------------------------------ detectors


async def overdue_loans(session: AsyncSession, *, as_of: date, prefix: str) -> list[Record]:
    """L5 scan: every loan under `prefix` past the maturity in force with principal outstanding on `as_of` (read from
    the balances of the loans owing, as `overdue_by_maturity`)."""
    owed = (col(Balance.amount_fen) - repaid_as_of(as_of)).label("owed")
    owing = (
        select(
            col(Balance.loan_id).label("id"), col(Balance.county_code), col(Balance.household_id), owed,
            col(Balance.maturity_in_force), col(Balance.extended),
        )
        .where(
            col(Balance.issued_on) <= as_of, col(Balance.maturity_in_force) < as_of, owing_as_of(as_of),
            in_region(col(Balance.county_code), prefix),
        )
        .subquery("o")
    )
    # the lending branch answering for each (O13): the loan's row by its key, for the loans owing past maturity only
    query = (select(owing, col(Loan.responsible_org))
             .join(Loan, and_(col(Loan.county_code) == owing.c.county_code, col(Loan.id) == owing.c.id))
             .where(owing.c.owed > 0))
    return list((await session.execute(query)).all())


async def misused_loans(session: AsyncSession, *, as_of: date, prefix: str, enterprise: bool) -> list[Record]:
    """L2 scan: loans under `prefix` with usage reports (by `as_of`) that break L2a/L3 (`enterprise`) or L2b, each
    with those reports as JSON, oldest first."""
    flag = col(UsageReport.breaks_enterprise_rule) if enterprise else col(UsageReport.breaks_purpose_rule)
    report = func.json_build_object(
        "report_id", col(UsageReport.id), "recipient_kind", col(UsageReport.recipient_kind),
        "recipient_id", col(UsageReport.recipient_id), "recipient_name", col(UsageReport.recipient_name),
        "amount_fen", col(UsageReport.amount_fen), "purpose", col(UsageReport.purpose),
        "reported_on", col(UsageReport.reported_on),
    )
    query = (
        select(
            col(Loan.id), col(Loan.county_code), col(Loan.household_id), col(Loan.mode), col(Loan.responsible_org),
            func.json_agg(aggregate_order_by(report, col(UsageReport.reported_on), col(UsageReport.id)))
            .label("reports"),
        )
        .select_from(UsageReport)
        .join(Loan, loan_of_usage())
        .where(col(UsageReport.reported_on) <= as_of, flag, within(col(Loan.county_code), prefix))
        .group_by(col(Loan.county_code), col(Loan.id))  # the loan's key: its other columns follow from it
    )
    return list((await session.execute(query)).all())


async def concentrations(
    session: AsyncSession, *, window_from: date, as_of: date, threshold: int
) -> list[Record]:
    """L2a scan (covert 户贷企用): organisations that loans of `threshold` or more households reached within the
    window, whatever county the households lie in. The legitimate 户贷社管 flow (a cooperative-mode loan reaching
    the cooperative recorded on it, L3) is not counted."""
    loan = func.json_build_object(
        "loan_id", col(Loan.id), "household_id", col(Loan.household_id), "report_id", col(UsageReport.id),
        "amount_fen", col(UsageReport.amount_fen), "reported_on", col(UsageReport.reported_on),
    )
    households = func.count(distinct(col(Loan.household_id)))
    query = (
        select(
            col(UsageReport.recipient_id).label("credit_code"),
            func.max(col(UsageReport.recipient_name)).label("name"),
            households.label("households"),
            func.sum(col(UsageReport.amount_fen)).label("amount_fen"),
            func.array_agg(distinct(col(Loan.county_code))).label("counties"),
            func.array_agg(distinct(col(Loan.responsible_org))).label("lending_orgs"),
            func.json_agg(aggregate_order_by(loan, col(Loan.id), col(UsageReport.id))).label("loans"),
        )
        .select_from(UsageReport)
        .join(Loan, loan_of_usage())
        .where(
            col(UsageReport.recipient_kind).in_(("cooperative", "enterprise")),
            col(UsageReport.reported_on).between(window_from, as_of),
            ~((col(Loan.mode) == "cooperative") & (col(UsageReport.recipient_id) == col(Loan.cooperative_uscc))),
        )
        .group_by(col(UsageReport.recipient_id))
        .having(households >= threshold)
    )
    return list((await session.execute(query)).all())


async def households_owing(
    session: AsyncSession, *, as_of: date, prefix: str, among: Sequence[str] | None = None
) -> list[Record]:
    """L1 scan: each household under `prefix` (and `among` these, when given) with principal outstanding on `as_of`:
    its county, loans, debt and the organisations that lent them (O13)."""
    query = select(
        col(Balance.household_id), col(Balance.county_code), col(Balance.loan_id),
        (col(Balance.amount_fen) - repaid_as_of(as_of)).label("owed"), col(Loan.responsible_org),
    ).join(Loan, balance_of_loan()).where(
        col(Balance.issued_on) <= as_of, owing_as_of(as_of), in_region(col(Balance.county_code), prefix))
    if among is not None:
        query = query.where(col(Balance.household_id) == func.any(cast(list(among), ARRAY(String))))
    owing = query.subquery("o")
    query = (
        select(
            owing.c.household_id,
            func.min(owing.c.county_code).label("county_code"),
            func.array_agg(aggregate_order_by(owing.c.loan_id, owing.c.loan_id)).label("loan_ids"),
            func.sum(owing.c.owed).label("owed"),
            func.array_agg(distinct(owing.c.responsible_org)).label("lending_orgs"),
        )
        .where(owing.c.owed > 0)
        .group_by(owing.c.household_id)
    )
    return list((await session.execute(query)).all())


# ------------------------------------------------------------------------------------------------------- balances


def new_balance(loan: Loan) -> Balance:
    """The balance of a loan just originated: nothing repaid, its own maturity in force."""
    return Balance(
        loan_id=loan.id, county_code=loan.county_code, household_id=loan.household_id, amount_fen=loan.amount_fen,
        issued_on=loan.issued_on, maturity_in_force=loan.maturity_on, extended=False, repaid_fen=0,
    )


async def balance_repaid(session: AsyncSession, repayment: Repayment) -> None:
    """A repayment recorded: its principal added to the loan's balance (in the repayment's transaction)."""
    await session.execute(
        update(Balance)
        .where(col(Balance.county_code) == repayment.county_code, col(Balance.loan_id) == repayment.loan_id)
        .values(repaid_fen=col(Balance.repaid_fen) + repayment.principal_fen,
                last_paid_on=func.greatest(col(Balance.last_paid_on), repayment.paid_on))
    )


async def balance_extended(session: AsyncSession, extension: Extension) -> None:
    """An extension recorded: the loan's balance takes its new maturity (in the extension's transaction)."""
    await session.execute(
        update(Balance)
        .where(col(Balance.county_code) == extension.county_code, col(Balance.loan_id) == extension.loan_id)
        .values(maturity_in_force=extension.new_maturity_on, extended=True)
    )


def balances_from_facts() -> Any:
    """Every loan's balance recomputed from the facts (loans, repayments, extensions): what loan_balances must equal
    (tests/loans/test_balances.py), and how a loaded database fills it (bench/province_loans.py)."""
    repaid = (
        select(
            col(Repayment.loan_id), cast(func.sum(col(Repayment.principal_fen)), BigInteger).label("repaid"),
            func.max(col(Repayment.paid_on)).label("last_paid_on"),
        )
        .group_by(col(Repayment.loan_id))
        .subquery("r")
    )
    return (
        select(
            col(Loan.id).label("loan_id"), col(Loan.county_code), col(Loan.household_id), col(Loan.amount_fen),
            col(Loan.issued_on),
            func.coalesce(col(Extension.new_maturity_on), col(Loan.maturity_on)).label("maturity_in_force"),
            col(Extension.loan_id).is_not(None).label("extended"),
            func.coalesce(repaid.c.repaid, 0).label("repaid_fen"), repaid.c.last_paid_on,
        )
        .select_from(Loan)
        .outerjoin(Extension, extension_of_loan())
        .outerjoin(repaid, repaid.c.loan_id == col(Loan.id))
    )


async def balances_differing(session: AsyncSession) -> list[Record]:
    """The loans whose stored balance differs from the recomputation (or is missing): none, ever."""
    facts = balances_from_facts().subquery("f")
    stored = select(Balance).subquery("b")
    columns = [c.name for c in facts.c]
    query = (
        select(func.coalesce(facts.c.loan_id, stored.c.loan_id).label("loan_id"))
        .select_from(facts)
        .join(stored, stored.c.loan_id == facts.c.loan_id, full=True)
        .where(tuple_(*(facts.c[n] for n in columns)).is_distinct_from(tuple_(*(stored.c[n] for n in columns))))
    )
    return list((await session.execute(query)).all())


def county_totals_differing() -> Select[*tuple[Any, ...]]:
    """The counties whose kept totals (loan_county_totals, summed over their slots) differ from their recomputation
    from the balances (`county_code`, kept and recomputed figures): none, ever. tests/loans/test_county_totals.py
    runs it after each kind of write, `fundtrack doctor` on a live database (a read of every balance: seconds at
    millions)."""
    kept = (
        select(
            col(CountyTotal.county_code), cast(func.sum(col(CountyTotal.loans)), BigInteger).label("loans"),
            cast(func.sum(col(CountyTotal.owing_loans)), BigInteger).label("owing_loans"),
            cast(func.sum(col(CountyTotal.owed_fen)), BigInteger).label("owed_fen"),
        )
        .group_by(col(CountyTotal.county_code))
        .subquery("k")
    )
    recomputed = (
        select(
            col(Balance.county_code), func.count().label("loans"),
            func.count().filter(col(Balance.repaid_fen) < col(Balance.amount_fen)).label("owing_loans"),
            cast(func.sum(col(Balance.amount_fen) - col(Balance.repaid_fen)), BigInteger).label("owed_fen"),
        )
        .group_by(col(Balance.county_code))
        .subquery("r")
    )
    figures = ("loans", "owing_loans", "owed_fen")
    return (
        select(
            func.coalesce(kept.c.county_code, recomputed.c.county_code).label("county_code"),
            *(func.coalesce(kept.c[n], 0).label(f"kept_{n}") for n in figures),
            *(func.coalesce(recomputed.c[n], 0).label(n) for n in figures),
        )
        .select_from(kept)
        .join(recomputed, recomputed.c.county_code == kept.c.county_code, full=True)
        .where(tuple_(*(func.coalesce(kept.c[n], 0) for n in figures))
               != tuple_(*(func.coalesce(recomputed.c[n], 0) for n in figures)))
        .order_by(func.coalesce(kept.c.county_code, recomputed.c.county_code))
    )


# ------------------------------------------------------------------------- risk-compensation funds (issue #18)


async def lock_named(session: AsyncSession, key: str) -> None:
    """Serialise, until the transaction ends, the requests naming `key` (a fund: the loans it backs, L7; a claim:
    its decision and recoveries, L9)."""
    await locks.hold(session, f"loans:{key}")


async def fund_for(session: AsyncSession, county_code: str, bank_name: str) -> RiskFund | None:
    """The county's fund with a bank: one indexed read (uq_risk_funds_bank), the one origination makes (L7)."""
    query = select(RiskFund).where(col(RiskFund.county_code) == county_code, col(RiskFund.bank_name) == bank_name)
    return (await session.execute(query)).scalar_one_or_none()


async def fund_by_id(session: AsyncSession, fund_id: str) -> RiskFund | None:
    return (await session.execute(select(RiskFund).where(col(RiskFund.id) == fund_id))).scalar_one_or_none()


async def bank_outstanding(session: AsyncSession, county_code: str, bank_name: str) -> int:
    """L7: the principal outstanding now (every recorded repayment counted) on the bank's loans in the county,
    read from the balances of the loans owing."""
    owed = func.coalesce(cast(func.sum(col(Balance.amount_fen) - col(Balance.repaid_fen)), BigInteger), 0)
    query = (
        select(owed)
        .select_from(Balance)
        .join(Loan, balance_of_loan())
        .where(col(Balance.county_code) == county_code, col(Balance.repaid_fen) < col(Balance.amount_fen),
               col(Loan.county_code) == county_code, col(Loan.lender_name) == bank_name)
    )
    return int(await session.scalar(query) or 0)


def _paid() -> Any:
    return cast(func.coalesce(func.sum(col(ClaimDecision.paid_fen)), 0), BigInteger)


async def fund_figures(session: AsyncSession, fund: RiskFund) -> tuple[int, int, int]:
    """(compensations paid, recoveries' shares returned, claims not decided) of a fund."""
    claims = select(col(CompensationClaim.id)).where(
        col(CompensationClaim.county_code) == fund.county_code, col(CompensationClaim.fund_id) == fund.id)
    paid = await session.scalar(select(_paid()).where(
        col(ClaimDecision.county_code) == fund.county_code, col(ClaimDecision.claim_id).in_(claims)))
    returned = await session.scalar(select(cast(func.coalesce(func.sum(col(Recovery.returned_fen)), 0), BigInteger))
                                    .where(col(Recovery.county_code) == fund.county_code,
                                           col(Recovery.claim_id).in_(claims)))
    undecided = ~select(col(ClaimDecision.claim_id)).where(
        col(ClaimDecision.county_code) == col(CompensationClaim.county_code),
        col(ClaimDecision.claim_id) == col(CompensationClaim.id)).exists()
    pending = await session.scalar(select(func.count()).select_from(CompensationClaim).where(
        col(CompensationClaim.county_code) == fund.county_code, col(CompensationClaim.fund_id) == fund.id, undecided))
    return int(paid or 0), int(returned or 0), int(pending or 0)


async def claimed_on_loan(session: AsyncSession, county_code: str, loan_id: str) -> int:
    """L8: the principal already claimed on a loan by claims not rejected (pending or approved)."""
    rejected = select(col(ClaimDecision.claim_id)).where(
        col(ClaimDecision.county_code) == county_code, col(ClaimDecision.decision) == "rejected")
    query = select(cast(func.coalesce(func.sum(col(CompensationClaim.principal_lost_fen)), 0), BigInteger)).where(
        col(CompensationClaim.county_code) == county_code, col(CompensationClaim.loan_id) == loan_id,
        col(CompensationClaim.id).not_in(rejected),
    )
    return int(await session.scalar(query) or 0)


async def claim_by_id(session: AsyncSession, claim_id: str) -> CompensationClaim | None:
    query = select(CompensationClaim).where(col(CompensationClaim.id) == claim_id)
    return (await session.execute(query)).scalar_one_or_none()


async def decision_of(session: AsyncSession, claim: CompensationClaim) -> ClaimDecision | None:
    query = select(ClaimDecision).where(col(ClaimDecision.county_code) == claim.county_code,
                                        col(ClaimDecision.claim_id) == claim.id)
    return (await session.execute(query)).scalar_one_or_none()


async def recoveries_of(session: AsyncSession, claim: CompensationClaim) -> Sequence[Recovery]:
    query = (select(Recovery).where(col(Recovery.county_code) == claim.county_code,
                                    col(Recovery.claim_id) == claim.id)
             .order_by(col(Recovery.recovered_on), col(Recovery.id)))
    return (await session.execute(query)).scalars().all()


async def fund_losses(session: AsyncSession, *, prefix: str, as_of: date) -> list[Record]:
    """L10: each fund under a region prefix with its compensations paid (`paid`) and returns (`returned`) by
    `as_of` (decisions and recoveries dated on or before it)."""
    paid = (select(col(CompensationClaim.fund_id), _paid().label("paid"))
            .join(ClaimDecision, (col(ClaimDecision.county_code) == col(CompensationClaim.county_code))
                  & (col(ClaimDecision.claim_id) == col(CompensationClaim.id)))
            .where(in_region(col(CompensationClaim.county_code), prefix), col(ClaimDecision.decided_on) <= as_of)
            .group_by(col(CompensationClaim.fund_id)).subquery("paid"))
    returned = (select(col(CompensationClaim.fund_id),
                       cast(func.sum(col(Recovery.returned_fen)), BigInteger).label("returned"))
                .join(Recovery, (col(Recovery.county_code) == col(CompensationClaim.county_code))
                      & (col(Recovery.claim_id) == col(CompensationClaim.id)))
                .where(in_region(col(CompensationClaim.county_code), prefix), col(Recovery.recovered_on) <= as_of)
                .group_by(col(CompensationClaim.fund_id)).subquery("returned"))
    query = (select(RiskFund, paid.c.paid, func.coalesce(returned.c.returned, 0).label("returned"))
             .join(paid, paid.c.fund_id == col(RiskFund.id))
             .outerjoin(returned, returned.c.fund_id == col(RiskFund.id))
             .where(in_region(col(RiskFund.county_code), prefix)))
    return list((await session.execute(query)).all())


# ------------------------------------------------------------ issue #18's loan records (L14–L19) and their scans


async def add_all(session: AsyncSession, records: Sequence[SQLModel]) -> None:
    session.add_all(records)
    await session.flush()


# ---------------------------------------------------------------------------------------------- L18 product names


async def registered_names(session: AsyncSession, province_code: str) -> list[str]:
    query = select(col(ProductName.name)).where(col(ProductName.province_code) == province_code)
    return list((await session.execute(query)).scalars().all())


async def register_name(session: AsyncSession, name: ProductName) -> bool:
    """Insert the name unless the province has it (False then): two registrations at once make one row."""
    statement = insert(ProductName).values(
        province_code=name.province_code, name=name.name, created_by=name.created_by
    ).on_conflict_do_nothing().returning(col(ProductName.name))
    return (await session.execute(statement)).first() is not None


# --------------------------------------------------------------------------------------------------- L14 renewals


async def renewal_of(session: AsyncSession, county_code: str, old_loan_id: str) -> Renewal | None:
    query = select(Renewal).where(col(Renewal.county_code) == county_code, col(Renewal.old_loan_id) == old_loan_id)
    return (await session.execute(query)).scalar_one_or_none()


async def repaid_by(session: AsyncSession, loan_id: str, day: date) -> int:
    """The principal repaid on a loan by repayments dated on or before `day`."""
    query = select(func.coalesce(cast(func.sum(col(Repayment.principal_fen)), BigInteger), 0)).where(
        col(Repayment.loan_id) == loan_id, col(Repayment.paid_on) <= day)
    return int((await session.execute(query)).scalar_one())


async def unrecorded_renewals(session: AsyncSession, *, as_of: date, prefix: str, window_days: int) -> list[Record]:
    """L14 scan: pairs (old, new) of loans of one household, the new one issued after the old one and within
    `window_days` of the day the old one was fully repaid (both on or before `as_of`), not recorded as a
    renewal (of that loan or another). Read from the balances: the old loans repaid now paired with the household's
    later loans issued before the old one's last repayment + the window (a hash join of two balance scans); only
    for those pairs is the day of the last principal repayment read (ix_repayments_loan_paid). A loan repaid now was
    repaid by `as_of` when that day is on or before it (principal only accumulates)."""
    window = timedelta(days=window_days)
    balance = (col(Balance.loan_id), col(Balance.county_code), col(Balance.household_id), col(Balance.issued_on))
    old = (select(*balance, col(Balance.last_paid_on))
           .where(in_region(col(Balance.county_code), prefix), col(Balance.repaid_fen) == col(Balance.amount_fen))
           .subquery("o"))
    new = (select(*balance).where(in_region(col(Balance.county_code), prefix), col(Balance.issued_on) <= as_of)
           .subquery("n"))
    repaid_on = (
        select(func.max(col(Repayment.paid_on)))
        .where(col(Repayment.loan_id) == old.c.loan_id, col(Repayment.principal_fen) > 0)
        .scalar_subquery()
    )
    # a loan recorded as a renewal (of this old loan or another) hides nothing
    recorded = exists().where(col(Renewal.county_code) == new.c.county_code, col(Renewal.new_loan_id) == new.c.loan_id)
    pairs = (
        select(old.c.loan_id.label("old_id"), repaid_on.label("repaid_on"), new.c.loan_id.label("id"),
               new.c.county_code, new.c.household_id, new.c.issued_on)
        .select_from(old)
        .join(new, and_(new.c.household_id == old.c.household_id, new.c.county_code == old.c.county_code,
                        new.c.loan_id != old.c.loan_id))
        .where(new.c.issued_on > old.c.issued_on, new.c.issued_on <= old.c.last_paid_on + window, ~recorded)
        # a fence (OFFSET 0): PostgreSQL pushed `repaid_on <= as_of` into the scan of the old balances, reading the
        # last repayment of every repaid loan (1.3 s of 1.6 s at 100,000 loans) instead of the pairs' few
        .offset(0)
        .subquery("pairs")
    )
    query = (
        select(pairs, col(Loan.responsible_org))
        .join(Loan, col(Loan.id) == pairs.c.id)
        .where(pairs.c.repaid_on <= as_of, pairs.c.issued_on >= pairs.c.repaid_on - window,
               pairs.c.issued_on <= pairs.c.repaid_on + window)
        .order_by(pairs.c.id, pairs.c.old_id)
    )
    return list((await session.execute(query)).all())


async def cooperative_loans_without_return(session: AsyncSession, *, as_of: date, since: date,
                                           prefix: str) -> list[Record]:
    """L17 scan: cooperative-mode loans owing on `as_of`, issued on or before `since`, whose household received
    no recorded return after `since` (up to `as_of`); with the day of the last return, if any."""
    last = (
        select(func.max(col(HouseholdReturn.paid_on)))
        .where(col(HouseholdReturn.county_code) == col(Loan.county_code),
               col(HouseholdReturn.loan_id) == col(Loan.id), col(HouseholdReturn.paid_on) <= as_of)
        .scalar_subquery()
    )
    owed = (col(Balance.amount_fen) - repaid_as_of(as_of)).label("owed")
    query = (
        select(col(Loan.id), col(Loan.county_code), col(Loan.household_id), col(Loan.cooperative_uscc),
               col(Loan.issued_on), col(Loan.responsible_org), owed, last.label("last_return_on"))
        .join(Balance, balance_of_loan())
        .where(in_region(col(Loan.county_code), prefix), col(Loan.mode) == "cooperative",
               col(Loan.issued_on) <= since, owing_as_of(as_of))
        .subquery("c")
    )
    outer = select(query).where(query.c.owed > 0, func.coalesce(query.c.last_return_on, date.min) <= since)
    return list((await session.execute(outer)).all())


# -------------------------------------------------------------------------------------------- L19 credit lines


async def loans_above_credit_line(session: AsyncSession, *, as_of: date, prefix: str) -> list[Record]:
    """L19 scan: loans issued on or before `as_of` above the limit of the household's latest credit evaluation
    dated on or before the loan's issue date; read from the households that have an evaluation (their loans by
    ix_loans_household), so a loan without one is not read."""
    evaluated = (
        select(col(CreditLine.county_code), col(CreditLine.household_id))
        .where(in_region(col(CreditLine.county_code), prefix), col(CreditLine.evaluated_on) <= as_of)
        .distinct()
        .subquery("h")
    )
    latest = (
        select(col(CreditLine.limit_fen), col(CreditLine.lender_name), col(CreditLine.evaluated_on),
               col(CreditLine.grade))
        .where(col(CreditLine.county_code) == col(Loan.county_code),
               col(CreditLine.household_id) == col(Loan.household_id),
               col(CreditLine.evaluated_on) <= col(Loan.issued_on))
        .order_by(col(CreditLine.evaluated_on).desc(), col(CreditLine.id).desc())
        .limit(1)
        .lateral("l")
    )
    query = (
        select(col(Loan.id), col(Loan.county_code), col(Loan.household_id), col(Loan.amount_fen),
               col(Loan.issued_on), col(Loan.responsible_org), latest.c.limit_fen, latest.c.lender_name,
               latest.c.evaluated_on, latest.c.grade)
        .select_from(evaluated)
        .join(Loan, and_(col(Loan.household_id) == evaluated.c.household_id,
                         col(Loan.county_code) == evaluated.c.county_code))
        .join(latest, col(Loan.amount_fen) > latest.c.limit_fen)
        .where(col(Loan.issued_on) <= as_of)
        .order_by(col(Loan.id))
    )
    return list((await session.execute(query)).all())


async def records_of(session: AsyncSession, loan: Loan) -> dict[str, Any]:
    """A loan's issue #18 records, each read by its county-leading key: the renewal linking it either way, its
    agreement, partners and returns."""
    county = loan.county_code

    async def all_of(query: Any) -> list[Any]:
        return list((await session.execute(query)).scalars().all())

    linked = or_(col(Renewal.old_loan_id) == loan.id, col(Renewal.new_loan_id) == loan.id)
    renewals = await all_of(select(Renewal).where(col(Renewal.county_code) == county, linked))
    agreements = await all_of(select(Agreement).where(col(Agreement.county_code) == county,
                                                      col(Agreement.loan_id) == loan.id))
    partner = col(Partner.partner_household_id)
    partners = await all_of(select(partner).where(col(Partner.county_code) == county, col(Partner.loan_id) == loan.id)
                            .order_by(partner))
    returns = await all_of(select(HouseholdReturn).where(
        col(HouseholdReturn.county_code) == county, col(HouseholdReturn.loan_id) == loan.id,
    ).order_by(col(HouseholdReturn.paid_on), col(HouseholdReturn.id)))
    return {"renewals": renewals, "agreement": agreements[0] if agreements else None, "partners": partners,
            "returns": returns}
