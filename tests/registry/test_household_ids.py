"""Issue #15: a household is one across counties, kept by the directory of household ids (registry.household_ids,
services/registry/models.py `HouseholdId`) instead of a unique index on the roster's id alone, which Citus cannot
keep on a table distributed by county. The directory always equals the roster (`household_ids_differing`, which
`fundtrack doctor` runs); its key is what refuses one household in a second county; registry_0015 fills it on a
database in use while a registry of the version before registers and moves households."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import asyncpg
import pytest
from alembic import command

from deploy.doctor import household_ids_drift
from deploy.drift import differences
from deploy.migrate import alembic_config
from services.kernel.db import plain_url
from tests.conftest import Api
from tests.county_keys import as_the_version_before, head, upgrade_again
from tests.platform import before_baseline
from tests.registry.api import import_csv
from tests.registry.factory import csv_body, new_county, row
from tests.registry.test_county_keys import FILL_0012, OLD_HOUSEHOLD

DIRECTORY_OF = "SELECT county_code FROM registry.household_ids WHERE household_id = $1"


async def test_the_directory_follows_every_registration_and_move_of_an_import(admin: Api, db: asyncpg.Pool) -> None:
    county, other = new_county(), new_county()
    first = [row(county) for _ in range(3)]
    # all new: the chunk is COPYed straight into the roster
    assert (await import_csv(admin, csv_body(*first))).json()["imported"] == 3
    assert [await db.fetchval(DIRECTORY_OF, h.household_id) for h in first] == [county] * 3
    # a status change, a move to another county and a new household in one file: staged and merged
    changed = row(county, household_id=first[0].household_id, head_id_number=first[0].head_id_number,
                  status="exited")
    moved = row(other, household_id=first[1].household_id, head_id_number=first[1].head_id_number)
    new = row(other)
    response = await import_csv(admin, csv_body(changed, moved, new))
    assert (response.json()["imported"], response.json()["updated"]) == (1, 2), response.text
    assert [await db.fetchval(DIRECTORY_OF, h.household_id) for h in (*first, new)] == [county, other, county, other]
    async with db.acquire() as conn:
        assert await household_ids_drift(conn) == 0  # the whole roster, every test's households included


async def test_the_directory_refuses_a_household_in_a_second_county_and_without_it_nothing_would(
    admin: Api, db: asyncpg.Pool
) -> None:
    county, other = new_county(), new_county()
    household = row(county)
    assert (await import_csv(admin, csv_body(household))).json()["imported"] == 1
    copy = ("INSERT INTO registry.households (household_id, head_id_number, head_name, county_code, village_code, "
            "status, members, village_cadre, card_account, registered_by, updated_by) "
            "SELECT $1, head_id_number, head_name, $2::varchar, $2::varchar || '101001', status, members, "
            "village_cadre, card_account, registered_by, updated_by FROM registry.households WHERE household_id = $3")
    async with db.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:  # (rolled back: nothing recorded can be deleted)
            fresh = f"hh-{uuid.uuid4().hex[:16]}"
            assert await conn.execute(copy, fresh, other, household.household_id) == "INSERT 0 1"
            assert await conn.fetchval(DIRECTORY_OF, fresh) == other
            with pytest.raises(asyncpg.UniqueViolationError, match="household_ids_pkey"):
                async with conn.transaction():
                    await conn.execute(copy, household.household_id, other, household.household_id)
            # the roster's own key does not: with the directory's trigger off, the second county takes it
            async with conn.transaction():
                await conn.execute("ALTER TABLE registry.households DISABLE TRIGGER households_ids_insert")
                assert await conn.execute(copy, household.household_id, other, household.household_id) == (
                    "INSERT 0 1")
                # and `fundtrack doctor` sees the roster and the directory differ
                assert await household_ids_drift(conn) == 1
                await conn.execute("ALTER TABLE registry.households ENABLE TRIGGER households_ids_insert")
        finally:
            await transaction.rollback()
        assert await household_ids_drift(conn) == 0


async def test_a_directory_entry_changed_by_hand_is_what_the_doctor_reports(admin: Api, db: asyncpg.Pool) -> None:
    county, other = new_county(), new_county()
    household = row(county)
    assert (await import_csv(admin, csv_body(household))).json()["imported"] == 1
    async with db.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:
            await conn.execute("UPDATE registry.household_ids SET county_code = $2 WHERE household_id = $1",
                               household.household_id, other)
            assert await household_ids_drift(conn) == 1
        finally:
            await transaction.rollback()


# ----------------------------------------------------------------------------------------- the migration, on data

HOUSEHOLDS = 12_000  # three batches of migrations/county_keys.BATCH (5,000)
# the roster as registry_0013's test fills it, without its history (this revision does not read it)
FILL_0014 = FILL_0012[:3]
# what a registry of the version before writes while the revision runs: a new household (OLD_HOUSEHOLD), and a move
OLD_MOVE = ("UPDATE households SET county_code = '430523', village_code = '430523101001', updated_by = 1 "
            "WHERE household_id = $1")
# the indexes of the roster on the household id alone: none once the directory keeps and finds households by id
ID_ALONE = """
    SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE i.indrelid = 'households'::regclass AND i.indnatts = 1
      AND i.indkey[0] = (SELECT attnum FROM pg_attribute WHERE attrelid = i.indrelid AND attname = 'household_id')
      AND i.indpred IS NULL
"""


async def _old_writer(writer: asyncpg.Connection, upgrading: asyncio.Event) -> list[str]:
    """Register a household and move another (430524's, to 430523) as the version before does, until the upgrade is
    over; the households moved."""
    moved: list[str] = []
    n = 0
    while upgrading.is_set():
        n += 1
        household = f"H{n:08d}"
        if n % 3:  # 430524's (FILL_0014)
            async with writer.transaction():
                await writer.execute(OLD_HOUSEHOLD, f"W{n:08d}")
                await writer.execute(OLD_MOVE, household)
            moved.append(household)
        await asyncio.sleep(0.002)
    return moved


async def test_registry_0015_fills_the_directory_while_the_version_before_registers_and_moves(scratch: str) -> None:
    url = plain_url(scratch)
    conn, writer = [await asyncpg.connect(url) for _ in range(2)]
    exits = contextlib.AsyncExitStack()
    try:
        await before_baseline.restore_at(conn, scratch, "registry", "registry_0014_nonce_claims")
        await writer.execute("SET search_path = registry")
        # the writer of the version before writes as the registry's own role does (deploy/migrate.py): its rights on
        # the tables of then, none on the directory but what the revision itself gives it
        await exits.enter_async_context(as_the_version_before(conn, writer, url, "registry", "SELECT, INSERT, UPDATE"))
        await before_baseline.fill(conn, FILL_0014, {"households": HOUSEHOLDS})
        assert len(await conn.fetch(ID_ALONE)) == 1  # uq_households_household_id

        upgrading = asyncio.Event()
        upgrading.set()
        writing = asyncio.create_task(_old_writer(writer, upgrading))
        await asyncio.sleep(0.1)
        try:
            await asyncio.to_thread(command.upgrade, alembic_config("registry", scratch), "heads")
        finally:
            upgrading.clear()
            moved = await writing
        assert len(moved) > 10  # the version before wrote while the revision ran

        assert await conn.fetchval("SELECT version_num FROM alembic_version") == head("registry", scratch)
        assert await conn.fetchval("SELECT count(*) FROM household_ids") == HOUSEHOLDS + len(moved)
        assert await household_ids_drift(conn) == 0
        assert await conn.fetchval("SELECT count(*) FROM household_ids WHERE household_id = ANY($1::text[]) "
                                   "AND county_code = '430523'", moved) == len(moved)
        assert await conn.fetch(ID_ALONE) == []
        # the roster has the household in the county it moved to
        assert await conn.fetchval("SELECT county_code FROM household_records WHERE household_id = $1",
                                   moved[0]) == "430523"
        # the directory's key refuses the version before a household of another county, as the index did
        with pytest.raises(asyncpg.UniqueViolationError, match="household_ids_pkey"):
            await writer.execute(OLD_HOUSEHOLD, f"H{HOUSEHOLDS - 1:08d}")  # 430524's, not moved
        # run again, as after a failure part way: each step finds what the first run did
        await upgrade_again(scratch, "registry", "registry_0014_nonce_claims")
        assert await household_ids_drift(conn) == 0
    finally:
        await exits.aclose()
        for c in (conn, writer):
            await c.close()
    assert await asyncio.to_thread(differences, scratch, ("registry",)) == []


async def test_the_directorys_trigger_joins_by_hash_whatever_the_import_set(db: asyncpg.Pool) -> None:
    """The import turns hash and merge joins off for its own statements (repository.PREPARE); the trigger runs
    inside them, and its joins of a statement's old and new households would be nested loops: a county of 5,000
    households moved in 2.63 s instead of 0.14 s (bench/household_ids_copy.py), 28,500 in 99.5 s. The function
    sets them on for itself."""
    config = await db.fetchval("SELECT proconfig FROM pg_proc WHERE proname = 'household_ids_kept' "
                               "AND pronamespace = 'registry'::regnamespace")
    assert {"enable_hashjoin=on", "enable_mergejoin=on"} <= set(config)
