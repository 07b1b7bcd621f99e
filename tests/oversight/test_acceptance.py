"""Issue #16 point 6 (the part of it this service has so far), through the gateway on real alerts: a payment to a
household that is not poor raises INELIGIBLE_PAYEE; an inspector opens a case from it, assigns it to the county
finance bureau; the bureau reverses the payment in the ledger and answers with the reversal; the inspector returns
it once, accepts it the second time (the reversal checked with funds, its money the money recovered), records an
accountability measure and closes it; the oversight report counts it; another county's principals see none of it."""

from __future__ import annotations

import httpx

from services.funds import codes as funds_codes
from services.kernel import clock
from tests.conftest import Api, MakePrincipal, scan_alerts
from tests.funds.site import make_site
from tests.funds.test_detectors import alerts
from tests.oversight.conftest import document, member, ok, organisation, pdf, refused, upload


async def test_from_a_payment_to_a_household_not_poor_to_accountability(
    admin: Api, make_principal: MakePrincipal, http: httpx.AsyncClient
) -> None:
    funds = await make_site(admin, make_principal)
    county, fin = funds.county, funds.world.fin_pilot
    project_id = await funds.project("in_progress")
    ok(await fin.post("/funds/arrangements", json=funds.arrangement(project_id, 100_000)), 201)
    not_poor = funds.households[2]
    payment = ok(await fin.post("/funds/disbursements",
                                json=funds.payment(project_id, 30_000, household=not_poor)), 201)["id"]
    inspector = await make_principal("inspector", county)
    await scan_alerts(inspector, clock.today().isoformat())
    [alert] = await alerts(inspector, funds_codes.INELIGIBLE_PAYEE, payment)

    bureau = await organisation(admin, "finance_bureau", county)
    cashier = await member(admin, http, "finance", county, bureau)
    case = ok(await inspector.post("/oversight/cases", json={
        "region_code": county, "title": "向非贫困户拨付项目资金", "money_involved_fen": 30_000,
        "alerts": [{"service": "funds", "alert_id": alert["id"]}]}), 201)
    path = f"/oversight/cases/{case['id']}"
    assert case["alerts"][0]["type"] == funds_codes.INELIGIBLE_PAYEE
    ok(await inspector.post(f"{path}/assign", json={"organisation_id": bureau, "note": "限期追回"}))

    # the bureau uploads its evidence first (E1), then cites it; the inspector reads the very bytes
    minutes = pdf("约谈记录")
    doc = ok(await upload(cashier, minutes, name="约谈记录.pdf"), 201)
    doc.pop("created")
    first = await cashier.post(f"{path}/rectifications", json={"note": "已约谈村干部", "documents": [doc]})
    ok(first)
    read = await inspector.get(f"/oversight/evidence/{doc['sha256']}")
    assert read.status_code == 200 and read.content == minutes and read.headers["content-type"] == "application/pdf"
    ok(await inspector.post(f"{path}/return", json={"note": "资金尚未追回"}))
    reversal = ok(await cashier.post("/funds/reversals", json={"target_id": payment,
                                                               "reason": "向非贫困户误拨，已追回"}), 201)
    second = ok(await cashier.post(f"{path}/rectifications", json={
        "note": "资金已追回并冲正", "documents": [doc, await document(cashier, "冲正凭证.pdf")],
        "reversal_ids": [reversal["id"]]}))
    # O10: the reversal is asked of funds; the money it moved back is the money recovered
    assert second["events"][-1]["reversal_ids"] == [reversal["id"]]
    assert second["events"][-1]["money_recovered_fen"] == 30_000
    ok(await inspector.post(f"{path}/accept", json={"note": "整改到位"}))
    ok(await inspector.post(f"{path}/accountability", json={
        "person_name": "王某", "person_post": "村会计", "measure": "通报批评",
        "decided_on": clock.today().isoformat(), "decision_number": "县纪〔2026〕7号"}), 201)
    closed = ok(await inspector.post(f"{path}/close", json={"note": "结案"}))
    assert closed["state"] == "closed" and closed["money_involved_fen"] == 30_000
    assert [e["state"] for e in closed["events"]] == [
        "open", "assigned", "rectification_submitted", "returned", "rectification_submitted", "accepted", "closed"]
    assert [m["measure"] for m in closed["accountability"]] == ["通报批评"]

    # the oversight report counts it (O11): the bureau's case, closed on time, its measure, the money
    today = clock.today().isoformat()
    report = ok(await inspector.get("/oversight/report", params={"region": county, "from": today, "to": today}))
    [row] = [r for r in report["organisations"] if r["organisation_id"] == bureau]
    assert (row["opened"], row["closed_on_time"], row["overdue"], row["referred"]) == (1, 1, 0, 0)
    assert row["accountability"]["通报批评"] == 1 and sum(row["accountability"].values()) == 1
    assert (row["money_involved_fen"], row["money_recovered_fen"]) == (30_000, 30_000)

    # another county's principals see none of it
    other_county = funds.world.poor
    for role in ("inspector", "finance"):
        other = await make_principal(role, other_county)
        refused(await other.get(path), 403, "NOT_IN_JURISDICTION")
        refused(await other.get(f"/oversight/evidence/{doc['sha256']}"), 404, "NOT_FOUND")
        refused(await other.get("/oversight/report", params={"region": county, "from": today, "to": today}),
                403, "NOT_IN_JURISDICTION")
        listed = ok(await other.get("/oversight/cases", params={"limit": 200}))
        assert case["id"] not in {c["id"] for c in listed["items"]}
