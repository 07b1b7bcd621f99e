"""S12: one county's import does not hold up another's (locks per county), a body must arrive within the gateway's
time limit and rate, and a client that goes away part way never leaves a cut-off import committed (ISSUE #14)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import asyncpg
import httpx

from services.registry import codes
from services.registry.importer import CHUNK_LINES
from tests.conftest import Api, MakePrincipal
from tests.registry.api import IMPORT, import_csv
from tests.registry.factory import HEADER, Row, csv_body, new_county, row
from tests.stack import Stack, extra_gateway

CSV = {"content-type": "text/csv"}


async def _trickle(first: list[Row], release: asyncio.Event, then: list[Row]) -> AsyncIterator[bytes]:
    yield csv_body(*first)
    await release.wait()
    for household in then:
        yield (household.line() + "\n").encode()


async def _exclusive_import_locks(db: asyncpg.Pool) -> int:
    return int(await db.fetchval(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND mode = 'ExclusiveLock' AND granted"
    ))


async def _wait_for_lock(db: asyncpg.Pool, count: int) -> None:
    for _ in range(200):
        if await _exclusive_import_locks(db) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the trickled import never took its lock")


async def _registered(db: asyncpg.Pool, *households: Row) -> int:
    return int(await db.fetchval("SELECT count(*) FROM registry.households WHERE household_id = ANY($1::text[])",
                                 [h.household_id for h in households]))


async def test_a_trickled_import_holds_up_its_own_county_only(
    make_principal: MakePrincipal, db: asyncpg.Pool
) -> None:
    """S12: while a county's import trickles in, another county's import runs at once; an import of the same county
    (or of the province holding it) still waits for it (they may touch the same households)."""
    county, other = new_county(), new_county()
    pm, pm_other, pm_again = [await make_principal("project_manager", c) for c in (county, other, county)]
    province = await make_principal("project_manager", county[:2] + "0000")
    release = asyncio.Event()
    first, later = [row(county)], [row(county)]
    trickled = asyncio.create_task(pm.client.post(IMPORT, content=_trickle(first, release, later),
                                                  headers=pm.headers(CSV)))
    try:
        await _wait_for_lock(db, 1)
        elsewhere = row(other)
        response = await asyncio.wait_for(import_csv(pm_other, csv_body(elsewhere)), timeout=15)
        assert response.status_code == 200 and response.json()["imported"] == 1, response.text
        same_county = asyncio.create_task(import_csv(pm_again, csv_body(row(county))))
        above = asyncio.create_task(import_csv(province, csv_body(row(county))))
        await asyncio.sleep(2)
        assert not same_county.done() and not above.done()  # waiting for the trickled import
    finally:
        release.set()
    done = await asyncio.wait_for(trickled, timeout=30)
    assert done.status_code == 200 and done.json()["imported"] == 2, done.text
    assert [(await t).status_code for t in (same_county, above)] == [200, 200]


async def test_an_import_narrowed_to_a_county_refuses_lines_elsewhere(admin: Api, make_principal: MakePrincipal,
                                                                       db: asyncpg.Pool) -> None:
    """S12: `county=` narrows a regional importer's file (and its lock) to one county; lines of others are refused,
    and a county outside the caller's jurisdiction is refused whole."""
    county, other = new_county(), new_county()
    inside, outside = row(county), row(other)
    response = await admin.post(IMPORT, params={"county": county}, content=csv_body(inside, outside),
                                headers=CSV)
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == 1
    assert [(r["line"], r["code"]) for r in response.json()["rejected"]] == [(3, codes.LINE_NOT_IN_JURISDICTION)]
    pm = await make_principal("project_manager", county)
    refused = await pm.post(IMPORT, params={"county": other}, content=csv_body(row(other)), headers=CSV)
    assert refused.status_code == 403 and refused.json()["field"] == "county", refused.text
    for bad in ("430500", "４３０５２３", "43052"):
        invalid = await admin.post(IMPORT, params={"county": bad}, content=csv_body(row(county)), headers=CSV)
        assert invalid.status_code == 422 and invalid.json()["field"] == "county", invalid.text
    assert await _registered(db, outside) == 0


async def _slowly(households: list[Row], every: float) -> AsyncIterator[bytes]:
    yield (HEADER + "\n").encode()
    for household in households:
        await asyncio.sleep(every)
        yield (household.line() + "\n").encode()


async def test_a_body_too_slow_or_too_long_is_408_and_imports_nothing(
    stack: Stack, make_principal: MakePrincipal, db: asyncpg.Pool
) -> None:
    """S12: the gateway's limits on a body (total seconds; bytes a second after a grace): past either, 408
    REQUEST_BODY_TIMEOUT, and the service, whose request was aborted, commits nothing. A body within both is
    imported."""
    county = new_county()
    pm = await make_principal("project_manager", county)
    limits = {"FUNDTRACK_BODY_TIMEOUT_SECONDS": "3", "FUNDTRACK_BODY_MIN_BYTES_PER_SECOND": "200",
              "FUNDTRACK_BODY_GRACE_SECONDS": "1"}
    trickled = [row(county) for _ in range(20)]  # ~90 bytes every 0.5 s: under 200 bytes a second
    steady = [row(county) for _ in range(400)]  # ~90 bytes every 0.02 s: fast enough, but for 8 s
    prompt = [row(county) for _ in range(5)]
    with extra_gateway(stack, **limits) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            slow = await client.post(IMPORT, content=_slowly(trickled, 0.5), headers=pm.headers(CSV))
            long = await client.post(IMPORT, content=_slowly(steady, 0.02), headers=pm.headers(CSV))
            fine = await client.post(IMPORT, content=csv_body(*prompt), headers=pm.headers(CSV))
    for refused in (slow, long):
        assert refused.status_code == 408, refused.text
        assert (refused.json()["code"], refused.json()["field"]) == ("REQUEST_BODY_TIMEOUT", "body")
    assert fine.status_code == 200 and fine.json()["imported"] == 5, fine.text
    await asyncio.sleep(1)
    assert await _registered(db, *trickled, *steady) == 0
    assert await db.fetchval("SELECT count(*) FROM registry.household_imports WHERE principal_id = $1",
                             pm.principal_id) == 1


async def test_a_client_that_goes_away_mid_body_imports_nothing(
    stack: Stack, make_principal: MakePrincipal, db: asyncpg.Pool
) -> None:
    """ISSUE #14 item 1 with S12: the gateway aborts the upstream request when its client disconnects part way, so
    the service does not read the lines so far as a whole file and commit them, nor keep their answer under the
    request's Idempotency-Key (the whole file sent again with it is imported, not 409)."""
    county = new_county()
    pm = await make_principal("project_manager", county)
    households = [row(county) for _ in range(3)]
    sent = csv_body(*households)
    key = f"roster-{county}"
    gateway = urlsplit(stack.gateway_url)
    reader, writer = await asyncio.open_connection(gateway.hostname, gateway.port)
    writer.write(
        f"POST {IMPORT} HTTP/1.1\r\nHost: {gateway.netloc}\r\nAuthorization: Bearer {pm.key}\r\n"
        f"Idempotency-Key: {key}\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n"
        f"{len(sent):x}\r\n".encode() + sent + b"\r\n"
    )
    await writer.drain()
    await asyncio.sleep(1.5)  # the lines reach the service
    writer.transport.abort()
    for _ in range(40):  # the answer nobody reads is recorded in the trail; the service has settled by then
        if await db.fetchval("SELECT (SELECT count(*) FROM gateway.audit_inbox WHERE principal_id = $1)"
                             " + (SELECT count(*) FROM gateway.audit_log WHERE principal_id = $1)", pm.principal_id):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1)
    assert await _registered(db, *households) == 0
    assert await db.fetchval("SELECT count(*) FROM registry.household_imports WHERE principal_id = $1",
                             pm.principal_id) == 0
    # the other side: the same lines sent whole, with the same key (no partial answer was kept under it), import
    whole = await pm.post(IMPORT, content=sent, headers={**CSV, "idempotency-key": key})
    assert whole.status_code == 200 and whole.json()["imported"] == 3, whole.text
    assert "idempotent-replayed" not in whole.headers


async def _wait_until(db: asyncpg.Pool, query: str) -> None:
    for _ in range(600):
        if await db.fetchval(query):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never true: {query}")


async def test_two_counties_registering_one_new_household_at_once_is_a_409_not_a_500(
    make_principal: MakePrincipal, db: asyncpg.Pool
) -> None:
    """S12, the price of per-county locks: county X's import has registered a new household (not committed yet) when
    county Y's import merges a line of the same id. Y's waits for X's, then finds the id taken: 409
    IMPORT_CONFLICT with nothing of Y's kept (before, the global lock made Y's wait and refuse that line)."""
    x, y = new_county(), new_county()
    pm_x, pm_y = [await make_principal("project_manager", c) for c in (x, y)]
    known = row(y)
    assert (await import_csv(pm_y, csv_body(known))).json()["imported"] == 1
    contested = row(x)
    release = asyncio.Event()
    first_chunk = [contested, *(row(x) for _ in range(CHUNK_LINES))]  # merged while the body still streams
    holding = asyncio.create_task(pm_x.client.post(IMPORT, content=_trickle(first_chunk, release, [row(x)]),
                                                   headers=pm_x.headers(CSV), timeout=120))
    try:
        # X's first chunk is in the roster: its statement is over (the directory of household ids took its ids at
        # the statement's end) and the import waits for the rest of its body
        await _wait_until(db, "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                              "WHERE l.relation = 'registry.households'::regclass AND l.mode = 'RowExclusiveLock' "
                              "AND l.granted AND a.state = 'idle in transaction'")
        known.status = "exited"
        racing = asyncio.create_task(import_csv(pm_y, csv_body(known, row(y, household_id=contested.household_id))))
        await _wait_until(db, "SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted")
    finally:
        release.set()
    assert (await holding).status_code == 200
    refused = await racing
    assert refused.status_code == 409 and refused.json()["code"] == codes.IMPORT_CONFLICT, refused.text
    assert await db.fetchval("SELECT status FROM registry.households WHERE household_id = $1",
                             known.household_id) == "poor"
    assert await db.fetchval("SELECT county_code FROM registry.households WHERE household_id = $1",
                             contested.household_id) == x
