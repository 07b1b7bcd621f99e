"""GET /audit, /audit/verify, /audit/export for inspectors and admins, scoped to their jurisdiction."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy import and_, literal_column, select

from gateway.audit_scan import Pointer, audit_page
from gateway.models import audit_log, utc
from gateway.sequencer import MAX_DELAY_MS
from services.kernel.identity import Principal
from services.kernel.pagination import CursorQuery, LimitQuery, decode_cursor, encode_cursor
from services.kernel.scope import within_reach
from services.kernel.spreadsheet import SpreadsheetWriter
from services.kernel.types import AnyRegionCode
from services.kernel.uow import PrincipalDep

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditQuery(BaseModel):
    actor: str | None = None
    role: str | None = None
    region: str | None = None
    method: str | None = None
    path_prefix: str | None = None
    status: int | None = None
    code: str | None = None
    entity_id: str | None = None
    request_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def audit_query(
    actor: Annotated[str | None, Query(max_length=64)] = None,
    role: Annotated[str | None, Query(max_length=32)] = None,
    region: Annotated[AnyRegionCode | None, Query()] = None,
    method: Annotated[str | None, Query(pattern=r"^[A-Z]{3,7}$")] = None,
    path_prefix: Annotated[str | None, Query(max_length=512)] = None,
    status: Annotated[int | None, Query(ge=100, le=599)] = None,
    code: Annotated[str | None, Query(max_length=64)] = None,
    entity_id: Annotated[str | None, Query(max_length=128)] = None,
    request_id: Annotated[str | None, Query(max_length=128)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> AuditQuery:
    return AuditQuery(
        actor=actor,
        role=role,
        region=region,
        method=method,
        path_prefix=path_prefix,
        status=status,
        code=code,
        entity_id=entity_id,
        request_id=request_id,
        since=since,
        until=until,
    )


AuditQueryDep = Annotated[AuditQuery, Depends(audit_query)]


def _conditions(q: AuditQuery, principal: Principal) -> list[Any]:
    """The trail inside the reader's jurisdiction (a region out of its reach lists nothing), narrowed by the filters."""
    c = audit_log.c
    conditions: list[Any] = within_reach(c.region_code, principal, q.region)
    for column, value in (
        (c.principal_id, q.actor),
        (c.role, q.role),
        (c.method, q.method),
        (c.status, q.status),
        (c.code, q.code),
        (c.request_id, q.request_id),
    ):
        if value is not None:
            conditions.append(column == value)
    if q.path_prefix:
        conditions.append(c.path.startswith(q.path_prefix))
    if q.entity_id:
        conditions.append(c.entity_ids.contains([q.entity_id]))
    if q.since:
        conditions.append(c.at >= q.since)
    if q.until:
        conditions.append(c.at < q.until)
    return conditions


def entry_json(row: Any) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "at": utc(row.at),
        "principal_id": row.principal_id,
        "role": row.role,
        "region_code": row.region_code,
        "method": row.method,
        "path": row.path,
        "query": row.query,
        "status": row.status,
        "code": row.code or None,
        "request_id": row.request_id,
        "entity_ids": list(row.entity_ids),
        "body_sha256": row.body_sha256,
        "origin": row.origin,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


def _pointers(q: AuditQuery) -> list[Pointer]:
    """The filters with an index of their own: where a page starts, or all its entries (gateway/audit_scan.py)."""
    c = audit_log.c
    pointers: list[Pointer] = []
    if q.actor is not None:
        pointers.append(Pointer(c.principal_id == q.actor, in_seq_order=True))  # ix_audit_log_principal
    if q.request_id is not None:
        pointers.append(Pointer(c.request_id == q.request_id, in_seq_order=False))  # ix_audit_log_request_id
    if q.entity_id:
        pointers.append(Pointer(c.entity_ids.contains([q.entity_id]), in_seq_order=False))  # ix_audit_log_entity_ids
    if q.code:  # ix_audit_log_code, partial: the index's own condition is said for PostgreSQL to use it
        pointers.append(Pointer(and_(c.code == q.code, c.code != literal_column("''")), in_seq_order=True))
    return pointers


@router.get("")
async def list_audit(
    request: Request, principal: PrincipalDep, q: AuditQueryDep, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> dict[str, Any]:
    """Newest first, a bounded scan: `scanned_to_seq` says how far down it looked (gateway/audit_scan.py)."""
    key = decode_cursor(cursor, 1)
    async with request.app.state.engine.connect() as conn:
        page = await audit_page(
            conn,
            conditions=_conditions(q, principal),
            pointers=_pointers(q),
            below=int(key[0]) if key is not None else None,
            limit=limit,
        )
    next_cursor = encode_cursor([page.scanned_to_seq]) if page.scanned_to_seq is not None else None
    items = [entry_json(r) for r in page.rows]
    return {"items": items, "next_cursor": next_cursor, "scanned_to_seq": page.scanned_to_seq}


@router.get("/verify")
async def verify(request: Request) -> dict[str, Any]:
    verified = await request.app.state.verification.result()
    result = verified.result
    lag = await request.app.state.sequencer.status()
    return {
        "verified_at": utc(verified.verified_at),
        "ok": result.ok,
        "entries": result.entries,
        "head_hash": result.head_hash,
        "first_bad_seq": result.first_bad_seq,
        "pending": lag.pending,
        "sequencer_lag_ms": lag.oldest_pending_age_ms,
        "max_delay_ms": MAX_DELAY_MS,
    }


EXPORT_COLUMNS = (
    "seq",
    "at",
    "principal_id",
    "role",
    "region_code",
    "method",
    "path",
    "query",
    "status",
    "code",
    "request_id",
    "entity_ids",
    "body_sha256",
    "origin",
    "prev_hash",
    "hash",
)


@router.get("/export")
async def export(request: Request, principal: PrincipalDep, q: AuditQueryDep) -> StreamingResponse:
    conditions = _conditions(q, principal)
    engine = request.app.state.engine

    async def rows() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = SpreadsheetWriter(buffer)  # S10: caller text (paths, request ids) never opens as a formula
        writer.writerow(EXPORT_COLUMNS)
        after: int | None = None
        while True:
            page = [*conditions] + ([audit_log.c.seq < after] if after is not None else [])
            query = select(audit_log).where(and_(True, *page)).order_by(audit_log.c.seq.desc()).limit(5000)
            async with engine.connect() as conn:
                chunk = (await conn.execute(query)).all()
            for r in chunk:
                e = entry_json(r)
                e["entity_ids"] = " ".join(e["entity_ids"])
                writer.writerow(e[c] for c in EXPORT_COLUMNS)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if len(chunk) < 5000:
                return
            after = chunk[-1].seq

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="audit.csv"'},
    )
