"""The queries of the risk-compensation funds, their claims, decisions and recoveries (issue #18): the one module
that names those tables (repository.py names the loans')."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import BigInteger, Row, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.loans.models import Balance, ClaimDecision, CompensationClaim, Loan, Recovery, RiskFund
from services.loans.repository import in_region

Record = Row[*tuple[Any, ...]]


async def lock(session: AsyncSession, key: str) -> None:
    """Serialise, until the transaction ends, the requests naming `key` (a fund: the loans it backs, L7; a claim:
    its decision and recoveries, L9)."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(f"loans:{key}", 0))))


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
        .join(Loan, col(Loan.id) == col(Balance.loan_id))
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


async def add(session: AsyncSession, record: RiskFund | CompensationClaim | ClaimDecision | Recovery) -> None:
    session.add(record)
    await session.flush()
