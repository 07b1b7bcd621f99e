"""The bases of payments and the counties' subsidy standards (F11-F14): what a contract has paid, what a household
received under a subsidy category in a year (both net of reversals), and the standards in force."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.funds.models import DisbursementBasis, SubsidyStandard
from services.kernel import locks
from services.kernel.scope import within


async def lock(session: AsyncSession, key: str) -> None:
    """Serialise the payments that share `key` (a contract, a household's subsidy category) until the transaction
    ends, so two concurrent payments cannot both pass what is left."""
    await locks.hold(session, f"funds:basis:{key}")


_CONTRACT_PAID = text(
    """
    SELECT coalesce(sum(b.amount_fen), 0) FROM disbursement_bases b
    WHERE b.county_code = :county AND b.contract_id = :contract
      AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.target_id = b.disbursement_id)
    """
)

_SUBSIDY_PAID = text(
    """
    SELECT coalesce(sum(b.amount_fen), 0) FROM disbursement_bases b
    WHERE b.county_code = :county AND b.payee_id = :payee AND b.subsidy_category = :category
      AND b.paid_on >= :since AND b.paid_on < :until
      AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.target_id = b.disbursement_id)
    """
)


async def contract_paid(session: AsyncSession, *, county_code: str, contract_id: str) -> int:
    found = await session.execute(_CONTRACT_PAID, {"county": county_code, "contract": contract_id})
    return int(found.scalar_one())


async def subsidy_paid(session: AsyncSession, *, county_code: str, payee_id: str, category: str, year: int) -> int:
    params = {"county": county_code, "payee": payee_id, "category": category, "since": date(year, 1, 1),
              "until": date(year + 1, 1, 1)}
    return int((await session.execute(_SUBSIDY_PAID, params)).scalar_one())


async def insert_basis(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(DisbursementBasis).values(**values))


async def standards(session: AsyncSession, *, county_code: str, category: str | None = None) -> list[SubsidyStandard]:
    """A county's standards (of one category), in the order published."""
    query = select(SubsidyStandard).where(col(SubsidyStandard.county_code) == county_code)
    if category is not None:
        query = query.where(col(SubsidyStandard.category) == category)
    query = query.order_by(col(SubsidyStandard.created_at), col(SubsidyStandard.id))
    return list((await session.execute(query)).scalars())


async def standards_within(session: AsyncSession, *, prefix: str) -> list[SubsidyStandard]:
    """The standards of the counties under `prefix`, newest published first."""
    query = (select(SubsidyStandard).where(within(col(SubsidyStandard.county_code), prefix))
             .order_by(col(SubsidyStandard.county_code), col(SubsidyStandard.created_at).desc(),
                       col(SubsidyStandard.id).desc()))
    return list((await session.execute(query)).scalars())


async def insert_standard(session: AsyncSession, standard: SubsidyStandard) -> None:
    session.add(standard)
    await session.flush()
