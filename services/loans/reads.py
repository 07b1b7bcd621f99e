"""Reads: loans with their derived outstanding principal and status, and the L5/L6 reports, assembled from the
repository's set-based queries."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from sqlalchemy import Row
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.identity import Principal
from services.kernel.pagination import Page, decode_cursor, page_of
from services.kernel.scope import scope_prefix
from services.kernel.split_reads import SplitReaders, split_read
from services.kernel.types import mask_account_no, mask_id_number
from services.loans import codes, problems, repository, rules
from services.loans.models import UsageReport
from services.loans.schemas import (
    AccountRead,
    Bucket,
    ExtensionRead,
    LoanDetail,
    LoanRead,
    OutstandingReport,
    OutstandingRow,
    OverdueReport,
    RepaymentRead,
    SubsidyRead,
    SubsidyReport,
    SubsidyRow,
    UsageReportRead,
)

log = logging.getLogger("fundtrack.loans.reads")


def loan_read(row: Row[Any] | Any, as_of: date) -> dict[str, Any]:
    outstanding = row.amount_fen - row.repaid_fen
    return dict(
        id=row.id, household_id=row.household_id, borrower_id_number=mask_id_number(row.borrower_id_number),
        borrower_name=row.borrower_name, county_code=row.county_code, village_code=row.village_code,
        lender_name=row.lender_name, product_name=row.product_name, amount_fen=row.amount_fen,
        term_months=row.term_months, annual_rate_bp=row.annual_rate_bp, benchmark_rate_bp=row.benchmark_rate_bp,
        fees_fen=row.fees_fen, collateral_required=row.collateral_required,
        guarantee_required=row.guarantee_required, mode=row.mode, purpose=row.purpose,
        cooperative_uscc=row.cooperative_uscc,
        disbursement_account=AccountRead(
            holder_id_number=mask_id_number(row.account_holder_id_number) if row.account_holder_id_number else None,
            holder_uscc=row.account_holder_uscc,
            # a person's account is masked like the person's identity number (A5, S7); an organisation's is not
            account_no=row.account_no if row.account_holder_uscc else mask_account_no(row.account_no),
        ),
        issued_on=row.issued_on, maturity_on=row.maturity_on, maturity_in_force=row.maturity_in_force,
        repaid_fen=row.repaid_fen, outstanding_fen=outstanding,
        status=rules.status_of(outstanding, as_of, row.maturity_on, row.extended_to), status_as_of=as_of,
        recorded_by_org=row.recorded_by_org, responsible_org=row.responsible_org,
    )


async def list_loans(
    session: AsyncSession, principal: Principal, *, county: str | None, status: str | None,
    household_id: str | None, as_of: date, cursor: str | None, limit: int,
) -> Page[LoanRead]:
    key = decode_cursor(cursor, 1)
    rows = await repository.loan_page(
        session, prefix=scope_prefix(principal, county, field="county"), as_of=as_of, status=status,
        household_id=household_id, after=str(key[0]) if key is not None else None, limit=limit,
    )
    page = page_of(rows, limit, lambda r: [r.id])
    return Page(items=[LoanRead(**loan_read(r, as_of)) for r in page.items], next_cursor=page.next_cursor)


async def loan_detail(session: AsyncSession, principal: Principal, loan_id: str, as_of: date) -> LoanDetail:
    loan = await repository.get_loan(session, principal, loan_id)
    row = await repository.loan_position(session, loan, as_of)
    repayments = await repository.repayments_of(session, loan.id)
    extension = await repository.extension_of(session, loan)
    reports = await repository.usage_reports_of(session, loan.id)
    return LoanDetail(
        **loan_read(row, as_of),
        repayments=[RepaymentRead.model_validate(r, from_attributes=True) for r in repayments],
        extension=ExtensionRead.model_validate(extension, from_attributes=True) if extension else None,
        usage_reports=[usage_read(u) for u in reports],
    )


def usage_read(report: UsageReport) -> UsageReportRead:
    broken = [rule for rule, flag in (("L2a", report.breaks_enterprise_rule), ("L2b", report.breaks_purpose_rule))
              if flag]
    return UsageReportRead(
        id=report.id, loan_id=report.loan_id,
        recipient={"kind": report.recipient_kind, "id": report.recipient_id, "name": report.recipient_name},
        amount_fen=report.amount_fen, purpose=report.purpose, reported_on=report.reported_on, breaks_rules=broken,
    )


async def overdue_report(
    session: AsyncSession, principal: Principal, *, as_of: date, county: str | None
) -> OverdueReport:
    """L5: loans past the maturity in force with principal outstanding as of the date, by days past due."""
    buckets = {name: Bucket(count=0, principal_fen=0) for name in codes.BUCKETS}
    prefix = scope_prefix(principal, county, field="county")
    for row in await repository.overdue_by_maturity(session, prefix=prefix, as_of=as_of):
        bucket = buckets[rules.bucket_of((as_of - row.maturity_in_force).days)]
        bucket.count += row.loans
        bucket.principal_fen += int(row.owed)
    return OverdueReport(as_of=as_of, county=county or principal.region_code, buckets=buckets)


async def outstanding_report(
    session: AsyncSession, principal: Principal, *, county: str | None, as_of: date
) -> OutstandingReport:
    prefix = scope_prefix(principal, county, field="county")
    rows = await repository.outstanding_by_county(session, prefix=prefix, as_of=as_of)
    items = [OutstandingRow(county_code=r.county_code, loans=r.loans, outstanding_loans=r.outstanding_loans,
                            outstanding_fen=int(r.outstanding_fen)) for r in rows]
    return OutstandingReport(region=county or principal.region_code, as_of=as_of, items=items)


def check_period(period_from: date, period_to: date) -> None:
    if period_to < period_from:
        raise problems.period_reversed()


async def loan_subsidy(
    session: AsyncSession, principal: Principal, loan_id: str, *, period_from: date, period_to: date, rate_bp: int
) -> SubsidyRead:
    check_period(period_from, period_to)
    loan = await repository.get_loan(session, principal, loan_id)
    row = await repository.subsidy_loan(session, loan.id)
    repayments = await repository.principal_repayments(session, [loan.id], before=period_to)
    subsidy = rules.subsidy_of(
        amount_fen=row.amount_fen, issued_on=row.issued_on, maturity_in_force=row.maturity_in_force,
        repayments=[(r.paid_on, r.principal_fen) for r in repayments], misuse_from=row.misuse_from,
        period_from=period_from, period_to=period_to, rate_bp=rate_bp,
    )
    return SubsidyRead(
        loan_id=loan.id, period_from=period_from, period_to=period_to, rate_bp=rate_bp, days=subsidy.days,
        subsidised_days=subsidy.subsidised_days, overdue_days=subsidy.overdue_days, misuse_from=row.misuse_from,
        principal_fen_days=subsidy.principal_fen_days, subsidy_fen=subsidy.subsidy_fen,
    )


async def subsidy_report(
    session: AsyncSession, principal: Principal, readers: SplitReaders, *, county: str | None, period_from: date,
    period_to: date, rate_bp: int,
) -> SubsidyReport:
    """L6 per county: each loan's subsidy rounded to the fen (as it is paid), then totalled, in the database
    (`repository.subsidy_of_counties`: a province's loans are never read into the service). A closed calendar
    period's figures are kept per county and read while valid (L6a: `_kept_report`); what is computed is split by
    county across the worker's split readers, on the request's snapshot (`_computed`). The counties are those the
    county totals know just before (a county whose first loan commits in between is in the next report)."""
    check_period(period_from, period_to)
    prefix = scope_prefix(principal, county, field="county")
    figures: dict[str, tuple[int, int]]
    if rules.subsidy_is_kept(period_from, period_to, await repository.database_today(session)):
        figures = await _kept_report(session, readers, prefix=prefix, period_from=period_from, period_to=period_to,
                                     rate_bp=rate_bp)
    else:
        counties = await repository.subsidy_counties(session, prefix=prefix)
        figures = {row.county_code: (int(row.loans), int(row.subsidy_fen)) for row in await _computed(
            session, readers, counties, period_from=period_from, period_to=period_to, rate_bp=rate_bp)}
    items = [SubsidyRow(county_code=county_code, loans=loans, subsidy_fen=fen)
             for county_code, (loans, fen) in sorted(figures.items()) if loans > 0]
    return SubsidyReport(
        region=county or principal.region_code, period_from=period_from, period_to=period_to, rate_bp=rate_bp,
        days=(period_to - period_from).days, items=items, total_fen=sum(i.subsidy_fen for i in items),
    )


async def _computed(
    session: AsyncSession, readers: SplitReaders, counties: list[tuple[str, int]], *, period_from: date,
    period_to: date, rate_bp: int,
) -> list[Row[Any]]:
    """L6 of these counties (each weighed by its loans owing now) from the facts, with each county's version: split
    across the readers on one snapshot when they are free (a province's 200,000 loans that can earn in a half year,
    one probe of the repayments each, ran on one core), else in one statement on `session`."""
    async def compute(part: AsyncSession, codes: list[str]) -> list[Row[Any]]:
        return await repository.subsidy_of_counties(part, codes, period_from=period_from, period_to=period_to,
                                                    rate_bp=rate_bp)
    return await split_read(session, readers, counties, compute)


async def _kept_report(
    session: AsyncSession, readers: SplitReaders, *, prefix: str, period_from: date, period_to: date, rate_bp: int
) -> dict[str, tuple[int, int]]:
    """L6a: the kept figure of each county whose figure is valid; the others computed (with their versions, in the
    same snapshot as their figures: `_computed`), and kept at those versions. Keeping is a savepoint of its own: a
    failure (another report keeping the same counties, a lock) costs the next report a computation, never this
    answer."""
    figures: dict[str, tuple[int, int]] = {}
    stale = []
    for row in await repository.kept_subsidies(
        session, prefix=prefix, period_from=period_from, period_to=period_to, rate_bp=rate_bp
    ):
        if row.loans is None:
            stale.append((str(row.county_code), int(row.owing)))
        else:
            figures[row.county_code] = (int(row.loans), int(row.subsidy_fen))
    if stale:
        computed = await _computed(session, readers, stale, period_from=period_from, period_to=period_to,
                                   rate_bp=rate_bp)
        figures.update({row.county_code: (int(row.loans), int(row.subsidy_fen)) for row in computed})
        try:
            async with session.begin_nested():
                await repository.keep_subsidies(
                    session, computed, period_from=period_from, period_to=period_to, rate_bp=rate_bp,
                    rates_kept=rules.KEPT_RATES,
                )
        except DBAPIError as error:
            log.warning("L6a: the subsidy figures of %d counties were not kept (%s)", len(computed), error)
    return figures
