"""Internal routes the gateway's sequencer calls to pull a service's audit outbox and acknowledge what it chained.
Reading and acknowledging is bookkeeping, not a business change, so it is not itself audited. An acknowledgement
deletes nothing (the outbox is permanent, S4): it is an insert naming the chain seq of each entry, signed like any
request (a replayed one is refused by its nonce, S5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from services.kernel import outbox, rawsql
from services.kernel.errors import ValidationProblem
from services.kernel.routers import internal_api_router
from services.kernel.uow import SessionDep, unaudited


class OutboxEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    request_id: str
    principal_id: str
    role: str
    region_code: str
    method: str
    path: str
    query: str
    entity_ids: list[str]
    body_sha256: str
    status: int


class OutboxBatch(BaseModel):
    items: list[OutboxEntry]


class Acknowledged(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: int = Field(ge=1)
    seq: int = Field(ge=1)


class OutboxAck(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[Acknowledged] = Field(max_length=10_000)


def outbox_router() -> APIRouter:
    # the gateway's sequencer only (its ServiceClient signs as a service): a forged acknowledgement would mark
    # entries chained that the trail never received
    router = internal_api_router("/internal/audit-outbox")
    pending = outbox.Pending()

    @router.get("", response_model=OutboxBatch)
    async def pending_entries(session: SessionDep, limit: int = 1000) -> Any:
        rows = await pending.read(await rawsql.connection(session), min(max(limit, 1), 5000))
        return OutboxBatch(items=[OutboxEntry.model_validate(r) for r in rows])

    @router.post("/ack", openapi_extra=unaudited())
    async def acknowledge_entries(body: OutboxAck, session: SessionDep) -> dict[str, int]:
        try:
            recorded = await outbox.acknowledge(
                await rawsql.connection(session), [i.id for i in body.items], [i.seq for i in body.items]
            )
        except asyncpg.ForeignKeyViolationError as exc:
            raise ValidationProblem("没有这条审计记录 / no such outbox entry", field="items") from exc
        return {"acknowledged": recorded}

    return router
