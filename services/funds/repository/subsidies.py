"""Subsidy payments (issue #18 point 3): one per claim of the loans service, found by (county, claim)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.funds.models import SubsidyPayment
from services.kernel import locks


async def lock_claim(session: AsyncSession, claim_id: str) -> None:
    """Serialise the payments of one claim: a second request waits, then finds the first's payment."""
    key = f"funds:subsidy-claim:{claim_id}"
    await locks.hold(session, key)


async def payment_of(session: AsyncSession, *, county_code: str, claim_id: str) -> SubsidyPayment | None:
    query = select(SubsidyPayment).where(col(SubsidyPayment.county_code) == county_code,
                                         col(SubsidyPayment.claim_id) == claim_id)
    return (await session.execute(query)).scalar_one_or_none()


async def add(session: AsyncSession, payment: SubsidyPayment) -> None:
    session.add(payment)
    await session.flush()
