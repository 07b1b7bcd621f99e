"""Arrangements (pool → a library project) and the project ledgers whose row keeps arrangements within a project's
budget (F4)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.funds.models import Arrangement, Disbursement, ProjectLedger, Reversal
from services.kernel.schema import table_of


async def lock_project(session: AsyncSession, *, project_id: str, county_code: str) -> int:
    """Lock the project's ledger row (made on its first arrangement) and return what is arranged to it so far. The
    row is keyed (county_code, project_id); the update that locks a row already there writes its own amount back
    (not its key: a distributed table's distribution column is not updated)."""
    ledger = table_of(ProjectLedger)
    statement = upsert(ledger).values(project_id=project_id, county_code=county_code).on_conflict_do_update(
        index_elements=[ledger.c.county_code, ledger.c.project_id], set_={"arranged_fen": ledger.c.arranged_fen}
    ).returning(ledger.c.arranged_fen)
    return int((await session.execute(statement)).scalar_one())


async def insert_arrangement(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(Arrangement).values(**values))


async def add_arranged(session: AsyncSession, *, county_code: str, project_id: str, amount_fen: int) -> None:
    """Add to (or, for a reversal, take from) what is arranged to a project."""
    await session.execute(
        update(ProjectLedger)
        .where(col(ProjectLedger.county_code) == county_code, col(ProjectLedger.project_id) == project_id)
        .values(arranged_fen=col(ProjectLedger.arranged_fen) + amount_fen)
    )


async def get(session: AsyncSession, *, county_code: str, arrangement_id: str) -> Arrangement:
    """An arrangement by its key."""
    return (await session.execute(select(Arrangement).where(
        col(Arrangement.county_code) == county_code, col(Arrangement.id) == arrangement_id))).scalar_one()


async def project_money(session: AsyncSession, project_id: str) -> tuple[int, int]:
    """What is arranged to a project (net of reversals, as its ledger keeps it) and what it paid out (its payments
    not reversed), in fen: (0, 0) for a project funds never saw (U2). By the project's id alone (the projects service
    asks so): its ledger through ix_project_ledgers_project_id, its payments through ix_disbursements_project_id."""
    arranged = select(col(ProjectLedger.arranged_fen)).where(col(ProjectLedger.project_id) == project_id)
    paid = (
        select(func.coalesce(func.sum(col(Disbursement.amount_fen)), 0))
        .outerjoin(Reversal, and_(col(Reversal.county_code) == col(Disbursement.county_code),
                                  col(Reversal.target_id) == col(Disbursement.id)))
        .where(col(Disbursement.project_id) == project_id, col(Reversal.id).is_(None))
    )
    row = (await session.execute(select(arranged.scalar_subquery(), paid.scalar_subquery()))).one()
    return int(row[0] or 0), int(row[1] or 0)
