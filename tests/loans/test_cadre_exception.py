"""R1 village cadres' exceptions (issue #17 point 11; L1/F10, seed 002 §二.1 "原则上不能识别纳入"): an exception
approved by the county (who, when, the document) is recorded in the registry, lets the household through L1 (and
F10, which asks the registry the same question) from the day it was approved, and is visible to inspectors: in a
list, in the household's record and as an alert. Through the gateway."""

from __future__ import annotations

from typing import Any

from services.kernel import clock
from services.loans import codes
from services.registry import codes as registry_codes
from tests.conftest import Api, MakePrincipal, scan_alerts
from tests.loans.conftest import Seed
from tests.loans.helpers import loan_body

EXCEPTION = {"approved_by": "县脱贫攻坚领导小组 组长张三", "approved_on": "2018-02-01",
             "doc_no": "某县扶组〔2018〕3号", "reason": "村文书系贫困户唯一劳动力，经县审定例外纳入"}


def path(household_id: str) -> str:
    return f"/registry/households/{household_id}/cadre-exceptions"


async def test_an_approved_exception_lets_a_cadre_household_borrow_from_its_day(
    lender: Api, seed: Seed, make_principal: MakePrincipal, county: str
) -> None:
    h = await seed(village_cadre=True)
    refused = await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number))
    assert refused.status_code == 422 and refused.json()["code"] == codes.BORROWER_NOT_ELIGIBLE, refused.text
    pm = await make_principal("project_manager", county)
    recorded = await pm.post(path(h.household_id), json=EXCEPTION)
    assert recorded.status_code == 201, recorded.text
    body = recorded.json()
    assert {k: body[k] for k in EXCEPTION} == EXCEPTION and body["household_id"] == h.household_id
    assert body["county_code"] == county and body["id"].startswith("cex_")
    before = await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number, issued_on="2018-01-31"))
    assert before.status_code == 422 and before.json()["code"] == codes.BORROWER_NOT_ELIGIBLE  # not yet approved
    allowed = await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number))
    assert allowed.status_code == 201, allowed.text


async def test_inspectors_see_the_exception(seed: Seed, make_principal: MakePrincipal, county: str,
                                            inspector: Api) -> None:
    h = await seed(village_cadre=True)
    pm = await make_principal("project_manager", county)
    recorded = (await pm.post(path(h.household_id), json=EXCEPTION)).json()
    listed = await inspector.get("/registry/cadre-exceptions", params={"county": county})
    assert listed.status_code == 200, listed.text
    assert [e["id"] for e in listed.json()["items"]] == [recorded["id"]]
    detail = (await inspector.get(f"/registry/households/{h.household_id}")).json()
    assert [e["doc_no"] for e in detail["cadre_exceptions"]] == [EXCEPTION["doc_no"]]
    await scan_alerts(inspector, clock.today().isoformat())
    found = await inspector.get("/alerts", params={"type": registry_codes.CADRE_EXCEPTION, "limit": 500})
    [alert] = [a for a in found.json()["items"] if a["subject"]["id"] == recorded["id"]]
    assert alert["region_code"] == county and alert["facts"]["household_id"] == h.household_id
    assert (alert["facts"]["approved_by"], alert["facts"]["doc_no"]) == (EXCEPTION["approved_by"], EXCEPTION["doc_no"])


async def test_an_exception_is_refused_where_it_is_not_one(
    seed: Seed, make_principal: MakePrincipal, county: str, lender: Api
) -> None:
    plain = await seed()
    cadre = await seed(village_cadre=True)
    pm = await make_principal("project_manager", county)
    not_needed = await pm.post(path(plain.household_id), json=EXCEPTION)
    assert not_needed.status_code == 422, not_needed.text
    assert not_needed.json()["code"] == registry_codes.NOT_A_CADRE_HOUSEHOLD
    assert not_needed.json()["rule"] == "R1"
    future = {**EXCEPTION, "approved_on": "2999-01-01"}
    refused: list[tuple[Api, dict[str, Any], int]] = [
        (pm, future, 422),
        (pm, {k: v for k, v in EXCEPTION.items() if k != "doc_no"}, 422),
        (await make_principal("project_manager", "449999"), EXCEPTION, 403),  # another county's
        (lender, EXCEPTION, 403),
    ]
    for api, body, status in refused:
        response = await api.post(path(cadre.household_id), json=body)
        assert response.status_code == status, (status, response.text)
    listed = await (await make_principal("inspector", county)).get("/registry/cadre-exceptions",
                                                                   params={"county": county})
    assert listed.json()["items"] == []  # nothing recorded
