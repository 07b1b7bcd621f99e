"""Appropriations, allocations (F1, direction, jurisdiction, overdraft, duplicate documents, idempotency, batch)
and reversals, through the gateway."""

from __future__ import annotations

import uuid

import asyncpg

from services.funds import codes
from services.funds.repository import summaries
from tests.funds.world import World, doc


async def test_appropriation_is_the_way_money_enters(world: World) -> None:
    response = await world.appropriate(1_000_000)
    assert response.status_code == 201, response.text
    assert response.json()["id"].startswith("apr_")
    assert await world.balances(world.province) == {("treasury", world.source, ""): 1_000_000}
    outside = await world.fin_city.post("/funds/appropriations", json={
        "fund_source": world.source, "fiscal_year": 2018, "region_code": world.province, "amount_fen": 5,
        "doc_no": doc()})
    assert outside.status_code == 403 and outside.json()["code"] == "NOT_IN_JURISDICTION"


async def test_integrable_money_to_a_pilot_county_lands_in_its_pool(world: World) -> None:
    assert (await world.appropriate(1_000_000)).status_code == 201
    pooled = await world.allocate(300_000, to=world.pilot)
    assert pooled.status_code == 201, pooled.text
    assert pooled.json()["destination_account"] == "pool"
    assert (await world.allocate(200_000, to=world.poor)).json()["destination_account"] == "fund"
    assert (await world.allocate(100_000, to=world.city)).json()["destination_account"] == "fund"
    assert await world.balances(world.pilot) == {("pool", world.source, ""): 300_000}
    assert await world.balances(world.poor) == {("fund", world.source, ""): 200_000}
    assert await world.balances(world.province) == {("treasury", world.source, ""): 400_000}
    # The city passes its money on down; non-integrable money never reaches a pool (F7).
    assert (await world.allocate(60_000, api=world.fin_city, frm=world.city, to=world.pilot)).status_code == 201
    assert await world.balances(world.city) == {("fund", world.source, ""): 40_000}
    assert (await world.appropriate(50_000, source=world.plain)).status_code == 201
    plain = await world.allocate(50_000, to=world.pilot, source=world.plain)
    assert plain.json()["destination_account"] == "fund"
    assert await world.balances(world.pilot) == {("pool", world.source, ""): 360_000,
                                                 ("fund", world.plain, ""): 50_000}


async def test_f1_block_grant_may_not_designate_a_project(world: World) -> None:
    assert (await world.appropriate(1_000_000)).status_code == 201
    refused = await world.allocate(1_000, to=world.pilot, designated_project_id="prj_x")
    assert refused.status_code == 422
    assert refused.json()["code"] == codes.BLOCK_GRANT_DESIGNATED_PROJECT
    assert refused.json()["rule"] == "F1" and "F1" in refused.json()["detail"]
    assert refused.json()["field"] == "designated_project_id"
    assert await world.balances(world.pilot) == {}  # nothing moved
    # Not a block grant: a poor county outside the pilot, a rich county, or non-integrable money.
    assert (await world.allocate(1_000, to=world.poor, designated_project_id="prj_x")).status_code == 201
    assert (await world.allocate(1_000, to=world.rich, designated_project_id="prj_x")).status_code == 201
    assert (await world.appropriate(1_000, source=world.plain)).status_code == 201
    assert (await world.allocate(1_000, to=world.pilot, source=world.plain,
                                 designated_project_id="prj_x")).status_code == 201
    assert await world.balances(world.pilot) == {("fund", world.plain, ""): 1_000}


async def test_f1_block_grant_may_not_attach_unrelated_tasks(world: World) -> None:
    assert (await world.appropriate(1_000_000)).status_code == 201
    tasks = [{"text": "用于产业扶贫", "poverty_related": True}, {"text": "修建办公楼", "poverty_related": False}]
    refused = await world.allocate(1_000, to=world.pilot, tasks=tasks)
    assert refused.status_code == 422
    assert refused.json()["code"] == codes.BLOCK_GRANT_UNRELATED_TASK
    assert refused.json()["field"] == "tasks.1.poverty_related" and refused.json()["rule"] == "F1"
    assert await world.balances(world.pilot) == {}  # nothing moved
    allowed = await world.allocate(1_000, to=world.pilot, tasks=tasks[:1])
    assert allowed.status_code == 201 and allowed.json()["tasks"] == tasks[:1]
    assert await world.balances(world.pilot) == {("pool", world.source, ""): 1_000}
    assert (await world.allocate(1_000, to=world.rich, tasks=tasks)).status_code == 201


async def test_direction_only_downwards(world: World) -> None:
    assert (await world.appropriate(1_000_000)).status_code == 201
    assert (await world.allocate(1_000, to=world.pilot, frm=world.city, api=world.fin_city)).status_code == 409
    other_city = "98" if world.city[2:4] == "99" else "99"  # the world's city may itself be xx99
    for frm, to, api in (
        (world.province, world.province, world.fin_province),  # to itself
        (world.province, "110000", world.fin_province),  # sideways, another province
        (world.province, "110101", world.fin_province),  # a county of another province
        (world.city, world.province, world.fin_city),  # upwards
        (world.city, world.province[:2] + other_city + "01", world.fin_city),  # a county of another city
        (world.pilot, world.pilot[:4] + "99", world.fin_pilot),  # a county has nothing below it
    ):
        response = await world.allocate(1_000, frm=frm, to=to, api=api)
        assert response.status_code == 422, (frm, to, response.text)
        assert response.json()["code"] == codes.ALLOCATION_DIRECTION


async def test_caller_must_cover_the_issuing_region(world: World) -> None:
    assert (await world.appropriate(1_000_000)).status_code == 201
    refused = await world.allocate(1_000, api=world.fin_city)  # from the province, by the city
    assert refused.status_code == 403 and refused.json()["code"] == "NOT_IN_JURISDICTION"
    assert await world.balances(world.pilot) == {}


async def test_no_overdraft(world: World) -> None:
    assert (await world.appropriate(10_000)).status_code == 201
    assert (await world.allocate(6_000)).status_code == 201
    refused = await world.allocate(4_001)
    assert refused.status_code == 409 and refused.json()["code"] == codes.INSUFFICIENT_FUNDS
    assert (await world.allocate(4_000)).status_code == 201
    assert await world.balances(world.province) == {("treasury", world.source, ""): 0}
    assert await world.balances(world.pilot) == {("pool", world.source, ""): 10_000}


async def test_duplicate_document(world: World, db: asyncpg.Pool) -> None:
    assert (await world.appropriate(10_000)).status_code == 201
    body = world.allocation(1_000)
    assert (await world.fin_province.post("/funds/allocations", json=body)).status_code == 201
    again = await world.fin_province.post("/funds/allocations", json={**body, "amount_fen": 2_000})
    assert again.status_code == 409 and again.json()["code"] == codes.DUPLICATE_DOCUMENT
    # The same document number for another fund source is another document.
    assert (await world.appropriate(10_000, source=world.plain)).status_code == 201
    other = await world.fin_province.post("/funds/allocations", json={**body, "fund_source": world.plain})
    assert other.status_code == 201
    count = await db.fetchval("SELECT count(*) FROM funds.allocations WHERE doc_no = $1", body["doc_no"])
    assert count == 2
    assert await world.balances(world.province) == {("treasury", world.source, ""): 9_000,
                                                    ("treasury", world.plain, ""): 9_000}


async def test_idempotent_retry_returns_the_first_answer(world: World, db: asyncpg.Pool) -> None:
    assert (await world.appropriate(10_000)).status_code == 201
    body = world.allocation(1_000)
    headers = {"Idempotency-Key": f"alloc-{uuid.uuid4().hex}"}
    first = await world.fin_province.post("/funds/allocations", json=body, headers=headers)
    second = await world.fin_province.post("/funds/allocations", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    changed = await world.fin_province.post("/funds/allocations", json={**body, "amount_fen": 2}, headers=headers)
    assert changed.status_code == 409 and changed.json()["code"] == "IDEMPOTENCY_CONFLICT"
    assert await db.fetchval("SELECT count(*) FROM funds.allocations WHERE doc_no = $1", body["doc_no"]) == 1
    assert await world.balances(world.pilot) == {("pool", world.source, ""): 1_000}


async def test_allocation_reads(world: World) -> None:
    assert (await world.appropriate(10_000)).status_code == 201
    ids = [(await world.allocate(100 + i)).json()["id"] for i in range(3)]
    one = await world.inspector.get(f"/funds/allocations/{ids[0]}")
    assert one.status_code == 200 and one.json()["amount_fen"] == 100
    page = await world.fin_province.get("/funds/allocations", params={"fund_source": world.source, "limit": 2})
    assert page.status_code == 200
    assert [a["id"] for a in page.json()["items"]] == [ids[2], ids[1]]
    rest = await world.fin_province.get("/funds/allocations", params={"fund_source": world.source, "limit": 2,
                                                                      "cursor": page.json()["next_cursor"]})
    assert [a["id"] for a in rest.json()["items"]] == [ids[0]] and rest.json()["next_cursor"] is None
    outside = await world.fin_pilot.get(f"/funds/allocations/{ids[0]}")
    assert outside.status_code == 200  # the receiving county sees what it received
    other = await world.fin_city.get("/funds/allocations", params={"fund_source": world.source})
    assert len(other.json()["items"]) == 3  # the city covers the receiving county
    assert (await world.allocate(5, to=world.rich)).status_code == 201
    mine = await world.fin_pilot.get("/funds/allocations", params={"fund_source": world.source})
    assert {a["to_region"] for a in mine.json()["items"]} == {world.pilot}  # not the other county's
    assert (await world.fin_city.get("/funds/balances", params={"region": world.province})).status_code == 403


async def test_last_outflow_and_inflow_kept_with_the_balance_are_the_latest_transfers(
    world: World, db: asyncpg.Pool,
) -> None:
    """accounts.last_out_on and last_in_on (what F3 and the progress report read) always equal the latest dates of
    a transfer out of and into the account: after a batch that passes money through a city (its balance unchanged,
    an outflow and an inflow all the same), an allocation dated before an earlier one (the later date stays), and a
    reversal. Checked over every account of the database."""
    assert (await world.appropriate(100_000)).status_code == 201
    through = [world.allocation(30_000, to=world.city, on="2018-03-01"),
               world.allocation(30_000, frm=world.city, to=world.rich, on="2018-03-02")]
    done = await world.fin_province.post("/funds/allocations:batch", json={"items": through})
    assert done.status_code == 201, done.text
    assert await world.balances(world.city) == {("fund", world.source, ""): 0}
    late = await world.allocate(5_000, to=world.poor, on="2018-05-01")
    early = await world.allocate(5_000, to=world.poor, on="2018-02-15")
    assert late.status_code == early.status_code == 201
    undo = await world.fin_province.post("/funds/reversals", json={"target_id": early.json()["id"], "reason": "错拨"})
    assert undo.status_code == 201, undo.text
    last_out = {r["region_code"]: str(r["last_out_on"]) for r in await db.fetch(
        "SELECT region_code, last_out_on FROM funds.accounts WHERE fund_source = $1 AND kind IN ('treasury', 'fund')"
        " AND region_code IN ($2, $3)", world.source, world.province, world.city)}
    assert last_out == {world.province: "2018-05-01", world.city: "2018-03-02"}
    last_in = {r["region_code"]: str(r["last_in_on"]) for r in await db.fetch(
        "SELECT region_code, last_in_on FROM funds.accounts WHERE fund_source = $1 AND kind IN ('fund', 'pool')"
        " AND region_code IN ($2, $3)", world.source, world.city, world.poor)}
    assert last_in == {world.city: "2018-03-01", world.poor: "2018-05-01"}  # 2018-02-15 came in later: not later
    assert [dict(r) for r in await db.fetch(summaries.DRIFT)] == []  # every account of the database


async def test_dates_left_behind_by_an_older_process_are_found_and_repaired(world: World, db: asyncpg.Pool) -> None:
    """An upgrade's window: a funds process older than its schema moves the balance, not the new dates. `fundtrack
    doctor` counts the accounts whose dates differ from their transfers; the repair moves them forward, and leaves
    the others as they are."""
    assert (await world.appropriate(100_000)).status_code == 201
    moved = await world.allocate(7_000, to=world.poor, on="2018-04-01")
    assert moved.status_code == 201, moved.text
    async with db.acquire() as conn:
        assert await summaries.drift(conn) == 0
        kept = await conn.fetchrow(
            "SELECT id, last_in_on, last_out_on FROM funds.accounts WHERE region_code = $1 AND fund_source = $2"
            " AND kind IN ('fund', 'pool') AND last_in_on IS NOT NULL", world.poor, world.source)
        assert kept is not None
        await conn.execute("UPDATE funds.accounts SET last_in_on = NULL WHERE id = $1", kept["id"])
        assert await summaries.drift(conn) == 1
        assert await summaries.repair(conn) == 1
        assert await summaries.drift(conn) == 0
        assert await conn.fetchval("SELECT last_in_on FROM funds.accounts WHERE id = $1", kept["id"]) == (
            kept["last_in_on"])
        assert await summaries.repair(conn) == 0  # nothing behind: nothing written


async def test_balances_of_a_county_and_of_its_city_a_page_at_a_time(world: World) -> None:
    """GET /funds/balances by the cursor, one account a page: a county's (its prefix is its whole code, asked as an
    equality) has its own accounts and none of its neighbours'; its city's (a prefix) has every county's under it."""
    for source in (world.source, world.plain):
        assert (await world.appropriate(10_000, source=source)).status_code == 201
        for county in (world.pilot, world.poor, world.rich):
            assert (await world.allocate(1_000, to=county, source=source)).status_code == 201

    async def every_page(region: str) -> list[tuple[str, str, str]]:
        seen: list[tuple[str, str, str]] = []
        cursor = None
        while True:
            params = {"region": region, "limit": "1", **({"cursor": cursor} if cursor else {})}
            page = await world.inspector.get("/funds/balances", params=params)
            assert page.status_code == 200, page.text
            assert len(page.json()["items"]) <= 1
            seen += [(b["region_code"], b["account"], b["fund_source"]) for b in page.json()["items"]
                     if b["fund_source"] in (world.source, world.plain)]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                return seen

    pilot = [(world.pilot, "pool", world.source), (world.pilot, "fund", world.plain)]
    assert sorted(await every_page(world.pilot)) == sorted(pilot)
    under_city = await every_page(world.city)
    assert len(under_city) == len(set(under_city)) == 6  # no account twice across the pages
    assert {region for region, _, _ in under_city} == {world.pilot, world.poor, world.rich}
