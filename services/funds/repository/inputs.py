"""The figures of the input obligations (issue #17 point 4): declared revenue, recoveries of idle money, a region's
own appropriations, the year's arrangements by fund and project, and the obligations in force."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, insert, select, text, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.funds.models import Appropriation, Obligation, Recovery, RevenueDeclaration, Reversal
from services.kernel.db import any_of


async def insert_revenue(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(RevenueDeclaration).values(**values))


async def insert_recovery(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(Recovery).values(**values))


async def revenues(session: AsyncSession, *, region_code: str, years: Sequence[int]) -> dict[int, int]:
    """The latest declaration of each year's revenue (a correction is a later declaration)."""
    statement = (
        select(col(RevenueDeclaration.fiscal_year), col(RevenueDeclaration.revenue_fen))
        .where(col(RevenueDeclaration.region_code) == region_code, col(RevenueDeclaration.fiscal_year).in_(years))
        .distinct(col(RevenueDeclaration.fiscal_year))
        .order_by(col(RevenueDeclaration.fiscal_year), col(RevenueDeclaration.created_at).desc(),
                  col(RevenueDeclaration.id).desc())
    )
    return {int(r[0]): int(r[1]) for r in await session.execute(statement)}


async def recovered(session: AsyncSession, *, region_code: str, fiscal_year: int) -> tuple[int, int]:
    statement = select(func.coalesce(func.sum(col(Recovery.amount_fen)), 0),
                       func.coalesce(func.sum(col(Recovery.to_poverty_fen)), 0)).where(
        col(Recovery.region_code) == region_code, col(Recovery.fiscal_year) == fiscal_year)
    row = (await session.execute(statement)).one()
    return int(row[0]), int(row[1])


async def appropriated(session: AsyncSession, *, region_code: str, years: Sequence[int]) -> dict[int, int]:
    """The region's own appropriations (its special poverty budget) per fiscal year, net of reversals."""
    statement = (
        select(col(Appropriation.fiscal_year), func.sum(col(Appropriation.amount_fen)))
        .outerjoin(Reversal, col(Reversal.target_id) == col(Appropriation.id))
        .where(col(Appropriation.region_code) == region_code, col(Appropriation.fiscal_year).in_(years),
               col(Reversal.id).is_(None))
        .group_by(col(Appropriation.fiscal_year))
    )
    return {int(r[0]): int(r[1]) for r in await session.execute(statement)}


_ARRANGED = text(
    """
    SELECT t.fund_source, a.ref AS project_id, a.region_code AS county_code, SUM(t.amount_fen) AS amount_fen
    FROM transfer_legs t JOIN accounts a ON a.region_code = t.region_code AND a.id = t.account_id
    WHERE t.kind = 'arrangement' AND t.leg = 'in' AND a.kind = 'project' AND a.region_code LIKE :prefix
      AND t.occurred_on >= make_date(:year, 1, 1) AND t.occurred_on < make_date(:year + 1, 1, 1)
      AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.target_id = t.record_id)
    GROUP BY t.fund_source, a.ref, a.region_code
    """
)


async def arranged(session: AsyncSession, *, prefix: str, fiscal_year: int) -> list[Row[Any]]:
    """The year's arrangements into the projects of the counties under `prefix`, by fund and project (and its
    county)."""
    return list(await session.execute(_ARRANGED, {"prefix": prefix + "%", "year": fiscal_year}))


async def obligations(session: AsyncSession, *, regions: Sequence[str], fiscal_year: int) -> list[Obligation]:
    statement = select(Obligation).where(
        any_of(col(Obligation.region_code), regions), col(Obligation.from_year) <= fiscal_year,
        (col(Obligation.to_year).is_(None)) | (col(Obligation.to_year) >= fiscal_year),
        col(Obligation.kind) != "county_plan",
    ).order_by(col(Obligation.code))
    return list((await session.execute(statement)).scalars())


async def judged_regions(session: AsyncSession, *, fiscal_year: int, prefix: str) -> list[str]:
    """The regions with revenue or recoveries declared for the year, or named by an obligation in force."""
    found = union(
        select(col(RevenueDeclaration.region_code)).where(col(RevenueDeclaration.fiscal_year) == fiscal_year),
        select(col(Recovery.region_code)).where(col(Recovery.fiscal_year) == fiscal_year),
        select(col(Obligation.region_code)).where(
            col(Obligation.kind) != "county_plan", col(Obligation.from_year) <= fiscal_year,
            (col(Obligation.to_year).is_(None)) | (col(Obligation.to_year) >= fiscal_year)),
    )
    rows = await session.execute(found)
    return sorted(str(r[0]) for r in rows if str(r[0]).startswith(prefix))
