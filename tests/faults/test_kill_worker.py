"""Issue #14: one uvicorn worker of the funds service (it runs two under `fundtrack up`) killed with -9, then the
other, under eight concurrent writers of appropriations with Idempotency-Keys that send each one again until it is
answered 201. Each worker is started again without hands (by its uvicorn parent, which lives on: the service is not
restarted); every acknowledged appropriation is there exactly once, the treasury holds their sum to the fen, the
trail verifies, and every appropriation the service committed is in the chain."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
import pytest

from deploy.embedded import EmbeddedPostgres
from tests.faults.under_up import (
    Budget,
    fundtrack_up,
    parent_of,
    send_until_answered,
    wait_chained,
    workers_of,
    written,
)
from tests.platform.test_up import Up

WRITERS = 8
EACH = 40  # appropriations per writer; the kills fall at a quarter and at half of them, while the writers write
FUNDS = "services.funds.app"
PROVINCE = "430000"
PATH = "/funds/appropriations"


async def _writer(
    gateway: str, key: str, source: str, serials: list[str], done: dict[str, int], budget: Budget
) -> None:
    async with httpx.AsyncClient(base_url=gateway, headers={"authorization": f"Bearer {key}"}) as client:
        for n, serial in enumerate(serials):
            await budget.take()
            amount, doc = 100 + n, f"湘财农指〔2018〕{serial}号"
            answer = await send_until_answered(
                client, PATH, f"kill-worker-{serial}", ok=201,
                json={"fund_source": source, "fiscal_year": 2018, "region_code": PROVINCE, "amount_fen": amount,
                      "doc_no": doc, "appropriated_on": "2018-01-10"})
            assert answer.json()["amount_fen"] == amount and answer.json()["doc_no"] == doc, answer.text
            done[doc] = amount


async def _replaced(up: Up, killed: int) -> None:
    """Wait until the funds service has two workers again, the killed one not among them."""
    for _ in range(150):
        pids = {p.pid for p in workers_of(up, FUNDS)}
        if len(pids) == 2 and killed not in pids:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the killed worker {killed} was not replaced: {pids}")


@pytest.mark.destructive
async def test_killed_workers_lose_and_double_nothing_under_concurrent_writers() -> None:
    async with fundtrack_up("fundtrack-kill-worker-") as (up, data_dir, token):
        source = "K" + uuid.uuid4().hex[:8].upper()
        async with httpx.AsyncClient(base_url=up.gateway, headers={"authorization": f"Bearer {token}"}) as admin:
            made = await admin.put(f"/funds/sources/{source}",
                                   json={"name": f"资金{source}", "level": "central", "integrable": True})
            assert made.status_code == 200, made.text
            finance = await admin.post("/admin/principals",
                                       json={"name": "central finance", "role": "finance", "region_code": "000000"})
            assert finance.status_code == 201, finance.text
        key = finance.json()["api_key"]
        parent = parent_of(up, FUNDS)
        serials = [[uuid.uuid4().hex[:10] for _ in range(EACH)] for _ in range(WRITERS)]
        done: dict[str, int] = {}
        budget = Budget(3 * WRITERS * EACH // 4)  # the last quarter only once both kills are done
        writers = [asyncio.create_task(_writer(up.gateway, key, source, mine, done, budget)) for mine in serials]
        for share, victim in enumerate(workers_of(up, FUNDS), start=1):  # both workers as they were, in turn
            await written(done, share * WRITERS * EACH // 4, writers)  # by progress, not time: a fast machine too
            assert len(done) < WRITERS * EACH, "the writers were done before the kill"
            victim.kill()
            await _replaced(up, victim.pid)
        budget.allow(WRITERS * EACH)
        await asyncio.wait_for(asyncio.gather(*writers), timeout=120)
        assert up.process.poll() is None, "".join(up.lines[-20:])
        assert parent_of(up, FUNDS).pid == parent.pid  # the service lived on: only its workers were started again
        assert not any("funds DIED" in line for line in up.lines), "".join(up.lines[-20:])
        assert sorted(done) == sorted(f"湘财农指〔2018〕{serial}号" for mine in serials for serial in mine)
        async with httpx.AsyncClient(base_url=up.gateway, headers={"authorization": f"Bearer {key}"}) as client:
            balances = (await client.get("/funds/balances", params={"region": PROVINCE}, timeout=30)).json()
        treasury = [b["balance_fen"] for b in balances["items"]
                    if b["fund_source"] == source and b["account"] == "treasury" and b["region_code"] == PROVINCE]
        assert treasury == [sum(done.values())], balances  # every acknowledged appropriation once, to the fen

        url = EmbeddedPostgres(data_dir).start()
        conn = await asyncpg.connect(url)
        try:
            counts = dict(await conn.fetch(
                "SELECT doc_no, count(*) FROM funds.appropriations WHERE fund_source = $1 GROUP BY doc_no", source))
            assert counts == {doc: 1 for doc in done}, counts  # nothing lost, nothing applied twice
            _, committed, chained = await wait_chained(conn, up, token, origin="funds", path=PATH, status=201)
            assert committed == chained >= len(done), (committed, chained)  # every committed change is chained
        finally:
            await conn.close()
