"""GET /audit scans a bounded window of the trail and says how far it looked (`scanned_to_seq`), so a filter that
matches nothing answers at once at any size and never claims more than it saw (issue #13 point 7)."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from gateway.audit_scan import SCAN_WINDOW, Pointer, audit_page
from gateway.models import audit_log
from services.kernel.db import asyncpg_url, server_settings
from tests.conftest import Api, wait_for_audit
from tests.stack import TestDatabase


@pytest.fixture
async def conn(database: TestDatabase, admin: Api) -> AsyncIterator[AsyncConnection]:
    for _ in range(8):  # a trail longer than the windows these tests ask for
        await admin.get("/funds/sources")
    await wait_for_audit(admin)
    engine = create_async_engine(
        asyncpg_url(database.url), connect_args={"server_settings": server_settings("gateway", use_role=False)}
    )
    try:
        async with engine.connect() as connection:
            yield connection
    finally:
        await engine.dispose()


async def test_a_page_says_how_far_it_looked(admin: Api) -> None:
    await admin.get("/funds/sources")
    await admin.get("/funds/sources")
    await wait_for_audit(admin)
    full = (await admin.get("/audit", params={"limit": 2})).json()
    assert len(full["items"]) == 2
    assert full["scanned_to_seq"] == full["items"][-1]["seq"]  # a full page: looked down to its last entry
    rest = (await admin.get("/audit", params={"limit": 500, "path_prefix": "/nothing"})).json()
    assert full["items"][0]["seq"] < SCAN_WINDOW  # the suite's trail is shorter than one window:
    assert rest == {"items": [], "next_cursor": None, "scanned_to_seq": None}  # all looked at, nothing left below


async def test_a_filter_that_matches_nothing_stops_at_the_window_and_says_where(conn: AsyncConnection) -> None:
    head = (await conn.execute(audit_log.select().order_by(audit_log.c.seq.desc()).limit(1))).one().seq
    assert head > 6
    nothing: list[ColumnElement[bool]] = [audit_log.c.path == "/nothing"]
    # below head + 1: the trail may grow meanwhile (the sequencer chains whatever else the suite is doing)
    page = await audit_page(conn, conditions=nothing, pointers=[], below=head + 1, limit=50, window=3)
    assert page.rows == [] and page.scanned_to_seq == head - 2  # looked at head, head-1, head-2 only
    page = await audit_page(conn, conditions=nothing, pointers=[], below=head - 2, limit=50, window=3)
    assert page.rows == [] and page.scanned_to_seq == head - 5
    everything = await audit_page(conn, conditions=[], pointers=[], below=head + 1, limit=50, window=3)
    assert [r.seq for r in everything.rows] == [head, head - 1, head - 2] and everything.scanned_to_seq == head - 2


async def test_a_lookup_by_an_indexed_filter_lands_on_its_entry_however_old(conn: AsyncConnection) -> None:
    first = (await conn.execute(audit_log.select().order_by(audit_log.c.seq).limit(1))).one()
    by_request: list[ColumnElement[bool]] = [audit_log.c.request_id == first.request_id]
    found: list[int] = []
    below = None
    pointers = [Pointer(c, in_seq_order=False) for c in by_request]
    for _ in range(10):
        page = await audit_page(conn, conditions=by_request, pointers=pointers, below=below, limit=50, window=3)
        assert page.rows, "a window starts at the newest entry of the request below the cursor"
        assert all(r.request_id == first.request_id for r in page.rows)
        found += [r.seq for r in page.rows]
        if page.scanned_to_seq is None:  # no entry of that request is left below
            break
        below = page.scanned_to_seq
    assert first.seq == found[-1]
    missing: list[ColumnElement[bool]] = [audit_log.c.request_id == "req-that-never-was"]
    page = await audit_page(
        conn, conditions=missing, pointers=[Pointer(missing[0], in_seq_order=False)], below=None, limit=50, window=3
    )
    assert page.rows == [] and page.scanned_to_seq is None
