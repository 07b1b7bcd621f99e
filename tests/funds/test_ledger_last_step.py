"""The allocation's money moves as the request's last statement, planned on unlocked balances and written by one
statement that locks the rows and checks they still cover the plan (services/funds/ledger.py `flush_if_covered`).
Both sides: balances that went down but still cover the plan are written; balances that no longer cover it write
nothing, and the caller plans again under the lock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.funds.ledger import AccountKey, open_book
from services.kernel.db import asyncpg_url, session_factory
from tests.funds.world import World
from tests.stack import TestDatabase

ON = date(2018, 2, 1)


@pytest.fixture
async def engine(database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(asyncpg_url(database.url), connect_args={"server_settings": {"search_path": "funds"}})
    yield engine
    await engine.dispose()


async def _transfers(db: asyncpg.Pool, source: str) -> int:
    return int(await db.fetchval("SELECT count(*) FROM funds.transfers WHERE fund_source = $1", source))


@pytest.mark.parametrize(("taken_meanwhile", "covered"), [(200, True), (201, False)])
async def test_a_plan_on_unlocked_balances_is_written_only_if_still_covered(
    world: World, engine: AsyncEngine, db: asyncpg.Pool, taken_meanwhile: int, covered: bool
) -> None:
    assert (await world.appropriate(1_000)).status_code == 201
    treasury = AccountKey(world.province, "treasury", world.source)
    pool, other = AccountKey(world.pilot, "pool", world.source), AccountKey(world.city, "fund", world.source)
    sessions = session_factory(engine)
    before = await _transfers(db, world.source)
    async with sessions() as planning, sessions() as racing:
        book = await open_book(planning, [treasury], create=[pool], lock=False)
        assert book.balance(treasury) == 1_000
        book.move(treasury, pool, 800, kind="allocation", record_id="alc_t", doc_no="t", occurred_on=ON)
        # Another transaction takes money from the same treasury and commits before the plan is written.
        rival = await open_book(racing, [treasury], create=[other])
        rival.move(treasury, other, taken_meanwhile, kind="allocation", record_id="alc_r", doc_no="r",
                   occurred_on=ON)
        await rival.flush(racing)
        await racing.commit()
        assert await book.flush_if_covered(planning) is covered
        await planning.commit()
    balances = dict(await db.fetch(
        "SELECT kind, balance_fen FROM funds.accounts WHERE fund_source = $1 AND kind IN ('treasury', 'pool')",
        world.source))
    if covered:
        assert balances == {"treasury": 0, "pool": 800}
        assert await _transfers(db, world.source) == before + 2
    else:  # nothing of the plan was written; the rival's move stands
        assert balances == {"treasury": 1_000 - taken_meanwhile, "pool": 0}
        assert await _transfers(db, world.source) == before + 1


async def test_allocations_that_need_the_fund_account_too_take_the_locked_path(world: World) -> None:
    """The treasury alone cannot pay: the plan is made under the lock, drawing the treasury first, then the fund
    account (money the province received from above)."""
    assert (await world.appropriate(300)).status_code == 201
    assert (await world.appropriate(500, region="000000")).status_code == 201
    central = world.allocation(500, frm="000000", to=world.province)
    assert (await world.central.post("/funds/allocations", json=central)).status_code == 201
    response = await world.fin_province.post("/funds/allocations", json=world.allocation(700))
    assert response.status_code == 201, response.text
    left = await world.balances(world.province)
    assert left[("treasury", world.source, "")] == 0
    assert left[("fund", world.source, "")] == 100
    refused = await world.fin_province.post("/funds/allocations", json=world.allocation(101))
    assert refused.status_code == 409 and refused.json()["code"] == "INSUFFICIENT_FUNDS"
