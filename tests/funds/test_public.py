"""Issue #16 point 5, through the gateway without a key: the public sees the money (U1: every allocation into or out
of a county, only its public columns; U2: an announced project's budget, what was arranged to it and paid, its
status, beneficiaries as a count and its history). Nothing personal, nothing of who recorded it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Api
from tests.funds.site import Site

PUBLIC_ALLOCATION = {"doc_no", "fund_source", "fiscal_year", "amount_fen", "issued_on", "from_region", "to_region",
                     "reversed"}


async def _all_pages(anonymous: Api, params: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await anonymous.get("/public/allocations", params={**params, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        items.extend(page.json()["items"])
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items


async def test_u1_the_public_sees_every_allocation_into_or_out_of_a_county(site: Site, anonymous: Api) -> None:
    w = site.world
    more = [(await w.allocate(amount, to=site.county)).json() for amount in (1_000, 2_000, 3_000)]
    elsewhere = (await w.allocate(7_000, to=w.poor)).json()
    earlier = (await w.allocate(4_000, to=site.county, year=2017, on="2017-03-01")).json()
    undone = await w.fin_province.post("/funds/reversals", json={"target_id": more[0]["id"], "reason": "错拨"})
    assert undone.status_code == 201, undone.text

    listed = await _all_pages(anonymous, {"county": site.county, "limit": 2})  # keyset pages of two
    assert all(set(item) == PUBLIC_ALLOCATION for item in listed)  # no id, no created_by, no tasks
    by_doc = {item["doc_no"]: item for item in listed}
    assert len(by_doc) == len(listed) == 5  # the site's first allocation, three more, the 2017 one: once each
    assert elsewhere["doc_no"] not in by_doc
    first = by_doc[more[1]["doc_no"]]
    assert (first["amount_fen"], first["from_region"], first["to_region"], first["issued_on"], first["fund_source"],
            first["reversed"]) == (2_000, w.province, site.county, "2018-02-01", w.source, False)
    assert by_doc[more[0]["doc_no"]]["reversed"] is True
    dumped = json.dumps(listed, ensure_ascii=False)
    assert all(a["id"] not in dumped for a in more) and "prn_" not in dumped  # who recorded it is not shown

    of_2017 = await _all_pages(anonymous, {"county": site.county, "year": 2017})
    assert [item["doc_no"] for item in of_2017] == [earlier["doc_no"]]
    out_of_province = await _all_pages(anonymous, {"county": w.poor})
    assert [item["doc_no"] for item in out_of_province] == [elsewhere["doc_no"]]


@pytest.mark.parametrize("params", [
    {}, {"county": "430000"}, {"county": "430500"}, {"county": "4305"}, {"county": "43052x"},
    {"county": "430523101001"}, {"county": "430523", "year": "1999"}, {"county": "430523", "limit": "0"},
    {"county": "430523", "cursor": "not-ours"},
])
async def test_u1_a_county_code_or_nothing(anonymous: Api, params: dict[str, str]) -> None:
    response = await anonymous.get("/public/allocations", params=params)
    assert response.status_code == 422, response.text
    field = next((k for k in ("year", "limit", "cursor") if k in params), "county")
    assert response.json()["field"] == field


async def test_u2_the_public_page_of_an_announced_project(site: Site, anonymous: Api) -> None:
    w = site.world
    project_id = await site.project("in_progress", budget=1_000_000)
    arranged = await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 400_000))
    assert arranged.status_code == 201, arranged.text
    paid = await w.fin_pilot.post("/funds/disbursements", json=site.payment(project_id, 100_000))
    assert paid.status_code == 201, paid.text
    second = await w.fin_pilot.post("/funds/disbursements", json=site.payment(project_id, 50_000))
    undone = await w.fin_pilot.post("/funds/reversals", json={"target_id": second.json()["id"], "reason": "重复"})
    assert undone.status_code == 201, undone.text

    response = await anonymous.get(f"/public/projects/{project_id}")
    assert response.status_code == 200, response.text
    page = response.json()
    assert (page["budget_fen"], page["arranged_fen"], page["paid_fen"]) == (1_000_000, 400_000, 100_000)
    assert page["status"] == "in_progress" and page["beneficiary_households"] == 1
    assert page["announcement"]["days"] >= 10
    assert [(s["action"], s["status"]) for s in page["history"]] == [
        ("create", "draft"), ("submit", "submitted"), ("review", "reviewed"), ("announce", "announced"),
        ("approve", "approved"), ("start", "in_progress")]
    dumped = json.dumps(page, ensure_ascii=False)
    household = site.households[0]
    for personal in (household["household_id"], household["head_name"], household["card_account"], "prn_"):
        assert personal not in dumped
    assert not {"beneficiary_household_ids", "principal_id", "note", "created_by"} & set(page)


async def test_u2_a_project_not_yet_announced_is_not_public(site: Site, anonymous: Api) -> None:
    for status in ("draft", "reviewed", "rejected"):
        project_id = await site.project(status)
        response = await anonymous.get(f"/public/projects/{project_id}")
        assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND", (status, response.text)
    announced = await site.project("announced")
    page = (await anonymous.get(f"/public/projects/{announced}")).json()
    assert (page["status"], page["arranged_fen"], page["paid_fen"]) == ("announced", 0, 0)
    assert (await anonymous.get("/public/projects/prj_unknown")).status_code == 404
