"""GET /audit, /audit/verify, /audit/export for inspectors and admins, scoped to their jurisdiction."""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, literal_column, select

from gateway.audit_records import EXPORT_COLUMNS, entry_json
from gateway.audit_scan import Pointer, TimeWindow, WindowSpan, audit_page, late_entries, window_span
from gateway.export_pages import Format, PageReader, page_reader
from gateway.models import audit_log, utc
from gateway.sequencer import MAX_DELAY_MS
from gateway.verification import FullCheck
from services.kernel.errors import NotFound
from services.kernel.identity import Principal
from services.kernel.pagination import CursorQuery, LimitQuery, decode_cursor, encode_cursor
from services.kernel.scope import check_national, within_reach
from services.kernel.spreadsheet import SpreadsheetWriter
from services.kernel.types import AnyRegionCode, Instant
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
    since: Annotated[Instant | None, Query()] = None,
    until: Annotated[Instant | None, Query()] = None,
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


def _time_window(q: AuditQuery) -> TimeWindow | None:
    """The since/until of a list or an export (also among its `_conditions`), found in seq by gateway/audit_scan.py."""
    return TimeWindow(q.since, q.until) if q.since or q.until else None


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
            time_window=_time_window(q),
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
        "verified_from": result.verified_from,
        "root": base64.b64encode(result.root).decode() if result.ok else None,
        "problem": result.problem,
        "checkpoint_problem": request.app.state.checkpointer.problem,
    }


def _full_check_json(check: FullCheck) -> dict[str, Any]:
    result = check.result
    status = "failed" if check.error else "running" if result is None else "ok" if result.ok else "bad"
    return {
        "id": check.id,
        "status": status,
        "started_at": utc(check.started_at),
        "done": check.done if result is None else result.entries,
        "total": check.total,
        "first_bad_seq": None if result is None else result.first_bad_seq,
        "problem": check.error if result is None else result.problem,
    }


@router.post("/verify/full", status_code=202)
async def start_full_check(request: Request, principal: PrincipalDep) -> dict[str, Any]:
    """The whole trail recomputed from its genesis, in the background: follow it with its id. A read of every
    jurisdiction's entries, so a national admin's (S1)."""
    check_national(principal, field="region_code", what="the full check of the whole trail")
    return _full_check_json(request.app.state.full_checks.start())


@router.get("/verify/full/{check_id}")
async def full_check(request: Request, principal: PrincipalDep, check_id: str) -> dict[str, Any]:
    check_national(principal, field="region_code", what="the full check of the whole trail")
    check = request.app.state.full_checks.checks.get(check_id)
    if check is None:
        raise NotFound(f"没有这个校验 / no full check {check_id} on this gateway")
    return _full_check_json(check)


# Entries read at a time: a page is read and encoded in a verifier process (gateway/export_pages.py) or, without
# one, decoded on the event loop and encoded in a thread, so a page is kept short (issue #20: bench/starvation.py).
EXPORT_PAGE = 500


@dataclass(frozen=True)
class _Part:
    """A run of the trail an export reads in seq order: `where` bounds it, `by_seq` says its entries are read along
    the primary key (else found by another index, few, and sorted: `seq + 0` keeps PostgreSQL off the key)."""

    where: ColumnElement[bool] | None
    by_seq: bool = True


def _parts(window: TimeWindow | None, span: WindowSpan | None, *, ascending: bool) -> list[_Part]:
    """issue #20: an export by a time window reads the window where it lies, as GET /audit does (audit_scan.py):
    the entries chained in time between `span.first` and `span.last`, and the late ones wherever they lie, before
    and after that run, in seq order. Without a window, the whole trail."""
    if window is None:
        return [_Part(None)]
    seq, late = audit_log.c.seq, and_(*late_entries(window))
    if span is None:
        return [_Part(late, by_seq=False)]
    parts = [_Part(and_(late, seq < span.first), by_seq=False),
             _Part(and_(seq >= span.first, *([seq <= span.last] if span.last is not None else [])))]
    if span.last is not None:
        parts.append(_Part(and_(late, seq > span.last), by_seq=False))
    return parts if ascending else parts[::-1]


async def _pages(
    read: PageReader, engine: Any, conditions: list[Any], window: TimeWindow | None, export_format: Format
) -> AsyncIterator[str]:
    """The matching entries, EXPORT_PAGE at a time by seq (keyset), each page read and encoded by `read` (in a
    verifier process: gateway/export_pages.py). JSON Lines for verifiers (issue #13), oldest first, lossless: one
    export_record per line; CSV for people, newest first, where caller text never opens as a formula (S10)."""
    ascending = export_format == "jsonl"
    if not ascending:
        buffer = io.StringIO()
        SpreadsheetWriter(buffer).writerow(EXPORT_COLUMNS)
        yield buffer.getvalue()
    span = None
    if window is not None:
        async with engine.connect() as conn:
            span = await window_span(conn, window)
    seq = audit_log.c.seq
    for part in _parts(window, span, ascending=ascending):
        after: int | None = None
        key = seq if part.by_seq else seq + 0
        while True:
            page = [*conditions, *([part.where] if part.where is not None else [])]
            if after is not None:
                page.append(seq > after if ascending else seq < after)
            order = key.asc() if ascending else key.desc()
            found = await read(select(audit_log).where(and_(True, *page)).order_by(order).limit(EXPORT_PAGE),
                               export_format)
            if found.rows:
                yield found.text
            if found.rows < EXPORT_PAGE:
                break
            after = found.last_seq


ExportFormat = Annotated[Format, Query(alias="format")]


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {
        "description": "the entries: JSON Lines oldest first (for verifiers), CSV newest first (for people)",
        "content": {"text/csv": {"schema": {"type": "string"}}, "application/jsonl": {"schema": {"type": "string"}}},
    }},
)
async def export(
    request: Request, principal: PrincipalDep, q: AuditQueryDep, export_format: ExportFormat = "csv"
) -> StreamingResponse:
    engine = request.app.state.engine
    pages = _pages(page_reader(engine, request.app.state.verifiers), engine, _conditions(q, principal), _time_window(q),
                   export_format)
    if export_format == "jsonl":
        return StreamingResponse(pages, media_type="application/jsonl; charset=utf-8",
                                 headers={"content-disposition": 'attachment; filename="audit.jsonl"'})
    return StreamingResponse(pages, media_type="text/csv; charset=utf-8",
                             headers={"content-disposition": 'attachment; filename="audit.csv"'})
