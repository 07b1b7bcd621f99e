"""Issue #14 (2): no database wait outlives the request. Every session has a lock_timeout and a statement_timeout
below the gateway's own timeout (services/kernel/db.py): a table held locked by someone else (an operator's
`LOCK TABLE` in psql) makes a write give up after FUNDTRACK_DB_LOCK_TIMEOUT_SECONDS with a 503 DATABASE_TIMEOUT
that says nothing was changed — and indeed nothing was, so the same import with the same key goes through once
the lock is gone; other routes answer meanwhile."""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
import pytest

from services.kernel.settings import Settings
from tests.conftest import Api
from tests.registry.factory import csv_body, new_county, row


@pytest.mark.destructive
async def test_a_write_behind_a_held_lock_gives_up_in_time_and_changes_nothing(admin: Api, db: asyncpg.Pool) -> None:
    county = new_county()
    body, key = csv_body(row(county), row(county)), f"locked-{uuid.uuid4().hex}"
    headers = {"content-type": "text/csv", "idempotency-key": key}
    lock_timeout = Settings(service_secret="x").db_lock_timeout_seconds
    async with db.acquire() as holder:
        tx = holder.transaction()
        await tx.start()
        await holder.execute("LOCK TABLE registry.households IN ACCESS EXCLUSIVE MODE")
        try:
            started = time.monotonic()
            write = asyncio.create_task(admin.post("/registry/households/import", content=body, headers=headers))
            await asyncio.sleep(1.0)
            other = await admin.get("/funds/sources")  # an unrelated route is not held
            assert other.status_code == 200 and time.monotonic() - started < lock_timeout
            refused = await write
            waited = time.monotonic() - started
        finally:
            await tx.rollback()
    assert refused.status_code == 503, refused.text
    assert refused.json()["code"] == "DATABASE_TIMEOUT" and "nothing was changed" in refused.json()["detail"]
    assert lock_timeout <= waited < lock_timeout + 5, waited
    assert await db.fetchval("SELECT count(*) FROM registry.households WHERE county_code = $1", county) == 0
    again = await admin.post("/registry/households/import", content=body, headers=headers)
    assert again.status_code == 200 and again.json()["imported"] == 2, again.text
