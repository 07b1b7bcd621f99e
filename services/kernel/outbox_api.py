"""Internal routes the gateway's sequencer calls to pull a service's audit outbox and acknowledge what it chained.
Reading and acknowledging is bookkeeping, not a business change, so it is not itself audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select

from services.kernel.models import AuditOutbox
from services.kernel.uow import SessionDep, UnitOfWorkRoute, unaudited


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


class OutboxAck(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[int] = Field(max_length=10_000)


def outbox_router() -> APIRouter:
    router = APIRouter(prefix="/internal/audit-outbox", route_class=UnitOfWorkRoute, include_in_schema=False)

    @router.get("", response_model=OutboxBatch)
    async def pending_entries(session: SessionDep, limit: int = 1000) -> Any:
        rows = (
            await session.execute(select(AuditOutbox).order_by(AuditOutbox.id).limit(min(max(limit, 1), 5000)))  # type: ignore[arg-type]
        ).scalars()
        return OutboxBatch(items=[OutboxEntry.model_validate(r) for r in rows])

    @router.post("/ack", openapi_extra=unaudited())
    async def acknowledge_entries(body: OutboxAck, session: SessionDep) -> dict[str, int]:
        result = await session.execute(delete(AuditOutbox).where(AuditOutbox.id.in_(body.ids)))  # type: ignore[union-attr]
        return {"deleted": int(getattr(result, "rowcount", 0) or 0)}

    return router
