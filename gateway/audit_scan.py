"""One page of GET /audit: a scan of at most SCAN_WINDOW consecutive entries of the trail, newest first, so that a
filter matching little or nothing answers in milliseconds at any trail size, and says how far it looked (issue #13,
point 7). A page that is not full because the scan reached its bound still has a `next_cursor`, and its
`scanned_to_seq` says that every entry from the cursor down to that seq was looked at: "nothing found" covers that
range only, never the whole trail.

The window starts at the newest entry that can match: below the cursor, and at or below the newest entry of each
filter that has an index of its own to find it at once (actor, code), so a lookup by one of those lands on its
entries however old they are. A request id or an entity id, few entries each, is answered whole by its index."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.models import audit_log

# Entries one page looks at, at most: a scan of the primary key's range this long stays inside 50 ms on the
# bench's 2-core host even when it is loaded (bench/audit_queries.py, bench/RESULTS.md).
SCAN_WINDOW = 25_000


@dataclass(frozen=True)
class Pointer:
    """A filter with an index of its own. `in_seq_order`: the index holds the filter's entries in seq order (a
    b-tree ending in seq), so the newest is one probe; else (a GIN index, a b-tree on the value alone) the index
    finds all of the filter's entries, few by nature, and the newest is taken among them."""

    condition: ColumnElement[bool]
    in_seq_order: bool


@dataclass(frozen=True)
class AuditPage:
    rows: Sequence[Row[Any]]
    # Every entry from the cursor (or the newest) down to this seq was looked at; None once nothing is left below.
    scanned_to_seq: int | None


async def newest_candidate(
    conn: AsyncConnection, pointers: list[Pointer], below: int | None
) -> int | None:
    """The highest seq below `below` that every pointer filter (each served by an index of its own) still matches,
    or None when one of them matches nothing there: no entry below can match the page's filters either."""
    seq = audit_log.c.seq
    under = [seq < below] if below is not None else []
    # `seq + 0` for an index out of seq order: else PostgreSQL may walk the primary key down looking for the
    # newest match, a whole-trail read for a value that is not there (5.8 s at 10 million entries).
    newest = [
        select(func.max(seq if p.in_seq_order else seq + 0)).where(and_(p.condition, *under)).scalar_subquery()
        for p in pointers or [Pointer(true(), in_seq_order=True)]
    ]
    found = (await conn.execute(select(*newest))).one()
    return None if any(value is None for value in found) else min(int(value) for value in found)


async def audit_page(
    conn: AsyncConnection,
    *,
    conditions: list[ColumnElement[bool]],
    pointers: list[Pointer],
    below: int | None,
    limit: int,
    window: int = SCAN_WINDOW,
) -> AuditPage:
    """Up to `limit` entries matching `conditions`, newest first, below `below`, looked for among at most
    `window` entries. `pointers` are the conditions among them that an index answers alone."""
    if any(not p.in_seq_order for p in pointers):
        return await few_entries_page(conn, conditions=conditions, below=below, limit=limit)
    top = await newest_candidate(conn, pointers, below)
    if top is None:
        return AuditPage(rows=[], scanned_to_seq=None)
    floor = max(1, top - window + 1)
    seq = audit_log.c.seq
    query = (
        select(audit_log)
        .where(and_(True, *conditions, seq <= top, seq >= floor))
        .order_by(seq.desc())
        .limit(limit + 1)
    )
    rows = (await conn.execute(query)).all()
    if len(rows) > limit:
        return AuditPage(rows=rows[:limit], scanned_to_seq=rows[limit - 1].seq)
    if floor == 1 or (pointers and await newest_candidate(conn, pointers, floor) is None):
        return AuditPage(rows=rows, scanned_to_seq=None)
    return AuditPage(rows=rows, scanned_to_seq=floor)


async def few_entries_page(
    conn: AsyncConnection, *, conditions: list[ColumnElement[bool]], below: int | None, limit: int
) -> AuditPage:
    """A request id or an entity id has few entries, spread over years: its own index finds them all, and the page
    is complete, with no window (a window would hand an entity's history out one entry a page). `seq + 0` in the
    order keeps PostgreSQL from walking the primary key down to find them instead."""
    seq = audit_log.c.seq
    under = [seq < below] if below is not None else []
    query = select(audit_log).where(and_(True, *conditions, *under)).order_by((seq + 0).desc()).limit(limit + 1)
    rows = (await conn.execute(query)).all()
    if len(rows) > limit:
        return AuditPage(rows=rows[:limit], scanned_to_seq=rows[limit - 1].seq)
    return AuditPage(rows=rows, scanned_to_seq=None)
