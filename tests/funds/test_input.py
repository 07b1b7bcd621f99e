"""Malformed input is a 422 naming the field, and nothing is written."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from services.kernel import clock
from tests.funds.world import World

BAD_ALLOCATIONS: list[tuple[str, Any, str]] = [
    ("amount_fen", -1, "amount_fen"),
    ("amount_fen", 0, "amount_fen"),
    ("amount_fen", 2**70, "amount_fen"),
    ("amount_fen", 1.5, "amount_fen"),
    ("amount_fen", "100", "amount_fen"),
    ("amount_fen", None, "amount_fen"),
    ("from_region", "43000", "from_region"),
    ("from_region", "4300001", "from_region"),
    ("to_region", "43O523", "to_region"),
    ("to_region", 430523, "to_region"),
    ("issued_on", "2018-02-30", "issued_on"),
    ("issued_on", "2018-13-01", "issued_on"),
    ("doc_no", "x" * 100_000, "doc_no"),
    ("doc_no", "", "doc_no"),
    ("fiscal_year", "2018", "fiscal_year"),
    ("fiscal_year", 1.5, "fiscal_year"),
    ("fund_source", "a b", "fund_source"),
    ("designated_project_id", "x" * 100_000, "designated_project_id"),
    ("tasks", [{"text": "x", "poverty_related": "yes"}], "tasks.0.poverty_related"),
    ("tasks", [{"text": "x", "poverty_related": True, "extra": 1}], "tasks.0.extra"),
    ("amout_fen", 100, "amout_fen"),  # a misspelt field is refused, never dropped
]


@pytest.mark.parametrize(("name", "value", "field"), BAD_ALLOCATIONS)
async def test_bad_allocation_is_422_and_writes_nothing(world: World, db: asyncpg.Pool, name: str, value: Any,
                                                        field: str) -> None:
    assert (await world.appropriate(10_000)).status_code == 201
    body = world.allocation(1_000)
    body[name] = value
    response = await world.fin_province.post("/funds/allocations", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert response.json()["field"] == field
    assert await db.fetchval("SELECT count(*) FROM funds.allocations WHERE fund_source = $1", world.source) == 0
    assert await world.balances(world.province) == {("treasury", world.source, ""): 10_000}


@pytest.mark.parametrize(("tail", "code", "field"), [
    (', "amount_fen": 999999}', "DUPLICATE_KEY", "amount_fen"),  # S14: last-one-wins would post 999999
    (', "tasks": [{"text": "x", "poverty_related": true, "text": "y"}]}', "DUPLICATE_KEY", "tasks.0.text"),
    (', "fiscal_year": ' + "9" * 5000 + "}", "VALIDATION_ERROR", "fiscal_year"),
])
async def test_a_money_record_with_a_repeated_key_or_a_huge_number_is_422_and_writes_nothing(
        world: World, db: asyncpg.Pool, tail: str, code: str, field: str) -> None:
    assert (await world.appropriate(10_000)).status_code == 201
    body = world.allocation(1_000)
    if code == "VALIDATION_ERROR":
        body.pop(field)  # the huge number replaces the field
    raw = json.dumps(body)[:-1] + tail
    response = await world.fin_province.post("/funds/allocations", content=raw.encode(),
                                             headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert (response.json()["code"], response.json()["field"]) == (code, field)
    assert await db.fetchval("SELECT count(*) FROM funds.allocations WHERE fund_source = $1", world.source) == 0
    assert await world.balances(world.province) == {("treasury", world.source, ""): 10_000}


async def test_the_same_record_with_each_key_once_is_posted(world: World) -> None:
    """The other side of S14: the record the refused ones were made from is accepted as it is."""
    assert (await world.appropriate(10_000)).status_code == 201
    raw = json.dumps(world.allocation(1_000, tasks=[{"text": "x", "poverty_related": True}]))
    response = await world.fin_province.post("/funds/allocations", content=raw.encode(),
                                             headers={"content-type": "application/json"})
    assert response.status_code == 201, response.text
    assert await world.balances(world.province) == {("treasury", world.source, ""): 9_000}


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/funds/appropriations", {"amount_fen": -5}, "amount_fen"),
    ("/funds/appropriations", {"region_code": "4300"}, "region_code"),
    ("/funds/appropriations", {"appropriated_on": "2018-02-30"}, "appropriated_on"),
    ("/funds/arrangements", {"county_code": "430500"}, "county_code"),
    ("/funds/arrangements", {"amount_fen": 2**70}, "amount_fen"),
    ("/funds/disbursements", {"payee": {"kind": "bank", "id": "x", "name": "x", "account_no": "1"}}, "payee"),
    ("/funds/disbursements", {"voucher_no": "v" * 100_000}, "voucher_no"),
    ("/funds/reversals", {"target_id": "alc_x", "reason": "", }, "reason"),
])
async def test_other_bad_bodies(world: World, db: asyncpg.Pool, path: str, body: dict[str, Any], field: str) -> None:
    base: dict[str, dict[str, Any]] = {
        "/funds/appropriations": {"fund_source": world.source, "fiscal_year": 2018, "region_code": world.province,
                                  "amount_fen": 1, "doc_no": "d"},
        "/funds/arrangements": {"county_code": world.pilot, "project_id": "prj_x", "amount_fen": 1},
        "/funds/disbursements": {"project_id": "prj_x", "amount_fen": 1, "voucher_no": "v",
                                 "payee": {"kind": "household", "id": "hh", "name": "x", "account_no": "1"}},
        "/funds/reversals": {"target_id": "alc_x", "reason": "r"},
    }
    response = await world.fin_province.post(path, json={**base[path], **body})
    assert response.status_code == 422, response.text
    assert response.json()["field"].startswith(field)
    assert await db.fetchval("SELECT count(*) FROM funds.transfer_legs WHERE fund_source = $1 AND leg = 'out'",
                             world.source) == 0


async def test_money_may_not_move_on_a_date_after_today(world: World, db: asyncpg.Pool) -> None:
    """Appropriated, allocated, arranged, paid and reversed on: today at the latest (in China), else a 422 naming
    the field and nothing written; today itself is allowed."""
    today, tomorrow = clock.today(), clock.today() + timedelta(days=1)
    refused = await world.appropriate(10_000, on=tomorrow.isoformat())
    assert refused.status_code == 422 and refused.json()["field"] == "appropriated_on", refused.text
    assert (await world.appropriate(10_000, on=today.isoformat(), year=today.year)).status_code == 201
    refused = await world.allocate(1_000, on=tomorrow.isoformat(), year=today.year)
    assert refused.status_code == 422 and refused.json()["field"] == "issued_on", refused.text
    assert await db.fetchval("SELECT count(*) FROM funds.allocations WHERE fund_source = $1", world.source) == 0
    allowed = await world.allocate(1_000, on=today.isoformat(), year=today.year)
    assert allowed.status_code == 201, allowed.text
    for path, body, field in (
        ("/funds/arrangements", {"county_code": world.pilot, "project_id": "prj_x", "amount_fen": 1,
                                 "arranged_on": tomorrow.isoformat()}, "arranged_on"),
        ("/funds/disbursements", {"project_id": "prj_x", "amount_fen": 1, "voucher_no": "v", "paid_on":
                                  tomorrow.isoformat(), "payee": {"kind": "household", "id": "hh", "name": "x",
                                                                  "account_no": "1"}}, "paid_on"),
        ("/funds/reversals", {"target_id": allowed.json()["id"], "reason": "r", "reversed_on": tomorrow.isoformat()},
         "reversed_on"),
    ):
        response = await world.fin_province.post(path, json=body)
        assert response.status_code == 422 and response.json()["field"] == field, response.text
    assert await db.fetchval("SELECT count(*) FROM funds.transfer_legs WHERE fund_source = $1 AND leg = 'out'",
                             world.source) == 2


async def test_bad_queries(world: World) -> None:
    for path, params, field in (
        ("/funds/balances", {"region": "43"}, "region"),
        ("/funds/allocations", {"fiscal_year": "abc"}, "fiscal_year"),
        ("/funds/allocations", {"limit": 501}, "limit"),
        ("/funds/reports/growth", {"province": "430500", "fiscal_year": 2018}, "province"),
        ("/funds/reports/growth", {"province": "430000"}, "fiscal_year"),
    ):
        response = await world.inspector.get(path, params=params)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["field"] == field
