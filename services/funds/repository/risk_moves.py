"""The risk-compensation fund's moves (issue #18): the record of each move the loans service asked for."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.funds.models import RiskFundMove, TransferLeg
from services.kernel import locks


async def lock_move(session: AsyncSession, move_id: str) -> None:
    """Serialise the calls naming one move id until the transaction ends: a repeated call waits for the first and
    then finds its move (never a second one)."""
    key = f"funds:risk_move:{move_id}"
    await locks.hold(session, key)


async def move_of(session: AsyncSession, county_code: str, move_id: str) -> RiskFundMove | None:
    query = select(RiskFundMove).where(col(RiskFundMove.county_code) == county_code, col(RiskFundMove.id) == move_id)
    return (await session.execute(query)).scalar_one_or_none()


async def transfer_ids(session: AsyncSession, move_id: str) -> list[str]:
    """The ids of the move's transfers (one 'out' leg each), in order."""
    query = (select(col(TransferLeg.transfer_id))
             .where(col(TransferLeg.record_id) == move_id, col(TransferLeg.leg) == "out")
             .order_by(col(TransferLeg.transfer_id)))
    return [str(t) for t in (await session.execute(query)).scalars().all()]


async def add(session: AsyncSession, move: RiskFundMove) -> None:
    session.add(move)
    await session.flush()
