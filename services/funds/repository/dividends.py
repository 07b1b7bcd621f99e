"""The payments of assets' dividends (P12)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.funds.models import DividendPayment
from services.funds.repository.unique import as_duplicate


async def payments_of(session: AsyncSession, county_code: str, dividend_id: str) -> list[DividendPayment]:
    query = select(DividendPayment).where(col(DividendPayment.county_code) == county_code,
                                          col(DividendPayment.dividend_id) == dividend_id)
    return list((await session.execute(query)).scalars())


async def insert_payments(session: AsyncSession, rows: Sequence[DividendPayment]) -> None:
    """Duplicate when the dividend's payments were recorded meanwhile (by a request asking the same at once)."""
    session.add_all(rows)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise as_duplicate(exc) from exc
