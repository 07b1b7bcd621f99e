"""The internal API other services call (signed, directly on the registry's port)."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from services.kernel.identity import Principal
from tests.conftest import Api, MakePrincipal, signed
from tests.registry.api import IMPORT, import_csv
from tests.registry.factory import Row, csv_body, new_county, row
from tests.stack import Stack

SERVICE = Principal(id="service:loans", role="service", region_code="000000", name="loans")


async def call(
    stack: Stack,
    method: str,
    path: str,
    principal: Principal = SERVICE,
    params: dict[str, str] | None = None,
    json: object = None,
) -> httpx.Response:
    url = str(httpx.URL(stack.service_urls["registry"] + path, params=params))
    async with httpx.AsyncClient() as client:
        request = client.build_request(method, url, json=json)
        request.headers.update(signed(stack, method, url, principal, body=request.content))
        return await client.send(request)


async def test_household_and_lookup_give_the_full_record(admin: Api, stack: Stack) -> None:
    county = new_county()
    a, b = row(county, village_cadre="1", members="4"), row(county, status="not_poor")
    assert (await import_csv(admin, csv_body(a, b))).json()["imported"] == 2
    one = await call(stack, "GET", f"/internal/households/{a.household_id}")
    assert one.status_code == 200
    assert one.json() == {
        "household_id": a.household_id, "head_id_number": a.head_id_number, "head_name": "张三",
        "county_code": county, "village_code": a.village_code, "status": "poor", "members": 4,
        "village_cadre": True, "card_account": a.card_account,
    }
    assert (await call(stack, "GET", "/internal/households/hh-unknown")).status_code == 404
    found = await call(stack, "POST", "/internal/households/lookup",
                       json={"household_ids": [b.household_id, "hh-unknown", a.household_id]})
    assert found.status_code == 200
    assert [h["household_id"] for h in found.json()["items"]] == [b.household_id, a.household_id]
    assert found.json()["items"][0]["status"] == "not_poor"
    assert found.json()["missing"] == ["hh-unknown"]


async def test_lookup_input_is_checked(stack: Stack) -> None:
    too_many = {"household_ids": [f"hh-{i}" for i in range(1001)]}
    body: dict[str, Any]
    for body in (too_many, {"household_ids": ["bad id"]}, {"ids": []}, {"household_ids": "x"}):
        response = await call(stack, "POST", "/internal/households/lookup", json=body)
        assert response.status_code == 422, body
    assert (await call(stack, "POST", "/internal/households/lookup", json={"household_ids": []})).json() == {
        "items": [], "missing": []
    }


async def test_internal_api_is_for_services_and_signed_calls_only(stack: Stack) -> None:
    manager = Principal(id="pm", role="project_manager", region_code="430523")
    assert (await call(stack, "GET", "/internal/households/hh-x", principal=manager)).status_code == 403
    async with httpx.AsyncClient() as client:
        unsigned = await client.get(stack.service_urls["registry"] + "/internal/households/hh-x")
    assert unsigned.status_code == 401


async def test_status_at_follows_the_history(admin: Api, stack: Stack, db: asyncpg.Pool) -> None:
    """poor (2018) → exited (2019-06-01) → returned (today): each date answers with the status then in force. Before
    the first change the history is empty and the record answers, from its registration day on."""
    county = new_county()
    household = row(county)
    path = f"/internal/households/{household.household_id}/status-at"

    household.status, household.village_cadre = "poor", "0"
    await import_on(admin, "2018-01-01", household)
    assert await db.fetchval("SELECT count(*) FROM registry.household_status_history WHERE household_id = $1",
                             household.household_id) == 0
    assert (await call(stack, "GET", path, params={"on": "2017-12-31"})).status_code == 404
    registered = await call(stack, "GET", path, params={"on": "2018-01-01"})
    assert (registered.json()["status"], registered.json()["village_cadre"]) == ("poor", False)
    household.status, household.village_cadre = "exited", "1"
    await import_on(admin, "2019-06-01", household)
    household.status, household.village_cadre = "returned", "0"
    await import_on(admin, None, household)
    expected = {"2017-12-31": None, "2018-01-01": ("poor", False), "2019-05-31": ("poor", False),
                "2019-06-01": ("exited", True), "2020-01-01": ("exited", True), "2100-01-01": ("returned", False)}
    for on, want in expected.items():
        response = await call(stack, "GET", path, params={"on": on})
        if want is None:
            assert response.status_code == 404, on
        else:
            assert response.status_code == 200, (on, response.text)
            assert (response.json()["status"], response.json()["village_cadre"]) == want, on
    assert (await call(stack, "GET", path, params={"on": "2019-02-30"})).status_code == 422
    assert (await call(stack, "GET", path)).status_code == 422
    assert (await call(stack, "GET", "/internal/households/hh-none/status-at", params={"on": "2020-01-01"})
            ).status_code == 404


async def import_on(admin: Api, effective_on: str | None, *rows: Row) -> None:
    params = {"effective_on": effective_on} if effective_on else None
    response = await admin.post(IMPORT, content=csv_body(*rows), params=params,
                                headers={"content-type": "text/csv; charset=utf-8"})
    assert response.status_code == 200 and response.json()["rejected"] == [], response.text


def judged(body: dict[str, Any]) -> tuple[bool, list[str], str | None, bool | None]:
    return body["eligible"], body["reasons"], body["status"], body["village_cadre"]


async def test_eligibility_on_a_date_follows_the_history(admin: Api, stack: Stack) -> None:
    """L1/P3/F10 judged by the registry: poor from 2016-01-01, not_poor from 2019-06-01; before 2016 not registered;
    no date asks the current roster."""
    county = new_county()
    household = row(county)
    await import_on(admin, "2016-01-01", household)
    household.status = "not_poor"
    await import_on(admin, "2019-06-01", household)
    path = f"/internal/households/{household.household_id}/eligibility"
    expected = {
        "2015-12-31": (False, ["not_registered"], None, None),
        "2016-01-01": (True, [], "poor", False),
        "2019-05-31": (True, [], "poor", False),
        "2019-06-01": (False, ["not_poor"], "not_poor", False),
        None: (False, ["not_poor"], "not_poor", False),
    }
    for on, want in expected.items():
        response = await call(stack, "GET", path, params={"on": on} if on else None)
        assert response.status_code == 200, (on, response.text)
        assert response.json()["on"] == on and judged(response.json()) == want, on
    unknown = await call(stack, "GET", "/internal/households/hh-none/eligibility")
    assert unknown.status_code == 200 and judged(unknown.json()) == (False, ["not_registered"], None, None)
    for bad in ("2019-02-30", "1800-01-01", "x"):
        assert (await call(stack, "GET", path, params={"on": bad})).status_code == 422, bad


async def test_eligibility_of_many_households_in_the_order_asked(admin: Api, stack: Stack) -> None:
    county = new_county()
    poor, cadre, both = row(county), row(county, village_cadre="1"), row(county, status="not_poor", village_cadre="1")
    await import_on(admin, "2017-01-01", poor, cadre, both)
    late = row(county, status="exited")
    await import_on(admin, None, late)
    items = [
        {"household_id": late.household_id, "on": "2018-01-01"},
        {"household_id": poor.household_id, "on": "2018-01-01"},
        {"household_id": cadre.household_id},
        {"household_id": "hh-none", "on": "2018-01-01"},
        {"household_id": both.household_id, "on": "2017-01-01"},
        {"household_id": late.household_id},
        {"household_id": poor.household_id, "on": "2016-12-31"},
    ]
    response = await call(stack, "POST", "/internal/households/eligibility", json={"items": items})
    assert response.status_code == 200, response.text
    answers = response.json()["items"]
    assert [a["household_id"] for a in answers] == [i["household_id"] for i in items]
    assert [a["on"] for a in answers] == [i.get("on") for i in items]
    assert [judged(a) for a in answers] == [
        (False, ["not_registered"], None, None),
        (True, [], "poor", False),
        (False, ["village_cadre"], "poor", True),
        (False, ["not_registered"], None, None),
        (False, ["not_poor", "village_cadre"], "not_poor", True),
        (True, [], "exited", False),
        (False, ["not_registered"], None, None),
    ]
    empty = await call(stack, "POST", "/internal/households/eligibility", json={"items": []})
    assert empty.status_code == 200 and empty.json() == {"items": []}


async def test_eligibility_input_is_checked_and_internal_only(stack: Stack) -> None:
    too_many = {"items": [{"household_id": f"hh-{i}"} for i in range(1001)]}
    body: dict[str, Any]
    for body in (too_many, {"items": [{"household_id": "bad id"}]}, {"items": [{"household_id": "h", "day": "x"}]},
                 {"items": [{"household_id": "h", "on": "2999-99-01"}]}, {"ids": []}):
        response = await call(stack, "POST", "/internal/households/eligibility", json=body)
        assert response.status_code == 422, body
    manager = Principal(id="pm", role="project_manager", region_code="430523")
    refused = await call(stack, "GET", "/internal/households/hh-x/eligibility", principal=manager)
    assert refused.status_code == 403
    refused = await call(stack, "POST", "/internal/households/eligibility", principal=manager, json={"items": []})
    assert refused.status_code == 403


async def ineligible_on(stack: Stack, on: str, limit: int = 50_000) -> dict[str, tuple[list[str], str, bool]]:
    """Every household POST /internal/households/ineligible lists on `on`, following its pages."""
    found: dict[str, tuple[list[str], str, bool]] = {}
    after: str | None = ""
    while after is not None:
        response = await call(stack, "POST", "/internal/households/ineligible",
                              json={"on": on, "after": after, "limit": limit})
        assert response.status_code == 200, response.text
        for item in response.json()["items"]:
            assert item["household_id"] not in found and item["eligible"] is False and item["on"] == on
            found[item["household_id"]] = (item["reasons"], item["status"], item["village_cadre"])
        after = response.json()["next_after"]
    return found


async def test_the_households_ineligible_on_a_day_are_those_the_eligibility_check_refuses(
    admin: Api, stack: Stack
) -> None:
    """L1 the other way round (the INELIGIBLE_BORROWER scan): the list of a day holds a household exactly when its
    eligibility that day is refused for not_poor or village_cadre (not for not being registered yet)."""
    county = new_county()
    changes, not_poor, cadre, poor = row(county), row(county, status="not_poor"), row(county, village_cadre="1"), \
        row(county)
    await import_on(admin, "2016-01-01", changes, not_poor, cadre, poor)
    changes.status = "not_poor"
    await import_on(admin, "2019-06-01", changes)
    changes.status = "returned"
    await import_on(admin, "2021-01-01", changes)
    mine = {h.household_id: name for h, name in
            ((changes, "changes"), (not_poor, "not_poor"), (cadre, "cadre"), (poor, "poor"))}
    expected = {
        "2015-12-31": {},
        "2016-01-01": {"not_poor": (["not_poor"], "not_poor", False), "cadre": (["village_cadre"], "poor", True)},
        "2019-06-01": {"changes": (["not_poor"], "not_poor", False), "not_poor": (["not_poor"], "not_poor", False),
                       "cadre": (["village_cadre"], "poor", True)},
        "2021-01-01": {"not_poor": (["not_poor"], "not_poor", False), "cadre": (["village_cadre"], "poor", True)},
    }
    for on, want in expected.items():
        listed = {mine[h]: answer for h, answer in (await ineligible_on(stack, on)).items() if h in mine}
        assert listed == want, on
        for household_id, name in mine.items():  # the same judgement as the eligibility of each household
            one = (await call(stack, "GET", f"/internal/households/{household_id}/eligibility",
                              params={"on": on})).json()
            refused = [r for r in one["reasons"] if r != "not_registered"]
            assert (name in listed) == bool(refused), (on, name)
    # a page at a time lists the same households
    assert await ineligible_on(stack, "2019-06-01", limit=1) == await ineligible_on(stack, "2019-06-01")
    bad = await call(stack, "POST", "/internal/households/ineligible", json={"on": "2019-06-01", "limit": 0})
    assert bad.status_code == 422
    manager = Principal(id="pm", role="project_manager", region_code="430523")
    forbidden = await call(stack, "POST", "/internal/households/ineligible", json={"on": "2019-06-01"},
                         principal=manager)
    assert forbidden.status_code == 403


async def changed_since(stack: Stack, since: int, limit: int = 10_000) -> tuple[list[str], int]:
    """Every household POST /internal/households/changed lists since transaction `since`, following its pages, and
    the transaction to ask from next (its first page's)."""
    found: list[str] = []
    read_from: int | None = None
    after: str | None = ""
    while after is not None:
        response = await call(stack, "POST", "/internal/households/changed",
                              json={"since": since, "after": after, "limit": limit})
        assert response.status_code == 200, response.text
        found.extend(response.json()["items"])
        read_from = response.json()["read_from"] if read_from is None else read_from
        after = response.json()["next_after"]
    assert read_from is not None
    return found, read_from


async def test_the_households_changed_since_a_transaction_are_those_whose_standing_was_recorded_since(
    admin: Api, stack: Stack, make_principal: MakePrincipal
) -> None:
    """F10's incremental run asks which households' standing on some day may have changed since its mark: a status
    change (back-dated or not), a cadre exception, a registration recorded since; not the others."""
    county = new_county()
    untouched, changes, cadre, registered = row(county), row(county), row(county, village_cadre="1"), row(county)
    await import_on(admin, "2016-01-01", untouched, changes, cadre)
    nothing, mark = await changed_since(stack, 2**62)  # asked from a transaction not begun: only the mark
    assert nothing == []
    changes.status = "not_poor"
    await import_on(admin, "2019-06-01", changes)
    manager = await make_principal("project_manager", county)
    excepted = await manager.post(f"/registry/households/{cadre.household_id}/cadre-exceptions", json={
        "approved_by": "县脱贫攻坚领导小组", "approved_on": "2017-01-01", "doc_no": "某县扶组〔2017〕1号"})
    assert excepted.status_code == 201, excepted.text
    await import_on(admin, "2015-01-01", registered)  # registered back-dated
    mine = {h.household_id for h in (untouched, changes, cadre, registered)}

    changed, later = await changed_since(stack, mark)
    assert changed == sorted(set(changed))
    assert set(changed) & mine == {changes.household_id, cadre.household_id, registered.household_id}
    assert later >= mark
    assert (await changed_since(stack, mark, limit=1))[0] == changed  # a page at a time lists the same
    # asked from the transaction it answered: none of them (nothing of theirs was recorded since)
    again, _ = await changed_since(stack, later)
    assert not set(again) & mine

    bad = await call(stack, "POST", "/internal/households/changed", json={"since": mark, "limit": 0})
    assert bad.status_code == 422
    # a transaction id past a bigint: 422 on the field, not a failed cast (500); the largest one is an answer
    past = await call(stack, "POST", "/internal/households/changed", json={"since": 2**63})
    assert past.status_code == 422 and past.json()["field"] == "since", past.text
    largest = await call(stack, "POST", "/internal/households/changed", json={"since": 2**63 - 1})
    assert largest.status_code == 200, largest.text
    person = Principal(id="pm", role="project_manager", region_code=county)
    forbidden = await call(stack, "POST", "/internal/households/changed", json={"since": mark}, principal=person)
    assert forbidden.status_code == 403
