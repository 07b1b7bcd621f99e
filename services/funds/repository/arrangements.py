"""Arrangements (pool → a library project) and the project ledgers whose row keeps arrangements within a project's
budget (F4)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.funds.models import Arrangement, Disbursement, ProjectLedger, Reversal


async def lock_project(session: AsyncSession, *, project_id: str, county_code: str) -> int:
    """Lock the project's ledger row (made on its first arrangement) and return what is arranged to it so far."""
    values = upsert(ProjectLedger).values(project_id=project_id, county_code=county_code)
    statement = values.on_conflict_do_update(
        index_elements=[col(ProjectLedger.project_id)], set_={"county_code": values.excluded.county_code}
    ).returning(col(ProjectLedger.arranged_fen))
    return int((await session.execute(statement)).scalar_one())


async def insert_arrangement(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(Arrangement).values(**values))


async def add_arranged(session: AsyncSession, *, project_id: str, amount_fen: int) -> None:
    """Add to (or, for a reversal, take from) what is arranged to a project."""
    await session.execute(
        update(ProjectLedger).where(col(ProjectLedger.project_id) == project_id)
        .values(arranged_fen=col(ProjectLedger.arranged_fen) + amount_fen)
    )


async def get(session: AsyncSession, arrangement_id: str) -> Arrangement:
    return (await session.execute(select(Arrangement).where(col(Arrangement.id) == arrangement_id))).scalar_one()


async def project_money(session: AsyncSession, project_id: str) -> tuple[int, int]:
    """What is arranged to a project (net of reversals, as its ledger keeps it) and what it paid out (its payments
    not reversed), in fen: (0, 0) for a project funds never saw (U2)."""
    arranged = select(col(ProjectLedger.arranged_fen)).where(col(ProjectLedger.project_id) == project_id)
    paid = (
        select(func.coalesce(func.sum(col(Disbursement.amount_fen)), 0))
        .outerjoin(Reversal, col(Reversal.target_id) == col(Disbursement.id))
        .where(col(Disbursement.project_id) == project_id, col(Reversal.id).is_(None))
    )
    row = (await session.execute(select(arranged.scalar_subquery(), paid.scalar_subquery()))).one()
    return int(row[0] or 0), int(row[1] or 0)
