"""Reference data: fund sources (with their integrability, F7) and counties (poor, integration pilot)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.funds import problems, rules
from services.funds.repository import reference as repository
from services.funds.schemas import CountyPut, CountyRead, ScopePut, ScopeRead, SourcePut, SourceRead
from services.kernel.identity import Principal
from services.kernel.regions import region_level
from services.kernel.scope import S1, check_covers, check_national


def check_source_keeper(principal: Principal) -> None:
    """Fund sources are national reference data: an admin of the central level keeps them (S1)."""
    if principal.role != "admin":
        raise problems.sources_kept_by_admins()
    check_national(principal, field="code", what="fund sources")


async def put_source(session: AsyncSession, *, principal: Principal, code: str, body: SourcePut) -> SourceRead:
    check_source_keeper(principal)
    rules.check_source_province(body.level, body.province_code)
    await repository.put_source(session, code=code, **body.model_dump())
    return SourceRead(code=code, **body.model_dump())


async def put_scope(session: AsyncSession, *, principal: Principal, code: str, year: int,
                    body: ScopePut) -> ScopeRead:
    """F7 (extended): a year's integration scope is national reference data, kept like the sources (S1)."""
    check_source_keeper(principal)
    if await repository.get_source(session, code) is None:
        raise problems.no_source(code)
    await repository.put_scope(session, fund_source=code, year=year, integrable=body.integrable)
    return ScopeRead(fund_source=code, year=year, integrable=body.integrable)


async def list_scopes(session: AsyncSession, code: str) -> list[ScopeRead]:
    if await repository.get_source(session, code) is None:
        raise problems.no_source(code)
    return [ScopeRead.model_validate(s, from_attributes=True) for s in await repository.scopes_of(session, code)]


async def list_sources(session: AsyncSession) -> list[SourceRead]:
    return [SourceRead.model_validate(s, from_attributes=True) for s in await repository.list_sources(session)]


async def get_source(session: AsyncSession, code: str) -> SourceRead:
    found = await repository.get_source(session, code)
    if found is None:
        raise problems.no_source(code)
    return SourceRead.model_validate(found, from_attributes=True)


def check_county_writer(principal: Principal, code: str) -> None:
    """An admin or finance principal of the centre, or of a province or city above the county (not the county
    itself), sets its status: admins are held to the jurisdiction like everyone else (S1)."""
    if region_level(code) != "county":
        raise problems.not_a_county()
    if region_level(principal.region_code) == "county":
        raise problems.county_set_from_above(code)
    check_covers(principal, code, field="code", rule=S1)


async def put_county(session: AsyncSession, *, principal: Principal, code: str, body: CountyPut) -> CountyRead:
    check_county_writer(principal, code)
    await repository.put_county(session, code=code, **body.model_dump())
    return CountyRead(code=code, **body.model_dump())


async def list_counties(session: AsyncSession, *, principal: Principal) -> list[CountyRead]:
    """The counties of the caller's jurisdiction."""
    found = await repository.list_counties(session, prefix=principal.region_prefix)
    return [CountyRead.model_validate(c, from_attributes=True) for c in found]


async def load_reference(
    session: AsyncSession, *, sources: Iterable[str], counties: Iterable[str], year: int | None = None
) -> tuple[dict[str, bool], dict[str, dict[str, Any]]]:
    """Integrability of the named sources (in `year`, F7 extended: that year's scope where one is set, else the
    source's own flag) and the status of the named counties, in one round trip."""
    found_sources: dict[str, bool] = {}
    found_counties: dict[str, dict[str, Any]] = {}
    for row in await repository.reference_rows(session, sources=sources, counties=counties, year=year):
        if row["tag"] == "s":
            found_sources[row["code"]] = bool(row["a"])
        else:
            found_counties[row["code"]] = {"poor": bool(row["a"]), "integration_pilot": bool(row["b"])}
    return found_sources, found_counties
