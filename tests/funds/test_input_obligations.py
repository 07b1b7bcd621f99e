"""Input obligations (issue #17 point 4): F17 (a share of the revenue increment and of recovered idle money to
targeted poverty work) and F18 (year-on-year growth, the industry share), declared as reference data and judged by
GET /funds/reports/input and the INPUT_OBLIGATION_FAILED detector, through the gateway."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from services.funds import codes
from services.kernel import clock
from tests.conftest import Api, scan_alerts
from tests.funds.site import Site
from tests.funds.world import World
from tests.projects.factory import project_in


async def declare(api: Api, region: str, kind: str, *, share_bp: int | None = None, from_year: int = 2018,
                  **extra: Any) -> str:
    code = f"{kind}-{region}-{uuid.uuid4().hex[:6]}"
    body = {"region_code": region, "kind": kind, "from_year": from_year, "doc_no": "湘办发〔2016〕9号", **extra}
    if share_bp is not None:
        body["share_bp"] = share_bp
    response = await api.put(f"/funds/obligations/{code}", json=body)
    assert response.status_code == 200, response.text
    return code


async def revenue(world: World, year: int, amount: int) -> None:
    response = await world.fin_city.post("/funds/revenues", json={
        "region_code": world.city, "fiscal_year": year, "revenue_fen": amount, "doc_no": f"决算-{year}"})
    assert response.status_code == 201, response.text


async def recover(world: World, amount: int, to_poverty: int) -> Any:
    return await world.fin_city.post("/funds/recoveries", json={
        "region_code": world.city, "fiscal_year": 2018, "amount_fen": amount, "to_poverty_fen": to_poverty,
        "recovered_on": "2018-06-30", "doc_no": f"回收-{uuid.uuid4().hex[:6]}"})


async def report(api: Api, region: str, year: int = 2018) -> dict[str, dict[str, Any]]:
    response = await api.get("/funds/reports/input", params={"region": region, "year": year})
    assert response.status_code == 200, response.text
    return {f"{i['code']}{i['key']}": i for i in response.json()["items"]}


async def test_f17_fifteen_percent_of_the_revenue_increment(world: World) -> None:
    code = await declare(world.fin_province, world.city, "revenue_increment", share_bp=1_500)
    await revenue(world, 2017, 1_000_000)
    await revenue(world, 2018, 900_000)
    await revenue(world, 2018, 1_200_000)  # a correction: the latest declaration counts
    assert (await world.appropriate(29_999, region=world.city)).status_code == 201
    failed = (await report(world.inspector, world.city))[code]
    assert (failed["status"], failed["rule"], failed["required_fen"], failed["actual_fen"]) == (
        "fail", "F17", 30_000, 29_999)
    assert failed["facts"]["increment_fen"] == 200_000
    assert (await world.appropriate(1, region=world.city)).status_code == 201
    assert (await report(world.fin_city, world.city))[code]["status"] == "pass"


async def test_f17_without_both_years_figures_it_cannot_be_judged(world: World) -> None:
    code = await declare(world.fin_province, world.city, "revenue_increment", share_bp=2_000)
    await revenue(world, 2018, 1_200_000)
    assert (await report(world.inspector, world.city))[code]["status"] == "no_figures"


async def test_f17_half_of_the_recovered_idle_money(world: World) -> None:
    code = await declare(world.fin_province, world.city, "recovered_idle", share_bp=5_000)
    assert (await recover(world, 10_000, 4_999)).status_code == 201
    failed = (await report(world.inspector, world.city))[code]
    assert (failed["status"], failed["required_fen"], failed["actual_fen"]) == ("fail", 5_000, 4_999)
    assert (await recover(world, 2, 2)).status_code == 201  # 5,001 of 10,002: half rounded up
    assert (await report(world.inspector, world.city))[code]["status"] == "pass"


async def test_f18_the_budget_grows_year_on_year(world: World) -> None:
    code = await declare(world.fin_province, world.city, "year_on_year_growth")
    assert (await world.appropriate(5_000, region=world.city, year=2017)).status_code == 201
    assert (await world.appropriate(5_000, region=world.city, year=2018)).status_code == 201
    assert (await report(world.inspector, world.city))[code]["status"] == "fail"
    assert (await world.appropriate(1, region=world.city, year=2018)).status_code == 201
    assert (await report(world.inspector, world.city))[code]["status"] == "pass"


async def test_obligations_bind_their_region_and_level_and_period(world: World) -> None:
    """One declared for the city's counties does not bind the city; one of 2020 on does not bind 2018."""
    counties = await declare(world.fin_province, world.city, "year_on_year_growth", level="county")
    later = await declare(world.fin_province, world.city, "year_on_year_growth", from_year=2020)
    found = await report(world.inspector, world.city)
    assert counties not in found and later not in found
    assert counties in await report(world.inspector, world.pilot)


async def test_f18_half_of_each_funds_arranged_money_to_industry(site: Site) -> None:
    w, year = site.world, clock.today().year
    code = await declare(w.fin_province, site.county, "industry_share", share_bp=5_000, from_year=year)
    industry = await site.project("approved")
    schooling = await project_in(site.pm, site.county, [site.households[0]["household_id"]], "approved",
                                 category="education")
    for project_id, amount in ((industry, 49_999), (schooling, 50_001)):
        arranged = await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, amount))
        assert arranged.status_code == 201, arranged.text
    failed = (await report(w.inspector, site.county, year))[code + w.source]
    assert (failed["status"], failed["required_fen"], failed["actual_fen"]) == ("fail", 50_000, 49_999)
    assert (await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(industry, 2))).status_code == 201
    assert (await report(w.inspector, site.county, year))[code + w.source]["status"] == "pass"


async def test_input_figures_are_declared_within_the_jurisdiction(world: World, db: asyncpg.Pool) -> None:
    refused = await recover(world, 100, 101)
    assert refused.status_code == 422 and refused.json()["field"] == "to_poverty_fen", refused.text
    other = await world.fin_pilot.post("/funds/revenues", json={
        "region_code": world.city, "fiscal_year": 2018, "revenue_fen": 1, "doc_no": "d"})
    assert other.status_code == 403 and other.json()["field"] == "region_code", other.text
    outside = await world.fin_pilot.get("/funds/reports/input", params={"region": world.city, "year": 2018})
    assert outside.status_code == 403, outside.text
    assert await db.fetchval("SELECT count(*) FROM funds.recoveries WHERE region_code = $1", world.city) == 0
    assert await db.fetchval("SELECT count(*) FROM funds.revenue_declarations WHERE region_code = $1",
                             world.city) == 0


@pytest.mark.parametrize("met", [False, True])
async def test_input_obligation_failed_alert(world: World, admin: Api, met: bool) -> None:
    """A failed obligation of the last full year raises INPUT_OBLIGATION_FAILED for the region; a met one none."""
    code = await declare(world.fin_province, world.city, "recovered_idle", share_bp=5_000)
    assert (await recover(world, 10_000, 5_000 if met else 4_000)).status_code == 201
    await scan_alerts(admin, "2019-01-10")
    response = await admin.get("/alerts", params={"type": codes.INPUT_OBLIGATION_FAILED, "limit": 500})
    found = [a for a in response.json()["items"] if a["subject"]["id"] == f"{world.city}:{code}:2018"]
    if met:
        assert found == []
    else:
        [alert] = found
        assert alert["region_code"] == world.city
        assert (alert["facts"]["required_fen"], alert["facts"]["actual_fen"]) == (5_000, 4_000)


async def test_an_obligation_is_changed_only_by_who_covers_the_region_it_binds(world: World) -> None:
    """The review (S1): a PUT of an obligation's code replaced the stored row once the caller covered the region of
    the new body: a city rewrote its province's obligation as its own, and the province's other cities were bound
    by nothing. Changing an obligation needs the region it binds now as well as the one it is to bind."""
    code = await declare(world.fin_province, world.province, "revenue_increment", share_bp=1500)
    body = {"region_code": world.city, "kind": "revenue_increment", "share_bp": 1, "from_year": 2018,
            "doc_no": "市文"}
    taken = await world.fin_city.put(f"/funds/obligations/{code}", json=body)
    assert taken.status_code == 403 and taken.json()["code"] == "NOT_IN_JURISDICTION", taken.text
    kept = (await world.fin_province.get(f"/funds/obligations/{code}")).json()
    assert (kept["region_code"], kept["share_bp"]) == (world.province, 1500)
    # the province itself may move it down to the city; the city may then change what is now its own
    moved = await world.fin_province.put(f"/funds/obligations/{code}", json=body)
    assert moved.status_code == 200, moved.text
    assert (await world.fin_city.put(f"/funds/obligations/{code}", json={**body, "share_bp": 2})).status_code == 200
