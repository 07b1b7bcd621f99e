"""F7 (extended) the integration scope changes over time (issue #17 point 10): which central sources are integrable
is reference data by year (seed 004's 2016 scope, "整合所有涉农资金", is not seed 002's "中央20项、省级14项"); money
is judged by the scope in force when it moved. Through the gateway."""

from __future__ import annotations

from services.funds import codes
from tests.conftest import Api, MakePrincipal
from tests.funds.world import World, new_source_code, put_source


async def test_a_year_outside_the_scope_is_not_pooled_and_may_name_a_project(world: World, admin: Api) -> None:
    source = new_source_code()
    await put_source(admin, source, integrable=True)  # in the scope by default
    scoped = await admin.put(f"/funds/sources/{source}/scopes/2016", json={"integrable": False})
    assert scoped.status_code == 200, scoped.text
    assert scoped.json() == {"fund_source": source, "year": 2016, "integrable": False}
    assert (await world.appropriate(10_000, source=source, on="2016-01-10", year=2016)).status_code == 201
    in_2016 = await world.allocate(1_000, to=world.pilot, source=source, on="2016-03-01", year=2016,
                                   designated_project_id="prj_x")
    assert in_2016.status_code == 201, in_2016.text
    assert in_2016.json()["destination_account"] == "fund"
    # the same source moved in 2018, when it is inside the scope: pooled, and a block grant (F1)
    refused = await world.allocate(1_000, to=world.pilot, source=source, on="2018-03-01",
                                   designated_project_id="prj_x")
    assert refused.status_code == 422 and refused.json()["code"] == codes.BLOCK_GRANT_DESIGNATED_PROJECT
    in_2018 = await world.allocate(1_000, to=world.pilot, source=source, on="2018-03-01")
    assert in_2018.status_code == 201 and in_2018.json()["destination_account"] == "pool"
    listed = await admin.get(f"/funds/sources/{source}/scopes")
    assert listed.json()["items"] == [{"fund_source": source, "year": 2016, "integrable": False}]


async def test_a_year_inside_the_scope_of_a_source_otherwise_outside(world: World, admin: Api) -> None:
    assert (await admin.put(f"/funds/sources/{world.plain}/scopes/2018", json={"integrable": True})).status_code == 200
    assert (await world.appropriate(10_000, source=world.plain)).status_code == 201
    pooled = await world.allocate(1_000, to=world.pilot, source=world.plain, on="2018-03-01")
    assert pooled.status_code == 201 and pooled.json()["destination_account"] == "pool"


async def test_the_scope_is_national_reference_data(world: World, admin: Api, make_principal: MakePrincipal) -> None:
    provincial_admin = await make_principal("admin", world.province)
    refused = await provincial_admin.put(f"/funds/sources/{world.source}/scopes/2016", json={"integrable": False})
    assert refused.status_code == 403, refused.text
    unknown = await admin.put(f"/funds/sources/{new_source_code()}/scopes/2016", json={"integrable": False})
    assert unknown.status_code == 404, unknown.text
    for year in (1999, 2101):
        bad = await admin.put(f"/funds/sources/{world.source}/scopes/{year}", json={"integrable": False})
        assert bad.status_code == 422, bad.text
    assert (await admin.get(f"/funds/sources/{world.source}/scopes")).json()["items"] == []  # nothing kept


async def test_money_allocated_outside_its_years_scope_is_arranged_from_where_it_lies(
    admin: Api, make_principal: MakePrincipal
) -> None:
    """F7 (extended) with F4: a source inside the scope by its own flag, allocated to a pilot county in a year outside
    the scope, lies in the county's `fund` account, not its pool; an arrangement naming that source draws it from
    there (it drew from the pool only, and was refused for too little money). An arrangement naming no source still
    draws from the pool only, and nothing lets it overdraw."""
    from tests.funds.site import make_site

    site = await make_site(admin, make_principal)
    w, source = site.world, new_source_code()
    await put_source(admin, source, integrable=True)
    assert (await admin.put(f"/funds/sources/{source}/scopes/2016", json={"integrable": False})).status_code == 200
    assert (await w.appropriate(50_000, source=source, on="2016-01-10", year=2016)).status_code == 201
    allocated = await w.allocate(30_000, to=site.county, source=source, on="2016-03-01", year=2016)
    assert allocated.status_code == 201 and allocated.json()["destination_account"] == "fund", allocated.text
    project_id = await site.project("in_progress")
    arranged = await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 20_000,
                                                                                   fund_source=source))
    assert arranged.status_code == 201, arranged.text
    assert [m["fund_source"] for m in arranged.json()["movements"]] == [source]
    over = await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 10_001, fund_source=source))
    assert over.status_code == 409 and over.json()["code"] == "INSUFFICIENT_FUNDS", over.text
