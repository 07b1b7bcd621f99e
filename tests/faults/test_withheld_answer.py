"""Issue #14 (6): an answer that cannot leave without its audit entry must not hide the write behind it. With the
gateway's inbox locked (its audit entry cannot be written in time), a roster import the registry carried out is
answered 503, saying it WAS carried out and to send it again with the same key; sent again once the trail is back,
it gets its answer and imports nothing twice. A read is simply refused."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from tests.conftest import Api
from tests.registry.factory import csv_body, new_county, row


@pytest.mark.destructive
async def test_a_write_done_but_not_recorded_says_it_was_done(admin: Api, db: asyncpg.Pool) -> None:
    county = new_county()
    body, key = csv_body(row(county), row(county)), f"withheld-{uuid.uuid4().hex}"
    headers = {"content-type": "text/csv", "idempotency-key": key}
    async with db.acquire() as holder:
        tx = holder.transaction()
        await tx.start()
        await holder.execute("LOCK TABLE gateway.audit_inbox IN ACCESS EXCLUSIVE MODE")
        try:
            withheld = await admin.post("/registry/households/import", content=body, headers=headers, timeout=60)
            read = await admin.get("/funds/sources", timeout=60)
        finally:
            await tx.rollback()
    assert withheld.status_code == 503, withheld.text
    problem = withheld.json()
    assert problem["outcome"] == "applied" and "WAS carried out" in problem["detail"], problem
    assert await db.fetchval("SELECT count(*) FROM registry.households WHERE county_code = $1", county) == 2
    assert read.status_code == 503 and read.json()["outcome"] == "none", read.text
    await asyncio.sleep(0.5)
    again = await admin.post("/registry/households/import", content=body, headers=headers)
    assert again.status_code == 200 and again.json()["imported"] == 2, again.text
    assert again.headers.get("idempotent-replayed") == "true"
    assert await db.fetchval("SELECT count(*) FROM registry.households WHERE county_code = $1", county) == 2
