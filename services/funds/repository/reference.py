"""Reference data: fund sources (with their integrability, F7) and counties (poor, integration pilot)."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.funds.models import County, FundSource, FundSourceScope
from services.kernel import rawsql
from services.kernel.db import plain_url
from services.kernel.scope import within


async def put_source(session: AsyncSession, *, code: str, name: str, level: str, integrable: bool,
                     province_code: str | None) -> None:
    statement = insert(FundSource).values(code=code, name=name, level=level, integrable=integrable,
                                          province_code=province_code)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[col(FundSource.code)],
        set_={"name": statement.excluded.name, "level": statement.excluded.level,
              "integrable": statement.excluded.integrable, "province_code": statement.excluded.province_code,
              "updated_at": func.now()},
    ))


async def put_scope(session: AsyncSession, *, fund_source: str, year: int, integrable: bool) -> None:
    statement = insert(FundSourceScope).values(fund_source=fund_source, year=year, integrable=integrable)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[col(FundSourceScope.fund_source), col(FundSourceScope.year)],
        set_={"integrable": statement.excluded.integrable, "updated_at": func.now()},
    ))


async def scopes_of(session: AsyncSession, fund_source: str) -> list[FundSourceScope]:
    query = select(FundSourceScope).where(col(FundSourceScope.fund_source) == fund_source)
    return list((await session.execute(query.order_by(col(FundSourceScope.year)))).scalars())


async def list_sources(session: AsyncSession) -> list[FundSource]:
    return list((await session.execute(select(FundSource).order_by(col(FundSource.code)))).scalars())


async def get_source(session: AsyncSession, code: str) -> FundSource | None:
    return (await session.execute(select(FundSource).where(col(FundSource.code) == code))).scalar_one_or_none()


async def put_county(session: AsyncSession, *, code: str, name: str, poor: bool, integration_pilot: bool) -> None:
    statement = insert(County).values(code=code, name=name, poor=poor, integration_pilot=integration_pilot)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[col(County.code)],
        set_={"name": statement.excluded.name, "poor": statement.excluded.poor,
              "integration_pilot": statement.excluded.integration_pilot, "updated_at": func.now()},
    ))


async def list_counties(session: AsyncSession, *, prefix: str) -> list[County]:
    """The counties under a region prefix (the reader's jurisdiction)."""
    statement = select(County).where(within(col(County.code), prefix)).order_by(col(County.code))
    return list((await session.execute(statement)).scalars())


# On every allocation's path: straight on asyncpg (kernel/rawsql.py).
# A source's integrability is its scope of the year asked ($3; F7 extended), else its own flag.
_REFERENCE = """
    SELECT 's' AS tag, s.code, COALESCE(y.integrable, s.integrable) AS a, false AS b
    FROM fund_sources s LEFT JOIN fund_source_scopes y ON y.fund_source = s.code AND y.year = $3::int
    WHERE s.code = ANY($1::varchar[])
    UNION ALL
    SELECT 'c', code, poor, integration_pilot FROM counties WHERE code = ANY($2::varchar[])
"""


async def reference_rows(session: AsyncSession, *, sources: Iterable[str], counties: Iterable[str],
                         year: int | None = None) -> list[asyncpg.Record]:
    """(tag 's', code, integrable in `year`: its scope then, else its own flag) of the named sources and (tag 'c',
    code, poor, pilot) of the named counties, in one round trip."""
    return await rawsql.fetch(session, _REFERENCE, sorted(set(sources)), sorted(set(counties)), year)


# `fundtrack seed-funds` (services/funds/seed.py), on a connection of its own: a row is written only if it changes.
_SEED_CENTRAL_SOURCE = """
    INSERT INTO funds.fund_sources (code, name, level, integrable) VALUES ($1, $2, 'central', true)
    ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, level = EXCLUDED.level, integrable = EXCLUDED.integrable,
        updated_at = now()
    WHERE (funds.fund_sources.name, funds.fund_sources.level, funds.fund_sources.integrable)
          IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.level, EXCLUDED.integrable)
"""


async def seed_central_sources(url: str, sources: Iterable[tuple[str, str]]) -> int:
    """Upsert central integrable fund sources (code, name) in one transaction on a connection of its own; how many
    rows were inserted or changed."""
    conn = await asyncpg.connect(plain_url(url))
    try:
        changed = 0
        async with conn.transaction():
            for code, name in sources:
                status: str = await conn.execute(_SEED_CENTRAL_SOURCE, code, name)
                changed += int(status.rsplit(" ", 1)[-1])
        return changed
    finally:
        await conn.close()
