"""Reads: loans with their derived outstanding principal and status, and the L5/L6 reports. Set-based SQL."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Row, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.errors import NotInJurisdiction, ValidationProblem
from services.kernel.identity import Principal
from services.kernel.pagination import Page, decode_cursor, page_of
from services.kernel.regions import jurisdiction_prefix
from services.kernel.types import mask_account_no, mask_id_number
from services.loans import codes, rules
from services.loans.models import Extension, Repayment, UsageReport
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
from services.loans.service import get_loan

# A loan as of :as_of: principal repaid by then (repayments dated ≤ as_of) and the maturity in force.
POSITION = """
SELECT l.*, coalesce(r.repaid, 0) AS repaid_fen, e.new_maturity_on AS extended_to,
       coalesce(e.new_maturity_on, l.maturity_on) AS maturity_in_force
FROM loans l
LEFT JOIN LATERAL (SELECT CAST(sum(principal_fen) AS bigint) AS repaid FROM loan_repayments
                   WHERE loan_id = l.id AND paid_on <= :as_of) r ON true
LEFT JOIN loan_extensions e ON e.loan_id = l.id
"""

STATUS = """
CASE WHEN p.amount_fen - p.repaid_fen = 0 THEN 'repaid'
     WHEN CAST(:as_of AS date) > p.maturity_in_force THEN 'overdue'
     WHEN p.extended_to IS NOT NULL THEN 'extended' ELSE 'active' END
"""


def region_prefix(principal: Principal, region: str | None) -> str:
    """The region a report or list covers: the one asked for (inside the caller's jurisdiction) or the caller's."""
    if region is None:
        return principal.region_prefix
    if not principal.covers(region):
        raise NotInJurisdiction(f"{region} 不在管辖范围内 / region {region} is outside your jurisdiction")
    return jurisdiction_prefix(region)


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
    )


async def list_loans(
    session: AsyncSession, principal: Principal, *, county: str | None, status: str | None,
    household_id: str | None, as_of: date, cursor: str | None, limit: int,
) -> Page[LoanRead]:
    where = ["p.county_code LIKE :prefix"]
    params: dict[str, Any] = {"prefix": region_prefix(principal, county) + "%", "as_of": as_of, "limit": limit + 1}
    if status:
        where.append(f"({STATUS}) = :status")
        params["status"] = status
    if household_id:
        where.append("p.household_id = :household_id")
        params["household_id"] = household_id
    key = decode_cursor(cursor, 1)
    if key is not None:
        where.append("p.id < :after")
        params["after"] = str(key[0])
    sql = f"SELECT * FROM ({POSITION}) p WHERE {' AND '.join(where)} ORDER BY p.id DESC LIMIT :limit"
    rows = list((await session.execute(text(sql), params)).all())
    page = page_of(rows, limit, lambda r: [r.id])
    return Page(items=[LoanRead(**loan_read(r, as_of)) for r in page.items], next_cursor=page.next_cursor)


async def loan_detail(session: AsyncSession, principal: Principal, loan_id: str, as_of: date) -> LoanDetail:
    loan = await get_loan(session, principal, loan_id)
    row = (await session.execute(text(f"{POSITION} WHERE l.id = :id"), {"id": loan.id, "as_of": as_of})).one()
    repayments = (await session.execute(
        select(Repayment).where(Repayment.loan_id == loan.id)  # type: ignore[arg-type]
        .order_by(Repayment.paid_on, Repayment.id)  # type: ignore[arg-type]
    )).scalars()
    extension = await session.scalar(select(Extension).where(Extension.loan_id == loan.id))  # type: ignore[arg-type]
    reports = (await session.execute(
        select(UsageReport).where(UsageReport.loan_id == loan.id)  # type: ignore[arg-type]
        .order_by(UsageReport.reported_on, UsageReport.id)  # type: ignore[arg-type]
    )).scalars()
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
    sql = f"""
        SELECT (CAST(:as_of AS date) - p.maturity_in_force) AS days_past_due, p.amount_fen - p.repaid_fen AS owed
        FROM ({POSITION}) p
        WHERE p.county_code LIKE :prefix AND p.issued_on <= :as_of
          AND p.maturity_in_force < :as_of AND p.amount_fen > p.repaid_fen
    """
    params = {"prefix": region_prefix(principal, county) + "%", "as_of": as_of}
    buckets = {name: Bucket(count=0, principal_fen=0) for name in codes.BUCKETS}
    for row in await session.execute(text(sql), params):
        bucket = buckets[rules.bucket_of(row.days_past_due)]
        bucket.count += 1
        bucket.principal_fen += row.owed
    return OverdueReport(as_of=as_of, county=county or principal.region_code, buckets=buckets)


async def outstanding_report(
    session: AsyncSession, principal: Principal, *, county: str | None, as_of: date
) -> OutstandingReport:
    sql = f"""
        SELECT p.county_code, count(*) AS loans,
               count(*) FILTER (WHERE p.amount_fen > p.repaid_fen) AS outstanding_loans,
               coalesce(sum(p.amount_fen - p.repaid_fen), 0) AS outstanding_fen
        FROM ({POSITION}) p WHERE p.county_code LIKE :prefix AND p.issued_on <= :as_of
        GROUP BY p.county_code ORDER BY p.county_code
    """
    rows = await session.execute(text(sql), {"prefix": region_prefix(principal, county) + "%", "as_of": as_of})
    items = [OutstandingRow(county_code=r.county_code, loans=r.loans, outstanding_loans=r.outstanding_loans,
                            outstanding_fen=int(r.outstanding_fen)) for r in rows]
    return OutstandingReport(region=county or principal.region_code, as_of=as_of, items=items)


def check_period(period_from: date, period_to: date) -> None:
    if period_to < period_from:
        raise ValidationProblem("to 不能早于 from / `to` must not precede `from`", field="to")


SUBSIDY_LOANS = """
SELECT l.id, l.county_code, l.amount_fen, l.issued_on, coalesce(e.new_maturity_on, l.maturity_on) AS maturity_in_force,
       (SELECT min(u.reported_on) FROM loan_usage_reports u WHERE u.loan_id = l.id
         AND (u.breaks_enterprise_rule OR u.breaks_purpose_rule)) AS misuse_from
FROM loans l LEFT JOIN loan_extensions e ON e.loan_id = l.id
"""


async def _subsidies(
    session: AsyncSession, where: str, params: dict[str, Any], period_from: date, period_to: date, rate_bp: int
) -> list[tuple[Any, rules.Subsidy]]:
    loans = list((await session.execute(text(f"{SUBSIDY_LOANS} WHERE {where}"), params)).all())
    schedule: dict[str, list[tuple[date, int]]] = defaultdict(list)
    ids = [row.id for row in loans]
    for chunk in (ids[i:i + 10000] for i in range(0, len(ids), 10000)):
        rows = await session.execute(
            text("SELECT loan_id, paid_on, principal_fen FROM loan_repayments "
                 "WHERE loan_id = ANY(:ids) AND paid_on < :to AND principal_fen > 0"),
            {"ids": chunk, "to": period_to},
        )
        for r in rows:
            schedule[r.loan_id].append((r.paid_on, r.principal_fen))
    return [
        (row, rules.subsidy_of(
            amount_fen=row.amount_fen, issued_on=row.issued_on, maturity_in_force=row.maturity_in_force,
            repayments=schedule[row.id], misuse_from=row.misuse_from, period_from=period_from,
            period_to=period_to, rate_bp=rate_bp,
        ))
        for row in loans
    ]


async def loan_subsidy(
    session: AsyncSession, principal: Principal, loan_id: str, *, period_from: date, period_to: date, rate_bp: int
) -> SubsidyRead:
    check_period(period_from, period_to)
    loan = await get_loan(session, principal, loan_id)
    [(row, subsidy)] = await _subsidies(session, "l.id = :id", {"id": loan.id}, period_from, period_to, rate_bp)
    return SubsidyRead(
        loan_id=loan.id, period_from=period_from, period_to=period_to, rate_bp=rate_bp, days=subsidy.days,
        subsidised_days=subsidy.subsidised_days, overdue_days=subsidy.overdue_days, misuse_from=row.misuse_from,
        principal_fen_days=subsidy.principal_fen_days, subsidy_fen=subsidy.subsidy_fen,
    )


async def subsidy_report(
    session: AsyncSession, principal: Principal, *, county: str | None, period_from: date, period_to: date,
    rate_bp: int,
) -> SubsidyReport:
    """L6 per county: each loan's subsidy rounded to the fen (as it is paid), then totalled."""
    check_period(period_from, period_to)
    params = {"prefix": region_prefix(principal, county) + "%", "to": period_to}
    per_loan = await _subsidies(
        session, "l.county_code LIKE :prefix AND l.issued_on < :to", params, period_from, period_to, rate_bp
    )
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row, subsidy in per_loan:
        totals[row.county_code][0] += 1
        totals[row.county_code][1] += subsidy.subsidy_fen
    items = [SubsidyRow(county_code=c, loans=n, subsidy_fen=s) for c, (n, s) in sorted(totals.items())]
    return SubsidyReport(
        region=county or principal.region_code, period_from=period_from, period_to=period_to, rate_bp=rate_bp,
        days=(period_to - period_from).days, items=items, total_fen=sum(i.subsidy_fen for i in items),
    )

