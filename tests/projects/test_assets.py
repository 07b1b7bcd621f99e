"""P6 asset income through the gateway: assets after acceptance, shares to beneficiaries, dividends split exactly."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from services.kernel import clock
from services.projects import codes
from tests.projects.conftest import County
from tests.projects.factory import project_in

TODAY = clock.today().isoformat()  # P12: a dividend is paid to households eligible on the day paid (F10)


def _asset(shares: list[tuple[str, int]], kind: str = "income_generating") -> dict[str, object]:
    return {
        "kind": kind,
        "value_fen": 80_000_000,
        "description": "村级光伏电站 100kW",
        "shares": [{"household_id": h, "shares": s} for h, s in shares],
    }


async def test_assets_only_after_acceptance(county: County) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "completed")
    response = await county.pm.post(f"/projects/{project_id}/assets", json=_asset([(county.poor[0], 1)]))
    assert response.status_code == 409 and response.json()["code"] == codes.INVALID_TRANSITION
    assert response.json()["status_now"] == "completed"


async def test_dividend_split_by_shares_sums_exactly(county: County, db: asyncpg.Pool) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "accepted")
    a, b, c = county.poor
    response = await county.pm.post(f"/projects/{project_id}/assets", json=_asset([(a, 1), (b, 1), (c, 1)]))
    assert response.status_code == 201, response.text
    asset = response.json()
    assert asset["id"] and asset["total_shares"] == 3
    url = f"/projects/{project_id}/assets/{asset['id']}/dividends"
    response = await county.pm.post(url, json={"amount_fen": 100, "paid_on": TODAY})
    assert response.status_code == 201, response.text
    payouts = {p["household_id"]: p["amount_fen"] for p in response.json()["payouts"]}
    assert sum(payouts.values()) == 100
    assert sorted(payouts.values()) == [33, 33, 34]
    assert payouts[min(a, b, c)] == 34  # the tie goes to the lowest household id
    response = await county.pm.post(url, json={"amount_fen": 1_000_003, "paid_on": TODAY})
    dividend_id = response.json()["id"]
    total = await db.fetchval(
        "SELECT sum(amount_fen) FROM projects.dividend_payouts WHERE dividend_id = $1", dividend_id
    )
    assert total == 1_000_003
    listed = (await county.pm.get(f"/projects/{project_id}/assets")).json()
    assert [len(x["dividends"]) for x in listed] == [2]


async def test_unequal_shares(county: County) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "accepted")
    a, b, c = county.poor
    asset = (await county.pm.post(f"/projects/{project_id}/assets", json=_asset([(a, 7), (b, 11), (c, 13)]))).json()
    response = await county.pm.post(
        f"/projects/{project_id}/assets/{asset['id']}/dividends", json={"amount_fen": 99_999, "paid_on": TODAY}
    )
    payouts = {p["household_id"]: p for p in response.json()["payouts"]}
    assert sum(p["amount_fen"] for p in payouts.values()) == 99_999
    for household, shares in ((a, 7), (b, 11), (c, 13)):
        assert abs(payouts[household]["amount_fen"] - 99_999 * shares / 31) < 1
        assert payouts[household]["shares"] == shares


async def test_share_rules(county: County, db: asyncpg.Pool) -> None:
    project_id = await project_in(county.pm, county.code, county.poor[:2], "accepted")
    url = f"/projects/{project_id}/assets"
    cases = [
        (_asset([]), 422, codes.SHARES_REQUIRED),
        (_asset([(county.poor[2], 1)]), 422, codes.SHAREHOLDER_NOT_BENEFICIARY),  # not this project's beneficiary
        (_asset([(county.poor[0], 1)], kind="public_benefit"), 422, codes.SHARES_NOT_FOR_KIND),
        (_asset([(county.poor[0], 0)]), 422, "VALIDATION_ERROR"),
        (_asset([(county.poor[0], 1), (county.poor[0], 2)]), 422, "VALIDATION_ERROR"),
        ({**_asset([(county.poor[0], 1)]), "value_fen": -5}, 422, "VALIDATION_ERROR"),
    ]
    for body, status, code in cases:
        response = await county.pm.post(url, json=body)
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert await db.fetchval("SELECT count(*) FROM projects.assets WHERE project_id = $1", project_id) == 0
    road = await county.pm.post(url, json=_asset([], kind="public_benefit"))
    assert road.status_code == 201
    response = await county.pm.post(
        f"{url}/{road.json()['id']}/dividends", json={"amount_fen": 100, "paid_on": TODAY}
    )
    assert response.status_code == 409 and response.json()["code"] == codes.NO_SHARES
    response = await county.pm.post(f"{url}/ast_missing/dividends", json={"amount_fen": 100, "paid_on": TODAY})
    assert response.status_code == 404


async def test_a_dividend_is_paid_today_at_the_latest(county: County, db: asyncpg.Pool) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "accepted")
    a, b, c = county.poor
    asset = (await county.pm.post(f"/projects/{project_id}/assets", json=_asset([(a, 1), (b, 1), (c, 1)]))).json()
    url = f"/projects/{project_id}/assets/{asset['id']}/dividends"
    tomorrow = clock.today() + timedelta(days=1)
    refused = await county.pm.post(url, json={"amount_fen": 300, "paid_on": tomorrow.isoformat()})
    assert refused.status_code == 422 and refused.json()["field"] == "paid_on", refused.text
    assert await db.fetchval("SELECT count(*) FROM projects.dividends WHERE asset_id = $1", asset["id"]) == 0
    allowed = await county.pm.post(url, json={"amount_fen": 300, "paid_on": clock.today().isoformat()})
    assert allowed.status_code == 201, allowed.text
