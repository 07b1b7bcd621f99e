"""Batches (all-or-nothing), reversals (compensating transfers, once, never overdrawing), reference data, seed."""

from __future__ import annotations

import asyncpg

from services.funds import codes
from services.funds.seed import CENTRAL_INTEGRABLE_SOURCES, seed_funds_async
from tests.conftest import Api, MakePrincipal
from tests.funds.world import World
from tests.stack import TestDatabase


async def test_batch_is_all_or_nothing(world: World, db: asyncpg.Pool) -> None:
    assert (await world.appropriate(100_000)).status_code == 201
    # The city passes on, in the same batch, what the province gives it.
    items = [world.allocation(30_000, to=world.city), world.allocation(10_000, frm=world.city, to=world.rich),
             world.allocation(1_000, to=world.pilot)]
    done = await world.fin_province.post("/funds/allocations:batch", json={"items": items})
    assert done.status_code == 201, done.text
    assert [a["destination_account"] for a in done.json()["items"]] == ["fund", "fund", "pool"]
    assert await world.balances(world.city) == {("fund", world.source, ""): 20_000}
    bad = [world.allocation(1_000, to=world.poor), world.allocation(1_000, to=world.pilot,
                                                                    designated_project_id="prj_1")]
    refused = await world.fin_province.post("/funds/allocations:batch", json={"items": bad})
    assert refused.status_code == 422 and refused.json()["code"] == codes.BLOCK_GRANT_DESIGNATED_PROJECT
    assert refused.json()["field"] == "items.1.designated_project_id" and refused.json()["index"] == 1
    broke = [world.allocation(1_000, to=world.poor), world.allocation(10**9, to=world.poor)]
    refused = await world.fin_province.post("/funds/allocations:batch", json={"items": broke})
    assert refused.status_code == 409 and refused.json()["index"] == 1
    dup = world.allocation(5, to=world.poor)
    refused = await world.fin_province.post("/funds/allocations:batch", json={"items": [dup, dup]})
    assert refused.status_code == 409 and refused.json()["code"] == codes.DUPLICATE_DOCUMENT
    first = (await world.fin_province.post("/funds/allocations:batch", json={"items": [dup]})).status_code
    again = await world.fin_province.post("/funds/allocations:batch",
                                          json={"items": [world.allocation(5, to=world.poor), dup]})
    assert first == 201 and again.status_code == 409 and again.json()["index"] == 1
    assert await world.balances(world.poor) == {("fund", world.source, ""): 5}
    too_many = await world.fin_province.post("/funds/allocations:batch",
                                             json={"items": [world.allocation(1)] * 1001})
    assert too_many.status_code == 422 and too_many.json()["field"] == "items"


async def test_reversal_compensates_once_and_never_overdraws(world: World, db: asyncpg.Pool) -> None:
    assert (await world.appropriate(100_000)).status_code == 201
    to_city = (await world.allocate(40_000, to=world.city)).json()["id"]
    onward = await world.allocate(30_000, api=world.fin_city, frm=world.city, to=world.rich)
    assert onward.status_code == 201
    # The city no longer holds the 40,000: reversing the first allocation would overdraw it.
    blocked = await world.fin_province.post("/funds/reversals", json={"target_id": to_city, "reason": "错拨"})
    assert blocked.status_code == 409 and blocked.json()["code"] == codes.INSUFFICIENT_FUNDS
    undo = await world.fin_city.post("/funds/reversals", json={"target_id": onward.json()["id"], "reason": "错拨"})
    assert undo.status_code == 201, undo.text
    assert undo.json()["target_kind"] == "allocation"
    twice = await world.fin_city.post("/funds/reversals", json={"target_id": onward.json()["id"], "reason": "again"})
    assert twice.status_code == 409 and twice.json()["code"] == codes.ALREADY_REVERSED
    of_reversal = await world.fin_city.post("/funds/reversals",
                                            json={"target_id": undo.json()["transfer_ids"][0], "reason": "x"})
    assert of_reversal.status_code == 422 and of_reversal.json()["code"] == codes.REVERSAL_NOT_REVERSIBLE
    assert (await world.fin_province.post("/funds/reversals", json={"target_id": to_city, "reason": "错拨"})
            ).status_code == 201
    assert await world.balances(world.province) == {("treasury", world.source, ""): 100_000}
    assert await world.balances(world.city) == {("fund", world.source, ""): 0}
    assert await world.balances(world.rich) == {("fund", world.source, ""): 0}
    shown = await world.inspector.get(f"/funds/allocations/{to_city}")
    assert shown.json()["reversal_id"] == undo.json()["id"] or shown.json()["reversal_id"].startswith("rev_")
    # Nothing was edited: the originals are still there, with compensating transfers pointing at them.
    rows = await db.fetch("SELECT kind, reverses_id FROM funds.transfer_legs WHERE (record_id = $1 OR doc_no = $1) "
                          "AND leg = 'out'", to_city)
    assert sorted(r["kind"] for r in rows) == ["allocation", "reversal"]
    outside = await world.fin_pilot.post("/funds/reversals", json={"target_id": to_city, "reason": "x"})
    assert outside.status_code in (403, 409)
    missing = await world.fin_city.post("/funds/reversals", json={"target_id": "alc_nothing", "reason": "x"})
    assert missing.status_code == 404


async def test_reference_data(admin: Api, make_principal: MakePrincipal, world: World) -> None:
    got = await world.fin_city.get(f"/funds/sources/{world.source}")
    assert got.status_code == 200 and got.json()["integrable"] is True
    assert (await world.fin_city.put(f"/funds/sources/{world.source}",
                                     json={"name": "x", "level": "central", "integrable": False})).status_code == 403
    bad_level = await admin.put("/funds/sources/ZZ1", json={"name": "x", "level": "county", "integrable": True})
    assert bad_level.status_code == 422 and bad_level.json()["field"] == "level"
    # A province's finance sets its counties; a county's finance, or another province's, may not.
    assert (await world.fin_province.put(f"/funds/counties/{world.rich}",
                                         json={"name": "县", "poor": True, "integration_pilot": False})
            ).status_code == 200
    assert (await world.fin_pilot.put(f"/funds/counties/{world.pilot}",
                                      json={"name": "县", "poor": False, "integration_pilot": False})
            ).status_code == 403
    other = await make_principal("finance", "110000")
    assert (await other.put(f"/funds/counties/{world.rich}",
                            json={"name": "县", "poor": True, "integration_pilot": True})).status_code == 403
    assert (await admin.put(f"/funds/counties/{world.city}",
                            json={"name": "市", "poor": True, "integration_pilot": True})).status_code == 422
    listed = await world.fin_city.get("/funds/counties")
    assert {c["code"]: c["poor"] for c in listed.json()["items"]}[world.rich] is True
    assert all(c["code"].startswith(world.city[:4]) for c in listed.json()["items"])


async def test_seed_is_idempotent(database: TestDatabase, admin: Api) -> None:
    await seed_funds_async(database.url)
    assert await seed_funds_async(database.url) == 0
    sources = {s["code"]: s for s in (await admin.get("/funds/sources")).json()["items"]}
    assert len(CENTRAL_INTEGRABLE_SOURCES) == 17
    for code, name in CENTRAL_INTEGRABLE_SOURCES:
        assert sources[code] == {"code": code, "name": name, "level": "central", "integrable": True,
                                 "province_code": None}
