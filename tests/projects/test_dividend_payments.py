"""P12 through the gateway: an asset's dividend is paid by the funds ledger into each shareholding household's
registered 一卡通 account (F6), the households eligible on the day paid (F10), once per dividend whatever fails."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import asyncpg
import httpx

from services.funds import codes as funds_codes
from services.kernel import clock
from services.kernel.identity import Principal
from services.projects import closeout_rules, rules
from tests.conftest import MakePrincipal, signed
from tests.projects.conftest import County
from tests.projects.factory import project_in, village_of
from tests.stack import Stack

TODAY = clock.today()


async def _asset(county: County) -> tuple[str, str]:
    project_id = await project_in(county.pm, county.code, county.poor, "accepted")
    body = {"kind": "income_generating", "value_fen": 1_000_000, "description": "光伏电站",
            "shares": [{"household_id": h, "shares": n} for h, n in zip(county.poor, (1, 2, 3), strict=True)]}
    response = await county.pm.post(f"/projects/{project_id}/assets", json=body)
    assert response.status_code == 201, response.text
    return project_id, str(response.json()["id"])


async def _dividend_transfers(db: asyncpg.Pool, dividend_id: str) -> list[asyncpg.Record]:
    return list(await db.fetch(
        "SELECT t.amount_fen, s.kind AS source_kind, s.ref AS source_ref, d.kind AS dest_kind, d.ref AS household "
        "FROM funds.transfer_legs t JOIN funds.accounts s ON s.id = t.account_id "
        "JOIN funds.accounts d ON d.id = t.counter_account_id WHERE t.record_id = $1 AND t.kind = $2 AND t.leg = 'out'",
        dividend_id, funds_codes.DIVIDEND_KIND))


async def test_p12_a_dividend_moves_money_to_each_households_card(
    county: County, db: asyncpg.Pool, make_principal: MakePrincipal
) -> None:
    project_id, asset_id = await _asset(county)
    response = await county.pm.post(f"/projects/{project_id}/assets/{asset_id}/dividends",
                                    json={"amount_fen": 600_001, "paid_on": TODAY.isoformat()})
    assert response.status_code == 201, response.text
    dividend = response.json()
    split = {p["household_id"]: p["amount_fen"] for p in dividend["payouts"]}
    moved = await _dividend_transfers(db, dividend["id"])
    assert {r["household"]: r["amount_fen"] for r in moved} == split and sum(split.values()) == 600_001
    assert {(r["source_kind"], r["source_ref"], r["dest_kind"]) for r in moved} == {("budget", asset_id, "payee")}
    cards = {r["household_id"]: r["card_account"] for r in county.rows}
    paid = await db.fetch("SELECT household_id, account_no, amount_fen FROM funds.dividend_payments "
                          "WHERE dividend_id = $1", dividend["id"])
    assert {r["household_id"]: (r["account_no"], r["amount_fen"]) for r in paid} == {
        h: (cards[h], a) for h, a in split.items()}  # F6: the registered 一卡通 account, in full
    inspector = await make_principal("inspector", county.code)  # A4: traced to the household, from the asset
    trace = await inspector.get("/funds/trace", params={"household_id": county.poor[0]})
    assert trace.status_code == 200, trace.text
    [movement] = trace.json()["movements"]
    assert (movement["kind"], movement["doc_no"], movement["amount_fen"]) == (
        funds_codes.DIVIDEND_KIND, dividend["id"], split[county.poor[0]])
    assert movement["from"]["account"] == "budget"


async def test_p12_a_shareholder_not_eligible_on_the_day_paid_stops_the_dividend(
    county: County, db: asyncpg.Pool
) -> None:
    project_id, asset_id = await _asset(county)  # the households were registered today
    url = f"/projects/{project_id}/assets/{asset_id}/dividends"
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    refused = await county.pm.post(url, json={"amount_fen": 600, "paid_on": yesterday})
    assert refused.status_code == 422, refused.text
    answer = refused.json()
    assert (answer["code"], answer["rule"]) == (funds_codes.DIVIDEND_PAYEE_INELIGIBLE, "F10")
    assert set(answer["households"]) == set(county.poor)
    assert await db.fetchval("SELECT count(*) FROM projects.dividends WHERE asset_id = $1", asset_id) == 0
    assert await db.fetchval("SELECT count(*) FROM funds.dividend_payments WHERE asset_id = $1", asset_id) == 0
    allowed = await county.pm.post(url, json={"amount_fen": 600, "paid_on": TODAY.isoformat()})
    assert allowed.status_code == 201, allowed.text


def _funds_body(county: County, project_id: str, asset_id: str, split: dict[str, int]) -> dict[str, Any]:
    return {"dividend_id": closeout_rules.dividend_id(asset_id, 0), "county_code": county.code,
            "project_id": project_id, "asset_id": asset_id, "paid_on": TODAY.isoformat(),
            "payouts": [{"household_id": h, "amount_fen": a} for h, a in sorted(split.items())]}


async def _ask_funds(stack: Stack, body: dict[str, Any], role: str = "service") -> httpx.Response:
    url = f"{stack.service_urls['funds']}/internal/dividends"
    content = json.dumps(body).encode()
    principal = Principal(id="service:projects", role=role, region_code="000000")
    headers = {**signed(stack, "POST", url, principal, body=content), "content-type": "application/json"}
    async with httpx.AsyncClient() as client:
        return await client.post(url, content=content, headers=headers)


async def test_p12_paid_once_when_projects_failed_after_funds_paid(
    county: County, stack: Stack, db: asyncpg.Pool
) -> None:
    """Funds paid the dividend, then the projects service failed before recording it: asked again, the dividend has
    the same id (the asset's, and none recorded yet), funds answers what it paid and moves nothing more."""
    project_id, asset_id = await _asset(county)
    split = rules.split_by_shares(6_000, dict(zip(county.poor, (1, 2, 3), strict=True)))
    body = _funds_body(county, project_id, asset_id, split)
    first = await _ask_funds(stack, body)
    assert first.status_code == 200 and first.json()["replayed"] is False, first.text
    assert all("*" in p["account_no"] for p in first.json()["payouts"])  # masked (A5)
    other = await _ask_funds(stack, {**body, "payouts": body["payouts"][:1]})
    assert other.status_code == 409 and other.json()["code"] == funds_codes.DIVIDEND_CONFLICT
    assert (await _ask_funds(stack, body, role="project_manager")).status_code == 404  # services only
    recorded = await county.pm.post(f"/projects/{project_id}/assets/{asset_id}/dividends",
                                    json={"amount_fen": 6_000, "paid_on": TODAY.isoformat()})
    assert recorded.status_code == 201 and recorded.json()["id"] == body["dividend_id"], recorded.text
    moved = await _dividend_transfers(db, body["dividend_id"])
    assert sorted(r["amount_fen"] for r in moved) == sorted(split.values())  # once, not twice
    second = await county.pm.post(f"/projects/{project_id}/assets/{asset_id}/dividends",
                                  json={"amount_fen": 6_000, "paid_on": TODAY.isoformat()})
    assert second.status_code == 201 and second.json()["id"] != body["dividend_id"]  # a new dividend is paid anew
    assert len(await _dividend_transfers(db, second.json()["id"])) == 3


async def test_p12_two_dividends_asked_at_once_are_paid_once(county: County, db: asyncpg.Pool) -> None:
    """Both read no dividend recorded, so both are the asset's first: funds pays it once, the projects service records
    it once, and the other request is refused 409 (asked again, it is the asset's second dividend)."""
    project_id, asset_id = await _asset(county)
    url = f"/projects/{project_id}/assets/{asset_id}/dividends"
    body = {"amount_fen": 6_000, "paid_on": TODAY.isoformat()}
    answers = await asyncio.gather(county.pm.post(url, json=body), county.pm.post(url, json=body))
    statuses = sorted(a.status_code for a in answers)
    assert statuses in ([201, 201], [201, 409]), [a.text for a in answers]
    recorded = await db.fetch("SELECT id FROM projects.dividends WHERE asset_id = $1", asset_id)
    assert len(recorded) == statuses.count(201)
    paid = await db.fetchval("SELECT coalesce(sum(amount_fen), 0) FROM funds.dividend_payments WHERE asset_id = $1",
                             asset_id)
    assert paid == 6_000 * len(recorded)  # no dividend paid that is not recorded, none paid twice
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["code"] in ("DIVIDEND_RECORDED_MEANWHILE", funds_codes.DIVIDEND_CONFLICT)


async def test_f20_projects_tells_funds_each_projects_village(county: County, stack: Stack) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "draft")
    url = f"{stack.service_urls['projects']}/internal/projects/villages"
    content = json.dumps({"items": [{"project_id": project_id}, {"project_id": "prj_nothing"}]}).encode()
    principal = Principal(id="service:funds", role="service", region_code="000000")
    headers = {**signed(stack, "POST", url, principal, body=content), "content-type": "application/json"}
    async with httpx.AsyncClient() as client:
        response = await client.post(url, content=content, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["items"] == [{"project_id": project_id, "village_code": village_of(county.code)},
                                        {"project_id": "prj_nothing", "village_code": None}]
