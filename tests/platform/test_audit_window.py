"""GET /audit by a time window (since/until) goes straight to the window instead of paging back from the newest entry
(issue #20), and stays exact: every entry of the window, late ones included, none outside it, in seq order across
pages, inside the reader's jurisdiction (gateway/audit_scan.py window_candidate). GET /audit/export reads the same
window where it lies (window_span, late_entries), in both its formats.

The trail here is a database of its own (the suite's trail is chained and verified by the other tests): entries one
a minute from T0, chained a second after their `at`; some chained late (a service that was down); one stamped
before its `at` (another host's clock)."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import shutil
from collections.abc import AsyncIterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from deploy.migrate import migrate
from gateway import audit_api, tree_check
from gateway.audit import INSERT_INBOX, entry_rows
from gateway.audit_api import AuditQuery, _conditions, _pages, _time_window
from gateway.audit_chain import link_and_leaf
from gateway.audit_scan import TimeWindow, WindowSpan, audit_page, window_span
from gateway.export_pages import page_reader
from gateway.models import GENESIS_HASH, audit_log
from gateway.sequencer import Sequencer
from gateway.tree_store import append
from services.kernel.db import asyncpg_url, plain_url, server_settings
from services.kernel.identity import Principal
from tests.conftest import Api, wait_for_audit
from tests.stack import create_test_database, workdir

T0 = datetime(2023, 1, 1, tzinfo=UTC)
ENTRIES = 600
LATE = range(500, 505)  # dated within minutes 100..104, chained at minutes 500..504
SKEWED = 550  # dated minute 5000: stamped before its `at`
COUNTIES = ("430121", "430122")


def minute(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def at_of(seq: int) -> datetime:
    if seq in LATE:
        return minute(100 + (seq - 500) + 0.5)
    if seq == SKEWED:
        return minute(5000)
    return minute(seq)


@pytest.fixture(scope="module")
async def trail() -> AsyncIterator[str]:
    directory = workdir()
    database = await create_test_database(directory)
    try:
        await asyncio.to_thread(migrate, database.url, directory)
        conn = await asyncpg.connect(plain_url(database.url))
        try:
            await conn.executemany(
                "INSERT INTO gateway.audit_log (seq, at, principal_id, role, region_code, method, path, query, "
                "entity_ids, body_sha256, status, code, request_id, origin, origin_id, sequenced_at, prev_hash, hash) "
                "VALUES ($1, $2, 'prn_x', 'finance', $3, 'GET', '/funds/sources', '', '{}', '', 200, '', $4, "
                "'gateway', NULL, $5, '', '')",
                [(seq, at_of(seq), COUNTIES[seq % 2], f"req_{seq}", minute(seq) + timedelta(seconds=1))
                 for seq in range(1, ENTRIES + 1)],
            )
        finally:
            await conn.close()
        yield database.url
    finally:
        await database.drop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
async def conn(trail: str) -> AsyncIterator[AsyncConnection]:
    engine = create_async_engine(
        asyncpg_url(trail), connect_args={"server_settings": server_settings("gateway", use_role=False)}
    )
    try:
        async with engine.connect() as connection:
            yield connection
    finally:
        await engine.dispose()


NATIONAL = Principal(id="prn_nat", role="inspector", region_code="000000")


async def every_page(conn: AsyncConnection, q: AuditQuery, *, reader: Principal = NATIONAL, limit: int = 7,
                     window: int = 25) -> tuple[list[int], list[Any]]:
    """The seqs of every page, followed by the cursor to the end, and the pages."""
    conditions: list[ColumnElement[bool]] = _conditions(q, reader)
    seqs: list[int] = []
    pages = []
    below = None
    for _ in range(1000):
        page = await audit_page(conn, conditions=conditions, pointers=[], below=below, limit=limit, window=window,
                                time_window=TimeWindow(q.since, q.until))
        pages.append(page)
        seqs += [r.seq for r in page.rows]
        if page.scanned_to_seq is None:
            return seqs, pages
        below = page.scanned_to_seq
    raise AssertionError("the pages did not end")


async def truth(conn: AsyncConnection, q: AuditQuery, reader: Principal = NATIONAL) -> list[int]:
    """The window by brute force: every entry, its `at` compared."""
    rows = (await conn.execute(audit_log.select().where(*_conditions(q, reader)).order_by(audit_log.c.seq.desc())))
    return [r.seq for r in rows]


async def test_a_window_long_ago_is_reached_at_once_and_whole(conn: AsyncConnection) -> None:
    q = AuditQuery(since=minute(100), until=minute(200))
    seqs, pages = await every_page(conn, q)
    # the late entries (chained at 500..504, dated 100..104) and minutes 100..199; not 99, not 200, nothing after
    assert seqs == await truth(conn, q) == [504, 503, 502, 501, 500, *range(199, 99, -1)]
    assert len(seqs) == len(set(seqs))
    # the first page is not an empty scan of the newest 25 entries: it starts at the newest late entry, and the
    # next one at the window's newest in time (the entries between, 479 down to 201, are not looked at)
    assert [r.seq for r in pages[0].rows] == [504, 503, 502, 501, 500]
    assert [r.seq for r in pages[1].rows] == [199, 198, 197, 196, 195, 194, 193]
    assert pages[0].scanned_to_seq == 480 and len(pages) == 16


async def test_a_window_with_no_late_entry_starts_at_its_own_newest(conn: AsyncConnection) -> None:
    q = AuditQuery(since=minute(300), until=minute(400))
    seqs, pages = await every_page(conn, q, limit=500)
    assert seqs == await truth(conn, q) == list(range(399, 299, -1))
    # scan windows of 25 from just above the window's newest entry (the first entry chained a minute after its
    # end, 400, is where the entries chained in time may end), not from the head (600)
    assert [len(p.rows) for p in pages] == [24, 25, 25, 25, 1] and pages[-1].scanned_to_seq is None


async def test_an_entry_stamped_before_its_time_is_found(conn: AsyncConnection) -> None:
    q = AuditQuery(since=minute(4999), until=minute(5001))
    assert (await every_page(conn, q))[0] == await truth(conn, q) == [SKEWED]
    # the minutes around where it was chained hold it no more: it is dated 5000
    around = AuditQuery(since=minute(SKEWED - 3), until=minute(SKEWED + 3))
    assert (await every_page(conn, around))[0] == await truth(conn, around) == [552, 551, 549, 548, 547]


async def test_open_ended_and_empty_windows(conn: AsyncConnection) -> None:
    for q in (AuditQuery(since=minute(590.5)), AuditQuery(until=minute(3)), AuditQuery(until=minute(101)),
              AuditQuery(since=minute(598), until=minute(10_000))):
        seqs, _ = await every_page(conn, q)
        assert seqs == await truth(conn, q) and seqs, q
    assert (await every_page(conn, AuditQuery(until=minute(101))))[0][:2] == [500, 100]
    for q in (AuditQuery(since=minute(200), until=minute(100)), AuditQuery(since=minute(10_000)),
              AuditQuery(until=T0)):
        seqs, pages = await every_page(conn, q)
        assert seqs == [] and len(pages) == 1 and pages[0].scanned_to_seq is None, q


async def test_paging_across_the_edges_of_the_window(conn: AsyncConnection) -> None:
    q = AuditQuery(since=minute(150), until=minute(160))
    expected = list(range(159, 149, -1))
    for limit, window in ((1, 1), (3, 2), (4, 25), (10, 3), (11, 1000)):
        seqs, pages = await every_page(conn, q, limit=limit, window=window)
        assert seqs == expected, (limit, window)
        # each page's entries lie between the cursor it was asked with and the seq it says it looked down to
        for asked, page in zip([None, *(p.scanned_to_seq for p in pages)], pages, strict=False):
            assert all((asked is None or r.seq < asked) and r.seq >= (page.scanned_to_seq or 1) for r in page.rows)


async def test_the_window_keeps_to_the_readers_jurisdiction(conn: AsyncConnection) -> None:
    county = Principal(id="prn_c", role="inspector", region_code=COUNTIES[0])
    q = AuditQuery(since=minute(100), until=minute(130))
    seqs, _ = await every_page(conn, q, reader=county)
    assert seqs == await truth(conn, q, county) == [504, 502, 500, *range(128, 99, -2)]
    other = AuditQuery(since=minute(100), until=minute(130), region=COUNTIES[1])
    assert (await every_page(conn, other, reader=county))[0] == []  # out of its reach: nothing


ENTRY: dict[str, Any] = {
    "at": T0, "principal_id": "prn_x", "role": "finance", "region_code": "430121", "method": "GET",
    "path": "/funds/sources", "query": "", "entity_ids": [], "body_sha256": "", "status": 200, "code": "",
    "request_id": "req_0", "origin": "gateway", "origin_id": None}


@asynccontextmanager
async def empty_trail() -> AsyncIterator[tuple[AsyncEngine, asyncpg.Connection]]:
    """A fresh, migrated database: an engine as the gateway's, and a connection in its schema."""
    directory = workdir()
    database = await create_test_database(directory)
    try:
        await asyncio.to_thread(migrate, database.url, directory)
        engine = create_async_engine(
            asyncpg_url(database.url), connect_args={"server_settings": server_settings("gateway", use_role=False)}
        )
        raw = await asyncpg.connect(plain_url(database.url), server_settings={"search_path": "gateway"})
        try:
            yield engine, raw
        finally:
            await raw.close()
            await engine.dispose()
    finally:
        await database.drop()
        shutil.rmtree(directory, ignore_errors=True)


async def chain_one(engine: AsyncEngine, raw: asyncpg.Connection, request_id: str) -> datetime:
    """An entry through the inbox and the sequencer's turn; the `sequenced_at` it was given."""
    await raw.executemany(INSERT_INBOX, entry_rows([{**ENTRY, "request_id": request_id}]))
    async with engine.begin() as conn:
        assert await Sequencer(engine, {})._chain(conn) == 1
    stamp: datetime = await raw.fetchval("SELECT sequenced_at FROM audit_log WHERE request_id = $1", request_id)
    return stamp


async def test_the_sequencer_never_stamps_below_the_head() -> None:
    """A clock set back must not break the order the window relies on: entries chained after a head stamped in the
    future are stamped as the head."""
    future = datetime(2100, 1, 1, tzinfo=UTC)
    async with empty_trail() as (engine, raw):
        digest, leaf = link_and_leaf(GENESIS_HASH, 1, ENTRY)
        await raw.execute(
            "INSERT INTO audit_log (seq, at, principal_id, role, region_code, method, path, query, entity_ids, "
            "body_sha256, status, code, request_id, origin, origin_id, sequenced_at, prev_hash, hash) "
            "VALUES (1, $1, 'prn_x', 'finance', '430121', 'GET', '/funds/sources', '', '{}', '', 200, '', "
            "'req_0', 'gateway', NULL, $2, $3, $4)", T0, future, GENESIS_HASH, digest)
        await append(raw, 0, [leaf])
        assert [await chain_one(engine, raw, "req_1"), await chain_one(engine, raw, "req_2")] == [future, future]


async def test_the_sequencer_stamps_the_time_of_its_turn() -> None:
    async with empty_trail() as (engine, raw):
        stamps = []
        for request_id in ("req_1", "req_2"):
            before = await raw.fetchval("SELECT now()")
            stamps.append(await chain_one(engine, raw, request_id))
            assert before <= stamps[-1] <= await raw.fetchval("SELECT now()")
        assert stamps[0] < stamps[1]


async def test_get_audit_by_a_window_through_the_gateway(make_principal: Any, admin: Api) -> None:
    """The route itself, on the suite's real trail: a window around this test's own requests has them, one that
    ends before them has none of them."""
    inspector: Api = await make_principal("inspector", "000000")
    finance: Api = await make_principal("finance", "430000")
    before = datetime.now(UTC)
    for _ in range(3):
        assert (await finance.get("/funds/sources")).status_code == 200
    after = datetime.now(UTC) + timedelta(seconds=1)
    await wait_for_audit(admin)
    inside = (await inspector.get("/audit", params={"actor": finance.principal_id, "since": before.isoformat(),
                                                    "until": after.isoformat()})).json()
    assert [e["path"] for e in inside["items"]] == ["/funds/sources"] * 3
    window = (await inspector.get("/audit", params={"since": before.isoformat(), "until": after.isoformat(),
                                                    "limit": 500})).json()
    assert {e["principal_id"] for e in window["items"]} >= {finance.principal_id}
    assert all(before <= datetime.fromisoformat(e["at"]) < after for e in window["items"])
    earlier = (await inspector.get("/audit", params={"actor": finance.principal_id,
                                                     "until": before.isoformat()})).json()
    assert earlier["items"] == [] and earlier["next_cursor"] is None


@pytest.fixture
async def engine(trail: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(
        asyncpg_url(trail), connect_args={"server_settings": server_settings("gateway", use_role=False)}
    )
    try:
        yield engine
    finally:
        await engine.dispose()


async def exported_text(engine: AsyncEngine, q: AuditQuery, reader: Principal = NATIONAL,
                        workers: Executor | None = None) -> tuple[str, str]:
    """The JSON Lines export (oldest first) and the CSV one (newest first) of `q`, their pages read on the loop or
    by `workers` (the gateway's verifier processes)."""
    conditions, window, read = _conditions(q, reader), _time_window(q), page_reader(engine, workers)
    jsonl = "".join([chunk async for chunk in _pages(read, engine, conditions, window, "jsonl")])
    csv = "".join([chunk async for chunk in _pages(read, engine, conditions, window, "csv")])
    return jsonl, csv


async def exported(engine: AsyncEngine, q: AuditQuery, reader: Principal = NATIONAL) -> tuple[list[int], list[int]]:
    """The seqs of the JSON Lines export (oldest first) and of the CSV one (newest first) of `q`."""
    jsonl, csv = await exported_text(engine, q, reader)
    return ([json.loads(line)["seq"] for line in jsonl.splitlines()],
            [int(line.split(",")[0]) for line in csv.splitlines()[1:]])


WINDOWS = (
    AuditQuery(since=minute(100), until=minute(200)),  # late entries chained far above it
    AuditQuery(since=minute(300), until=minute(400)),
    AuditQuery(since=minute(4999), until=minute(5001)),  # the entry stamped before its time only
    AuditQuery(since=minute(SKEWED - 3), until=minute(SKEWED + 3)),
    AuditQuery(since=minute(590.5)), AuditQuery(until=minute(3)), AuditQuery(until=minute(101)),
    AuditQuery(since=minute(598), until=minute(10_000)),
    AuditQuery(since=minute(200), until=minute(100)), AuditQuery(since=minute(10_000)), AuditQuery(until=T0),
)


async def test_the_export_reads_a_window_where_it_lies_and_exactly(
    engine: AsyncEngine, conn: AsyncConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """issue #20: the export by a window has every entry of it, late ones included, and none outside it, in seq
    order, across its pages (7 entries each here) and the parts it reads (before, in and after the window's run)."""
    monkeypatch.setattr(audit_api, "EXPORT_PAGE", 7)
    for q in WINDOWS:
        expected = await truth(conn, q)
        assert await exported(engine, q) == (expected[::-1], expected), q
    assert (await exported(engine, WINDOWS[0]))[0] == [*range(100, 200), 500, 501, 502, 503, 504]
    county = Principal(id="prn_c", role="inspector", region_code=COUNTIES[0])
    q = AuditQuery(since=minute(100), until=minute(130))
    assert (await exported(engine, q, county))[1] == await truth(conn, q, county) == [504, 502, 500,
                                                                                      *range(128, 99, -2)]


async def test_an_exports_pages_read_in_a_verifier_process_are_the_pages_read_on_the_loop(
    engine: AsyncEngine, trail: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """issue #20 point 3: the gateway reads and encodes an export's pages in its verifier processes (off the event
    loop that serves the other requests); what they give is, byte for byte, what the loop and a thread gave."""
    monkeypatch.setattr(audit_api, "EXPORT_PAGE", 7)
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=tree_check.start_worker,
                               initargs=(plain_url(trail), server_settings("gateway", use_role=False), os.getpid()))
    submitted = 0

    class Counted(Executor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            nonlocal submitted
            submitted += 1
            return pool.submit(fn, *args, **kwargs)

    try:
        # they run below the processes that answer requests (the kernel gives those the cores first)
        here_niceness = os.getpriority(os.PRIO_PROCESS, 0)
        assert pool.submit(os.getpriority, os.PRIO_PROCESS, 0).result() == min(
            here_niceness + tree_check.WORKER_NICENESS, 19)
        county = Principal(id="prn_c", role="inspector", region_code=COUNTIES[0])
        for q, reader in ((WINDOWS[0], NATIONAL), (WINDOWS[4], NATIONAL), (AuditQuery(), county)):
            here = await exported_text(engine, q, reader)
            assert here[0] and here[1].count("\n") > 1, q
            before = submitted
            assert await exported_text(engine, q, reader, Counted()) == here, q
            assert submitted - before >= here[0].count("\n") // 7, "the pages were not read by the verifier process"
    finally:
        pool.shutdown(wait=True)


async def test_the_export_window_is_found_as_the_lists(conn: AsyncConnection) -> None:
    """What the export reads along the trail: the run the window's entries chained in time lie in, found by the
    same probes as GET /audit's (window_span), not the trail from its start; the late ones by their own index."""
    assert await window_span(conn, TimeWindow(minute(100), minute(200))) == WindowSpan(100, 200)
    assert await window_span(conn, TimeWindow(minute(590.5), None)) == WindowSpan(591, None)
    assert await window_span(conn, TimeWindow(minute(10_000), None)) is None
    assert await window_span(conn, TimeWindow(minute(200), minute(100))) is None


async def test_get_audit_export_by_a_window_through_the_gateway(make_principal: Any, admin: Api) -> None:
    """The route, on the suite's real trail: both formats of a window around this test's own requests have them,
    and only entries of the window; one that ends before them has none of them."""
    inspector: Api = await make_principal("inspector", "000000")
    finance: Api = await make_principal("finance", "430000")
    before = datetime.now(UTC)
    for _ in range(3):
        assert (await finance.get("/funds/sources")).status_code == 200
    after = datetime.now(UTC) + timedelta(seconds=1)
    await wait_for_audit(admin)
    window = {"since": before.isoformat(), "until": after.isoformat()}
    jsonl = await inspector.get("/audit/export", params={**window, "format": "jsonl"})
    assert jsonl.status_code == 200, jsonl.text
    entries = [json.loads(line) for line in jsonl.text.splitlines()]
    assert [e["path"] for e in entries if e["principal_id"] == finance.principal_id] == ["/funds/sources"] * 3
    assert all(before <= datetime.fromisoformat(e["at"]) < after for e in entries)
    csv = await inspector.get("/audit/export", params={**window, "actor": finance.principal_id})
    assert csv.status_code == 200 and len(csv.text.splitlines()) == 1 + 3, csv.text
    earlier = await inspector.get("/audit/export", params={"actor": finance.principal_id, "format": "jsonl",
                                                          "until": before.isoformat()})
    assert earlier.status_code == 200 and earlier.text == ""
