"""Reads: allocations (keyset by id, newest first) and balances within the caller's jurisdiction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.funds.schemas import AllocationRead, BalanceRead
from services.kernel.errors import NotFound, NotInJurisdiction
from services.kernel.identity import Principal
from services.kernel.pagination import Page, decode_cursor, page_of
from services.kernel.regions import jurisdiction_prefix

_ALLOCATION_COLUMNS = """
    a.id, a.fund_source, a.fiscal_year, a.from_region, a.to_region, a.amount_fen, a.doc_no, a.issued_on,
    a.designated_project_id, a.tasks, a.destination_kind AS destination_account, a.created_at, r.id AS reversal_id
    FROM allocations a LEFT JOIN reversals r ON r.target_id = a.id
"""


def _allocation(row: Any) -> AllocationRead:
    return AllocationRead(**row._mapping)


async def get_allocation(session: AsyncSession, *, principal: Principal, allocation_id: str) -> AllocationRead:
    row = (await session.execute(text(f"SELECT {_ALLOCATION_COLUMNS} WHERE a.id = :id"), {"id": allocation_id})).first()
    if row is None:
        raise NotFound(f"没有这笔资金下达 / no allocation {allocation_id}")
    if not (principal.covers(row.from_region) or principal.covers(row.to_region)):
        raise NotInJurisdiction(f"资金下达 {allocation_id} 不在管辖范围内 / allocation is outside your jurisdiction")
    return _allocation(row)


async def list_allocations(
    session: AsyncSession,
    *,
    principal: Principal,
    filters: dict[str, Any],
    cursor: str | None,
    limit: int,
) -> Page[AllocationRead]:
    prefix = principal.region_prefix + "%"
    where = ["(a.from_region LIKE :prefix OR a.to_region LIKE :prefix)"]
    params: dict[str, Any] = {"prefix": prefix, "limit": limit + 1}
    for name, value in filters.items():
        if value is not None:
            where.append(f"a.{name} = :{name}")
            params[name] = value
    key = decode_cursor(cursor, 1)
    if key is not None:
        where.append("a.id < :after")
        params["after"] = str(key[0])
    query = f"SELECT {_ALLOCATION_COLUMNS} WHERE {' AND '.join(where)} ORDER BY a.id DESC LIMIT :limit"
    rows = [_allocation(r) for r in await session.execute(text(query), params)]
    return page_of(rows, limit, lambda a: [a.id])


async def list_balances(
    session: AsyncSession, *, principal: Principal, region: str | None, cursor: str | None, limit: int
) -> Page[BalanceRead]:
    """Every account under `region` (default: the caller's jurisdiction), except the external budget accounts."""
    region = region or principal.region_code
    if not principal.covers(region):
        raise NotInJurisdiction(
            f"{region} 不在管辖范围内 / region {region} is outside your jurisdiction", field="region"
        )
    params: dict[str, Any] = {"prefix": jurisdiction_prefix(region) + "%", "limit": limit + 1, "after": 0}
    key = decode_cursor(cursor, 1)
    if key is not None:
        params["after"] = int(key[0])
    rows = await session.execute(
        text(
            "SELECT id, region_code, kind AS account, fund_source, ref, balance_fen FROM accounts "
            "WHERE region_code LIKE :prefix AND kind <> 'budget' AND id > :after ORDER BY id LIMIT :limit"
        ),
        params,
    )
    found = list(rows)
    page = page_of(found, limit, lambda r: [r.id])
    items = [BalanceRead(region_code=r.region_code, account=r.account, fund_source=r.fund_source, ref=r.ref,
                         balance_fen=r.balance_fen) for r in page.items]
    return Page(items=items, next_cursor=page.next_cursor)
