"""Principals: API keys issued once (only the hash is kept) and revoked at once. An admin issues, lists and revokes
only principals whose region its own jurisdiction covers (S1): a county admin cannot mint a national key."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Literal

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from gateway import organisations, revocations
from gateway.auth import ADMIN_PRINCIPAL_ID, key_digest, new_api_key
from gateway.models import principal_revocations, principals
from services.kernel.errors import Conflict, NotFound
from services.kernel.ids import new_id
from services.kernel.pagination import CursorQuery, LimitQuery, Page, decode_cursor, page_of
from services.kernel.routers import service_router
from services.kernel.scope import S1, check_covers, within_reach
from services.kernel.types import AnyRegionCode, Input
from services.kernel.uow import PrincipalDep, SessionDep


class PrincipalCreate(Input):
    name: str = Field(min_length=1, max_length=200)
    role: Literal["admin", "finance", "project_manager", "lender", "inspector"]
    region_code: AnyRegionCode
    organisation_id: str | None = Field(
        default=None,
        max_length=64,
        description="the organisation (单位) it belongs to; none: a new organisation of kind `other` for it alone",
    )


class PrincipalRead(BaseModel):
    id: str
    name: str
    role: str
    region_code: str
    key_prefix: str | None = Field(description="the key's first characters; null for a person, who has no key")
    organisation_id: str
    created_at: datetime
    revoked_at: datetime | None = None


class PrincipalIssued(PrincipalRead):
    api_key: str | None = Field(description="shown once; null when an idempotent retry replays the answer")


router = service_router("/admin", tags=["admin"])


@router.post("/principals", status_code=201, response_model=PrincipalIssued)
async def create_principal(
    body: PrincipalCreate, request: Request, session: SessionDep, caller: PrincipalDep
) -> JSONResponse:
    check_covers(caller, body.region_code, field="region_code", rule=S1)
    organisation_id = await organisations.for_principal(
        session, caller, body.organisation_id, name=body.name, region_code=body.region_code
    )
    api_key = new_api_key()
    row = (
        await session.execute(
            insert(principals)
            .values(
                id=new_id("prn"),
                name=body.name,
                role=body.role,
                region_code=body.region_code,
                key_sha256=key_digest(api_key),
                key_prefix=api_key[:10],
                created_by=caller.id,
                organisation_id=organisation_id,
            )
            .returning(*principals.c)
        )
    ).one()
    issued = PrincipalIssued(
        id=row.id,
        name=row.name,
        role=row.role,
        region_code=row.region_code,
        key_prefix=row.key_prefix,
        organisation_id=row.organisation_id,
        created_at=row.created_at,
        api_key=api_key,
    )
    # An idempotent replay must not hand the key out again from storage: keep a copy without it.
    request.state.idempotent_replay_body = json.dumps(
        issued.model_copy(update={"api_key": None}).model_dump(mode="json")
    ).encode()
    return JSONResponse(issued.model_dump(mode="json"), status_code=201)


@router.get("/principals", response_model=Page[PrincipalRead])
async def list_principals(
    session: SessionDep, caller: PrincipalDep, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[PrincipalRead]:
    query = (
        select(*principals.c, principal_revocations.c.revoked_at)
        .select_from(principals.outerjoin(principal_revocations))
        .where(*within_reach(principals.c.region_code, caller))  # S1
    )
    key = decode_cursor(cursor, 1)
    if key is not None:
        query = query.where(principals.c.id > str(key[0]))
    rows = (await session.execute(query.order_by(principals.c.id).limit(limit + 1))).all()
    items = [PrincipalRead.model_validate(dict(r._mapping)) for r in rows]
    return page_of(items, limit, lambda p: [p.id])


@router.delete("/principals/{principal_id}", response_model=PrincipalRead)
async def revoke_principal(
    principal_id: str, request: Request, session: SessionDep, caller: PrincipalDep
) -> PrincipalRead:
    if principal_id == ADMIN_PRINCIPAL_ID:
        raise Conflict(
            "内置管理员由 FUNDTRACK_ADMIN_TOKEN 管理 / the built-in admin is managed by its token",
            code="BUILTIN_PRINCIPAL",
        )
    row = (await session.execute(select(principals).where(principals.c.id == principal_id))).first()
    if row is None:
        raise NotFound(f"没有这个主体 / no principal {principal_id}")
    check_covers(caller, row.region_code, field="principal_id", rule=S1)
    await session.execute(
        pg_insert(principal_revocations)
        .values(principal_id=principal_id, revoked_by=caller.id)
        .on_conflict_do_nothing()
    )
    await revocations.announce(session, principal_id)  # other gateway processes forget the key on commit
    request.app.state.authenticator.cache.revoked(principal_id)  # this one before it answers
    revoked_at = (
        await session.execute(
            select(principal_revocations.c.revoked_at).where(principal_revocations.c.principal_id == principal_id)
        )
    ).scalar_one()
    return PrincipalRead.model_validate({**dict(row._mapping), "revoked_at": revoked_at})
