"""Issue #15: the roster and its status history are keyed by the county code (deploy/SCALING.md), so that on Citus a
county's households and their history are on one shard. A household still moves to another county when a re-import
by a principal covering both says so: its one record is updated, key included; the history keeps each state in the
county it was recorded in. The database refuses a household id twice (in two counties too) and a history row without
its county; registry_0013 gives a database in use these keys, filling the county of the history recorded before from
its household while a service of the version before goes on writing."""

from __future__ import annotations

import asyncio
import threading
import uuid

import asyncpg
import pytest
from alembic import command

from deploy.drift import differences
from deploy.migrate import alembic_config
from services.kernel.db import plain_url
from tests.conftest import Api
from tests.county_keys import filling_leftovers, head, primary_keys, upgrade_again
from tests.platform import before_baseline
from tests.registry.api import import_csv
from tests.registry.factory import csv_body, new_county, row

COUNTIES_OF = "SELECT county_code FROM registry.households WHERE household_id = $1"
HISTORY_OF = ("SELECT county_code, status FROM registry.household_status_history WHERE household_id = $1 "
              "ORDER BY effective_on, id")


async def test_a_reimport_moves_a_household_to_another_county_keeping_one_record_and_its_history(
    admin: Api, db: asyncpg.Pool
) -> None:
    before, after = new_county(), new_county()
    household = row(before)
    assert (await import_csv(admin, csv_body(household))).json()["imported"] == 1
    moved = row(after, household_id=household.household_id, head_id_number=household.head_id_number,
                status="exited")
    # alone in its file: the chunk is tried straight into the roster first (a COPY), which the household's id refuses
    response = await import_csv(admin, csv_body(moved))
    assert response.status_code == 200, response.text
    assert (response.json()["imported"], response.json()["updated"]) == (0, 1)
    assert [r["county_code"] for r in await db.fetch(COUNTIES_OF, household.household_id)] == [after]
    # the registration state in the county it was in, the change in the county it moved to
    assert [tuple(r) for r in await db.fetch(HISTORY_OF, household.household_id)] == [
        (before, "poor"), (after, "exited")]
    detail = (await admin.get(f"/registry/households/{household.household_id}")).json()
    assert (detail["county_code"], [s["status"] for s in detail["status_history"]]) == (after, ["poor", "exited"])
    pages = {c: (await admin.get("/registry/households", params={"county": c})).json()["items"]
             for c in (before, after)}
    assert {c: [h["household_id"] for h in items] for c, items in pages.items()} == {
        before: [], after: [household.household_id]}


async def test_the_keys_take_a_household_once_and_a_history_row_only_with_its_county(
    admin: Api, db: asyncpg.Pool
) -> None:
    county, other = new_county(), new_county()
    household = row(county)
    assert (await import_csv(admin, csv_body(household))).json()["imported"] == 1
    copy = ("INSERT INTO registry.households (household_id, head_id_number, head_name, county_code, village_code, "
            "status, members, village_cadre, card_account, registered_by, updated_by) "
            "SELECT $1, head_id_number, head_name, $2::varchar, $2::varchar || '101001', status, members, "
            "village_cadre, card_account, registered_by, updated_by FROM registry.households WHERE household_id = $3")
    history = ("INSERT INTO registry.household_status_history (household_id, county_code, status, village_cadre, "
               "effective_on, import_id) VALUES ($1, $2, 'exited', false, '2019-01-01', 'imp_test')")
    async with db.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:  # (rolled back: nothing recorded can be deleted)
            assert await conn.execute(copy, f"hh-{uuid.uuid4().hex[:16]}", other, household.household_id) == (
                "INSERT 0 1")  # another household, of any county: taken
            assert await conn.execute(history, household.household_id, county) == "INSERT 0 1"
            with pytest.raises(asyncpg.UniqueViolationError, match="household_ids_pkey"):
                async with conn.transaction():  # the same household in another county
                    await conn.execute(copy, household.household_id, other, household.household_id)
            with pytest.raises(asyncpg.UniqueViolationError, match="households_pkey|household_ids_pkey"):
                async with conn.transaction():  # and in its own (whichever of the two keys is checked first)
                    await conn.execute(copy, household.household_id, county, household.household_id)
            with pytest.raises(asyncpg.NotNullViolationError, match="county_code"):
                async with conn.transaction():
                    await conn.execute(history, household.household_id, None)
        finally:
            await transaction.rollback()


# ----------------------------------------------------------------------------------------- the migration, on data

HOUSEHOLDS, HISTORY_EACH = 3_000, 4  # 12,000 history rows: three batches of migrations/county_keys.BATCH (5,000)
FILL_0012 = [
    """
    INSERT INTO household_imports (id, number, principal_id, region_code, effective_on, imported, updated, unchanged,
                                   rejected)
    VALUES ('imp_1', 1, 'test', '430000', '2016-01-01', {households}, 0, 0, 0)
    """,
    "SELECT setval('household_import_numbers', 1)",
    """
    INSERT INTO households (household_id, head_id_number, head_name, county_code, village_code, status, members,
                            village_cadre, card_account, registered_by, updated_by)
    SELECT 'H' || lpad(i::text, 8, '0'), '430523198001011234', '户主', c, c || '101001', 'poor', 3, false, '6217', 1, 1
    FROM generate_series(1, {households}) AS i,
         LATERAL (SELECT CASE WHEN i % 3 = 0 THEN '430523' ELSE '430524' END) k(c)
    """,
    """
    INSERT INTO household_status_history (household_id, status, village_cadre, effective_on, import_id)
    SELECT 'H' || lpad(i::text, 8, '0'), CASE WHEN k % 2 = 0 THEN 'exited' ELSE 'poor' END, false,
           date '2016-01-01' + k * 365, 'imp_1'
    FROM generate_series(1, {households}) AS i, generate_series(0, {each} - 1) AS k
    """,
]
# what a registry of the version before writes while the revision runs: a new household, and a status change (no
# county on the history row: it does not know the column)
OLD_HOUSEHOLD = """
    INSERT INTO households (household_id, head_id_number, head_name, county_code, village_code, status, members,
                            village_cadre, card_account, registered_by, updated_by)
    VALUES ($1, '430523198001011234', '户主', '430523', '430523101001', 'poor', 3, false, '6217', 1, 1)
"""
OLD_HISTORY = ("INSERT INTO household_status_history (household_id, status, village_cadre, effective_on, import_id) "
               "VALUES ($1, 'exited', false, '2020-06-01', 'imp_old')")
# the county the row was given as it was inserted, if the table had the column then (this test's, not the writer's)
GIVEN = " RETURNING to_jsonb(household_status_history) ->> 'county_code'"
WITH_ITS_HOUSEHOLDS_COUNTY = ("SELECT count(*) FROM household_status_history x JOIN households h "
                              "ON h.county_code = x.county_code AND h.household_id = x.household_id")


async def _old_writer(url: str, upgrading: threading.Event) -> tuple[int, int]:
    """Write as the version before did until the upgrade is over, or until a write is refused for the county it
    does not write (only once the filling trigger is gone): (households written with a history row, history rows
    given their county as they were inserted)."""
    conn = await asyncpg.connect(plain_url(url))
    written, given = 0, 0
    try:
        await conn.execute("SET search_path = registry")
        while upgrading.is_set():
            household = f"W{written:08d}"
            try:
                async with conn.transaction():
                    await conn.execute(OLD_HOUSEHOLD, household)
                    county = await conn.fetchval(OLD_HISTORY + GIVEN, household)
            except asyncpg.NotNullViolationError:
                assert await conn.fetchval("SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%county_filled'") == 0
                break
            written += 1
            given += county == "430523"
            await asyncio.sleep(0.002)
    finally:
        await conn.close()
    return written, given


async def test_registry_0013_keys_a_database_with_data_by_county_while_the_version_before_writes(
    scratch: str,
) -> None:
    conn = await asyncpg.connect(plain_url(scratch))
    try:
        await before_baseline.restore_at(conn, scratch, "registry", "registry_0012_changed_since")
        await before_baseline.fill(conn, FILL_0012, {"households": HOUSEHOLDS, "each": HISTORY_EACH})
        moved = "H00000003"  # 430523's: it moves to 430524 before the upgrade (as a re-import moves it)
        await conn.execute("UPDATE households SET county_code = '430524', village_code = '430524101001' "
                           "WHERE household_id = $1", moved)

        upgrading = threading.Event()
        upgrading.set()
        writer = asyncio.create_task(_old_writer(scratch, upgrading))
        await asyncio.sleep(0.1)
        try:
            await asyncio.to_thread(command.upgrade, alembic_config("registry", scratch), "heads")
        finally:
            upgrading.clear()
            written, given = await writer
        assert given > 0  # the version before wrote while the revision ran, its rows given their county at once

        assert await conn.fetchval("SELECT version_num FROM alembic_version") == head("registry", scratch)
        rows = HOUSEHOLDS * HISTORY_EACH + written
        assert await conn.fetchval("SELECT count(*) FROM household_status_history") == rows
        assert await conn.fetchval(WITH_ITS_HOUSEHOLDS_COUNTY) == rows  # the old writer's rows too
        assert await conn.fetchval("SELECT count(*) FROM household_status_history WHERE household_id LIKE 'W%' "
                                   "AND county_code = '430523'") == written
        assert dict(await conn.fetch("SELECT county_code, count(*) FROM household_status_history "
                                     "WHERE household_id LIKE 'H%' GROUP BY 1")) == {
            "430523": (HOUSEHOLDS // 3 - 1) * HISTORY_EACH, "430524": (HOUSEHOLDS - HOUSEHOLDS // 3 + 1) * HISTORY_EACH}
        assert await conn.fetch("SELECT DISTINCT county_code FROM household_status_history WHERE household_id = $1",
                                moved) == [("430524",)]
        assert await primary_keys(conn, "registry", ["households", "household_status_history"]) == {
            "households": ["county_code", "household_id"], "household_status_history": ["county_code", "id"]}
        # nothing of the upgrade's own is left, and the append-only guard is on again
        assert await filling_leftovers(conn) == []
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("UPDATE household_status_history SET status = 'poor' WHERE household_id = $1", moved)
        # the new keys: a household once across counties, a history row only with its county
        with pytest.raises(asyncpg.UniqueViolationError, match="household_ids_pkey"):
            await conn.execute(OLD_HOUSEHOLD, "H00000001")  # 430524's
        with pytest.raises(asyncpg.NotNullViolationError, match="county_code"):
            await conn.execute(OLD_HISTORY, "H00000001")
        assert await conn.execute(  # the version after writes the county
            "INSERT INTO household_status_history (household_id, county_code, status, village_cadre, effective_on, "
            "import_id) VALUES ('H00000001', '430524', 'poor', false, '2021-01-01', 'imp_new')") == "INSERT 0 1"
        # run again, as after a failure part way: each step finds what the first run did
        await upgrade_again(scratch, "registry", "registry_0012_changed_since")
        assert await conn.fetchval("SELECT count(*) FROM household_status_history WHERE county_code IS NULL") == 0
    finally:
        await conn.close()
    assert await asyncio.to_thread(differences, scratch, ("registry",)) == []
