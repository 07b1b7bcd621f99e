"""Every query of subsidy settlement (issue #18 point 3), and the only module that names its tables. A claim is
read through `get_claim` (404, then the principal must cover its county); its loans in keyset pages by loan id."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Date, and_, cast, exists, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel import locks
from services.kernel.clock import CHINA
from services.kernel.db import any_of
from services.kernel.identity import Principal
from services.kernel.models import Alert, AlertEvent
from services.kernel.scope import check_covers, within
from services.loans import codes, problems
from services.loans.models import (
    Extension,
    Loan,
    Repayment,
    SubsidyClaim,
    SubsidyClaimLine,
    SubsidyDecision,
    SubsidyRate,
    UsageReport,
)
from services.loans.repository import Record, extension_of_loan

LINES_CHUNK = 5_000  # loans read, written or exported at a time


async def lock_county(session: AsyncSession, county_code: str) -> None:
    """Serialise the rate declarations and claims of a county until the transaction ends: two claims (or two
    declarations) at once cannot both pass the overlap checks (L11, L12)."""
    key = f"loans:subsidy:{county_code}"
    await locks.hold(session, key)


async def lock_claim(session: AsyncSession, claim_id: str) -> None:
    """Serialise the decisions on one claim (L13)."""
    key = f"loans:subsidy-claim:{claim_id}"
    await locks.hold(session, key)


async def rates_of(session: AsyncSession, *, prefix: str) -> Sequence[SubsidyRate]:
    query = (select(SubsidyRate).where(within(col(SubsidyRate.county_code), prefix))
             .order_by(col(SubsidyRate.county_code), col(SubsidyRate.period_from)))
    return (await session.execute(query)).scalars().all()


async def add(session: AsyncSession, record: SubsidyRate | SubsidyClaim | SubsidyDecision) -> None:
    session.add(record)
    await session.flush()


def _misuse_state() -> tuple[Any, Any]:
    """Of the loan's misuse alerts (L2a, L2b): whether one is not resolved (`alert_open`), and the day in China the
    last was resolved (`resolved_on`, NULL if none was). L12: the misuse stretch ends on that day unless one is open."""
    misuse = and_(col(Alert.subject_kind) == "loan", col(Alert.subject_id) == col(Loan.id),
                  col(Alert.type).in_(codes.SUBSIDY_MISUSE_ALERTS))
    open_alert = exists().where(misuse, col(Alert.status) != "resolved")
    resolved = (
        select(func.max(cast(func.timezone(str(CHINA), col(AlertEvent.at)), Date)))
        .select_from(AlertEvent)
        .join(Alert, col(Alert.id) == col(AlertEvent.alert_id))
        .where(misuse, col(AlertEvent.action) == "resolved")
        .scalar_subquery()
    )
    return resolved.label("resolved_on"), open_alert.label("alert_open")


async def claimable_loans(
    session: AsyncSession, *, county_code: str, lender_name: str, lending_org: str | None, before: date,
    after: str | None,
) -> list[Record]:
    """L12: a chunk (by id) of the bank's loans in the county issued before the period's end (and, for a lender of
    an organisation, that its organisation answers for: O13's `responsible_org`), each with its maturity in force,
    the first usage report that broke L2 and its misuse alerts' state."""
    misuse_from = (
        select(func.min(col(UsageReport.reported_on)))
        .where(col(UsageReport.loan_id) == col(Loan.id),
               or_(col(UsageReport.breaks_enterprise_rule), col(UsageReport.breaks_purpose_rule)))
        .scalar_subquery()
    )
    resolved_on, alert_open = _misuse_state()
    query = (
        select(
            col(Loan.id), col(Loan.household_id), col(Loan.borrower_name), col(Loan.amount_fen), col(Loan.issued_on),
            func.coalesce(col(Extension.new_maturity_on), col(Loan.maturity_on)).label("maturity_in_force"),
            misuse_from.label("misuse_from"), resolved_on, alert_open,
        )
        .select_from(Loan)
        .outerjoin(Extension, extension_of_loan())
        .where(col(Loan.county_code) == county_code, col(Loan.lender_name) == lender_name,
               col(Loan.issued_on) < before)
    )
    if lending_org is not None:
        query = query.where(col(Loan.responsible_org) == lending_org)
    if after is not None:
        query = query.where(col(Loan.id) > after)
    return list((await session.execute(query.order_by(col(Loan.id)).limit(LINES_CHUNK))).all())


async def principal_repayments(session: AsyncSession, loan_ids: Sequence[str], *, before: date) -> list[Record]:
    query = select(col(Repayment.loan_id), col(Repayment.paid_on), col(Repayment.principal_fen)).where(
        any_of(col(Repayment.loan_id), loan_ids), col(Repayment.paid_on) < before, col(Repayment.principal_fen) > 0)
    return list((await session.execute(query)).all())


async def claimed_before(
    session: AsyncSession, *, county_code: str, loan_ids: Sequence[str], period_from: date, period_to: date
) -> list[Record]:
    """L12: (loan_id, claim_id) of these loans' lines whose period overlaps [from, to), in claims not rejected."""
    rejected = exists().where(
        col(SubsidyDecision.county_code) == col(SubsidyClaimLine.county_code),
        col(SubsidyDecision.claim_id) == col(SubsidyClaimLine.claim_id),
        col(SubsidyDecision.decision) == "rejected",
    )
    query = select(col(SubsidyClaimLine.loan_id), col(SubsidyClaimLine.claim_id)).where(
        col(SubsidyClaimLine.county_code) == county_code, any_of(col(SubsidyClaimLine.loan_id), loan_ids),
        col(SubsidyClaimLine.period_from) < period_to, col(SubsidyClaimLine.period_to) > period_from, ~rejected,
    )
    return list((await session.execute(query)).all())


async def insert_lines(session: AsyncSession, lines: list[dict[str, Any]]) -> None:
    for start in range(0, len(lines), LINES_CHUNK):
        await session.execute(insert(SubsidyClaimLine), lines[start:start + LINES_CHUNK])


async def get_claim(session: AsyncSession, principal: Principal, claim_id: str) -> SubsidyClaim:
    """The claim: 404 when there is none, 403 when the principal does not cover its county."""
    claim = (await session.execute(select(SubsidyClaim).where(col(SubsidyClaim.id) == claim_id))).scalar_one_or_none()
    if claim is None:
        raise problems.subsidy_claim_not_found(claim_id)
    check_covers(principal, claim.county_code, subject=f"subsidy claim {claim.id}")
    return claim


async def decisions_of(session: AsyncSession, claim: SubsidyClaim) -> Sequence[SubsidyDecision]:
    query = (select(SubsidyDecision)
             .where(col(SubsidyDecision.county_code) == claim.county_code, col(SubsidyDecision.claim_id) == claim.id)
             .order_by(col(SubsidyDecision.created_at)))
    return (await session.execute(query)).scalars().all()


async def lines_page(
    session: AsyncSession, claim: SubsidyClaim, *, after: str | None, limit: int
) -> Sequence[SubsidyClaimLine]:
    """A keyset page (limit + 1 rows, by loan id) of the claim's loans, through its primary key."""
    query = select(SubsidyClaimLine).where(col(SubsidyClaimLine.county_code) == claim.county_code,
                                           col(SubsidyClaimLine.claim_id) == claim.id)
    if after is not None:
        query = query.where(col(SubsidyClaimLine.loan_id) > after)
    return (await session.execute(query.order_by(col(SubsidyClaimLine.loan_id)).limit(limit + 1))).scalars().all()


async def all_lines(session: AsyncSession, claim: SubsidyClaim) -> AsyncIterator[Sequence[SubsidyClaimLine]]:
    """Every loan of the claim, LINES_CHUNK at a time (an export, a payment to the households)."""
    after: str | None = None
    while True:
        chunk = list(await lines_page(session, claim, after=after, limit=LINES_CHUNK))[:LINES_CHUNK]
        if not chunk:
            return
        yield chunk
        after = chunk[-1].loan_id
