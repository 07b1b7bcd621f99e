"""A project's contracts (P8) and direct awards split to stay under the county's tender threshold (P9,
CONTRACT_SPLITTING), through the gateway (issue #17 point 2; seed 003 "招投标…'五到县'")."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from services.kernel import clock
from services.projects import codes
from tests.conftest import Api, MakePrincipal, scan_alerts
from tests.funds.site import credit_code
from tests.projects.conftest import County
from tests.projects.factory import new_county, project_in


def contract(amount: int, method: str = "public_tender", contractor: str | None = None,
             **extra: Any) -> dict[str, Any]:
    return {"contract_no": f"施工合同-{amount}", "contractor_uscc": contractor or credit_code(),
            "contractor_name": "某建筑公司", "amount_fen": amount, "tender_method": method, "signed_on": "2018-03-05",
            **extra}


def direct(amount: int, contractor: str) -> dict[str, Any]:
    return contract(amount, "direct_award", contractor, direct_award_reason="抢险应急 / emergency repair")


async def post(pm: Api, project_id: str, body: dict[str, Any]) -> Any:
    return await pm.post(f"/projects/{project_id}/contracts", json=body)


async def test_p8_contracts_of_an_approved_or_running_project_within_its_budget(
    county: County, make_principal: MakePrincipal
) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "approved", budget_fen=1_000_000)
    recorded = await post(county.pm, project_id, contract(600_000))
    assert recorded.status_code == 201, recorded.text
    assert {k: recorded.json()[k] for k in ("project_id", "county_code", "tender_method", "amount_fen")} == {
        "project_id": project_id, "county_code": county.code, "tender_method": "public_tender", "amount_fen": 600_000}
    over = await post(county.pm, project_id, contract(400_001))
    assert (over.status_code, over.json()["code"], over.json()["field"], over.json()["rule"]) == (
        422, codes.CONTRACTS_OVER_BUDGET, "amount_fen", "P8")
    assert (await post(county.pm, project_id, contract(400_000, "competitive_negotiation"))).status_code == 201
    listed = await county.pm.get(f"/projects/{project_id}/contracts")
    assert [c["amount_fen"] for c in listed.json()] == [600_000, 400_000]
    draft = await project_in(county.pm, county.code, county.poor, "draft")
    early = await post(county.pm, draft, contract(1_000))
    assert (early.status_code, early.json()["code"]) == (422, codes.PROJECT_NOT_CONTRACTING)
    # finance reads contracts, never records them; another county's project manager neither
    finance = await make_principal("finance", county.code)
    assert (await finance.get(f"/projects/{project_id}/contracts")).status_code == 200
    assert (await post(finance, project_id, contract(1))).json()["code"] == "FORBIDDEN"
    stranger = await make_principal("project_manager", new_county())
    assert (await post(stranger, project_id, contract(1))).json()["code"] == "NOT_IN_JURISDICTION"


async def test_p8_a_direct_award_gives_its_reason_and_a_credit_code_its_check_character(
    county: County, db: asyncpg.Pool
) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "in_progress")
    unexplained = await post(county.pm, project_id, contract(1_000, "direct_award"))
    assert (unexplained.status_code, unexplained.json()["code"], unexplained.json()["field"]) == (
        422, codes.DIRECT_AWARD_REASON_REQUIRED, "direct_award_reason")
    blank = await post(county.pm, project_id, contract(1_000, "direct_award", direct_award_reason="   "))
    assert blank.status_code == 422
    uscc = credit_code()
    wrong = uscc[:-1] + ("0" if uscc[-1] != "0" else "1")
    bad = await post(county.pm, project_id, contract(1_000, contractor=wrong))
    assert (bad.status_code, bad.json()["code"], bad.json()["field"]) == (422, "VALIDATION_ERROR", "contractor_uscc")
    unknown = await post(county.pm, project_id, contract(1_000, "sole_source"))
    assert (unknown.status_code, unknown.json()["field"]) == (422, "tender_method")
    assert await db.fetchval("SELECT count(*) FROM projects.contracts WHERE project_id = $1", project_id) == 0
    explained = await post(county.pm, project_id, direct(1_000, uscc))
    assert explained.status_code == 201, explained.text
    assert explained.json()["direct_award_reason"] == "抢险应急 / emergency repair"


async def splitting(inspector: Api, project_id: str) -> list[dict[str, Any]]:
    response = await inspector.get("/alerts", params={"type": codes.CONTRACT_SPLITTING, "limit": 500})
    assert response.status_code == 200, response.text
    return [a for a in response.json()["items"] if a["facts"]["project_id"] == project_id]


async def test_p9_direct_awards_split_under_the_countys_threshold_raise_contract_splitting(
    county: County, make_principal: MakePrincipal
) -> None:
    inspector = await make_principal("inspector", county.code)
    shown = await county.pm.get(f"/projects/tender-thresholds/{county.code}")
    assert shown.json()["in_force"] == {"id": None, "county_code": county.code,
                                        "amount_fen": codes.DEFAULT_TENDER_THRESHOLD_FEN, "effective_on": None,
                                        "doc_no": None, "default": True}
    published = await county.pm.post("/projects/tender-thresholds", json={
        "county_code": county.code, "amount_fen": 300_000, "effective_on": "2018-01-01", "doc_no": "县政办〔2018〕3号"})
    assert published.status_code == 201, published.text
    assert (await county.pm.get(f"/projects/tender-thresholds/{county.code}")).json()["in_force"]["amount_fen"] == \
        300_000
    project_id = await project_in(county.pm, county.code, county.poor, "in_progress")
    split, tendered, small = credit_code(), credit_code(), credit_code()
    for body in (direct(200_000, split), direct(200_000, split),  # 400,000 > 300,000 in two direct awards
                 direct(250_000, tendered), contract(250_000, contractor=tendered),  # one of them tendered
                 direct(100_000, small), direct(100_000, small)):  # 200,000: under the threshold
        assert (await post(county.pm, project_id, body)).status_code == 201
    await scan_alerts(inspector, clock.today().isoformat())
    [alert] = await splitting(inspector, project_id)
    assert (alert["subject"]["kind"], alert["subject"]["id"]) == ("project_contractor", f"{project_id}:{split}")
    assert (alert["facts"]["total_fen"], alert["facts"]["threshold_fen"], alert["facts"]["rule"]) == (
        400_000, 300_000, "P9")
    assert len(alert["facts"]["contracts"]) == 2 and alert["region_code"] == county.code


async def test_p9_awards_are_judged_by_the_threshold_in_force_when_they_were_signed(
    county: County, make_principal: MakePrincipal
) -> None:
    """The review: the scan judged every group of awards by the threshold in force on the scan's day, so a project
    office that split its awards then published a higher threshold (it may publish them) made the finding go away.
    A group is judged by the threshold in force when its latest award was signed."""
    inspector = await make_principal("inspector", county.code)
    assert (await county.pm.post("/projects/tender-thresholds", json={
        "county_code": county.code, "amount_fen": 300_000, "effective_on": "2018-01-01",
        "doc_no": "县政办〔2018〕3号"})).status_code == 201
    project_id = await project_in(county.pm, county.code, county.poor, "in_progress")
    split = credit_code()
    for body in (direct(200_000, split), direct(200_000, split)):  # signed 2018-03-05: 400,000 > 300,000
        assert (await post(county.pm, project_id, body)).status_code == 201
    raised = await county.pm.post("/projects/tender-thresholds", json={
        "county_code": county.code, "amount_fen": 100_000_000_000, "effective_on": clock.today().isoformat(),
        "doc_no": "县政办〔2026〕1号"})
    assert raised.status_code == 201, raised.text
    await scan_alerts(inspector, clock.today().isoformat())
    [alert] = await splitting(inspector, project_id)
    assert (alert["facts"]["total_fen"], alert["facts"]["threshold_fen"]) == (400_000, 300_000)
    # the other side: awards signed under the higher threshold are judged by it
    later = await project_in(county.pm, county.code, county.poor, "in_progress")
    other = credit_code()
    for _ in range(2):
        assert (await post(county.pm, later, {**direct(200_000, other),
                                              "signed_on": clock.today().isoformat()})).status_code == 201
    await scan_alerts(inspector, clock.today().isoformat())
    assert await splitting(inspector, later) == []


async def test_p9_the_default_threshold_where_the_county_published_none(
    county: County, make_principal: MakePrincipal
) -> None:
    inspector = await make_principal("inspector", county.code)
    budget = 3 * codes.DEFAULT_TENDER_THRESHOLD_FEN
    under = await project_in(county.pm, county.code, county.poor, "in_progress", budget_fen=budget)
    over = await project_in(county.pm, county.code, county.poor, "in_progress", budget_fen=budget)
    half = codes.DEFAULT_TENDER_THRESHOLD_FEN // 2
    a, b = credit_code(), credit_code()
    for project_id, contractor, amounts in ((under, a, (half, half)), (over, b, (half, half + 1))):
        for amount in amounts:
            assert (await post(county.pm, project_id, direct(amount, contractor))).status_code == 201
    await scan_alerts(inspector, clock.today().isoformat())
    assert await splitting(inspector, under) == []  # exactly the threshold is not above it
    [alert] = await splitting(inspector, over)
    assert alert["facts"]["threshold_default"] is True
    assert alert["facts"]["total_fen"] == codes.DEFAULT_TENDER_THRESHOLD_FEN + 1


async def test_p9_thresholds_are_the_countys_own(county: County, make_principal: MakePrincipal) -> None:
    stranger = await make_principal("project_manager", new_county())
    body = {"county_code": county.code, "amount_fen": 1, "effective_on": "2018-01-01", "doc_no": "外县"}
    assert (await stranger.post("/projects/tender-thresholds", json=body)).json()["code"] == "NOT_IN_JURISDICTION"
    assert (await stranger.get(f"/projects/tender-thresholds/{county.code}")).json()["code"] == "NOT_IN_JURISDICTION"
    lender = await make_principal("lender", county.code)
    assert (await lender.post("/projects/tender-thresholds", json=body)).json()["code"] == "FORBIDDEN"


async def test_p8_two_contracts_at_once_cannot_both_pass_the_budget(county: County, db: asyncpg.Pool) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "in_progress", budget_fen=1_000_000)
    answers = await asyncio.gather(*(post(county.pm, project_id, contract(600_000)) for _ in range(2)))
    assert sorted(a.status_code for a in answers) == [201, 422], [a.text for a in answers]
    assert [a.json()["code"] for a in answers if a.status_code == 422] == [codes.CONTRACTS_OVER_BUDGET]
    assert await db.fetchval("SELECT sum(amount_fen) FROM projects.contracts WHERE project_id = $1",
                             project_id) == 600_000
