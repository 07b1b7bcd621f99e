"""Issue #16 point 2, through the gateway: an inspector opens a case from alerts (O2), assigns it to the
responsible organisation with a deadline (O3, O5), the organisation answers, the inspector returns and accepts
(O4), refers it (O7), records accountability (O8) and closes it; who sees what (O6); every refusal, nothing changed
by a refused move; every move in the audit trail."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import asyncpg
import httpx
import pytest

from services.kernel import clock
from services.kernel.identity import Principal
from tests.conftest import Api, signed, wait_for_audit
from tests.oversight.conftest import CITY, COUNTY, OTHER_COUNTY, Site, document, ok, refused
from tests.stack import Stack


async def test_from_alert_to_accountability_through_the_gateway(site: Site, admin: Api) -> None:
    funds_alert, loans_alert = await site.alert("funds"), await site.alert("loans", severity="medium")
    case = await site.open(("funds", funds_alert), ("loans", loans_alert), money=250_000)
    case_id = case["id"]
    assert case["state"] == "open" and case["severity"] == "high"  # the highest of its alerts
    assert case["money_involved_fen"] == 250_000 and case["responsible_organisation_id"] is None
    assert {(a["service"], a["alert_id"]) for a in case["alerts"]} == {("funds", funds_alert), ("loans", loans_alert)}
    assert all(a["type"] == "INELIGIBLE_PAYEE" and a["region_code"] == COUNTY for a in case["alerts"])

    assigned = ok(await site.inspector.post(f"/oversight/cases/{case_id}/assign",
                                            json={"organisation_id": site.bureau, "note": "限期整改"}))
    assert assigned["state"] == "assigned" and assigned["responsible_organisation_id"] == site.bureau
    assert assigned["deadline"] == (clock.today() + timedelta(days=15)).isoformat()  # O3: high → 15 days

    # the bureau sees its case and answers; it is returned once, then accepted
    seen = ok(await site.cashier.get(f"/oversight/cases/{case_id}"))
    assert seen["id"] == case_id
    listed = ok(await site.cashier.get("/oversight/cases", params={"limit": 200}))
    assert case_id in {c["id"] for c in listed["items"]}
    doc = await document(site.cashier)  # the bureau uploads it first (E1)
    first = ok(await site.cashier.post(f"/oversight/cases/{case_id}/rectifications",
                                       json={"note": "已整改", "documents": [doc]}))
    assert first["state"] == "rectification_submitted"
    returned = ok(await site.inspector.post(f"/oversight/cases/{case_id}/return", json={"note": "资金未追回"}))
    assert returned["state"] == "returned"
    second = ok(await site.cashier.post(f"/oversight/cases/{case_id}/rectifications", json={
        "note": "已追回资金并冲正", "documents": [doc], "money_recovered_fen": 250_000}))
    assert second["state"] == "rectification_submitted"
    accepted = ok(await site.inspector.post(f"/oversight/cases/{case_id}/accept", json={"note": "整改到位"}))
    assert accepted["state"] == "accepted"

    measure = {"person_name": "张某", "person_post": "县财政局农业股股长", "measure": "通报批评",
               "decided_on": clock.today().isoformat(), "decision_number": "县纪〔2026〕12号", "documents": [doc]}
    recorded = ok(await site.inspector.post(f"/oversight/cases/{case_id}/accountability", json=measure), 201)
    assert [(m["person_name"], m["measure"], m["decision_number"]) for m in recorded["accountability"]] == [
        ("张某", "通报批评", "县纪〔2026〕12号")]
    closed = ok(await site.inspector.post(f"/oversight/cases/{case_id}/close", json={"note": "结案"}))
    assert closed["state"] == "closed"
    assert [(e["seq"], e["action"], e["state"]) for e in closed["events"]] == [
        (1, "opened", "open"), (2, "assigned", "assigned"), (3, "rectification_submitted", "rectification_submitted"),
        (4, "returned", "returned"), (5, "rectification_submitted", "rectification_submitted"),
        (6, "accepted", "accepted"), (7, "closed", "closed"),
    ]
    submitted = closed["events"][4]
    assert submitted["documents"] == [doc] and submitted["money_recovered_fen"] == 250_000
    assert submitted["principal_id"] == site.cashier.principal_id
    assert submitted["principal_organisation_id"] == site.bureau  # recorded by: from the signed identity
    assert closed["events"][0]["principal_id"] == site.inspector.principal_id

    # every move is in the trail, by the service's outbox (each names the case)
    await wait_for_audit(admin)
    trail = ok(await admin.get("/audit", params={"entity_id": case_id, "limit": 100}))["items"]
    changes = [e for e in trail if e["origin"] == "oversight"]
    assert sorted(e["path"].rsplit("/", 1)[-1] for e in changes) == sorted(
        ["cases", "assign", "rectifications", "return", "rectifications", "accept", "accountability", "close"])


async def test_another_county_and_another_organisation_see_none_of_it(site: Site) -> None:
    case = await site.assigned()
    path = f"/oversight/cases/{case['id']}"
    refused(await site.other_inspector.get(path), 403, "NOT_IN_JURISDICTION", rule="O6")
    refused(await site.other_cashier.get(path), 403, "NOT_IN_JURISDICTION", rule="O6")
    refused(await site.outsider.get(path), 403, "NOT_IN_JURISDICTION", rule="O6")
    assert ok(await site.city_inspector.get(path))["id"] == case["id"]  # the city above sees it
    for caller in (site.other_inspector, site.other_cashier, site.outsider):
        listed = ok(await caller.get("/oversight/cases", params={"limit": 200}))
        assert case["id"] not in {c["id"] for c in listed["items"]}
    refused(await site.other_cashier.post(f"{path}/rectifications", json={"note": "x"}), 403,
            "NOT_IN_JURISDICTION", rule="O6")
    refused(await site.outsider.post(f"{path}/rectifications", json={"note": "x"}), 403, "NOT_IN_JURISDICTION")
    refused(await site.other_inspector.post(f"{path}/return", json={"note": "x"}), 403, "NOT_IN_JURISDICTION")
    # roles: an admin has no part in cases; a bureau cannot judge its own rectification, an inspector cannot answer
    admin_key = await site.make_principal("admin", COUNTY)
    refused(await admin_key.get(path), 403, "FORBIDDEN")
    refused(await site.cashier.post(f"{path}/accept", json={"note": "自己验收"}), 403, "FORBIDDEN")
    refused(await site.inspector.post(f"{path}/rectifications", json={"note": "x"}), 403, "FORBIDDEN")
    refused(await site.cashier.post("/oversight/cases", json={"region_code": COUNTY, "title": "x",
                                                             "complaint_ref": "c"}), 403, "FORBIDDEN")
    unchanged = ok(await site.inspector.get(path))
    assert unchanged["state"] == "assigned" and len(unchanged["events"]) == 2


async def test_a_case_before_assignment_is_seen_by_inspectors_only(site: Site) -> None:
    case = await site.open(("funds", await site.alert()))
    refused(await site.cashier.get(f"/oversight/cases/{case['id']}"), 403, "NOT_IN_JURISDICTION")
    assert ok(await site.inspector.get(f"/oversight/cases/{case['id']}"))["state"] == "open"
    refused(await site.inspector.get("/oversight/cases/case_nothing"), 404, "NOT_FOUND")


async def test_illegal_moves_are_refused_and_change_nothing(site: Site) -> None:
    case = await site.open(("funds", await site.alert()))
    path = f"/oversight/cases/{case['id']}"
    for move in ("accept", "return", "close"):
        refused(await site.inspector.post(f"{path}/{move}", json={"note": "x"}), 409, "INVALID_CASE_TRANSITION",
                rule="O4")
    ok(await site.inspector.post(f"{path}/assign", json={"organisation_id": site.bureau}))
    refused(await site.inspector.post(f"{path}/assign", json={"organisation_id": site.bureau}), 409,
            "INVALID_CASE_TRANSITION")
    refused(await site.inspector.post(f"{path}/close", json={"note": "x"}), 409, "INVALID_CASE_TRANSITION")
    ok(await site.cashier.post(f"{path}/rectifications", json={"note": "已整改"}))
    refused(await site.cashier.post(f"{path}/rectifications", json={"note": "再交"}), 409, "INVALID_CASE_TRANSITION")
    ok(await site.inspector.post(f"{path}/accept", json={"note": "ok"}))
    refused(await site.inspector.post(f"{path}/return", json={"note": "x"}), 409, "INVALID_CASE_TRANSITION")
    ok(await site.inspector.post(f"{path}/close", json={"note": "结案"}))
    for move in ("accept", "close", "return"):
        refused(await site.inspector.post(f"{path}/{move}", json={"note": "x"}), 409, "INVALID_CASE_TRANSITION")
    refused(await site.inspector.post(f"{path}/refer", json={"organisation_id": site.county_commission,
                                                             "note": "x"}), 409, "INVALID_CASE_TRANSITION")
    after = ok(await site.inspector.get(path))
    assert after["state"] == "closed" and [e["seq"] for e in after["events"]] == [1, 2, 3, 4, 5]


async def test_opening_takes_existing_alerts_of_the_case_region_once(site: Site) -> None:
    inspector = site.inspector
    body = {"region_code": COUNTY, "title": "线索"}
    refused(await inspector.post("/oversight/cases", json=body), 422, "NO_GROUNDS", rule="O2")
    missing = {**body, "alerts": [{"service": "funds", "alert_id": "alert-funds_" + "0" * 26}]}
    refused(await inspector.post("/oversight/cases", json=missing), 422, "UNKNOWN_ALERT", field="alerts.0.alert_id")
    elsewhere = await site.alert(region=OTHER_COUNTY)
    outside = {**body, "alerts": [{"service": "funds", "alert_id": elsewhere}]}
    refused(await inspector.post("/oversight/cases", json=outside), 422, "ALERT_OUTSIDE_CASE_REGION",
            field="alerts.0.alert_id")
    refused(await inspector.post("/oversight/cases", json={**outside, "region_code": OTHER_COUNTY}), 403,
            "NOT_IN_JURISDICTION", field="region_code")
    refused(await inspector.post("/oversight/cases", json={**body, "alerts": [{"service": "gateway",
                                                                                "alert_id": elsewhere}]}),
            422, "VALIDATION_ERROR", field="alerts.0.service")
    alert = await site.alert()
    first = await site.open(("funds", alert))
    again = await inspector.post("/oversight/cases", json={**body, "alerts": [{"service": "funds", "alert_id": alert}]})
    refused(again, 409, "ALERT_IN_CASE", rule="O2")
    assert again.json()["case_id"] == first["id"]
    complaint = ok(await inspector.post("/oversight/cases", json={**body, "complaint_ref": "JB-2026-001"}), 201)
    assert complaint["complaint_ref"] == "JB-2026-001" and complaint["severity"] == "medium"
    negative = await inspector.post("/oversight/cases", json={**body, "complaint_ref": "c", "money_involved_fen": -1})
    refused(negative, 422, "VALIDATION_ERROR", field="money_involved_fen")


async def test_the_deadline_is_by_severity_or_given_and_never_past(site: Site) -> None:
    low = await site.open(("funds", await site.alert(severity="low")))
    path = f"/oversight/cases/{low['id']}/assign"
    yesterday, today = (clock.today() - timedelta(days=1)).isoformat(), clock.today().isoformat()
    for day in (yesterday, today):
        refused(await site.inspector.post(path, json={"organisation_id": site.bureau, "deadline": day}), 422,
                "DEADLINE_IN_PAST", rule="O3", field="deadline")
    assert ok(await site.inspector.get(f"/oversight/cases/{low['id']}"))["state"] == "open"
    assigned = ok(await site.inspector.post(path, json={"organisation_id": site.bureau}))
    assert assigned["deadline"] == (clock.today() + timedelta(days=60)).isoformat()
    medium = await site.open(("funds", await site.alert(severity="medium")))
    given = (clock.today() + timedelta(days=7)).isoformat()
    chosen = ok(await site.inspector.post(f"/oversight/cases/{medium['id']}/assign",
                                          json={"organisation_id": site.bureau, "deadline": given}))
    assert chosen["deadline"] == given


async def test_a_case_is_assigned_to_an_organisation_of_its_region(site: Site) -> None:
    case = await site.open(("funds", await site.alert()))
    path = f"/oversight/cases/{case['id']}/assign"
    refused(await site.inspector.post(path, json={"organisation_id": site.other_bureau}), 422,
            "ORGANISATION_OUTSIDE_CASE_REGION", rule="O5", field="organisation_id")
    refused(await site.inspector.post(path, json={"organisation_id": site.county_commission}), 422,
            "ORGANISATION_OUTSIDE_CASE_REGION")
    refused(await site.inspector.post(path, json={"organisation_id": "org_" + "0" * 26}), 422,
            "UNKNOWN_ORGANISATION", field="organisation_id")
    refused(await site.inspector.post(path, json={"organisation_id": "../admin"}), 422, "VALIDATION_ERROR",
            field="organisation_id")
    assert ok(await site.inspector.get(f"/oversight/cases/{case['id']}"))["state"] == "open"
    assert ok(await site.inspector.post(path, json={"organisation_id": site.bureau}))["state"] == "assigned"


async def test_referral_goes_to_a_commission_of_the_same_or_a_higher_level(site: Site) -> None:
    case = await site.submitted()
    path = f"/oversight/cases/{case['id']}/refer"
    refused(await site.inspector.post(path, json={"organisation_id": site.bureau, "note": "移送"}), 422,
            "NOT_A_DISCIPLINE_COMMISSION", rule="O7", field="organisation_id")
    refused(await site.inspector.post(path, json={"organisation_id": site.other_commission, "note": "移送"}), 422,
            "COMMISSION_BELOW_CASE", rule="O7")
    doc = await document(site.inspector, "移送函.pdf")
    same_level = ok(await site.inspector.post(path, json={"organisation_id": site.county_commission,
                                                          "note": "移送县纪委监委", "documents": [doc]}))
    assert same_level["events"][-1]["documents"] == [doc]
    assert same_level["state"] == "referred" and same_level["events"][-1]["organisation_id"] == site.county_commission
    assert same_level["responsible_organisation_id"] == site.bureau
    # a city case cannot go down to a county's commission; the city's takes it
    city_alert = await site.alert(region=COUNTY)
    city_case = ok(await site.city_inspector.post("/oversight/cases", json={
        "region_code": CITY, "title": "市级线索", "alerts": [{"service": "funds", "alert_id": city_alert}]}), 201)
    city_path = f"/oversight/cases/{city_case['id']}/refer"
    refused(await site.city_inspector.post(city_path, json={"organisation_id": site.county_commission, "note": "x"}),
            422, "COMMISSION_BELOW_CASE")
    higher = ok(await site.city_inspector.post(city_path, json={"organisation_id": site.city_commission,
                                                                "note": "移送市纪委监委"}))
    assert higher["state"] == "referred"
    ok(await site.city_inspector.post(f"/oversight/cases/{city_case['id']}/close", json={"note": "已移送，结案"}))


async def test_accountability_is_recorded_once_accepted_or_referred(site: Site) -> None:
    measure = {"person_name": "李某", "person_post": "村支书", "measure": "诫勉谈话",
               "decided_on": clock.today().isoformat(), "decision_number": "纪〔2026〕3号"}
    case = await site.submitted()
    path = f"/oversight/cases/{case['id']}"
    refused(await site.inspector.post(f"{path}/accountability", json=measure), 409, "ACCOUNTABILITY_TOO_EARLY",
            rule="O8")
    ok(await site.inspector.post(f"{path}/accept", json={"note": "ok"}))
    refused(await site.inspector.post(f"{path}/accountability", json={**measure, "measure": "罚酒三杯"}), 422,
            "VALIDATION_ERROR", field="measure")
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    refused(await site.inspector.post(f"{path}/accountability", json={**measure, "decided_on": tomorrow}), 422,
            "VALIDATION_ERROR", field="decided_on")
    refused(await site.cashier.post(f"{path}/accountability", json=measure), 403, "FORBIDDEN")
    ok(await site.inspector.post(f"{path}/accountability", json=measure), 201)
    ok(await site.inspector.post(f"{path}/accountability", json={**measure, "measure": "政务处分"}), 201)
    ok(await site.inspector.post(f"{path}/close", json={"note": "结案"}))
    refused(await site.inspector.post(f"{path}/accountability", json=measure), 409, "ACCOUNTABILITY_TOO_EARLY")
    final = ok(await site.inspector.get(path))
    assert [m["measure"] for m in final["accountability"]] == ["诫勉谈话", "政务处分"]


async def test_the_database_refuses_to_edit_a_case_or_its_moves(site: Site, db: asyncpg.Pool) -> None:
    case = await site.assigned()
    for statement in ("UPDATE oversight.case_events SET state = 'closed' WHERE case_id = $1",
                      "DELETE FROM oversight.case_events WHERE case_id = $1",
                      "UPDATE oversight.cases SET money_involved_fen = 0 WHERE id = $1"):
        with pytest.raises(asyncpg.PostgresError):
            await db.execute(statement, case["id"])
    assert ok(await site.inspector.get(f"/oversight/cases/{case['id']}"))["state"] == "assigned"


def test_dates_are_china_dates() -> None:
    assert isinstance(clock.today(), date)


async def test_two_moves_at_once_one_wins_the_other_is_refused(site: Site) -> None:
    """O4 under concurrency: the case row is locked while a move is decided, so an accept and a return sent
    together do not both follow the submission."""
    for _ in range(3):
        case = await site.submitted()
        path = f"/oversight/cases/{case['id']}"
        answers = await asyncio.gather(
            site.inspector.post(f"{path}/accept", json={"note": "ok"}),
            site.inspector.post(f"{path}/return", json={"note": "no"}),
        )
        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
        after = ok(await site.inspector.get(path))
        assert [e["seq"] for e in after["events"]] == [1, 2, 3, 4]
        assert after["state"] in ("accepted", "returned")


async def test_a_service_reads_one_alert_of_any_region_a_person_of_their_own(site: Site, stack: Stack) -> None:
    """GET /internal/alerts/{id}: answered to a service principal (the oversight service), whatever the region;
    to a principal the gateway signed for a person (GET /alerts/{id}, issue #19) inside their jurisdiction only."""
    alert = await site.alert()
    url = f"{stack.service_urls['funds']}/internal/alerts/{alert}"
    service = Principal(id="service:oversight", role="service", region_code="000000", name="oversight")
    async with httpx.AsyncClient() as client:
        found = await client.get(url, headers=signed(stack, "GET", url, service))
        as_inspector = await client.get(url, headers=signed(
            stack, "GET", url, Principal(id="x", role="inspector", region_code=COUNTY)))
        as_neighbour = await client.get(url, headers=signed(
            stack, "GET", url, Principal(id="y", role="inspector", region_code=OTHER_COUNTY)))
        missing_url = f"{stack.service_urls['funds']}/internal/alerts/alert-funds_{'0' * 26}"
        missing = await client.get(missing_url, headers=signed(stack, "GET", missing_url, service))
    assert found.status_code == 200 and found.json()["id"] == alert and found.json()["region_code"] == COUNTY
    assert as_inspector.status_code == 200 and as_inspector.json()["id"] == alert
    assert as_neighbour.status_code == 404 and missing.status_code == 404
