"""Issue #15: the ledger's transfers as legs (deploy/SCALING.md, funds_0023). A transfer from a province to a county
is two legs, 'out' on the province's account and region, 'in' on the county's, each with every figure of the
transfer; a reversal's legs are each on the region of the reversed leg of the same account; a leg whose region is not
its account's is refused (the co-located foreign key); and funds_0023 turns a database in use into legs and keys the
accounts by region, while a service of the version before goes on recording transfers."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import asyncpg
import pytest
from alembic import command

from deploy.drift import differences
from deploy.migrate import alembic_config
from services.funds.repository import summaries
from services.kernel.db import plain_url
from tests.county_keys import as_the_version_before, head, primary_keys, upgrade_again, waiting_on_a_snapshot
from tests.funds.world import World
from tests.platform import before_baseline

# Each leg with its account's region, and its twin's account (the other leg of its transfer).
LEGS = """
    SELECT l.transfer_id, l.leg, l.region_code, a.region_code AS account_region, l.account_id, l.counter_account_id,
           l.amount_fen, l.kind, l.record_id, l.doc_no, l.occurred_on, l.reverses_id, l.created_at,
           twin.account_id AS twin_account
    FROM funds.transfer_legs l JOIN funds.accounts a ON a.id = l.account_id
    LEFT JOIN funds.transfer_legs twin ON twin.transfer_id = l.transfer_id AND twin.leg <> l.leg
    WHERE l.record_id = ANY($1::text[]) ORDER BY l.record_id, l.transfer_id, l.leg DESC
"""


async def test_a_transfer_is_two_legs_each_on_its_accounts_region_and_a_reversal_on_the_reversed_legs(
    world: World, db: asyncpg.Pool
) -> None:
    assert (await world.appropriate(100_000)).status_code == 201
    allocated = await world.allocate(30_000, to=world.pilot)
    assert allocated.status_code == 201, allocated.text
    record = allocated.json()["id"]
    undo = await world.fin_province.post("/funds/reversals", json={"target_id": record, "reason": "错拨"})
    assert undo.status_code == 201, undo.text
    [reversal_transfer] = undo.json()["transfer_ids"]

    legs = await db.fetch(LEGS, [record, undo.json()["id"]])
    assert [(r["leg"], r["region_code"], r["kind"]) for r in legs] == [
        ("out", world.province, "allocation"), ("in", world.pilot, "allocation"),
        ("out", world.pilot, "reversal"), ("in", world.province, "reversal")]
    assert all(r["region_code"] == r["account_region"] for r in legs)
    # twins: one transfer, the other's account as the counter account, every figure the same (written together)
    for out, into in (legs[0:2], legs[2:4]):
        assert out["transfer_id"] == into["transfer_id"]
        assert (out["account_id"], out["counter_account_id"]) == (into["counter_account_id"], into["account_id"])
        assert out["twin_account"] == into["account_id"] and into["twin_account"] == out["account_id"]
        assert {k: out[k] for k in ("amount_fen", "record_id", "doc_no", "occurred_on", "reverses_id", "created_at")} \
            == {k: into[k] for k in ("amount_fen", "record_id", "doc_no", "occurred_on", "reverses_id", "created_at")}
    original = legs[0]["transfer_id"]
    assert legs[2]["transfer_id"] == reversal_transfer and legs[2]["reverses_id"] == original
    # each leg of the reversal is on the region (and account) of the reversed leg it undoes
    assert (legs[2]["region_code"], legs[2]["account_id"]) == (legs[1]["region_code"], legs[1]["account_id"])
    assert (legs[3]["region_code"], legs[3]["account_id"]) == (legs[0]["region_code"], legs[0]["account_id"])
    # the trace still answers a transfer by its id, with the reversal of it
    shown = (await world.inspector.get("/funds/trace", params={"allocation_id": record})).json()
    assert [(h["transfer_id"], h["reversed_by"], h["from"]["region_code"], h["to"]["region_code"])
            for h in shown["movements"]] == [(original, reversal_transfer, world.province, world.pilot)]
    again = await world.fin_province.post("/funds/reversals", json={"target_id": original, "reason": "again"})
    assert again.status_code == 409 and again.json()["code"] == "ALREADY_REVERSED"


async def test_a_leg_is_refused_on_another_region_than_its_accounts(world: World, db: asyncpg.Pool) -> None:
    assert (await world.appropriate(1_000)).status_code == 201
    account = await db.fetchrow("SELECT id, region_code FROM funds.accounts WHERE region_code = $1 "
                                "AND fund_source = $2 AND kind = 'treasury'", world.province, world.source)
    assert account is not None
    insert = ("INSERT INTO funds.transfer_legs (region_code, transfer_id, leg, account_id, counter_account_id, "
              "amount_fen, kind, fund_source, record_id, doc_no, occurred_on) "
              "VALUES ($1, $2, 'out', $3, -1, 1, 'allocation', $4, 'alc_x', 'd', '2018-02-01')")
    async with db.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:  # (rolled back: nothing recorded can be deleted)
            leg = f"trf_{uuid.uuid4().hex[:20]}"
            assert await conn.execute(insert, account["region_code"], leg, account["id"], world.source) == "INSERT 0 1"
            with pytest.raises(asyncpg.ForeignKeyViolationError, match="fk_transfer_legs_account"):
                async with conn.transaction():
                    await conn.execute(insert, world.pilot, f"{leg}x", account["id"], world.source)
        finally:
            await transaction.rollback()


# ----------------------------------------------------------------------------------------- the migration, on data

# 12,000 allocations from a province to two counties and every fourth reversed: 15,000 transfers, three batches of
# county_keys.BATCH (5,000).
SIZES = {"transfers": 12_000, "per_reversal": 4}
ALLOCATIONS = SIZES["transfers"] + SIZES["transfers"] // SIZES["per_reversal"]
FILL_0022 = [  # str.format(**SIZES)
    "INSERT INTO fund_sources (code, name, level, integrable) VALUES ('C01', '中央财政专项扶贫资金', 'central', true)",
    """
    INSERT INTO accounts (region_code, kind, fund_source, ref, balance_fen)
    VALUES ('430000', 'budget', 'C01', '', -100000000), ('430000', 'treasury', 'C01', '', 100000000),
           ('430523', 'pool', 'C01', '', 0), ('430524', 'fund', 'C01', '', 0)
    """,
    """
    INSERT INTO transfers (id, source_account_id, destination_account_id, amount_fen, kind, fund_source, record_id,
                           doc_no, occurred_on)
    SELECT 'trf_' || lpad(i::text, 8, '0'), (SELECT id FROM accounts WHERE kind = 'treasury'),
           (SELECT id FROM accounts WHERE region_code = CASE WHEN i % 3 = 0 THEN '430523' ELSE '430524' END),
           i, 'allocation', 'C01', 'alc_' || i, '湘财农指〔2018〕' || i || '号', date '2018-03-01' + i % 200
    FROM generate_series(1, {transfers}) i
    """,
    """
    INSERT INTO transfers (id, source_account_id, destination_account_id, amount_fen, kind, fund_source, record_id,
                           doc_no, occurred_on, reverses_id)
    SELECT 'trf_r' || substr(t.id, 5), t.destination_account_id, t.source_account_id, t.amount_fen, 'reversal',
           t.fund_source, 'rev_' || t.record_id, t.record_id, t.occurred_on + 10, t.id
    FROM transfers t WHERE substr(t.id, 5)::int % {per_reversal} = 0
    """,
]
# what a funds service of the version before records while the revision runs: an allocation and its reversal
OLD_WRITER = [
    """INSERT INTO transfers (id, source_account_id, destination_account_id, amount_fen, kind, fund_source, record_id,
                              doc_no, occurred_on)
       SELECT 'trf_old', s.id, d.id, 77, 'allocation', 'C01', 'alc_old', 'old', date '2018-06-01'
       FROM accounts s, accounts d WHERE s.kind = 'treasury' AND d.region_code = '430523'""",
    """INSERT INTO transfers (id, source_account_id, destination_account_id, amount_fen, kind, fund_source, record_id,
                              doc_no, occurred_on, reverses_id)
       SELECT 'trf_old_r', d.id, s.id, 77, 'reversal', 'C01', 'rev_old', 'alc_old', date '2018-06-02', 'trf_old'
       FROM accounts s, accounts d WHERE s.kind = 'treasury' AND d.region_code = '430523'""",
]
TRANSFERS = ("SELECT id, source_account_id, destination_account_id, amount_fen, kind, fund_source, record_id, doc_no, "
             "occurred_on, reverses_id, created_at FROM transfers")
# every leg as the transfer it is a side of, with whether its region is its account's
AS_TRANSFERS = """
    SELECT l.transfer_id, CASE l.leg WHEN 'out' THEN l.account_id ELSE l.counter_account_id END,
           CASE l.leg WHEN 'out' THEN l.counter_account_id ELSE l.account_id END, l.amount_fen, l.kind,
           l.fund_source, l.record_id, l.doc_no, l.occurred_on, l.reverses_id, l.created_at, l.leg,
           l.region_code = a.region_code AS on_its_region
    FROM transfer_legs l JOIN accounts a ON a.id = l.account_id
"""


async def test_funds_0023_writes_every_transfer_as_its_two_legs_and_keys_the_accounts_by_region(
    scratch: str,
) -> None:
    url = plain_url(scratch)
    conn, writer, holder = [await asyncpg.connect(url) for _ in range(3)]
    exits = contextlib.AsyncExitStack()
    try:
        await before_baseline.restore_at(conn, scratch, "funds", "funds_0022_county_keys")
        for c in (writer, holder):
            await c.execute("SET search_path = funds")
        # the writer of the version before writes as a service's own role does (deploy/migrate.py): its rights on
        # the tables of then, none on those the revision makes but what the revision itself gives it
        await exits.enter_async_context(as_the_version_before(conn, writer, url, "funds", "SELECT, INSERT"))
        await before_baseline.fill(conn, FILL_0022, SIZES)
        before = {tuple(r) for r in await conn.fetch(TRANSFERS)}
        assert len(before) == ALLOCATIONS

        # a snapshot held open stops the revision in its first CONCURRENTLY build: meanwhile a service of the version
        # before records an allocation and its reversal (the trigger writes their legs)
        await holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        await holder.fetchval("SELECT count(*) FROM counties")
        upgrade = asyncio.ensure_future(asyncio.to_thread(command.upgrade, alembic_config("funds", scratch), "heads"))
        await waiting_on_a_snapshot(conn, upgrade)
        for statement in OLD_WRITER:
            await writer.execute(statement)
        before |= {tuple(r) for r in await writer.fetch(TRANSFERS + " WHERE id IN ('trf_old', 'trf_old_r')")}
        await holder.execute("COMMIT")
        await upgrade

        assert await conn.fetchval("SELECT version_num FROM alembic_version") == head("funds", scratch)
        legs = await conn.fetch(AS_TRANSFERS)
        assert len(legs) == 2 * (ALLOCATIONS + 2)
        assert all(r["on_its_region"] for r in legs)
        for leg in ("out", "in"):  # each transfer once on each side, with every figure it had
            assert {tuple(r)[:11] for r in legs if r["leg"] == leg} == before
        assert await conn.fetchval("SELECT to_regclass('transfers')") is None
        assert await primary_keys(conn, "funds", ["accounts", "transfer_legs"]) == {
            "accounts": ["region_code", "id"], "transfer_legs": ["region_code", "transfer_id", "leg", "created_at"]}
        assert await conn.fetchval("SELECT convalidated FROM pg_constraint WHERE conname = 'fk_transfer_legs_account'")
        # `fundtrack doctor` and `repair-summaries` read the legs: the fill kept no account's dates (the treasury's,
        # the pool's and the fund's moved; the budget's did not)
        assert (await summaries.drift(conn), await summaries.repair(conn), await summaries.drift(conn)) == (3, 3, 0)
        # nothing of the revision's own is left, and the legs are append-only
        assert await conn.fetch(r"SELECT relname FROM pg_class WHERE relname LIKE '%\_new' "
                                "AND relnamespace = 'funds'::regnamespace") == []
        assert await conn.fetch("SELECT proname FROM pg_proc WHERE proname = 'transfers_write_legs'") == []
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("UPDATE transfer_legs SET amount_fen = 1 WHERE transfer_id = 'trf_old'")
        # the version before can no longer record a transfer
        with pytest.raises(asyncpg.UndefinedTableError):
            await writer.execute(OLD_WRITER[0].replace("trf_old", "trf_older"))
        # run again, as after a failure part way: each step finds what the first run did
        await upgrade_again(scratch, "funds", "funds_0022_county_keys")
        assert await conn.fetchval("SELECT count(*) FROM transfer_legs") == 2 * (ALLOCATIONS + 2)
    finally:
        await exits.aclose()
        for c in (conn, writer, holder):
            await c.close()
    assert await asyncio.to_thread(differences, scratch, ("funds",)) == []
