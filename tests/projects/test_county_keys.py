"""Issue #15: what is recorded of a project is keyed by its project's county code (deploy/SCALING.md), so that on
Citus a project and all of it are on one shard. The service writes each event, announcement, objection, resolution,
asset, share, dividend and payout with its project's county; the database refuses one that names another county
than its parent's (the composite foreign keys); and projects_0009 … gives a database in use these keys, filling the
county of the rows recorded before from their project."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from alembic import command

from deploy.drift import differences
from deploy.migrate import alembic_config
from services.kernel import clock
from services.kernel.db import plain_url
from tests.conftest import Api
from tests.county_keys import filling_leftovers, primary_keys
from tests.platform import before_baseline
from tests.projects.conftest import County
from tests.projects.factory import HAPPY_PATH, act, project_in

# each table keyed by county: how a row finds its parent (its county must be the parent's)
PARENTS = {
    "project_events": "JOIN projects.projects p ON p.county_code = t.county_code AND p.id = t.project_id",
    "announcements": "JOIN projects.projects p ON p.county_code = t.county_code AND p.id = t.project_id",
    "objections": "JOIN projects.projects p ON p.county_code = t.county_code AND p.id = t.project_id",
    "objection_resolutions": ("JOIN projects.objections o ON o.county_code = t.county_code AND o.id = t.objection_id "
                              "JOIN projects.projects p ON p.id = o.project_id"),
    "assets": "JOIN projects.projects p ON p.county_code = t.county_code AND p.id = t.project_id",
    "asset_shares": ("JOIN projects.assets a ON a.county_code = t.county_code AND a.id = t.asset_id "
                     "JOIN projects.projects p ON p.id = a.project_id"),
    "dividends": ("JOIN projects.assets a ON a.county_code = t.county_code AND a.id = t.asset_id "
                  "JOIN projects.projects p ON p.id = a.project_id"),
    "dividend_payouts": ("JOIN projects.dividends d ON d.county_code = t.county_code AND d.id = t.dividend_id "
                         "JOIN projects.assets a ON a.id = d.asset_id JOIN projects.projects p ON p.id = a.project_id"),
}
OTHER = "699999"  # a county no test uses (factory.new_county never ends in 9 twice… and 699999 is not made)


async def _counties(db: asyncpg.Pool, project_id: str) -> dict[str, set[str]]:
    """{table: the county codes of the project's rows in it}, through each table's own parent."""
    found: dict[str, set[str]] = {}
    for table, join in PARENTS.items():
        rows = await db.fetch(f"SELECT t.county_code FROM projects.{table} t {join} WHERE p.id = $1", project_id)
        found[table] = {r["county_code"] for r in rows}
    return found


async def test_the_service_writes_each_row_of_a_project_with_the_projects_county(
    county: County, anonymous: Api, db: asyncpg.Pool
) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "announced")
    raised = await anonymous.post(f"/public/announcements/{project_id}/objections", json={"text": "受益户名单有误"})
    assert raised.status_code == 201, raised.text
    resolved = await county.pm.post(f"/projects/{project_id}/objections/{raised.json()['id']}/resolve",
                                    json={"resolution": "已核实更正 / checked and corrected"})
    assert resolved.status_code == 200, resolved.text
    for action in HAPPY_PATH[3:]:
        assert (await act(county.pm, project_id, action)).status_code == 200, action
    shares = [{"household_id": h, "shares": 1} for h in county.poor]
    asset = await county.pm.post(f"/projects/{project_id}/assets", json={
        "kind": "income_generating", "value_fen": 80_000_000, "description": "村级光伏电站", "shares": shares})
    assert asset.status_code == 201, asset.text
    dividend = await county.pm.post(f"/projects/{project_id}/assets/{asset.json()['id']}/dividends",
                                    json={"amount_fen": 300, "paid_on": clock.today().isoformat()})
    assert dividend.status_code == 201, dividend.text
    assert await _counties(db, project_id) == {table: {county.code} for table in PARENTS}
    # and the rows are found through the county's keys (every row joins its parent on both columns)
    for table, join in PARENTS.items():
        assert await db.fetchval(f"SELECT count(*) FROM projects.{table} t {join} WHERE p.id = $1", project_id) > 0
    assert len((await county.pm.get(f"/projects/{project_id}")).json()["history"]) == 8
    assert (await anonymous.get(f"/public/announcements/{project_id}")).status_code == 200
    listed = (await county.pm.get(f"/projects/{project_id}/assets")).json()
    assert [(a["total_shares"], len(a["dividends"]), len(a["dividends"][0]["payouts"])) for a in listed] == [(3, 1, 3)]


ROWS = {  # a row of each table, but for its county
    "project_events": ("INSERT INTO projects.project_events (project_id, county_code, action, to_status, principal_id, "
                       "role) VALUES ($1, $2, 'test', 'draft', 'test', 'test')", "fk_project_events_project"),
    "announcements": ("INSERT INTO projects.announcements (project_id, county_code, start_on, days, scope, "
                      "principal_id) VALUES ($1, $2, '2018-02-01', 10, 'village', 'test')", "fk_announcements_project"),
    "objections": ("INSERT INTO projects.objections (id, project_id, county_code, text, channel, principal_id, role) "
                   "VALUES ('obj_' || md5(random()::text), $1, $2, 'o', 'public', 'p', 'p')", "fk_objections_project"),
    "objection_resolutions": (
        "INSERT INTO projects.objection_resolutions (objection_id, county_code, resolution, principal_id) "
        "SELECT o.id, $2, 'r', 'test' FROM projects.objections o WHERE o.project_id = $1 LIMIT 1",
        "fk_objection_resolutions_objection"),
    "assets": ("INSERT INTO projects.assets (id, project_id, county_code, kind, value_fen, description, principal_id) "
               "VALUES ('ast_' || md5(random()::text), $1, $2, 'public_benefit', 1, 'a', 't')", "fk_assets_project"),
    "asset_shares": ("INSERT INTO projects.asset_shares (asset_id, county_code, household_id, shares) "
                     "SELECT a.id, $2, 'H-test', 1 FROM projects.assets a WHERE a.project_id = $1 LIMIT 1",
                     "fk_asset_shares_asset"),
    "dividends": ("INSERT INTO projects.dividends (id, asset_id, county_code, amount_fen, paid_on, principal_id) "
                  "SELECT 'div_' || md5(random()::text), a.id, $2, 1, '2019-01-01', 't' FROM projects.assets a "
                  "WHERE a.project_id = $1 LIMIT 1", "fk_dividends_asset"),
    "dividend_payouts": ("INSERT INTO projects.dividend_payouts (dividend_id, county_code, household_id, amount_fen) "
                         "SELECT d.id, $2, 'H-test', 1 FROM projects.dividends d JOIN projects.assets a "
                         "ON a.id = d.asset_id WHERE a.project_id = $1 LIMIT 1", "fk_dividend_payouts_dividend"),
}


STATUS = {"announcements": "reviewed", "objection_resolutions": "announced"}  # (else accepted)


@pytest.mark.parametrize("table", sorted(ROWS))
async def test_a_row_naming_another_county_than_its_parents_is_refused(
    table: str, county: County, anonymous: Api, db: asyncpg.Pool
) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, STATUS.get(table, "accepted"))
    if table == "objection_resolutions":
        raised = await anonymous.post(f"/public/announcements/{project_id}/objections", json={"text": "异议"})
        assert raised.status_code == 201, raised.text
    if table in ("asset_shares", "dividends", "dividend_payouts"):  # an asset (and a dividend) to hang them on
        asset = await county.pm.post(f"/projects/{project_id}/assets", json={
            "kind": "income_generating", "value_fen": 1_000, "description": "a",
            "shares": [{"household_id": county.poor[0], "shares": 1}]})
        assert asset.status_code == 201, asset.text
        dividend = await county.pm.post(f"/projects/{project_id}/assets/{asset.json()['id']}/dividends",
                                        json={"amount_fen": 100, "paid_on": clock.today().isoformat()})
        assert dividend.status_code == 201, dividend.text
    statement, foreign_key = ROWS[table]
    async with db.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:  # (rolled back: nothing recorded can be deleted)
            assert await conn.execute(statement, project_id, county.code) == "INSERT 0 1"  # its own county: taken
            with pytest.raises(asyncpg.ForeignKeyViolationError, match=foreign_key):
                async with conn.transaction():
                    await conn.execute(statement, project_id, OTHER)
        finally:
            await transaction.rollback()


# ----------------------------------------------------------------------------------------- the migration, on data

PROJECTS, EVENTS_EACH = 1_000, 12  # 12,000 events: three batches of migrations/county_keys.BATCH (5,000)
FILL_0008 = [
    """
    INSERT INTO projects (id, county_code, village_code, name, category, budget_fen, start_on, end_on,
                          beneficiary_household_ids, benefit_mechanism, performance_targets, fund_sources,
                          responsible_unit, status, created_by)
    SELECT 'prj_' || lpad(i::text, 8, '0'), c, c || '101001', 'p' || i, 'industry', 1000000, date '2018-01-01',
           date '2018-12-31', ARRAY['H1', 'H2'], 'm', '[]', '[]', 'u', 'accepted', 'test'
    FROM generate_series(1, {projects}) AS i, LATERAL (SELECT CASE WHEN i % 3 = 0 THEN '430523' ELSE '430524' END) k(c)
    """,
    """
    INSERT INTO project_events (project_id, action, from_status, to_status, principal_id, role)
    SELECT 'prj_' || lpad(i::text, 8, '0'), 'step' || k, 'draft', 'draft', 'test', 'project_manager'
    FROM generate_series(1, {projects}) AS i, generate_series(1, {events}) AS k
    """,
    """
    INSERT INTO announcements (project_id, start_on, days, scope, principal_id)
    SELECT 'prj_' || lpad(i::text, 8, '0'), date '2018-02-01', 10, 'village', 'test'
    FROM generate_series(1, {projects}) AS i
    """,
    """
    INSERT INTO objections (id, project_id, text, channel, principal_id, role)
    SELECT 'obj_' || lpad(i::text, 8, '0'), 'prj_' || lpad(i::text, 8, '0'), 'o', 'public', 'public', 'public'
    FROM generate_series(1, {projects}, 2) AS i
    """,
    """
    INSERT INTO objection_resolutions (objection_id, resolution, principal_id)
    SELECT 'obj_' || lpad(i::text, 8, '0'), 'r', 'test' FROM generate_series(1, {projects}, 4) AS i
    """,
    """
    INSERT INTO assets (id, project_id, kind, value_fen, description, principal_id)
    SELECT 'ast_' || lpad(i::text, 8, '0'), 'prj_' || lpad(i::text, 8, '0'), 'income_generating', 1000, 'a', 'test'
    FROM generate_series(1, {projects}) AS i
    """,
    """
    INSERT INTO asset_shares (asset_id, household_id, shares)
    SELECT 'ast_' || lpad(i::text, 8, '0'), 'H' || k, 1 FROM generate_series(1, {projects}) AS i,
           generate_series(1, 3) AS k
    """,
    """
    INSERT INTO dividends (id, asset_id, amount_fen, paid_on, principal_id)
    SELECT 'div_' || lpad(i::text, 8, '0'), 'ast_' || lpad(i::text, 8, '0'), 300, date '2019-01-01', 'test'
    FROM generate_series(1, {projects}) AS i
    """,
    """
    INSERT INTO dividend_payouts (dividend_id, household_id, amount_fen)
    SELECT 'div_' || lpad(i::text, 8, '0'), 'H' || k, 100 FROM generate_series(1, {projects}) AS i,
           generate_series(1, 3) AS k
    """,
]
ROW_COUNTS = {"project_events": PROJECTS * EVENTS_EACH, "announcements": PROJECTS, "objections": PROJECTS // 2,
              "objection_resolutions": PROJECTS // 4, "assets": PROJECTS, "asset_shares": PROJECTS * 3,
              "dividends": PROJECTS, "dividend_payouts": PROJECTS * 3}
KEYS = {"project_events": ["county_code", "id"], "announcements": ["county_code", "project_id"],
        "objections": ["county_code", "id"], "objection_resolutions": ["county_code", "objection_id"],
        "projects": ["county_code", "id"], "assets": ["county_code", "id"],
        "asset_shares": ["county_code", "asset_id", "household_id"], "dividends": ["county_code", "id"],
        "dividend_payouts": ["county_code", "dividend_id", "household_id"]}


async def test_the_revisions_key_a_database_with_data_by_county_and_fill_the_county_from_the_project(
    scratch: str,
) -> None:
    conn = await asyncpg.connect(plain_url(scratch))
    try:
        await before_baseline.restore_at(conn, scratch, "projects", "projects_0008_revisions")
        await before_baseline.fill(conn, FILL_0008, {"projects": PROJECTS, "events": EVENTS_EACH})

        # a projects service of the version before records events while the series runs (it writes no county):
        # each is given its project's by the filling trigger, which stays until the series' last revision
        old_style = ("INSERT INTO project_events (project_id, action, to_status, principal_id, role) "
                     "VALUES ('prj_00000001', 'old', 'draft', 't', 't') RETURNING county_code")
        county = await conn.fetchval("SELECT county_code FROM projects WHERE id = 'prj_00000001'")
        for revision in ("projects_0009_county_keys_events", "projects_0010_keys_objections"):
            await asyncio.to_thread(command.upgrade, alembic_config("projects", scratch), revision)
            assert await conn.fetchval(old_style) == county, revision

        await asyncio.to_thread(command.upgrade, alembic_config("projects", scratch), "heads")

        for table, rows in {**ROW_COUNTS, "project_events": ROW_COUNTS["project_events"] + 2}.items():
            assert await conn.fetchval(f"SELECT count(*) FROM {table}") == rows, table
            assert await conn.fetchval(f"SELECT count(*) FROM {table} t {PARENTS[table]}") == rows, table
        assert await conn.fetchval("SELECT count(DISTINCT county_code) FROM project_events") == 2
        assert await primary_keys(conn, "projects", list(KEYS)) == KEYS
        assert await conn.fetch("SELECT conname FROM pg_constraint WHERE connamespace = 'projects'::regnamespace "
                                "AND NOT convalidated") == []
        # nothing of the upgrade's own is left, and the append-only guards are on again
        assert await filling_leftovers(conn) == []
        assert await conn.fetch("SELECT tgname FROM pg_trigger WHERE tgname LIKE '%append_only' "
                                "AND tgrelid = ANY($1::regclass[]) AND tgenabled <> 'O'",
                                [f"projects.{t}" for t in KEYS]) == []
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("UPDATE project_events SET note = 'x' WHERE id = 1")
        with pytest.raises(asyncpg.ForeignKeyViolationError, match="fk_project_events_project"):
            await conn.execute("INSERT INTO project_events (project_id, county_code, action, to_status, "
                               "principal_id, role) VALUES ('prj_00000001', '430523', 'x', 'draft', 't', 't')")
    finally:
        await conn.close()
    assert await asyncio.to_thread(differences, scratch, ("projects",)) == []
