"""Issue #14: `fundtrack up` under concurrent writers, its processes killed with -9 one after another: the registry
(the service the writers write to), then the gateway. Each writer sends roster imports with an Idempotency-Key and,
whatever answer it gets (a refused connection, a 503, an answer lost with its connection), sends the same import
again with the same key until it is answered 200, as a finance system would. Afterwards: every acknowledged import
is there exactly once (nothing lost, nothing applied twice), the processes were started again without hands, the
trail verifies, and every change the registry committed is in the chain."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest

from deploy.embedded import EmbeddedPostgres
from tests.faults.under_up import Budget, fundtrack_up, parent_of, send_until_answered, wait_chained, written
from tests.registry.factory import csv_body, new_county, row

WRITERS = 8
IMPORTS = 25  # per writer; the kills fall at a quarter and at half of them, while the writers write


async def _writer(gateway: str, token: str, counties: list[str], done: list[str], budget: Budget) -> None:
    async with httpx.AsyncClient(base_url=gateway, headers={"authorization": f"Bearer {token}"}) as client:
        for county in counties:
            await budget.take()
            answer = await send_until_answered(
                client, "/registry/households/import", f"kill-{county}", ok=200,
                content=csv_body(row(county), row(county), row(county)), headers={"content-type": "text/csv"})
            assert answer.json()["imported"] == 3, answer.text
            done.append(county)


@pytest.mark.destructive
async def test_killed_processes_lose_and_double_nothing_under_concurrent_writers() -> None:
    async with fundtrack_up("fundtrack-kill-") as (up, data_dir, token):
        counties = [[new_county() for _ in range(IMPORTS)] for _ in range(WRITERS)]
        done: list[str] = []
        budget = Budget(3 * WRITERS * IMPORTS // 4)  # the last quarter only once both kills are done
        writers = [asyncio.create_task(_writer(up.gateway, token, mine, done, budget)) for mine in counties]
        for share, (app, name) in enumerate((("services.registry.app", "registry"), ("gateway.app", "gateway")), 1):
            await written(done, share * WRITERS * IMPORTS // 4, writers)
            assert len(done) < WRITERS * IMPORTS, "the writers were done before the kill"
            parent_of(up, app).kill()
            for _ in range(100):  # the supervisor says it, and starts it again
                if any(f"{name} started again" in line for line in up.lines):
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("".join(up.lines[-20:]))
        budget.allow(WRITERS * IMPORTS)
        await asyncio.wait_for(asyncio.gather(*writers), timeout=240)
        assert up.process.poll() is None, "".join(up.lines[-20:])
        assert sorted(done) == sorted(c for mine in counties for c in mine)

        url = EmbeddedPostgres(data_dir).start()
        conn = await asyncpg.connect(url)
        try:
            counts = dict(await conn.fetch(
                "SELECT county_code, count(*) FROM registry.households WHERE county_code = ANY($1::text[]) "
                "GROUP BY county_code", done))
            assert counts == {c: 3 for c in done}, counts  # every acknowledged import once, none twice
            _, imports, chained = await wait_chained(conn, up, token, origin="registry",
                                                     path="/registry/households/import", status=200)
            assert imports == chained >= len(done), (imports, chained)  # every committed import is in the chain
        finally:
            await conn.close()
