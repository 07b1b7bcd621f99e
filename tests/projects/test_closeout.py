"""Close-out through the gateway (issue #17 point 3): each target's result at acceptance (P10, TARGETS_UNMET), an
asset's handover reconciled with what funds paid (P11), and the asset register, each rule on both sides."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.kernel import clock
from services.projects import codes
from tests.conftest import Api, MakePrincipal, scan_alerts
from tests.funds.site import Site, site  # noqa: F401  (the fixture)
from tests.projects.conftest import County
from tests.projects.factory import act, new_county, project_in, village_of

TARGETS = [{"indicator": "受益贫困户年增收", "target": "≥3000元/户"}, {"indicator": "带动就业", "target": "20人"}]


def _accept(*results: tuple[str, str, bool]) -> dict[str, Any]:
    return {"report": "验收 / acceptance",
            "results": [{"indicator": i, "actual": a, "met": m} for i, a, m in results]}


async def _alerts(api: Api, alert_type: str, region: str) -> list[dict[str, Any]]:
    response = await api.get("/alerts", params={"type": alert_type, "region": region})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_p10_acceptance_records_every_target(county: County, db: asyncpg.Pool) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "completed", performance_targets=TARGETS)
    refusals = [
        (_accept(("受益贫困户年增收", "3100元/户", True)), 422, codes.TARGET_RESULT_MISSING),
        (_accept(("受益贫困户年增收", "3100元/户", True), ("带动就业", "21人", True), ("新增产值", "1万", True)),
         422, codes.TARGET_RESULT_UNKNOWN),
        ({"report": "验收"}, 422, "VALIDATION_ERROR"),  # no results at all
        (_accept(("带动就业", "21人", True), ("带动就业", "22人", True)), 422, "VALIDATION_ERROR"),  # twice
    ]
    for body, status, code in refusals:
        response = await act(county.pm, project_id, "accept", body)
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
    refused = await act(county.pm, project_id, "accept", refusals[0][0])
    assert refused.json()["field"] == "results" and refused.json()["rule"] == codes.P10
    assert refused.json()["indicators"] == ["带动就业"]
    assert (await county.pm.get(f"/projects/{project_id}")).json()["status"] == "completed"
    assert await db.fetchval("SELECT count(*) FROM projects.acceptance_results WHERE project_id = $1",
                             project_id) == 0
    accepted = await act(county.pm, project_id, "accept",
                         _accept(("带动就业", "12人", False), ("受益贫困户年增收", "3100元/户", True)))
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted", accepted.text
    rows = await db.fetch("SELECT position, indicator, target, actual, met FROM projects.acceptance_results "
                          "WHERE project_id = $1 ORDER BY position", project_id)
    assert [tuple(r) for r in rows] == [(0, "受益贫困户年增收", "≥3000元/户", "3100元/户", True),
                                        (1, "带动就业", "20人", "12人", False)]


async def test_p10_targets_unmet_alert_both_sides(county: County, admin: Api, make_principal: MakePrincipal) -> None:
    unmet = await project_in(county.pm, county.code, county.poor, "completed", performance_targets=TARGETS)
    met = await project_in(county.pm, county.code, county.poor, "completed", performance_targets=TARGETS)
    assert (await act(county.pm, unmet, "accept",
                      _accept(("受益贫困户年增收", "2500元/户", False), ("带动就业", "25人", True)))).status_code == 200
    assert (await act(county.pm, met, "accept",
                      _accept(("受益贫困户年增收", "3500元/户", True), ("带动就业", "25人", True)))).status_code == 200
    scan = await scan_alerts(admin, clock.today().isoformat())
    assert scan["raised"][codes.TARGETS_UNMET] >= 1
    inspector = await make_principal("inspector", county.code)
    [alert] = await _alerts(inspector, codes.TARGETS_UNMET, county.code)
    assert alert["subject"]["id"] == unmet  # the project whose targets were all met raises nothing
    assert alert["facts"]["unmet"] == [{"indicator": "受益贫困户年增收", "target": "≥3000元/户", "actual": "2500元/户"}]
    assert alert["facts"]["rule"] == codes.P10 and alert["facts"]["village_code"] == village_of(county.code)
    again = await scan_alerts(admin, clock.today().isoformat())
    assert again["raised"][codes.TARGETS_UNMET] == 0
    assert len(await _alerts(inspector, codes.TARGETS_UNMET, county.code)) == 1


async def _paid_project(site: Site, paid: int) -> str:  # noqa: F811
    """An accepted project of the site's county to which funds paid `paid` fen."""
    project_id = await site.project("in_progress")
    fin = site.world.fin_pilot
    assert (await fin.post("/funds/arrangements", json=site.arrangement(project_id, paid + 100_000))).status_code == 201
    assert (await fin.post("/funds/disbursements", json=site.payment(project_id, paid))).status_code == 201
    for action in ("complete", "accept"):
        assert (await act(site.pm, project_id, action)).status_code == 200
    return project_id


async def _asset(pm: Api, project_id: str, kind: str, value: int, shares: list[str] | None = None) -> str:
    body = {"kind": kind, "value_fen": value, "description": f"{kind} 资产",
            "shares": [{"household_id": h, "shares": 1} for h in shares or []]}
    response = await pm.post(f"/projects/{project_id}/assets", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _handover(value: int, owner_kind: str = "village_collective") -> dict[str, Any]:
    return {"owner_kind": owner_kind, "owner_name": "石门村股份经济合作社", "manager": "石门村村民委员会",
            "value_fen": value, "handed_over_on": clock.today().isoformat()}


async def test_p11_handover_reconciled_with_paid(site: Site, db: asyncpg.Pool) -> None:  # noqa: F811
    project_id = await _paid_project(site, 500_000)  # tolerance: 5 % of 500,000 = 25,000 fen
    road = await _asset(site.pm, project_id, "public_benefit", 300_000)
    cows = await _asset(site.pm, project_id, "household", 200_000)
    url = f"/projects/{project_id}/assets/{{}}/handover"

    async def refused(asset_id: str, body: dict[str, Any], status: int, code: str) -> dict[str, Any]:
        response = await site.pm.post(url.format(asset_id), json=body)
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
        answer: dict[str, Any] = response.json()
        return answer

    over = await refused(road, _handover(525_001), 422, codes.HANDOVER_VALUE_MISMATCH)  # beyond paid + 5 %
    assert (over["field"], over["paid_fen"], over["tolerance_fen"]) == ("value_fen", 500_000, 25_000)
    await refused(cows, _handover(200_000), 422, codes.HANDOVER_OWNER)  # a household asset to the collective
    await refused("ast_nothing", _handover(1), 404, "NOT_FOUND")
    assert await db.fetchval("SELECT count(*) FROM projects.asset_handovers WHERE project_id = $1", project_id) == 0
    first = await site.pm.post(url.format(road), json=_handover(300_000))
    assert first.status_code == 201, first.text
    assert {k: first.json()[k] for k in ("paid_fen", "handed_over_fen", "tolerance_fen", "owner_kind")} == {
        "paid_fen": 500_000, "handed_over_fen": 300_000, "tolerance_fen": 25_000, "owner_kind": "village_collective"}
    await refused(road, _handover(300_000), 409, codes.ALREADY_HANDED_OVER)
    # the last asset recorded: the whole is reconciled, 474,999 is more than 25,000 below what was paid
    under = await refused(cows, _handover(174_999, "households"), 422, codes.HANDOVER_VALUE_MISMATCH)
    assert under["handed_over_fen"] == 474_999
    last = await site.pm.post(url.format(cows), json=_handover(175_000, "households"))
    assert last.status_code == 201 and last.json()["handed_over_fen"] == 475_000, last.text


async def test_p11_handover_after_acceptance_in_the_county(site: Site, make_principal: MakePrincipal) -> None:  # noqa: F811
    project_id = await _paid_project(site, 100_000)
    asset_id = await _asset(site.pm, project_id, "public_benefit", 100_000)
    other = await make_principal("project_manager", new_county())
    response = await other.post(f"/projects/{project_id}/assets/{asset_id}/handover", json=_handover(100_000))
    assert (response.status_code, response.json()["code"]) == (403, "NOT_IN_JURISDICTION")
    unfinished = await site.project("in_progress")
    response = await site.pm.post(f"/projects/{unfinished}/assets/{asset_id}/handover", json=_handover(100_000))
    assert response.status_code == 404  # not this project's asset
    response = await site.pm.post(f"/projects/{project_id}/assets/{asset_id}/handover", json=_handover(100_000))
    assert response.status_code == 201, response.text


async def test_asset_register_by_county_and_village(site: Site, make_principal: MakePrincipal) -> None:  # noqa: F811
    project_id = await _paid_project(site, 400_000)
    households = [site.households[0]["household_id"]]
    plant = await _asset(site.pm, project_id, "income_generating", 250_000, households)
    road = await _asset(site.pm, project_id, "public_benefit", 150_000)
    assert (await site.pm.post(f"/projects/{project_id}/assets/{road}/handover",
                               json=_handover(150_000))).status_code == 201
    listed = await site.pm.get("/projects/assets", params={"county": site.county})
    assert listed.status_code == 200, listed.text
    items = {i["id"]: i for i in listed.json()["items"]}
    assert set(items) == {plant, road}
    assert items[plant]["total_shares"] == 1 and items[plant]["shareholder_households"] == 1
    assert items[plant]["handover"] is None and items[road]["handover"]["manager"] == "石门村村民委员会"
    assert items[road]["village_code"] == village_of(site.county) and items[road]["project_id"] == project_id
    first = (await site.pm.get("/projects/assets", params={"county": site.county, "limit": 1})).json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    rest = (await site.pm.get("/projects/assets", params={"county": site.county, "limit": 1,
                                                          "cursor": first["next_cursor"]})).json()
    assert {first["items"][0]["id"], rest["items"][0]["id"]} == {plant, road}
    elsewhere = (await site.pm.get("/projects/assets", params={"village": village_of(site.county, 2)})).json()
    assert elsewhere["items"] == []
    inspector = await make_principal("inspector", site.county)
    assert {i["id"] for i in (await inspector.get("/projects/assets", params={
        "village": village_of(site.county)})).json()["items"]} == {plant, road}
    other = await make_principal("project_manager", new_county())
    response = await other.get("/projects/assets", params={"county": site.county})
    assert (response.status_code, response.json()["code"]) == (403, "NOT_IN_JURISDICTION")
    assert (await other.get("/projects/assets")).json()["items"] == []
    response = await site.pm.get("/projects/assets", params={"village": "12345"})
    assert response.status_code == 422 and response.json()["field"] == "village"
