"""The allocation's money moves as the request's last statement, planned on unlocked balances and written by one
statement that locks the rows and checks they still cover the plan (services/funds/ledger.py `move` with an unlocked
book). Every side: balances that went down but still cover the plan are written at once; balances that no longer
cover it write nothing of the plan, which is made again under the lock: refused (INSUFFICIENT_FUNDS) if the locked
balances cannot pay, written from the next source if they can."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.funds import codes, ledger
from services.funds.ledger import AccountKey, Move
from services.kernel.db import asyncpg_url, session_factory
from services.kernel.errors import Conflict
from tests.funds.world import World
from tests.stack import TestDatabase

ON = date(2018, 2, 1)


@pytest.fixture
async def engine(database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(asyncpg_url(database.url), connect_args={"server_settings": {"search_path": "funds"}})
    yield engine
    await engine.dispose()


async def _transfers(db: asyncpg.Pool, source: str) -> int:
    return int(await db.fetchval("SELECT count(*) FROM funds.transfer_legs WHERE fund_source = $1 AND leg = 'out'",
                                 source))


def _move(source: AccountKey, destination: AccountKey, amount: int, record: str,
          fallback: AccountKey | None = None) -> Move:
    sources = (source,) if fallback is None else (source, fallback)
    return Move(sources, (destination,) * len(sources), amount, kind="allocation", record_id=record, doc_no=record,
                occurred_on=ON)


@pytest.mark.parametrize(("taken_meanwhile", "fund_holds", "outcome"), [
    (200, 0, "written at once"), (201, 0, "refused under the lock"), (201, 100, "planned again under the lock"),
])
async def test_a_plan_on_unlocked_balances_is_written_only_if_still_covered(
    world: World, engine: AsyncEngine, db: asyncpg.Pool, taken_meanwhile: int, fund_holds: int, outcome: str
) -> None:
    assert (await world.appropriate(1_000)).status_code == 201
    treasury = AccountKey(world.province, "treasury", world.source)
    fund = AccountKey(world.province, "fund", world.source)
    pool, other = AccountKey(world.pilot, "pool", world.source), AccountKey(world.city, "fund", world.source)
    if fund_holds:  # money the province received from the centre
        assert (await world.appropriate(fund_holds, region="000000")).status_code == 201
        central = world.allocation(fund_holds, frm="000000", to=world.province)
        assert (await world.central.post("/funds/allocations", json=central)).status_code == 201
    sessions = session_factory(engine)
    before = await _transfers(db, world.source)
    async with sessions() as planning, sessions() as racing:
        book = await ledger.read(planning, [treasury, fund], create=[pool])
        assert (book.balance(treasury), book.locked) == (1_000, False)
        # Another transaction takes money from the same treasury and commits before the plan is written.
        await ledger.move(racing, [_move(treasury, other, taken_meanwhile, "alc_r")])
        await racing.commit()
        moving = ledger.move(planning, [_move(treasury, pool, 800, "alc_t", fallback=fund)], book=book)
        if outcome == "refused under the lock":
            with pytest.raises(Conflict) as refused:
                await moving
            assert refused.value.code == codes.INSUFFICIENT_FUNDS and refused.value.field == "amount_fen"
            await planning.rollback()
        else:
            posted = await moving
            assert [p.source.kind for p in posted] == (["treasury"] if fund_holds == 0 else ["treasury", "fund"])
            await planning.commit()
    balances = dict(await db.fetch(
        "SELECT kind, balance_fen FROM funds.accounts WHERE fund_source = $1 AND region_code IN ($2, $3) "
        "AND kind IN ('treasury', 'fund', 'pool')", world.source, world.province, world.pilot))
    left = 1_000 - taken_meanwhile
    if outcome == "written at once":
        assert balances == {"treasury": 0, "pool": 800}
        assert await _transfers(db, world.source) == before + 2
    elif outcome == "refused under the lock":  # nothing of the plan was written; the rival's move stands
        assert balances == {"treasury": left}  # the pool account it was to create is rolled back with it
        assert await _transfers(db, world.source) == before + 1
    else:  # the treasury's 799, then 1 from the fund account
        assert balances == {"treasury": 0, "fund": fund_holds - (800 - left), "pool": 800}
        assert await _transfers(db, world.source) == before + 3


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


async def test_the_receipt_written_before_the_move_is_rolled_back_with_a_refusal(
    world: World, db: asyncpg.Pool
) -> None:
    """allocate() has the unit of work write its audit entry and idempotency record before the money moves (so the
    issuer's rows are locked for one statement and the commit): a move refused after that keeps neither, and a
    batch's entry names every allocation."""
    key = {"Idempotency-Key": f"late-{uuid.uuid4().hex}"}
    body = world.allocation(700)
    refused = await world.fin_province.post("/funds/allocations", json=body, headers=key)
    assert refused.status_code == 409 and refused.json()["code"] == codes.INSUFFICIENT_FUNDS
    assert await db.fetchval("SELECT count(*) FROM funds.allocations WHERE doc_no = $1", body["doc_no"]) == 0
    assert (await world.appropriate(1_000)).status_code == 201
    allowed = await world.fin_province.post("/funds/allocations", json=body, headers=key)  # the key was not kept
    assert allowed.status_code == 201 and "idempotent-replayed" not in allowed.headers
    replay = await world.fin_province.post("/funds/allocations", json=body, headers=key)
    assert replay.headers.get("idempotent-replayed") == "true" and replay.json() == allowed.json()
    entries = await db.fetch("SELECT status, entity_ids FROM funds.audit_outbox WHERE $1 = ANY(entity_ids)",
                             allowed.json()["id"])
    assert [(e["status"], e["entity_ids"]) for e in entries] == [(201, [allowed.json()["id"]])]
    batch = await world.fin_province.post("/funds/allocations:batch",
                                          json={"items": [world.allocation(100), world.allocation(200)]})
    assert batch.status_code == 201, batch.text
    ids = [a["id"] for a in batch.json()["items"]]
    entry = await db.fetchval("SELECT entity_ids FROM funds.audit_outbox WHERE $1 = ANY(entity_ids)", ids[0])
    assert entry == ids
