"""An outsider's attack on issue #16's oversight loop (brief "attack"): each test is one probe through the gateway
on real processes; the ones that found a flaw say so."""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid
from datetime import datetime

import asyncpg
import httpx

from services.kernel import clock
from services.kernel.ids import new_id
from tests.conftest import Api, MakePrincipal
from tests.oversight.conftest import (
    CITY,
    COUNTY,
    OTHER_COUNTY,
    PDF,
    Site,
    document,
    ok,
    pdf,
    refused,
    upload,
)
from tests.oversight.test_reversals import _assigned_case, _reversal, _scene


async def _other_county_case(site: Site) -> str:
    """A case of the other county, assigned to its bureau (whose cashier may then move it)."""
    case = ok(await site.other_inspector.post("/oversight/cases", json={
        "region_code": OTHER_COUNTY, "title": "另案", "complaint_ref": f"信访-{uuid.uuid4().hex[:8]}"}), 201)
    ok(await site.other_inspector.post(f"/oversight/cases/{case['id']}/assign",
                                       json={"organisation_id": site.other_bureau}))
    return str(case["id"])


async def test_another_countys_bureau_cannot_cite_our_document_by_its_hash_and_read_it(site: Site) -> None:
    ours = await site.assigned()
    ref = await document(site.cashier, "本县整改报告.pdf")
    ref = {k: ref[k] for k in ("sha256", "name", "media_type", "size")}
    ok(await site.cashier.post(f"/oversight/cases/{ours['id']}/rectifications",
                               json={"note": "已整改", "documents": [ref]}))
    refused(await site.other_cashier.get(f"/oversight/evidence/{ref['sha256']}"), 404, "NOT_FOUND")

    theirs = await _other_county_case(site)
    # the other county's bureau names our document (its hash, size and type) in its own case's rectification
    cited = await site.other_cashier.post(f"/oversight/cases/{theirs}/rectifications",
                                          json={"note": "引用", "documents": [{**ref, "name": "x.pdf"}]})
    assert cited.status_code == 422, cited.text  # it never uploaded these bytes: it may not cite them
    refused(await site.other_cashier.get(f"/oversight/evidence/{ref['sha256']}"), 404, "NOT_FOUND")


async def test_a_refused_citation_does_not_tell_a_stranger_a_documents_size(site: Site) -> None:
    ours = await site.assigned()
    ref = await document(site.cashier, "本县整改报告.pdf")
    ok(await site.cashier.post(f"/oversight/cases/{ours['id']}/rectifications",
                               json={"note": "已整改", "documents": [
                                   {k: ref[k] for k in ("sha256", "name", "media_type", "size")}]}))
    theirs = await _other_county_case(site)
    probe = await site.other_cashier.post(f"/oversight/cases/{theirs}/rectifications", json={
        "note": "试探", "documents": [{"sha256": ref["sha256"], "name": "x.pdf", "media_type": PDF, "size": 1}]})
    assert probe.status_code == 422, probe.text
    # the size as a number of its own (the hash in the detail is hex: its digits are not the size)
    assert not re.search(rf"(?<![0-9a-f]){ref['size']}(?![0-9a-f])", probe.json()["detail"]), probe.json()


async def test_one_reversal_is_not_the_money_recovered_of_two_cases(
    admin: Api, make_principal: MakePrincipal, http: httpx.AsyncClient
) -> None:
    scene = await _scene(admin, make_principal, http)
    reversal = await _reversal(scene.funds, 40_000)
    first, second = await _assigned_case(scene), await _assigned_case(scene)
    ok(await scene.cashier.post(f"/oversight/cases/{first}/rectifications",
                                json={"note": "已冲正", "reversal_ids": [reversal]}))
    again = await scene.cashier.post(f"/oversight/cases/{second}/rectifications",
                                     json={"note": "同一笔冲正", "reversal_ids": [reversal]})
    assert again.status_code == 409 and again.json()["code"] == "REVERSAL_IN_CASE", again.text
    assert again.json().get("field") == "reversal_ids.0" and again.json()["case_id"] == first, again.json()
    unchanged = ok(await scene.inspector.get(f"/oversight/cases/{second}"))
    assert unchanged["state"] == "assigned"


async def test_two_acceptances_at_once_move_the_case_once(site: Site) -> None:
    case = await site.submitted()
    path = f"/oversight/cases/{case['id']}/accept"
    answers = await asyncio.gather(*(site.inspector.post(path, json={"note": f"到位{i}"}) for i in range(4)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 409, 409, 409], [a.text for a in answers]
    after = ok(await site.inspector.get(f"/oversight/cases/{case['id']}"))
    assert [e["action"] for e in after["events"]].count("accepted") == 1


async def test_two_uploads_of_one_document_at_once_keep_it_once(site: Site) -> None:
    await site.assigned()
    data = pdf("并发") + b"x" * 200_000
    answers = await asyncio.gather(*(upload(site.cashier, data) for _ in range(4)))
    assert all(a.status_code in (200, 201) for a in answers), [a.text for a in answers]
    created = [a.json()["created"] for a in answers]
    assert created.count(True) == 1, created
    assert {a.json()["sha256"] for a in answers} == {hashlib.sha256(data).hexdigest()}


async def test_the_report_refuses_bad_input_as_a_problem_naming_the_field(site: Site) -> None:
    today = clock.today().isoformat()
    cases = [
        ({"from": "2026-13-01", "to": today}, "from"),
        ({"from": today, "to": "yesterday"}, "to"),
        ({"to": today}, "from"),
        ({"from": today, "to": today, "region": "45102"}, "region"),
        ({"from": "0001-01-01", "to": today}, "from"),
        ({"from": today, "to": "9999-12-31"}, "to"),
    ]
    for params, field in cases:
        answer = await site.inspector.get("/oversight/report", params=params)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json().get("field") == field, (params, answer.json())


async def test_jurisdiction_holds_for_the_report_and_cases(site: Site) -> None:
    today = clock.today().isoformat()
    period = {"from": today, "to": today}
    refused(await site.inspector.get("/oversight/report", params={**period, "region": CITY}), 403,
            "NOT_IN_JURISDICTION", field="region")
    refused(await site.inspector.get("/oversight/report", params={**period, "region": OTHER_COUNTY}), 403,
            "NOT_IN_JURISDICTION", field="region")
    refused(await site.cashier.get("/oversight/report", params={**period, "region": OTHER_COUNTY}), 403,
            "NOT_IN_JURISDICTION", field="region")
    ok(await site.city_inspector.get("/oversight/report", params={**period, "region": COUNTY}))
    case = await site.assigned()
    for stranger in (site.other_inspector, site.other_cashier, site.outsider):
        got = await stranger.get(f"/oversight/cases/{case['id']}")
        assert got.status_code in (403, 404), got.text
        listed = ok(await stranger.get("/oversight/cases"))
        assert case["id"] not in {c["id"] for c in listed["items"]}
        moved = await stranger.post(f"/oversight/cases/{case['id']}/rectifications", json={"note": "越权"})
        assert moved.status_code in (403, 404), moved.text
    # the admin, whatever its reach, is no party to a case
    for path in (f"/oversight/cases/{case['id']}", "/oversight/cases"):
        assert (await site.admin.get(path)).status_code == 403
    after = ok(await site.inspector.get(f"/oversight/cases/{case['id']}"))
    assert after["state"] == "assigned" and len(after["events"]) == 2


async def test_bad_case_requests_are_problems(site: Site) -> None:
    for params in ({"cursor": "!!!"}, {"limit": "0"}, {"limit": "abc"}, {"region": "x"}):
        answer = await site.inspector.get("/oversight/cases", params=params)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.json().get("field"), answer.json()
    refused(await site.inspector.get("/oversight/cases/case_nothing"), 404, "NOT_FOUND")
    refused(await site.inspector.post("/oversight/cases/case_nothing/accept", json={"note": "x"}), 404, "NOT_FOUND")
    bad = await site.inspector.post("/oversight/cases", content=b"{not json",
                                    headers={"content-type": "application/json"})
    assert bad.status_code == 422 and bad.json().get("field"), bad.text
    answer = await site.inspector.post("/oversight/cases", json=[1, 2])
    assert answer.status_code == 422 and answer.json().get("field"), answer.text


async def test_uploads_with_bad_names_or_types_are_problems(site: Site) -> None:
    for kwargs in ({"name": "x" * 300}, {"name": ""}, {"media_type": "APPLICATION/PDF"},
                   {"media_type": "application/pdf; charset=binary"}, {"media_type": "text/html"}):
        answer = await upload(site.inspector, pdf(), **kwargs)
        assert answer.status_code in (201, 415, 422), (kwargs, answer.text)
        if answer.status_code != 201:
            assert answer.json().get("field"), (kwargs, answer.json())
    html = await upload(site.inspector, b"<html><script>alert(1)</script></html>", media_type=PDF)
    assert html.status_code in (415, 422), html.text


async def test_one_idempotency_key_with_two_bodies_opens_one_case(site: Site) -> None:
    key = f"attack-{uuid.uuid4().hex}"
    bodies = [{"region_code": COUNTY, "title": f"同键{i}", "complaint_ref": f"信访-{uuid.uuid4().hex[:8]}"}
              for i in range(2)]
    first = ok(await site.inspector.post("/oversight/cases", json=bodies[0], headers={"idempotency-key": key}), 201)
    replay = ok(await site.inspector.post("/oversight/cases", json=bodies[0], headers={"idempotency-key": key}),
                201)
    assert replay["id"] == first["id"]
    refused(await site.inspector.post("/oversight/cases", json=bodies[1], headers={"idempotency-key": key}), 409,
            "IDEMPOTENCY_CONFLICT")
    # and at once: one key, two bodies, one case
    key = f"attack-{uuid.uuid4().hex}"
    bodies = [{**b, "complaint_ref": f"信访-{uuid.uuid4().hex[:8]}"} for b in bodies]
    answers = await asyncio.gather(*(site.inspector.post("/oversight/cases", json=b, headers={"idempotency-key": key})
                                     for b in bodies))
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    made = [a.json()["complaint_ref"] for a in answers if a.status_code == 201]
    listed = ok(await site.inspector.get("/oversight/cases", params={"limit": 200}))
    assert sum(c["complaint_ref"] in {b["complaint_ref"] for b in bodies} for c in listed["items"]) == len(made)


async def test_the_reports_period_is_days_in_china(site: Site, db: asyncpg.Pool) -> None:
    inspector = await site.make_principal("inspector", "451024")

    async def opened_at(at: str) -> str:
        case_id = new_id("case")
        when = datetime.fromisoformat(at)
        await db.execute("INSERT INTO oversight.cases (id, region_code, title, severity, money_involved_fen, "
                         "principal_id, principal_organisation_id, at) VALUES ($1, '451024', '边界', 'medium', 100, "
                         "$2, '', $3)", case_id, inspector.principal_id, when)
        await db.execute("INSERT INTO oversight.case_events (case_id, seq, action, state, principal_id, "
                         "principal_organisation_id, at) VALUES ($1, 1, 'opened', 'open', $2, '', $3)",
                         case_id, inspector.principal_id, when)
        return case_id

    await opened_at("2025-02-28T15:59:59+00:00")  # 23:59:59 on 28 February in China: before
    await opened_at("2025-02-28T16:00:00+00:00")  # midnight, 1 March in China: in
    await opened_at("2025-03-31T15:59:59+00:00")  # the last second of 31 March in China: in
    await opened_at("2025-03-31T16:00:00+00:00")  # 1 April in China: after
    report = ok(await inspector.get("/oversight/report", params={"from": "2025-03-01", "to": "2025-03-31"}))
    assert report["totals"]["opened"] == 2 and report["totals"]["money_involved_fen"] == 200, report
    one_day = ok(await inspector.get("/oversight/report", params={"from": "2025-03-01", "to": "2025-03-01"}))
    assert one_day["totals"]["opened"] == 1, one_day


async def test_two_cases_opened_at_once_from_one_alert_make_one(site: Site) -> None:
    alert = await site.alert()
    body = {"region_code": COUNTY, "title": "同一预警", "alerts": [{"service": "funds", "alert_id": alert}]}
    answers = await asyncio.gather(*(site.inspector.post("/oversight/cases", json=body) for _ in range(3)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 409, 409], [a.text for a in answers]
    for answer in answers:
        if answer.status_code == 409:
            assert answer.headers["content-type"].startswith("application/problem+json") and answer.json()["code"]


async def test_organisation_listing_refuses_bad_input_and_stays_in_reach(
    site: Site, make_principal: MakePrincipal
) -> None:
    for params in ({"cursor": "!!!"}, {"limit": "0"}, {"limit": "-1"}, {"limit": "x"}):
        answer = await site.admin.get("/admin/organisations", params=params)
        assert answer.status_code == 422 and answer.json().get("field"), (params, answer.text)
    bad = await site.admin.post("/admin/organisations", json={"name": "x", "kind": "nonsense", "region_code": COUNTY})
    assert bad.status_code == 422 and bad.json().get("field") == "kind", bad.text
    for role in ("inspector", "finance", "project_manager", "lender"):
        caller = await make_principal(role, COUNTY)
        assert (await caller.get("/admin/organisations")).status_code == 403
        assert (await caller.post("/admin/organisations", json={
            "name": "x", "kind": "finance_bureau", "region_code": COUNTY})).status_code == 403
    unsigned = await site.admin.get(f"/internal/organisations/{site.bureau}")
    assert unsigned.status_code == 401, unsigned.text


async def test_one_alert_named_twice_in_one_case_is_a_problem(site: Site) -> None:
    alert = await site.alert()
    body = {"region_code": COUNTY, "title": "重复预警", "alerts": [{"service": "funds", "alert_id": alert}] * 2}
    answer = await site.inspector.post("/oversight/cases", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json().get("field") == "alerts.1.alert_id", answer.json()
    again = await site.inspector.post("/oversight/cases", json={**body, "alerts": body["alerts"][:1]})
    assert again.status_code == 201, again.text  # the refusal took nothing


async def test_a_document_fifty_other_cases_cite_is_still_read_by_whom_sees_ours(site: Site) -> None:
    common = pdf("统一格式的整改通知书")  # the same form, uploaded by both counties' bureaus
    await _other_county_case(site)  # the other county's bureau has a case: it may upload
    ref = ok(await upload(site.other_cashier, common, name="通知书.pdf"), 201)
    ref = {k: ref[k] for k in ("sha256", "name", "media_type", "size")}
    for _ in range(50):
        theirs = await _other_county_case(site)
        ok(await site.other_cashier.post(f"/oversight/cases/{theirs}/rectifications",
                                         json={"note": "附通知书", "documents": [ref]}))
    ours = await site.assigned()
    assert ok(await upload(site.cashier, common, name="通知书.pdf"))["created"] is False
    ok(await site.cashier.post(f"/oversight/cases/{ours['id']}/rectifications",
                               json={"note": "附通知书", "documents": [ref]}))
    for reader in (site.cashier, site.inspector):
        read = await reader.get(f"/oversight/evidence/{ref['sha256']}")
        assert read.status_code == 200 and read.content == common, read.text


async def test_a_province_inspector_sees_the_county_and_a_county_one_not_the_city(site: Site) -> None:
    province = await site.make_principal("inspector", "450000")
    case = await site.assigned()
    ok(await province.get(f"/oversight/cases/{case['id']}"))
    today = clock.today().isoformat()
    report = ok(await province.get("/oversight/report", params={"from": today, "to": today, "region": COUNTY}))
    assert report["totals"]["opened"] >= 1
    city_case = ok(await site.city_inspector.post("/oversight/cases", json={
        "region_code": CITY, "title": "市级线索", "complaint_ref": f"信访-{uuid.uuid4().hex[:8]}"}), 201)
    refused(await site.inspector.get(f"/oversight/cases/{city_case['id']}"), 403, "NOT_IN_JURISDICTION")
    refused(await site.inspector.post(f"/oversight/cases/{city_case['id']}/assign",
                                      json={"organisation_id": site.bureau}), 403, "NOT_IN_JURISDICTION")
    assert ok(await site.city_inspector.get(f"/oversight/cases/{city_case['id']}"))["state"] == "open"
    # funds' internal reversal lookup is no door through the gateway
    answer = await site.inspector.get("/internal/reversals/rev_01m91hwta9bw3k7bjs95rmpycp")
    assert answer.status_code in (401, 404), answer.text


async def test_the_report_counts_one_reversals_money_once(
    admin: Api, make_principal: MakePrincipal, http: httpx.AsyncClient
) -> None:
    scene = await _scene(admin, make_principal, http)
    reversal = await _reversal(scene.funds, 40_000)
    for case_id in (await _assigned_case(scene), await _assigned_case(scene)):
        answer = await scene.cashier.post(f"/oversight/cases/{case_id}/rectifications",
                                          json={"note": "已冲正", "reversal_ids": [reversal]})
        if answer.status_code == 200:
            ok(await scene.inspector.post(f"/oversight/cases/{case_id}/accept", json={"note": "到位"}))
    today = clock.today().isoformat()
    report = ok(await scene.inspector.get("/oversight/report", params={"from": today, "to": today}))
    assert report["totals"]["money_recovered_fen"] == 40_000, report["totals"]


async def test_a_stranger_cannot_tell_a_kept_document_from_none(site: Site) -> None:
    ours = await site.assigned()
    ref = await document(site.cashier, "本县整改报告.pdf")
    ok(await site.cashier.post(f"/oversight/cases/{ours['id']}/rectifications", json={"note": "已整改", "documents": [
        {k: ref[k] for k in ("sha256", "name", "media_type", "size")}]}))
    theirs = await _other_county_case(site)

    async def probe(sha256: str) -> tuple[int, str | None, str | None]:
        answer = await site.other_cashier.post(f"/oversight/cases/{theirs}/rectifications", json={
            "note": "试探", "documents": [{"sha256": sha256, "name": "x.pdf", "media_type": PDF, "size": 1}]})
        body = answer.json()
        return answer.status_code, body.get("code"), body.get("field")

    assert await probe(ref["sha256"]) == await probe(hashlib.sha256(uuid.uuid4().bytes).hexdigest())
