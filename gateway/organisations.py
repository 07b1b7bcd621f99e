"""Organisations (单位, issue #16): created and listed by admins inside their jurisdiction (S1), one for each
principal (O1), looked up by the services over the gateway's internal API (gateway/internal.py). Every query of the
organisations table is here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.models import organisations
from services.kernel.db import any_of
from services.kernel.errors import RuleViolation
from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.kernel.organisations import ORGANISATION_REGION, UNKNOWN_ORGANISATION, OrganisationKind
from services.kernel.pagination import CursorQuery, LimitQuery, Page, decode_cursor, page_of
from services.kernel.regions import covers
from services.kernel.routers import service_router
from services.kernel.scope import S1, check_covers, within_reach
from services.kernel.types import Input, RegionCode
from services.kernel.uow import PrincipalDep, SessionDep

O1 = "O1"  # a principal belongs to one organisation, whose region covers the principal's


class OrganisationCreate(Input):
    name: str = Field(min_length=1, max_length=200)
    kind: OrganisationKind
    region_code: RegionCode


class OrganisationRead(BaseModel):
    id: str
    name: str
    kind: str
    region_code: str
    created_at: datetime
    created_by: str


router = service_router("/admin", tags=["admin"])


async def create(
    session: AsyncSession, caller: Principal, *, name: str, kind: str, region_code: str
) -> OrganisationRead:
    row = (
        await session.execute(
            insert(organisations)
            .values(id=new_id("org"), name=name, kind=kind, region_code=region_code, created_by=caller.id)
            .returning(*organisations.c)
        )
    ).one()
    return OrganisationRead.model_validate(dict(row._mapping))


async def get(session: AsyncSession, organisation_id: str) -> OrganisationRead | None:
    row = (await session.execute(select(organisations).where(organisations.c.id == organisation_id))).first()
    return None if row is None else OrganisationRead.model_validate(dict(row._mapping))


async def of_region(session: AsyncSession, *, region_code: str, kind: str) -> list[OrganisationRead]:
    """The organisations of exactly this region and kind, the first registered first (what a service asks to find,
    say, a county's finance bureau: rule O13)."""
    rows = (
        await session.execute(
            select(organisations)
            .where(organisations.c.region_code == region_code, organisations.c.kind == kind)
            .order_by(organisations.c.created_at, organisations.c.id)
            .limit(50)
        )
    ).all()
    return [OrganisationRead.model_validate(dict(r._mapping)) for r in rows]


async def first_of_regions(
    session: AsyncSession, *, region_codes: Sequence[str], kind: str
) -> dict[str, OrganisationRead]:
    """The first registered organisation of this kind of exactly each region, for the regions that have one: one
    statement for a page of regions (a scan names the finance bureaus of a province's counties at once, O13)."""
    if not region_codes:
        return {}
    rows = (
        await session.execute(
            select(organisations)
            .where(any_of(organisations.c.region_code, region_codes), organisations.c.kind == kind)
            .ext(distinct_on(organisations.c.region_code))
            .order_by(organisations.c.region_code, organisations.c.created_at, organisations.c.id)
        )
    ).all()
    return {str(r.region_code): OrganisationRead.model_validate(dict(r._mapping)) for r in rows}


async def for_principal(
    session: AsyncSession, caller: Principal, organisation_id: str | None, *, name: str, region_code: str
) -> str:
    """O1: the organisation a new principal belongs to: the one named (it exists, the admin covers it, and its
    region covers the principal's), or, when none is named, a new one of kind `other` for this principal alone (as
    the principals made before organisations were given one each)."""
    if organisation_id is None:
        return (await create(session, caller, name=name, kind="other", region_code=region_code[:6])).id
    found = await get(session, organisation_id)
    if found is None:
        raise RuleViolation(
            f"没有这个单位 / no organisation {organisation_id}", code=UNKNOWN_ORGANISATION, field="organisation_id",
            rule=O1,
        )
    check_covers(caller, found.region_code, field="organisation_id", rule=S1)
    if not covers(found.region_code, region_code):
        raise RuleViolation(
            f"单位 {found.region_code} 不管辖 {region_code} / the organisation's region {found.region_code} does not "
            f"cover the principal's {region_code}",
            code=ORGANISATION_REGION,
            field="organisation_id",
            rule=O1,
        )
    return found.id


@router.post("/organisations", status_code=201, response_model=OrganisationRead)
async def create_organisation(body: OrganisationCreate, session: SessionDep, caller: PrincipalDep) -> OrganisationRead:
    check_covers(caller, body.region_code, field="region_code", rule=S1)
    return await create(session, caller, name=body.name, kind=body.kind, region_code=body.region_code)


@router.get("/organisations", response_model=Page[OrganisationRead])
async def list_organisations(
    session: SessionDep, caller: PrincipalDep, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[OrganisationRead]:
    query = select(organisations).where(*within_reach(organisations.c.region_code, caller))  # S1
    key = decode_cursor(cursor, 1)
    if key is not None:
        query = query.where(organisations.c.id > str(key[0]))
    rows = (await session.execute(query.order_by(organisations.c.id).limit(limit + 1))).all()
    items = [OrganisationRead.model_validate(dict(r._mapping)) for r in rows]
    return page_of(items, limit, lambda o: [o.id])
