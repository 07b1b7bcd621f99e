"""Appropriations and allocations: their records (the allocation's hot insert straight on asyncpg), the allocations
a principal may read (jurisdiction applied once, in `_visible_to`), and F2's sums over them."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg
from sqlalchemy import ColumnElement, Row, Select, insert, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.funds.models import Allocation, Appropriation, Reversal
from services.funds.repository.unique import Duplicate, as_duplicate
from services.kernel import rawsql
from services.kernel.scope import within

ALLOCATION_COLUMNS = ("id", "fund_source", "fiscal_year", "from_region", "to_region", "amount_fen", "doc_no",
                      "issued_on", "designated_project_id", "tasks", "destination_kind", "responsible_org")

# The allocation records ($1–$12, one array per column, $13 the principal, $14 its organisation) and, in the same
# statement, the balances of the accounts their money moves between ($15–$18: region, kind, fund source, ref),
# unlocked, as
# accounts.balances reads them: one round trip. The unique index on (issuer, document, fund source) settles
# duplicate documents.
_INSERT_AND_READ_BALANCES = """
    WITH inserted AS (
        INSERT INTO allocations (id, fund_source, fiscal_year, from_region, to_region, amount_fen, doc_no, issued_on,
                                 designated_project_id, tasks, destination_kind, responsible_org, created_by,
                                 recorded_by_org)
        SELECT id, fund_source, fiscal_year, from_region, to_region, amount_fen, doc_no, issued_on,
               designated_project_id, tasks::jsonb, destination_kind, responsible_org, $13, $14
        FROM unnest($1::varchar[], $2::varchar[], $3::int[], $4::varchar[], $5::varchar[], $6::bigint[],
                    $7::varchar[], $8::date[], $9::varchar[], $10::text[], $11::varchar[], $12::varchar[])
             AS a(id, fund_source, fiscal_year, from_region, to_region, amount_fen, doc_no, issued_on,
                  designated_project_id, tasks, destination_kind, responsible_org)
    )
    SELECT a.id, a.region_code, a.kind, a.fund_source, a.ref, a.balance_fen
    FROM accounts a
    JOIN unnest($15::varchar[], $16::varchar[], $17::varchar[], $18::varchar[]) AS want(r, k, f, x)
      ON a.region_code = want.r AND a.kind = want.k AND a.fund_source = want.f AND a.ref = want.x
    ORDER BY a.id
"""


async def insert_and_read_balances(
    session: AsyncSession, columns: dict[str, list[Any]], created_by: str, recorded_by_org: str | None,
    keys: tuple[list[str], list[str], list[str], list[str]],
) -> list[asyncpg.Record]:
    """Insert allocations given column by column (ALLOCATION_COLUMNS) and return the unlocked balance rows of the
    accounts of `keys` that exist. Duplicate for a document the issuer already posted of that fund source."""
    values = [columns[name] for name in ALLOCATION_COLUMNS]
    try:
        return await rawsql.fetch(session, _INSERT_AND_READ_BALANCES, *values, created_by, recorded_by_org, *keys)
    except asyncpg.UniqueViolationError as exc:
        raise Duplicate(str(exc.detail or "")) from exc


async def insert_appropriation(session: AsyncSession, **values: Any) -> None:
    """Duplicate for a document the region already posted of that fund source."""
    try:
        await session.execute(insert(Appropriation).values(**values))
    except IntegrityError as exc:
        raise as_duplicate(exc) from exc


def _visible_to(prefix: str) -> ColumnElement[bool]:
    """An allocation is read by a principal covering its issuer or its recipient."""
    return or_(within(col(Allocation.from_region), prefix), within(col(Allocation.to_region), prefix))


def _read(prefix: str) -> Select[Any]:
    """Every column of the allocation read, its reversal if any, and whether the prefix covers it."""
    return (
        select(
            *(col(getattr(Allocation, name)) for name in ALLOCATION_COLUMNS if name != "destination_kind"),
            col(Allocation.destination_kind).label("destination_account"), col(Allocation.created_at),
            col(Allocation.recorded_by_org),
            col(Reversal.id).label("reversal_id"), _visible_to(prefix).label("visible"),
        )
        .select_from(Allocation)
        .outerjoin(Reversal, col(Reversal.target_id) == col(Allocation.id))
    )


async def get(session: AsyncSession, *, prefix: str, allocation_id: str) -> Row[Any] | None:
    """The allocation, with `visible`: whether a principal of `prefix` may read it (403 rather than 404 if not)."""
    found: Row[Any] | None = (await session.execute(_read(prefix).where(col(Allocation.id) == allocation_id))).first()
    return found


async def list_readable(
    session: AsyncSession, *, prefix: str, filters: dict[str, Any], before: str | None, limit: int
) -> list[Row[Any]]:
    """A page of the allocations a principal of `prefix` reads, newest id first, below `before`."""
    statement = _read(prefix).where(_visible_to(prefix))
    for name, value in filters.items():
        if value is not None:
            statement = statement.where(col(getattr(Allocation, name)) == value)
    if before is not None:
        statement = statement.where(col(Allocation.id) < before)
    return list(await session.execute(statement.order_by(col(Allocation.id).desc()).limit(limit)))


def _public_columns() -> Select[str, str, str, int, int, date, str, str, bool]:
    """U1: what the public reads of an allocation: its document, fund, amount, date, from and to, and whether it
    was reversed. Never who recorded it (`created_by`), nor its tasks or designated project."""
    return (
        select(col(Allocation.id), col(Allocation.doc_no), col(Allocation.fund_source), col(Allocation.fiscal_year),
               col(Allocation.amount_fen), col(Allocation.issued_on), col(Allocation.from_region),
               col(Allocation.to_region), (col(Reversal.id).is_not(None)).label("reversed"))
        .select_from(Allocation)
        .outerjoin(Reversal, col(Reversal.target_id) == col(Allocation.id))
    )


async def list_public(
    session: AsyncSession, *, county: str, fiscal_year: int | None, before: str | None, limit: int
) -> list[Row[Any]]:
    """U1: a page of the allocations into or out of `county`, newest id first, below `before`."""
    statement = _public_columns().where(
        or_(col(Allocation.to_region) == county, col(Allocation.from_region) == county)
    )
    if fiscal_year is not None:
        statement = statement.where(col(Allocation.fiscal_year) == fiscal_year)
    if before is not None:
        statement = statement.where(col(Allocation.id) < before)
    return list(await session.execute(statement.order_by(col(Allocation.id).desc()).limit(limit)))


# F2, what a province gives its counties: allocations received by a county from an issuer of its own province, at
# province or city level, by province, fund, year. Money passed down through a city (province → city → county) is
# counted once, when the county receives it (the city's allocation); the province → city hop is not a county's
# receipt. Central money sent straight to a county is left out: the rule binds the province's departments that cut
# the money into blocks for their counties (seed 002: 由省级主管部门一律切块下达 … 分配给贫困县的资金增幅), and is
# evaluated per issuing province (DOMAIN.md F2); the centre's own split is not the province's to answer for.
_GROWTH = text(
    """
    SELECT substr(a.to_region, 1, 2) || '0000' AS province, a.fund_source, a.fiscal_year,
           SUM(a.amount_fen) FILTER (WHERE c.poor) AS poor_fen, SUM(a.amount_fen) AS all_fen
    FROM allocations a
    JOIN fund_sources s ON s.code = a.fund_source
    LEFT JOIN fund_source_scopes y ON y.fund_source = a.fund_source
                                  AND y.year = CAST(EXTRACT(YEAR FROM a.issued_on) AS int)
    LEFT JOIN counties c ON c.code = a.to_region
    WHERE a.to_region LIKE :prefix AND a.to_region NOT LIKE '%00' AND a.from_region <> '000000'
      AND COALESCE(y.integrable, s.integrable)  -- F7 (extended): the scope of the year the money moved
      AND substr(a.from_region, 1, 2) = substr(a.to_region, 1, 2) AND a.issued_on <= :as_of
      AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.target_id = a.id AND r.reversed_on <= :as_of)
    GROUP BY 1, 2, 3
    """
)


async def county_receipts(session: AsyncSession, *, prefix: str, as_of: date) -> list[Row[Any]]:
    """F2's sums: (province code, fund source, fiscal year, poor_fen, all_fen) of counties under `prefix`."""
    return list(await session.execute(_GROWTH, {"prefix": prefix + "%", "as_of": as_of}))
