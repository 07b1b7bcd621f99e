"""Issue #15: the arrangements, payments, reversals and project ledgers are keyed by county code (deploy/SCALING.md),
so that on Citus a county's spending and its corrections are on one shard. The service writes each with its county (a
reversal with the region answering for the record it reverses); the keys refuse a second row of one key and take the
same id in another county; and funds_0022 gives a database in use these keys, filling the reversals' county from the
records they reversed, while a service of the version before goes on recording."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import asyncpg
import pytest
from alembic import command
from sqlalchemy.exc import IntegrityError

from deploy.drift import differences
from deploy.migrate import alembic_config
from services.funds import codes
from services.funds.repository import reversals
from services.funds.repository.unique import Duplicate
from services.kernel.db import create_engine, plain_url, session_factory
from services.kernel.ids import new_id
from tests.conftest import Api
from tests.county_keys import filling_leftovers, head, upgrade_again, waiting_on_a_snapshot
from tests.funds.site import Site
from tests.platform import before_baseline
from tests.stack import TestDatabase


async def test_the_service_keys_each_record_by_its_county_and_a_reversal_by_the_records_region(
    site: Site, db: asyncpg.Pool, anonymous: Api
) -> None:
    w = site.world
    project_id = await site.project("in_progress")
    first = await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 50_000))
    second = await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 40_000))
    paid = await w.fin_pilot.post("/funds/disbursements", json=site.payment(project_id, 30_000))
    assert [r.status_code for r in (first, second, paid)] == [201, 201, 201], (first.text, second.text, paid.text)
    allocated = await w.allocate(1_000, to=site.county)
    assert allocated.status_code == 201, allocated.text
    reversed_ = {}
    for api, record in ((w.fin_pilot, paid), (w.fin_pilot, second), (w.fin_province, allocated)):
        done = await api.post("/funds/reversals", json={"target_id": record.json()["id"], "reason": "冲正"})
        assert done.status_code == 201, done.text
        reversed_[record.json()["id"]] = done.json()["id"]

    ids = [first.json()["id"], second.json()["id"]]
    assert await db.fetch("SELECT county_code, id FROM funds.arrangements WHERE project_id = $1 ORDER BY id",
                          project_id) == [(site.county, i) for i in sorted(ids)]
    assert await db.fetchval("SELECT county_code FROM funds.disbursements WHERE id = $1",
                             paid.json()["id"]) == site.county
    # a payment's and an arrangement's reversal are in their county; an allocation's in the issuing region's
    rows = await db.fetch("SELECT target_id, county_code, id FROM funds.reversals WHERE target_id = ANY($1::text[])",
                          list(reversed_))
    assert {r["target_id"]: (r["county_code"], r["id"]) for r in rows} == {
        paid.json()["id"]: (site.county, reversed_[paid.json()["id"]]),
        second.json()["id"]: (site.county, reversed_[second.json()["id"]]),
        allocated.json()["id"]: (w.province, reversed_[allocated.json()["id"]])}
    # one ledger row for the project, in its county, less the reversed arrangement (by (county_code, project_id))
    assert await db.fetch("SELECT county_code, arranged_fen FROM funds.project_ledgers WHERE project_id = $1",
                          project_id) == [(site.county, 50_000)]
    # the budget headroom came back: 1,000,000 budget, 50,000 arranged
    assert (await w.fin_pilot.post("/funds/arrangements",
                                   json=site.arrangement(project_id, 950_000))).status_code == 201
    again = await w.fin_pilot.post("/funds/reversals", json={"target_id": paid.json()["id"], "reason": "again"})
    assert again.status_code == 409 and again.json()["code"] == codes.ALREADY_REVERSED
    # U2 reads the ledger and the payments by the project's id alone, net of the reversed payment
    page = (await anonymous.get(f"/public/projects/{project_id}")).json()
    assert (page["arranged_fen"], page["paid_fen"]) == (1_000_000, 0)


ROWS = {  # a row of each table by (its id, its county): the id is the project's for a ledger
    "arrangements": "INSERT INTO funds.arrangements (id, county_code, project_id, amount_fen, arranged_on, "
                    "created_by) VALUES ($1, $2, 'prj_k', 1, '2018-01-01', 't')",
    "disbursements": "INSERT INTO funds.disbursements (id, project_id, county_code, amount_fen, voucher_no, "
                     "payee_kind, payee_id, payee_name, payee_account_no, paid_on, created_by) VALUES ($1, 'prj_k', "
                     "$2, 1, md5(random()::text), 'household', 'h', 'n', 'a', '2018-01-01', 't')",
    "reversals": "INSERT INTO funds.reversals (id, county_code, target_id, target_kind, reason, reversed_on, "
                 "created_by) VALUES ($1, $2, md5(random()::text), 'disbursement', 'r', '2018-01-01', 't')",
    "project_ledgers": "INSERT INTO funds.project_ledgers (project_id, county_code) VALUES ($1, $2)",
}


@pytest.mark.parametrize("table", sorted(ROWS))
async def test_a_key_takes_one_row_per_county_and_id(table: str, db: asyncpg.Pool) -> None:
    key = f"k_{uuid.uuid4().hex}"
    async with db.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:  # (rolled back: nothing recorded can be deleted)
            assert await conn.execute(ROWS[table], key, "430523") == "INSERT 0 1"
            assert await conn.execute(ROWS[table], key, "430524") == "INSERT 0 1"  # another county: its own key
            with pytest.raises(asyncpg.UniqueViolationError, match=f"{table}_pkey"):
                async with conn.transaction():
                    await conn.execute(ROWS[table], key, "430523")
        finally:
            await transaction.rollback()


async def test_a_record_is_reversed_once_in_its_county(db: asyncpg.Pool) -> None:
    insert = ("INSERT INTO funds.reversals (id, county_code, target_id, target_kind, reason, reversed_on, created_by) "
              "VALUES (md5(random()::text), '430523', $1, 'disbursement', 'r', '2018-01-01', 't')")
    target = f"dsb_{uuid.uuid4().hex[:20]}"
    async with db.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:
            assert await conn.execute(insert, target) == "INSERT 0 1"
            assert await conn.execute(insert, f"{target}_other") == "INSERT 0 1"  # another record: taken
            with pytest.raises(asyncpg.UniqueViolationError, match="uq_reversals_target"):
                async with conn.transaction():
                    await conn.execute(insert, target)
        finally:
            await transaction.rollback()


# ----------------------------------------------------------------------------------------- the migration, on data

# 300 projects, 1,000 arrangements, 12,000 payments, every second payment and fourth arrangement reversed: 6,253
# reversals, two batches of county_keys.BATCH (5,000). bench/funds_county_keys.py fills a province's size with these.
SIZES = {"projects": 300, "arrangements": 1_000, "payments": 12_000, "payments_per_reversal": 2}
REVERSED = SIZES["payments"] // SIZES["payments_per_reversal"] + SIZES["arrangements"] // 4 + 3
PROJECT_COUNTY = "CASE WHEN {p} % 3 = 0 THEN '430523' ELSE '430524' END"
FILL_0021 = [  # str.format(**SIZES)
    "INSERT INTO fund_sources (code, name, level, integrable) VALUES ('C01', '中央财政专项扶贫资金', 'central', true)",
    """
    INSERT INTO appropriations (id, fund_source, fiscal_year, region_code, amount_fen, doc_no, appropriated_on,
                                created_by)
    VALUES ('apr_1', 'C01', 2018, '430000', 10000000, '湘财预〔2018〕1号', '2018-01-02', 't')
    """,
    """
    INSERT INTO allocations (id, fund_source, fiscal_year, from_region, to_region, amount_fen, doc_no, issued_on,
                             tasks, destination_kind, created_by)
    VALUES ('alc_1', 'C01', 2018, '430000', '430500', 500000, '湘财农指〔2018〕1号', '2018-02-01', '[]', 'fund', 't'),
           ('alc_2', 'C01', 2018, '430500', '430523', 300000, '邵财农指〔2018〕1号', '2018-02-05', '[]', 'pool', 't')
    """,
    f"""
    INSERT INTO project_ledgers (project_id, county_code, arranged_fen)
    SELECT 'prj_' || p, {PROJECT_COUNTY.format(p="p")}, 1000 FROM generate_series(0, {{projects}} - 1) p
    """,
    f"""
    INSERT INTO arrangements (id, county_code, project_id, amount_fen, arranged_on, created_by)
    SELECT 'arr_' || lpad(i::text, 8, '0'), {PROJECT_COUNTY.format(p="(i % {projects})")},
           'prj_' || i % {{projects}}, 1000, date '2018-03-01', 't'
    FROM generate_series(1, {{arrangements}}) i
    """,
    f"""
    INSERT INTO disbursements (id, project_id, county_code, amount_fen, voucher_no, payee_kind, payee_id, payee_name,
                               payee_account_no, paid_on, created_by)
    SELECT 'dsb_' || lpad(i::text, 8, '0'), 'prj_' || i % {{projects}}, {PROJECT_COUNTY.format(p="(i % {projects})")},
           100, 'V' || i, 'household', 'H' || i, '户主', '6217', date '2018-04-01', 't'
    FROM generate_series(1, {{payments}}) i
    """,
    """
    INSERT INTO reversals (id, target_id, target_kind, reason, reversed_on, created_by)
    SELECT 'rev_' || substr(id, 5), id, 'disbursement', '重复录入', date '2018-04-05', 't' FROM disbursements
    WHERE substr(id, 5)::int % {payments_per_reversal} = 0
    UNION ALL SELECT 'rev_a' || substr(id, 5), id, 'arrangement', '安排错误', date '2018-03-05', 't' FROM arrangements
    WHERE substr(id, 5)::int % 4 = 0
    UNION ALL SELECT 'rev_l' || id, id, 'allocation', '错拨', date '2018-02-10', 't' FROM allocations
    UNION ALL SELECT 'rev_p' || id, id, 'appropriation', '错拨', date '2018-01-10', 't' FROM appropriations
    """,
]
# each reversal against the record it reversed, through the region that answers for it
ANSWERING = """
    SELECT count(*) FROM reversals r WHERE r.county_code = CASE r.target_kind
        WHEN 'disbursement' THEN (SELECT d.county_code FROM disbursements d WHERE d.id = r.target_id)
        WHEN 'arrangement' THEN (SELECT a.county_code FROM arrangements a WHERE a.id = r.target_id)
        WHEN 'allocation' THEN (SELECT l.from_region FROM allocations l WHERE l.id = r.target_id)
        WHEN 'appropriation' THEN (SELECT p.region_code FROM appropriations p WHERE p.id = r.target_id) END
"""
# what a funds service of the version before records while the revision runs: no county on a reversal, the project
# ledger upserted on its old key
OLD_WRITER = [
    """INSERT INTO disbursements (id, project_id, county_code, amount_fen, voucher_no, payee_kind, payee_id, payee_name,
                                  payee_account_no, paid_on, created_by)
       VALUES ('dsb_old', 'prj_3', '430523', 100, 'V-old', 'household', 'H-old', '户主', '6217', '2018-05-01',
               'old')""",
    """INSERT INTO reversals (id, target_id, target_kind, reason, reversed_on, created_by)
       VALUES ('rev_old', 'dsb_old', 'disbursement', '冲正', '2018-05-02', 'old')""",
    """INSERT INTO reversals (id, target_id, target_kind, reason, reversed_on, created_by)
       VALUES ('rev_old_a', 'arr_00000001', 'arrangement', '冲正', '2018-05-02', 'old')""",
    """INSERT INTO project_ledgers (project_id, county_code) VALUES ('prj_1', '430524')
       ON CONFLICT (project_id) DO UPDATE SET county_code = excluded.county_code RETURNING arranged_fen""",
]
KEY_COLUMNS = """
    SELECT c.relname, array_agg(a.attname::text ORDER BY k.n) FROM pg_index i
    JOIN pg_class c ON c.oid = i.indrelid AND c.relnamespace = 'funds'::regnamespace
    CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
    WHERE (i.indisprimary OR i.indisunique) AND c.relname = ANY($1::text[]) GROUP BY c.relname, i.indexrelid
"""
KEYS = {"arrangements": [["county_code", "id"]],
        "disbursements": [["county_code", "id"], ["county_code", "voucher_no"]],
        "reversals": [["county_code", "id"], ["county_code", "target_id"]],
        "project_ledgers": [["county_code", "project_id"]]}


async def test_funds_0022_keys_a_database_with_data_and_fills_each_reversals_county(scratch: str) -> None:
    url = plain_url(scratch)
    conn, writer, holder = [await asyncpg.connect(url) for _ in range(3)]
    try:
        await before_baseline.restore_at(conn, scratch, "funds", "funds_0021_duplicates_since")
        for c in (writer, holder):
            await c.execute("SET search_path = funds")
        await before_baseline.fill(conn, FILL_0021, SIZES)
        assert await conn.fetchval("SELECT count(*) FROM reversals") == REVERSED

        # a snapshot held open stops the revision in its first CONCURRENTLY build: meanwhile a service of the version
        # before records a payment, its reversal and an arrangement's (no county on them) and upserts a ledger
        await holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        await holder.fetchval("SELECT count(*) FROM counties")
        upgrade = asyncio.ensure_future(asyncio.to_thread(command.upgrade, alembic_config("funds", scratch), "heads"))
        await waiting_on_a_snapshot(conn, upgrade)
        for statement in OLD_WRITER:
            await writer.execute(statement)
        await holder.execute("COMMIT")
        await upgrade

        # upgraded to the head: funds_0022, then funds_0023 (the ledger's legs, tests/funds/test_transfer_legs.py)
        assert await conn.fetchval("SELECT version_num FROM alembic_version") == head("funds", scratch)
        assert await conn.fetchval("SELECT count(*) FROM reversals") == REVERSED + 2
        assert await conn.fetchval(ANSWERING) == REVERSED + 2
        assert await conn.fetchval("SELECT count(DISTINCT county_code) FROM reversals") == 4  # 430000 and 430500 too
        assert dict(await conn.fetch("SELECT id, county_code FROM reversals WHERE created_by = 'old'")) == {
            "rev_old": "430523", "rev_old_a": "430524"}
        found: dict[str, list[list[str]]] = {}
        for table, columns in await conn.fetch(KEY_COLUMNS, list(KEYS)):
            found.setdefault(table, []).append(columns)
        assert {t: sorted(k) for t, k in found.items()} == KEYS
        # nothing of the revision's own is left, and the append-only guards are on again
        assert await filling_leftovers(conn) == []
        assert await conn.fetch(r"SELECT relname FROM pg_class WHERE relname LIKE '%\_new' "
                                "AND relnamespace = 'funds'::regnamespace") == []
        assert await conn.fetch("SELECT tgname FROM pg_trigger WHERE tgname LIKE '%append_only' "
                                "AND tgrelid = ANY($1::regclass[]) AND tgenabled <> 'O'",
                                ["funds.reversals", "funds.arrangements", "funds.disbursements"]) == []
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("UPDATE reversals SET reason = 'x' WHERE id = 'rev_old'")
        # the new keys refuse a record reversed twice, and the version before (no county) can no longer record one
        with pytest.raises(asyncpg.UniqueViolationError, match="uq_reversals_target"):
            await conn.execute("INSERT INTO reversals (id, county_code, target_id, target_kind, reason, reversed_on, "
                               "created_by) VALUES ('rev_x', '430523', 'dsb_old', 'disbursement', 'r', '2018-06-01', "
                               "'t')")
        with pytest.raises(asyncpg.NotNullViolationError):
            await writer.execute(OLD_WRITER[2].replace("rev_old_a", "rev_old_b").replace("00000001", "00000002"))
        # run again, as after a failure part way: each step finds what the first run did
        await upgrade_again(scratch, "funds", "funds_0021_duplicates_since")
        assert await conn.fetchval(ANSWERING) == REVERSED + 2
    finally:
        for c in (conn, writer, holder):
            await c.close()
    assert await asyncio.to_thread(differences, scratch, ("funds",)) == []


@pytest.mark.filterwarnings("ignore:Column 'reversals.county_code' is marked as a member of the primary key")
async def test_a_reversal_refused_for_another_reason_than_its_record_reversed_is_not_answered_as_a_duplicate(
    site: Site, database: TestDatabase
) -> None:
    """repository.unique.as_duplicate: only a unique index's refusal is `Duplicate` (409 ALREADY_REVERSED); a
    reversal without its county (a funds service of the version before funds_0022, once the filling trigger is
    gone) is refused by NOT NULL, and that refusal is raised as it is, not answered "already reversed". Nothing is
    committed (rolled back)."""
    engine = create_engine("funds", url=database.url, pool_size=1)
    values = {"target_kind": "disbursement", "reason": "r", "reversed_on": date(2026, 1, 5), "created_by": "t"}
    target = f"dsb_{uuid.uuid4().hex[:20]}"
    try:
        async with session_factory(engine)() as session:
            await reversals.insert_reversal(session, county_code="530102", id=new_id("rev"), target_id=target,
                                            **values)
            with pytest.raises(Duplicate):  # the same record again: the unique index
                async with session.begin_nested():
                    await reversals.insert_reversal(session, county_code="530102", id=new_id("rev"),
                                                    target_id=target, **values)
            with pytest.raises(IntegrityError) as refused:  # no county: NOT NULL, not a duplicate
                async with session.begin_nested():
                    await reversals.insert_reversal(session, id=new_id("rev"), target_id=f"{target}x", **values)
            assert not isinstance(refused.value, Duplicate) and "county_code" in str(refused.value)
            await session.rollback()
    finally:
        await engine.dispose()
