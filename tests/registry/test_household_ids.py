"""Issue #15: a household is one across counties, kept by the directory of household ids (registry.household_ids,
services/registry/models.py `HouseholdId`) instead of a unique index on the roster's id alone, which Citus cannot
keep on a table distributed by county. The directory always equals the roster (`household_ids_differing`, which
`fundtrack doctor` runs); its key is what refuses one household in a second county; registry_0015 fills it on a
database in use while a registry of the version before registers and moves households."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from alembic import command

from deploy.doctor import household_ids_drift
from deploy.drift import differences
from deploy.migrate import alembic_config
from services.kernel.db import plain_url
from tests.conftest import Api
from tests.county_keys import head, upgrade_again, waiting_on_a_snapshot
from tests.platform import before_baseline
from tests.registry.api import import_csv
from tests.registry.factory import csv_body, new_county, row

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
FILL_0014 = [
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
]
# what a registry of the version before writes while the revision runs: a new household, and a move
OLD_HOUSEHOLD = """
    INSERT INTO households (household_id, head_id_number, head_name, county_code, village_code, status, members,
                            village_cadre, card_account, registered_by, updated_by)
    VALUES ($1, '430523198001011234', '户主', '430523', '430523101001', 'poor', 3, false, '6217', 1, 1)
"""
OLD_MOVE = ("UPDATE households SET county_code = '430523', village_code = '430523101001', updated_by = 1 "
            "WHERE household_id = $1")
WRITER_ROLE = f"ft_old_registry_{uuid.uuid4().hex[:8]}"


async def test_registry_0015_fills_the_directory_while_the_version_before_registers_and_moves(scratch: str) -> None:
    url = plain_url(scratch)
    conn, writer, holder = [await asyncpg.connect(url) for _ in range(3)]
    try:
        await before_baseline.restore_at(conn, scratch, "registry", "registry_0014_nonce_claims")
        for c in (writer, holder):
            await c.execute("SET search_path = registry")
        # the writer of the version before writes as the registry's own role does (deploy/migrate.py): its rights on
        # the tables of then, none on the directory but what the revision itself gives it
        await conn.execute(f"CREATE ROLE {WRITER_ROLE} NOLOGIN")
        await conn.execute(f"GRANT USAGE ON SCHEMA registry TO {WRITER_ROLE}")
        await conn.execute(f"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA registry TO {WRITER_ROLE}")
        await writer.execute(f"SET ROLE {WRITER_ROLE}")
        await before_baseline.fill(conn, FILL_0014, {"households": HOUSEHOLDS})
        moved_before, moved_during = "H00000001", "H00000002"  # 430524's: both move to 430523
        await writer.execute(OLD_MOVE, moved_before)

        # a snapshot held open stops the revision in its CONCURRENTLY build, after the directory was filled:
        # meanwhile the version before registers a household and moves another (the triggers keep the directory)
        await holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        await holder.fetchval("SELECT count(*) FROM household_imports")
        upgrade = asyncio.ensure_future(
            asyncio.to_thread(command.upgrade, alembic_config("registry", scratch), "heads"))
        await waiting_on_a_snapshot(conn, upgrade)
        await writer.execute(OLD_HOUSEHOLD, "W00000001")
        await writer.execute(OLD_MOVE, moved_during)
        await holder.execute("COMMIT")
        await upgrade

        assert await conn.fetchval("SELECT version_num FROM alembic_version") == head("registry", scratch)
        assert await conn.fetchval("SELECT count(*) FROM household_ids") == HOUSEHOLDS + 1
        assert await household_ids_drift(conn) == 0
        assert dict(await conn.fetch("SELECT household_id, county_code FROM household_ids WHERE household_id = "
                                     "ANY($1::text[])", [moved_before, moved_during, "W00000001"])) == {
            moved_before: "430523", moved_during: "430523", "W00000001": "430523"}
        indexes = {r["indexname"]: r["indexdef"] for r in await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'households'")}
        assert "uq_households_household_id" not in indexes
        assert "UNIQUE" not in indexes["ix_households_household_id"]
        # the directory's key refuses the version before a household of another county, as the index did
        with pytest.raises(asyncpg.UniqueViolationError, match="household_ids_pkey"):
            await writer.execute(OLD_HOUSEHOLD, "H00000004")  # 430524's
        # run again, as after a failure part way: each step finds what the first run did
        await upgrade_again(scratch, "registry", "registry_0014_nonce_claims")
        assert await household_ids_drift(conn) == 0
    finally:
        for c in (conn, writer, holder):
            await c.close()
        cleanup = await asyncpg.connect(url)  # roles are the server's, not the scratch database's
        try:
            await cleanup.execute(f"DROP OWNED BY {WRITER_ROLE}")
            await cleanup.execute(f"DROP ROLE IF EXISTS {WRITER_ROLE}")
        finally:
            await cleanup.close()
    assert await asyncio.to_thread(differences, scratch, ("registry",)) == []
