"""Issue #16 point 5, through the gateway: the public complains (监督举报) without a key (O12); the complaint is kept
as made and raised as a PUBLIC_COMPLAINT alert that the inspectors of its region see, and only they; one of them
reads its contact and opens a case from it. The public's answer carries no personal field."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import Api
from tests.oversight.conftest import COUNTY, OTHER_COUNTY, Site, ok, refused

COMPLAINT = {"region_code": COUNTY, "text": "村里修路的钱被挪去盖办公楼", "contact": "王女士 13800000000",
             "subject_ref": "prj_01hxexample"}


async def _complain(http: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    return ok(await http.post("/public/complaints", json={**COMPLAINT, **extra}), 201)


async def _alert_of(inspector: Api, complaint_id: str) -> dict[str, Any] | None:
    page = ok(await inspector.get("/alerts", params={"type": "PUBLIC_COMPLAINT", "limit": 200}))
    return next((a for a in page["items"] if a["subject"]["id"] == complaint_id), None)


async def test_a_complaint_reaches_its_regions_inspectors_who_open_a_case_from_it(
    site: Site, http: httpx.AsyncClient
) -> None:
    receipt = await _complain(http)
    assert set(receipt) == {"id", "region_code", "subject_ref", "received_at"}  # no contact, not even the text
    assert receipt["region_code"] == COUNTY and receipt["subject_ref"] == "prj_01hxexample"
    complaint_id = receipt["id"]

    alert = await _alert_of(site.inspector, complaint_id)
    assert alert is not None and alert["type"] == "PUBLIC_COMPLAINT" and alert["region_code"] == COUNTY
    assert alert["status"] == "open"
    assert alert["subject"] == {"kind": "complaint", "id": complaint_id, "responsible_org": None}
    assert alert["facts"]["text"] == COMPLAINT["text"] and alert["facts"]["has_contact"] is True
    assert "13800000000" not in json.dumps(alert, ensure_ascii=False)  # the contact is not in the alert
    assert await _alert_of(site.city_inspector, complaint_id) is not None  # the city covers the county
    assert await _alert_of(site.other_inspector, complaint_id) is None  # another county's inspector: not seen

    read = ok(await site.inspector.get(f"/oversight/complaints/{complaint_id}"))
    assert read["contact"] == COMPLAINT["contact"] and read["text"] == COMPLAINT["text"]
    refused(await site.other_inspector.get(f"/oversight/complaints/{complaint_id}"), 403, "NOT_IN_JURISDICTION",
            rule="O12")
    refused(await site.cashier.get(f"/oversight/complaints/{complaint_id}"), 403, "FORBIDDEN")
    refused(await http.get(f"/oversight/complaints/{complaint_id}"), 401, "UNAUTHORIZED")

    case = ok(await site.inspector.post("/oversight/cases", json={
        "region_code": COUNTY, "title": "群众举报挪用修路资金", "complaint_ref": complaint_id}), 201)
    assert case["complaint_ref"] == complaint_id and case["severity"] == "medium"
    assert [(a["service"], a["alert_id"], a["type"]) for a in case["alerts"]] == [
        ("oversight", alert["id"], "PUBLIC_COMPLAINT")]
    # O2: the complaint is in one case only
    refused(await site.inspector.post("/oversight/cases", json={
        "region_code": COUNTY, "title": "再次立案", "complaint_ref": complaint_id}), 409, "ALERT_IN_CASE")


async def test_a_case_names_a_complaint_that_exists_in_its_region(site: Site, http: httpx.AsyncClient) -> None:
    complaint_id = (await _complain(http))["id"]
    refused(await site.other_inspector.post("/oversight/cases", json={
        "region_code": OTHER_COUNTY, "title": "别县的举报", "complaint_ref": complaint_id}), 422,
        "COMPLAINT_OUTSIDE_CASE_REGION", rule="O12", field="complaint_ref")
    refused(await site.inspector.post("/oversight/cases", json={
        "region_code": COUNTY, "title": "没有的举报", "complaint_ref": "cmp_0000000000000000000000000a"}), 422,
        "UNKNOWN_COMPLAINT", rule="O12", field="complaint_ref")
    # any other reference (a letter's number) is kept as text, as before
    letter = ok(await site.inspector.post("/oversight/cases", json={
        "region_code": COUNTY, "title": "来信", "complaint_ref": "县信访〔2026〕7号"}), 201)
    assert letter["complaint_ref"] == "县信访〔2026〕7号" and letter["alerts"] == []


@pytest.mark.parametrize(("change", "field"), [
    ({"text": None}, "text"),
    ({"text": ""}, "text"),
    ({"text": "   "}, "text"),
    ({"text": "长" * 2001}, "text"),
    ({"region_code": None}, "region_code"),
    ({"region_code": "4510"}, "region_code"),
    ({"contact": "x" * 201}, "contact"),
    ({"subject_ref": "x" * 101}, "subject_ref"),
])
async def test_a_bad_complaint_is_refused_naming_its_field_and_keeps_nothing(
    site: Site, http: httpx.AsyncClient, db: asyncpg.Pool, change: dict[str, Any], field: str
) -> None:
    body = {k: v for k, v in {**COMPLAINT, **change}.items() if v is not None}
    before = await db.fetchval("SELECT count(*) FROM oversight.complaints")
    refused(await http.post("/public/complaints", json=body), 422, "VALIDATION_ERROR", field=field)
    assert await db.fetchval("SELECT count(*) FROM oversight.complaints") == before


async def test_a_complaint_names_an_allocation_by_its_document_number(site: Site, http: httpx.AsyncClient) -> None:
    """O12: what a complaint is about is text: an allocation's document number (文号) as the public knows it."""
    body = {"region_code": COUNTY, "text": "资金未按文件下达", "subject_ref": "湘财农指〔2018〕12号"}
    assert ok(await http.post("/public/complaints", json=body), 201)["subject_ref"] == "湘财农指〔2018〕12号"


async def test_a_complaint_without_contact_or_subject_is_taken(site: Site, http: httpx.AsyncClient) -> None:
    body = {"region_code": COUNTY, "text": "低保名单里有村干部亲属"}
    receipt = ok(await http.post("/public/complaints", json=body), 201)
    assert receipt["subject_ref"] is None
    read = ok(await site.inspector.get(f"/oversight/complaints/{receipt['id']}"))
    assert read["contact"] is None and read["text"] == body["text"]


async def test_a_complaint_is_kept_as_made(site: Site, http: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    complaint_id = (await _complain(http))["id"]
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db.execute("UPDATE oversight.complaints SET contact = '' WHERE id = $1", complaint_id)


async def test_a_case_opened_from_the_complaints_alert_names_the_complaint(site: Site, http: httpx.AsyncClient) -> None:
    complaint_id = (await _complain(http))["id"]
    alert = await _alert_of(site.inspector, complaint_id)
    assert alert is not None
    other_alert = await site.alert("funds")
    case = ok(await site.inspector.post("/oversight/cases", json={
        "region_code": COUNTY, "title": "举报与预警", "alerts": [
            {"service": "oversight", "alert_id": alert["id"]}, {"service": "funds", "alert_id": other_alert}]}), 201)
    assert case["complaint_ref"] == complaint_id
    assert {(a["service"], a["alert_id"]) for a in case["alerts"]} == {("oversight", alert["id"]),
                                                                        ("funds", other_alert)}
    # the other side: another county's case cannot take it, nor an alert nobody raised
    refused(await site.other_inspector.post("/oversight/cases", json={
        "region_code": OTHER_COUNTY, "title": "别县", "alerts": [{"service": "oversight", "alert_id": alert["id"]}]}),
        422, "ALERT_OUTSIDE_CASE_REGION", field="alerts.0.alert_id")
    refused(await site.inspector.post("/oversight/cases", json={
        "region_code": COUNTY, "title": "没有的预警",
        "alerts": [{"service": "oversight", "alert_id": "alert-oversight_0000000000000000000000000a"}]}),
        422, "UNKNOWN_ALERT", field="alerts.0.alert_id")
    # named again by its complaint: in one case only
    refused(await site.inspector.post("/oversight/cases", json={
        "region_code": COUNTY, "title": "再次", "complaint_ref": complaint_id}), 409, "ALERT_IN_CASE")


async def test_a_case_names_one_complaint_and_takes_only_that_complaints_alert(
    site: Site, http: httpx.AsyncClient
) -> None:
    """O12 with O2 (the last review): a case naming one complaint took another complaint's alert too, so the second
    complaint was in a case that does not name it. A PUBLIC_COMPLAINT alert in a case is the named complaint's."""
    first, second = (await _complain(http))["id"], (await _complain(http))["id"]
    first_alert, second_alert = await _alert_of(site.inspector, first), await _alert_of(site.inspector, second)
    assert first_alert is not None and second_alert is not None
    refused(await site.inspector.post("/oversight/cases", json={
        "region_code": COUNTY, "title": "两条举报", "complaint_ref": first,
        "alerts": [{"service": "oversight", "alert_id": second_alert["id"]}]}),
        422, "COMPLAINT_ALERT_MISMATCH", field="alerts.0.alert_id")
    refused(await site.inspector.post("/oversight/cases", json={
        "region_code": COUNTY, "title": "两条举报", "alerts": [
            {"service": "oversight", "alert_id": first_alert["id"]},
            {"service": "oversight", "alert_id": second_alert["id"]}]}),
        422, "COMPLAINT_ALERT_MISMATCH", field="alerts.1.alert_id")
    # the allowed side: the named complaint's own alert, named as well, makes one case naming it
    case = ok(await site.inspector.post("/oversight/cases", json={
        "region_code": COUNTY, "title": "一条举报", "complaint_ref": first,
        "alerts": [{"service": "oversight", "alert_id": first_alert["id"]}]}), 201)
    assert case["complaint_ref"] == first
    assert [a["alert_id"] for a in case["alerts"]] == [first_alert["id"]]
    second_case = ok(await site.inspector.post("/oversight/cases", json={
        "region_code": COUNTY, "title": "另一条举报",
        "alerts": [{"service": "oversight", "alert_id": second_alert["id"]}]}), 201)
    assert second_case["complaint_ref"] == second
