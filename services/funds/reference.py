"""Reference data: fund sources (with their integrability, F7) and counties (poor, integration pilot)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.funds import codes
from services.funds.schemas import CountyPut, CountyRead, SourcePut, SourceRead
from services.kernel import rawsql
from services.kernel.errors import NotFound, NotInJurisdiction, RuleViolation, ValidationProblem
from services.kernel.identity import Principal
from services.kernel.regions import region_level
from services.kernel.scope import S1

_PUT_SOURCE = text(
    """
    INSERT INTO fund_sources (code, name, level, integrable) VALUES (:code, :name, :level, :integrable)
    ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, level = EXCLUDED.level, integrable = EXCLUDED.integrable,
        updated_at = now()
    """
)
_PUT_COUNTY = text(
    """
    INSERT INTO counties (code, name, poor, integration_pilot) VALUES (:code, :name, :poor, :integration_pilot)
    ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, poor = EXCLUDED.poor,
        integration_pilot = EXCLUDED.integration_pilot, updated_at = now()
    """
)


async def put_source(session: AsyncSession, *, code: str, body: SourcePut) -> SourceRead:
    await session.execute(_PUT_SOURCE, {"code": code, **body.model_dump()})
    return SourceRead(code=code, **body.model_dump())


async def list_sources(session: AsyncSession) -> list[SourceRead]:
    rows = await session.execute(text("SELECT code, name, level, integrable FROM fund_sources ORDER BY code"))
    return [SourceRead(**r._mapping) for r in rows]


async def get_source(session: AsyncSession, code: str) -> SourceRead:
    row = (
        await session.execute(
            text("SELECT code, name, level, integrable FROM fund_sources WHERE code = :code"), {"code": code}
        )
    ).first()
    if row is None:
        raise NotFound(f"没有这个资金来源 / no fund source {code}")
    return SourceRead(**row._mapping)


def check_county_writer(principal: Principal, code: str) -> None:
    """An admin or finance principal of the centre, or of a province or city above the county (not the county
    itself), sets its status: admins are held to the jurisdiction like everyone else (S1)."""
    if region_level(code) != "county":
        raise ValidationProblem("不是县级代码 / not a county code", field="code")
    if region_level(principal.region_code) == "county" or not principal.covers(code):
        raise NotInJurisdiction(
            f"只有县 {code} 的上级（中央、省、市）可设置其属性 / only a principal of the centre, a province or a city "
            f"above county {code} may set it",
            field="code",
            rule=S1,
        )


async def put_county(session: AsyncSession, *, principal: Principal, code: str, body: CountyPut) -> CountyRead:
    check_county_writer(principal, code)
    await session.execute(_PUT_COUNTY, {"code": code, **body.model_dump()})
    return CountyRead(code=code, **body.model_dump())


async def list_counties(session: AsyncSession, *, prefix: str) -> list[CountyRead]:
    rows = await session.execute(
        text("SELECT code, name, poor, integration_pilot FROM counties WHERE code LIKE :p ORDER BY code"),
        {"p": prefix + "%"},
    )
    return [CountyRead(**r._mapping) for r in rows]


# On every allocation's path: straight on asyncpg (kernel/rawsql.py).
_REFERENCE = """
    SELECT 's' AS tag, code, integrable AS a, false AS b FROM fund_sources WHERE code = ANY($1::varchar[])
    UNION ALL
    SELECT 'c', code, poor, integration_pilot FROM counties WHERE code = ANY($2::varchar[])
"""


async def load_reference(
    session: AsyncSession, *, sources: Iterable[str], counties: Iterable[str]
) -> tuple[dict[str, bool], dict[str, dict[str, Any]]]:
    """Integrability of the named sources and the status of the named counties, in one round trip."""
    rows = await rawsql.fetch(session, _REFERENCE, sorted(set(sources)), sorted(set(counties)))
    found_sources: dict[str, bool] = {}
    found_counties: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["tag"] == "s":
            found_sources[row["code"]] = bool(row["a"])
        else:
            found_counties[row["code"]] = {"poor": bool(row["a"]), "integration_pilot": bool(row["b"])}
    return found_sources, found_counties


def unknown_source(code: str, field: str = "fund_source") -> RuleViolation:
    return RuleViolation(
        f"资金来源 {code} 未登记 / fund source {code} is not registered (PUT /funds/sources/{code})",
        code=codes.UNKNOWN_FUND_SOURCE,
        field=field,
    )


def unregistered_county(code: str, field: str) -> RuleViolation:
    return RuleViolation(
        f"县 {code} 未登记（贫困县、整合试点） / county {code} is not registered (poor, integration pilot): "
        f"PUT /funds/counties/{code} first",
        code=codes.COUNTY_NOT_REGISTERED,
        field=field,
    )
