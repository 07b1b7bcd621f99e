"""Arrangements (pool → a library project) and the project ledgers whose row keeps arrangements within a project's
budget (F4)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.funds.models import Arrangement, ProjectLedger


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
