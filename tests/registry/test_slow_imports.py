"""Issue #14: no request holds a pooled connection while it waits, and a slow client is such a wait. A household
import writes its lines as they arrive (COPY a chunk while the next is read), so it holds its connection while its
body arrives, by design; the unit of work bounds how many a worker runs at once, below its pool. More slow imports
than the registry pool has connections: they never hold the whole pool, an unrelated route of the registry answers
at once, and each import is either imported whole (200) or, having waited too long for its turn, refused 503 with
nothing of it kept."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx

from tests.conftest import Api
from tests.faults.stalled import pool_size
from tests.registry.api import IMPORT
from tests.registry.factory import HEADER, Row, new_county, row
from tests.stack import Stack

LINES, EVERY = 8, 0.5  # a line every half second, for 4 s (within the gateway's grace, so no minimum rate applies)


async def _slowly(households: list[Row]) -> AsyncIterator[bytes]:
    yield (HEADER + "\n").encode()
    for household in households:
        await asyncio.sleep(EVERY)
        yield (household.line() + "\n").encode()


# The registry's connections inside a transaction: idle (waiting for the body) or running (waiting for a lock).
IN_TRANSACTION = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND application_name = 'fundtrack-registry' AND xact_start IS NOT NULL"
)


async def _import(api: Api, county: str, households: list[Row]) -> httpx.Response:
    """Narrowed to its county, so that imports of several counties take their locks side by side."""
    return await api.post(IMPORT, params={"county": county}, content=_slowly(households), timeout=60,
                          headers={"content-type": "text/csv", "idempotency-key": f"slow-{uuid.uuid4().hex}"})


async def _registered(db: asyncpg.Pool, county: str) -> int:
    return int(await db.fetchval("SELECT count(*) FROM registry.households WHERE county_code = $1", county))


async def test_slow_imports_never_take_the_registry_pool(admin: Api, stack: Stack, db: asyncpg.Pool) -> None:
    pool = pool_size(stack, "registry")
    counties = [new_county() for _ in range(pool + 2)]
    rosters = [[row(county) for _ in range(LINES)] for county in counties]
    sending = [asyncio.create_task(_import(admin, county, roster))
               for county, roster in zip(counties, rosters, strict=True)]
    await asyncio.sleep(1.5)  # every import has reached the registry and is sending its body
    held = int(await db.fetchval(IN_TRANSACTION))
    started = time.monotonic()
    listed = await admin.get("/registry/households", params={"county": counties[0]}, timeout=60)
    took = time.monotonic() - started
    still_sending = sum(not task.done() for task in sending)
    answers = await asyncio.wait_for(asyncio.gather(*sending), timeout=90)

    assert 1 <= held < pool, (held, pool)
    assert listed.status_code == 200, listed.text
    assert took < 2.0, took
    assert still_sending == len(sending)
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {200, 503} and 200 in statuses, [a.text for a in answers]
    for answer, county in zip(answers, counties, strict=True):
        if answer.status_code == 200:
            assert answer.json()["imported"] == LINES, answer.text
            assert await _registered(db, county) == LINES
        else:
            assert answer.json()["code"] == "SERVICE_UNAVAILABLE", answer.text
            assert await _registered(db, county) == 0
