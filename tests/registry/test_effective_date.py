"""A roster import may stand for an earlier day (`?effective_on=`, default today): the households' status history
is dated so, which is what F10 (a payment to a household not registered on the payment date) and L1 read. The
history stays in date order: a back-dated line may not rewrite a household that already has later history."""

from __future__ import annotations

import asyncpg
import httpx

from services.registry import codes
from tests.conftest import Api
from tests.registry.api import IMPORT, import_csv
from tests.registry.factory import csv_body, new_county, row
from tests.registry.test_internal import call
from tests.stack import Stack


async def _import_on(api: Api, body: bytes, on: str) -> httpx.Response:
    return await api.post(IMPORT, content=body, params={"effective_on": on},
                          headers={"content-type": "text/csv; charset=utf-8"})


async def _status_at(stack: Stack, household_id: str, on: str) -> tuple[str, bool] | None:
    response = await call(stack, "GET", f"/internal/households/{household_id}/status-at", params={"on": on})
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return response.json()["status"], response.json()["village_cadre"]


async def test_a_back_dated_roster_dates_the_history(admin: Api, stack: Stack, db: asyncpg.Pool) -> None:
    county = new_county()
    household = row(county)
    response = await _import_on(admin, csv_body(household), "2018-03-01")
    assert response.status_code == 200, response.text
    assert response.json()["effective_on"] == "2018-03-01" and response.json()["imported"] == 1
    assert await _status_at(stack, household.household_id, "2018-02-28") is None
    assert await _status_at(stack, household.household_id, "2018-03-01") == ("poor", False)
    registered = await db.fetchval(
        "SELECT registered_on FROM registry.household_records WHERE household_id = $1", household.household_id)
    assert str(registered) == "2018-03-01"
    # a later roster (today) changes the status: 2018 keeps its answer
    household.status = "exited"
    assert (await import_csv(admin, csv_body(household))).json()["updated"] == 1
    assert await _status_at(stack, household.household_id, "2019-01-01") == ("poor", False)
    assert await _status_at(stack, household.household_id, "2100-01-01") == ("exited", False)


async def test_a_back_dated_line_may_not_rewrite_later_history(admin: Api, stack: Stack) -> None:
    county = new_county()
    known, new = row(county), row(county)
    assert (await import_csv(admin, csv_body(known))).json()["imported"] == 1  # history dated today
    known.status = "returned"
    response = await _import_on(admin, csv_body(known, new), "2019-01-01")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(r["line"], r["code"]) for r in body["rejected"]] == [(2, codes.HISTORY_AFTER_EFFECTIVE_DATE)]
    assert body["imported"] == 1 and body["updated"] == 0
    assert await _status_at(stack, known.household_id, "2100-01-01") == ("poor", False)
    assert await _status_at(stack, new.household_id, "2019-01-01") == ("poor", False)


async def test_an_impossible_effective_date_refuses_the_file_and_writes_nothing(
    admin: Api, db: asyncpg.Pool
) -> None:
    county = new_county()
    body = csv_body(row(county), row(county))
    for on in ("2999-01-01", "2013-12-31", "2018-02-30", "yesterday", "2018-3-1"):
        response = await _import_on(admin, body, on)
        assert response.status_code == 422, (on, response.text)
        assert response.json()["code"] == codes.INVALID_EFFECTIVE_DATE and response.json()["field"] == "effective_on"
    assert await db.fetchval("SELECT count(*) FROM registry.households WHERE county_code = $1", county) == 0
    assert (await _import_on(admin, body, "2014-01-01")).json()["imported"] == 2  # the first day allowed
