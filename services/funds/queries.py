"""Reads: allocations (keyset by id, newest first) and balances within the caller's jurisdiction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.funds import problems
from services.funds.repository import accounts, allocations, arrangements
from services.funds.schemas import AllocationRead, BalanceRead, ProjectMoney, PublicAllocation
from services.kernel.identity import Principal
from services.kernel.pagination import Page, decode_cursor, page_of
from services.kernel.scope import check_covers, scope_prefix


def _allocation(row: Any) -> AllocationRead:
    return AllocationRead(**{k: v for k, v in row._mapping.items() if k != "visible"})


async def get_allocation(session: AsyncSession, *, principal: Principal, allocation_id: str) -> AllocationRead:
    row = await allocations.get(session, prefix=principal.region_prefix, allocation_id=allocation_id)
    if row is None:
        raise problems.no_allocation(allocation_id)
    if not row.visible:  # 403, not 404: it exists, outside the caller's jurisdiction (API.md)
        check_covers(principal, row.to_region, subject=f"allocation {allocation_id}")
    return _allocation(row)


async def list_allocations(
    session: AsyncSession, *, principal: Principal, filters: dict[str, Any], cursor: str | None, limit: int
) -> Page[AllocationRead]:
    key = decode_cursor(cursor, 1)
    rows = await allocations.list_readable(session, prefix=principal.region_prefix, filters=filters,
                                           before=str(key[0]) if key is not None else None, limit=limit + 1)
    return page_of([_allocation(r) for r in rows], limit, lambda a: [a.id])


async def list_public_allocations(
    session: AsyncSession, *, county: str, fiscal_year: int | None, cursor: str | None, limit: int
) -> Page[PublicAllocation]:
    """U1: every allocation into or out of a county, to anyone, only its public columns (no key, no jurisdiction:
    the money is public, who recorded it is not)."""
    key = decode_cursor(cursor, 1)
    rows = await allocations.list_public(session, county=county, fiscal_year=fiscal_year,
                                         before=str(key[0]) if key is not None else None, limit=limit + 1)
    page = page_of(rows, limit, lambda r: [r.id])
    items = [PublicAllocation(**{k: v for k, v in r._mapping.items() if k != "id"}) for r in page.items]
    return Page(items=items, next_cursor=page.next_cursor)


async def project_money(session: AsyncSession, *, principal: Principal, project_id: str) -> ProjectMoney:
    """U2, for the projects service only (its public page of a project): arranged and paid, in fen."""
    if principal.role != "service":
        raise problems.no_movements("project", project_id)
    arranged, paid = await arrangements.project_money(session, project_id)
    return ProjectMoney(project_id=project_id, arranged_fen=arranged, paid_fen=paid)


async def list_balances(
    session: AsyncSession, *, principal: Principal, region: str | None, cursor: str | None, limit: int
) -> Page[BalanceRead]:
    """Every account under `region` (default: the caller's jurisdiction), except the external budget accounts."""
    prefix = scope_prefix(principal, region)
    key = decode_cursor(cursor, 1)
    found = await accounts.list_readable(session, prefix=prefix, after=int(key[0]) if key is not None else 0,
                                         limit=limit + 1)
    page = page_of(found, limit, lambda a: [a.id])
    items = [BalanceRead(region_code=a.region_code, account=a.kind, fund_source=a.fund_source, ref=a.ref,
                         balance_fen=a.balance_fen) for a in page.items]
    return Page(items=items, next_cursor=page.next_cursor)
