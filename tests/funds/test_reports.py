"""Reports (F2 growth parity, county progress) and the A4 trace, through the gateway."""

from __future__ import annotations

from tests.conftest import Api, MakePrincipal
from tests.funds.site import Site
from tests.funds.world import World, new_source_code, put_source


async def _two_years(w: World, source: str, poor: tuple[int, int], rich: tuple[int, int]) -> None:
    for year, index in ((2017, 0), (2018, 1)):
        assert (await w.appropriate(poor[index] + rich[index], source=source, year=year,
                                    on=f"{year}-01-05")).status_code == 201
        for county, amounts in ((w.poor, poor), (w.rich, rich)):
            response = await w.allocate(amounts[index], to=county, source=source, year=year, on=f"{year}-02-01")
            assert response.status_code == 201, response.text


async def test_growth_report_f2(world: World, admin: Api) -> None:
    w = world
    below, above = new_source_code(), new_source_code()
    await put_source(admin, below, integrable=True)
    await put_source(admin, above, integrable=True)
    await _two_years(w, below, poor=(100_000, 105_000), rich=(100_000, 195_000))
    await _two_years(w, above, poor=(100_000, 200_000), rich=(100_000, 100_000))
    response = await w.fin_province.get("/funds/reports/growth", params={"province": w.province, "fiscal_year": 2018})
    assert response.status_code == 200, response.text
    items = {i["fund_source"]: i for i in response.json()["items"]}
    assert items[below] == {"fund_source": below, "fiscal_year": 2018, "poor_prev_fen": 100_000,
                            "poor_curr_fen": 105_000, "all_prev_fen": 200_000, "all_curr_fen": 300_000,
                            "poor_growth": 0.05, "average_growth": 0.5, "ok": False}
    assert items[above]["poor_growth"] == 1.0 and items[above]["average_growth"] == 0.5 and items[above]["ok"]
    assert w.source not in items  # nothing allocated to counties in this fund
    assert (await w.fin_city.get("/funds/reports/growth",
                                 params={"province": w.province, "fiscal_year": 2018})).status_code == 403


async def test_progress_and_trace_from_household_to_appropriation(site: Site, make_principal: MakePrincipal) -> None:
    w = site.world
    project_id = await site.project("in_progress")
    arranged = await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 400_000))
    paid = await w.fin_pilot.post("/funds/disbursements", json=site.payment(project_id, 150_000))
    assert arranged.status_code == paid.status_code == 201
    progress = await w.fin_pilot.get("/funds/reports/progress", params={"region": site.county})
    assert progress.status_code == 200, progress.text
    county = {i["county_code"]: i for i in progress.json()["items"]}[site.county]
    assert county["received_fen"] == 5_000_000 and county["arranged_fen"] == 400_000
    assert county["disbursed_fen"] == 150_000 and county["unarranged_fen"] == 4_600_000
    assert county["unpaid_fen"] == 250_000 and county["spending_rate"] == 0.03

    household = site.households[0]["household_id"]
    trace = await w.inspector.get("/funds/trace", params={"household_id": household})
    assert trace.status_code == 200, trace.text
    body = trace.json()
    assert [m["kind"] for m in body["movements"]] == ["disbursement"]
    assert body["movements"][0]["doc_no"] == paid.json()["voucher_no"]
    kinds = {h["kind"] for h in body["upstream"]}
    assert kinds == {"arrangement", "allocation", "appropriation"}
    appropriation = next(h for h in body["upstream"] if h["kind"] == "appropriation")
    assert appropriation["from"]["account"] == "budget" and appropriation["occurred_on"] == "2018-01-10"
    assert appropriation["doc_no"].startswith("湘财农指")

    by_project = (await w.inspector.get("/funds/trace", params={"project_id": project_id})).json()
    assert [h["kind"] for h in by_project["downstream"]] == ["disbursement"]
    assert [h["kind"] for h in by_project["movements"]] == ["arrangement"]
    allocation_id = next(h["record_id"] for h in body["upstream"] if h["kind"] == "allocation")
    by_allocation = (await w.inspector.get("/funds/trace", params={"allocation_id": allocation_id})).json()
    assert {h["kind"] for h in by_allocation["downstream"]} >= {"arrangement", "disbursement"}
    assert {h["kind"] for h in by_allocation["upstream"]} == {"appropriation"}
    elsewhere = await make_principal("inspector", "110000")
    assert (await elsewhere.get("/funds/trace", params={"project_id": project_id})).status_code == 403
    assert (await w.inspector.get("/funds/trace", params={"household_id": "hh-none"})).status_code == 404
    both = await w.inspector.get("/funds/trace", params={"household_id": household, "project_id": project_id})
    assert both.status_code == 422
