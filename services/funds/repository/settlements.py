"""How each claim of the loans service is settled (issue #18, loans' L9, L13): found by (county, payment key)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.funds.models import ClaimSettlement
from services.kernel import locks


async def lock_key(session: AsyncSession, county_code: str, payment_key: str) -> None:
    """Serialise the payment and the voiding of one claim until the transaction ends: the second waits, then finds
    what the first settled (the key is unique too: two settlements of one claim cannot both be recorded)."""
    key = f"funds:settlement:{county_code}:{payment_key}"
    await locks.hold(session, key)


async def settlement_of(session: AsyncSession, county_code: str, payment_key: str) -> ClaimSettlement | None:
    query = select(ClaimSettlement).where(col(ClaimSettlement.county_code) == county_code,
                                          col(ClaimSettlement.payment_key) == payment_key)
    return (await session.execute(query)).scalar_one_or_none()


async def add(session: AsyncSession, settlement: ClaimSettlement) -> None:
    session.add(settlement)
    await session.flush()
