"""One page of GET /audit: a scan of at most SCAN_WINDOW consecutive entries of the trail, newest first, so that a
filter matching little or nothing answers in milliseconds at any trail size, and says how far it looked (issue #13,
point 7). A page that is not full because the scan reached its bound still has a `next_cursor`, and its
`scanned_to_seq` says that every entry from the cursor down to that seq was looked at: "nothing found" covers that
range only, never the whole trail.

The window starts at the newest entry that can match: below the cursor, and at or below the newest entry of each
filter that has an index of its own to find it at once (actor, code), so a lookup by one of those lands on its
entries however old they are. A request id or an entity id, few entries each, is answered whole by its index.

A time window (`since`, `until`: issue #20) is found in seq the same way, without reading the entries between the
newest and the window. `at` is the time of the request or change, set by the door or the service; the sequencer
chains entries a moment later, stamping `sequenced_at`, which it keeps monotone in seq (gateway/sequencer.py). An
entry chained within LATE_AFTER of its `at` lies between the first seq stamped at or after `since` and the first
stamped at or after `until + LATE_AFTER`; any other (chained late: a service that was down; or stamped before its
`at`: another host's clock) is in the partial index ix_audit_log_late, and is found there wherever it lies.
`window_candidate` takes the higher of the two: never below an entry of the window, so nothing is skipped. The
export (GET /audit/export) reads the same window in the same two parts: `window_span` and `late_entries`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, null, select, text, true
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.models import LATE_AFTER, LATE_ENTRY, audit_log

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
class TimeWindow:
    """`since` <= at < `until`; either may be open."""

    since: datetime | None
    until: datetime | None


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


@dataclass(frozen=True)
class WindowSpan:
    """The seqs between which every entry of a time window chained in time lies: `first` up to `last` (None: up to
    the head, as entries may still be chained into it). Its late entries may lie anywhere (`late_entries`)."""

    first: int
    last: int | None


def late_entries(window: TimeWindow) -> list[Any]:
    """The window's late entries, wherever they lie in seq: the partial index ix_audit_log_late (its own predicate
    said for PostgreSQL to use it), by their `at`."""
    c = audit_log.c
    late: list[Any] = [text(f"({LATE_ENTRY})")]
    if window.since is not None:
        late.append(c.at >= window.since)
    if window.until is not None:
        late.append(c.at < window.until)
    return late


def _first_stamped(at: datetime) -> Any:
    """The first seq stamped at or after `at` (NULL when none is): one probe of ix_audit_log_sequenced_at."""
    c = audit_log.c
    return (
        select(c.seq).where(c.sequenced_at >= at).order_by(c.sequenced_at, c.seq).limit(1).scalar_subquery()
    )


def _in_time(window: TimeWindow) -> tuple[Any, Any]:
    """Where the entries of `window` chained in time lie: from the first seq stamped at or after `since` (the first
    of the trail when open) to the one before the first stamped at or after `until + LATE_AFTER` (NULL: none yet,
    or open). Two index probes, as scalar subqueries."""
    seq = audit_log.c.seq
    return (
        _first_stamped(window.since) if window.since is not None else select(func.min(seq)).scalar_subquery(),
        _first_stamped(window.until + LATE_AFTER) if window.until is not None else null(),
    )


def _span(first: int | None, after: int | None, head: int | None) -> WindowSpan | None:
    if first is None or head is None or (after is not None and int(after) - 1 < int(first)):
        return None
    return WindowSpan(int(first), int(after) - 1 if after is not None else None)


async def window_span(conn: AsyncConnection, window: TimeWindow) -> WindowSpan | None:
    """Where in seq the entries of `window` chained in time lie, or None when none can be (two index probes)."""
    first, after, head = (
        await conn.execute(select(*_in_time(window), select(func.max(audit_log.c.seq)).scalar_subquery()))
    ).one()
    return _span(first, after, head)


async def window_candidate(conn: AsyncConnection, window: TimeWindow, below: int | None) -> int | None:
    """The highest seq below `below` that may hold an entry of `window` (at or above every one there), or None
    when no entry below can be in it. One statement, three index probes and a read of the window's late entries."""
    seq = audit_log.c.seq
    late = [*late_entries(window), *([seq < below] if below is not None else [])]
    found = (
        await conn.execute(
            select(
                *_in_time(window),
                select(func.max(seq)).scalar_subquery(),
                select(func.max(seq + 0)).where(and_(*late)).scalar_subquery(),
            )
        )
    ).one()
    first, after, head, late_top = found
    candidates = [] if late_top is None else [int(late_top)]
    span = _span(first, after, head)
    if span is not None:
        top = span.last if span.last is not None else int(head)
        if below is not None:
            top = min(top, below - 1)
        if top >= span.first:
            candidates.append(top)
    return max(candidates) if candidates else None


async def _candidate(
    conn: AsyncConnection, pointers: list[Pointer], window: TimeWindow | None, below: int | None
) -> int | None:
    """The highest seq below `below` that every index-found filter and the time window allow, or None."""
    tops = [await newest_candidate(conn, pointers, below)] if pointers or window is None else []
    if window is not None:
        tops.append(await window_candidate(conn, window, below))
    return None if any(t is None for t in tops) else min(t for t in tops if t is not None)


async def audit_page(
    conn: AsyncConnection,
    *,
    conditions: list[ColumnElement[bool]],
    pointers: list[Pointer],
    below: int | None,
    limit: int,
    window: int = SCAN_WINDOW,
    time_window: TimeWindow | None = None,
) -> AuditPage:
    """Up to `limit` entries matching `conditions`, newest first, below `below`, looked for among at most
    `window` entries. `pointers` are the conditions among them that an index answers alone; `time_window` the
    since/until among them (also in `conditions`), found in seq by window_candidate."""
    if any(not p.in_seq_order for p in pointers):
        return await few_entries_page(conn, conditions=conditions, below=below, limit=limit)
    top = await _candidate(conn, pointers, time_window, below)
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
    if floor == 1 or ((pointers or time_window) and await _candidate(conn, pointers, time_window, floor) is None):
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
