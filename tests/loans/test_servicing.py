"""Repayments, extensions, usage reports, reads and reports (L5, L6) through the gateway."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from services.loans import codes
from tests.conftest import Api, MakePrincipal
from tests.loans.conftest import Seed
from tests.loans.helpers import credit_code, loan_body


async def new_loan(lender: Api, seed: Seed, **overrides: Any) -> dict[str, Any]:
    h = await seed()
    response = await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number, **overrides))
    assert response.status_code == 201, response.text
    loan: dict[str, Any] = response.json()
    return loan


async def repay(lender: Api, loan_id: str, principal: int, paid_on: str, interest: int = 0) -> Any:
    return await lender.post(f"/loans/{loan_id}/repayments",
                             json={"principal_fen": principal, "interest_fen": interest, "paid_on": paid_on})


async def test_repayments_never_exceed_outstanding_even_concurrently(lender: Api, seed: Seed) -> None:
    loan = await new_loan(lender, seed, amount_fen=1_000_000)
    responses = await asyncio.gather(*(repay(lender, loan["id"], 300_000, "2018-06-01") for _ in range(8)))
    assert sorted(r.status_code for r in responses) == [201] * 3 + [422] * 5
    assert {r.json()["code"] for r in responses if r.status_code == 422} == {codes.REPAYMENT_OVER_OUTSTANDING}
    assert sorted(r.json()["outstanding_fen"] for r in responses if r.status_code == 201) == [100_000, 400_000,
                                                                                              700_000]
    assert (await repay(lender, loan["id"], 100_001, "2018-07-01")).json()["code"] == codes.REPAYMENT_OVER_OUTSTANDING
    last = await repay(lender, loan["id"], 100_000, "2018-07-01", interest=1_234)
    assert last.status_code == 201 and last.json()["outstanding_fen"] == 0
    detail = (await lender.get(f"/loans/{loan['id']}")).json()
    assert detail["status"] == "repaid" and detail["repaid_fen"] == 1_000_000 and len(detail["repayments"]) == 4
    interest_only = await repay(lender, loan["id"], 0, "2018-07-02", interest=10)
    assert interest_only.status_code == 201


async def test_repayment_input_and_dates(lender: Api, seed: Seed) -> None:
    loan = await new_loan(lender, seed)
    before = await repay(lender, loan["id"], 1, "2018-02-28")
    assert before.status_code == 422 and before.json()["code"] == codes.REPAYMENT_BEFORE_ISSUE
    nothing = await repay(lender, loan["id"], 0, "2018-04-01")
    assert nothing.status_code == 422 and nothing.json()["code"] == "VALIDATION_ERROR"
    negative = await repay(lender, loan["id"], -1, "2018-04-01")
    assert negative.json()["field"] == "principal_fen"
    missing = await lender.post(f"/loans/{loan['id']}/repayments", json={"principal_fen": 1, "interest_fen": 0})
    assert missing.status_code == 422 and missing.json()["field"] == "paid_on"
    assert (await repay(lender, "loan_nope", 1, "2018-04-01")).status_code == 404
    assert (await lender.get(f"/loans/{loan['id']}")).json()["repayments"] == []


async def test_one_extension_of_at_most_twelve_months(lender: Api, seed: Seed) -> None:
    loan = await new_loan(lender, seed, term_months=12)  # matures 2019-03-01
    url = f"/loans/{loan['id']}/extensions"
    no_reason = await lender.post(url, json={"new_maturity_on": "2019-09-01"})
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    too_long = await lender.post(url, json={"new_maturity_on": "2020-03-02", "reason": "受灾"})
    assert too_long.status_code == 422 and too_long.json()["code"] == codes.EXTENSION_TOO_LONG
    earlier = await lender.post(url, json={"new_maturity_on": "2019-03-01", "reason": "受灾"})
    assert earlier.json()["code"] == codes.EXTENSION_NOT_LATER
    ok = await lender.post(url, json={"new_maturity_on": "2020-03-01", "reason": "养殖受灾，申请展期"})
    assert ok.status_code == 201, ok.text
    again = await lender.post(url, json={"new_maturity_on": "2019-06-01", "reason": "再次"})
    assert again.status_code == 409 and again.json()["code"] == codes.EXTENSION_EXISTS
    detail = (await lender.get(f"/loans/{loan['id']}", params={"as_of": "2019-06-01"})).json()
    assert detail["status"] == "extended" and detail["maturity_in_force"] == "2020-03-01"
    assert detail["extension"]["reason"] == "养殖受灾，申请展期"
    overdue = (await lender.get(f"/loans/{loan['id']}", params={"as_of": "2020-03-02"})).json()
    assert overdue["status"] == "overdue"


async def test_extension_of_a_repaid_loan_is_refused(lender: Api, seed: Seed) -> None:
    loan = await new_loan(lender, seed, amount_fen=100)
    assert (await repay(lender, loan["id"], 100, "2018-05-01")).status_code == 201
    response = await lender.post(f"/loans/{loan['id']}/extensions", json={"new_maturity_on": "2021-06-01",
                                                                          "reason": "x"})
    assert response.status_code == 409 and response.json()["code"] == codes.LOAN_REPAID


async def test_usage_reports_are_recorded_with_the_rules_they_break(lender: Api, seed: Seed) -> None:
    loan = await new_loan(lender, seed)
    url = f"/loans/{loan['id']}/usage-reports"
    good = {"recipient": {"kind": "household", "id": loan["household_id"], "name": "本户"}, "amount_fen": 100,
            "purpose": "breeding", "reported_on": "2018-04-01"}
    assert (await lender.post(url, json=good)).json()["breaks_rules"] == []
    company = {**good, "recipient": {"kind": "enterprise", "id": credit_code("1"), "name": "某公司"}}
    assert (await lender.post(url, json=company)).json()["breaks_rules"] == ["L2a"]
    coop = {**good, "recipient": {"kind": "cooperative", "id": credit_code("3"), "name": "合作社"},
            "purpose": "consumption"}
    assert (await lender.post(url, json=coop)).json()["breaks_rules"] == ["L2a", "L2b"]
    bad_code = {**good, "recipient": {"kind": "enterprise", "id": "91ABC", "name": "x"}}
    assert (await lender.post(url, json=bad_code)).json()["field"].startswith("recipient")
    early = {**good, "reported_on": "2018-01-01"}
    assert (await lender.post(url, json=early)).json()["code"] == codes.USAGE_BEFORE_ISSUE
    assert len((await lender.get(f"/loans/{loan['id']}")).json()["usage_reports"]) == 3


async def test_reads_are_kept_to_the_jurisdiction(
    lender: Api, inspector: Api, seed: Seed, make_principal: MakePrincipal, county: str
) -> None:
    loans = [await new_loan(lender, seed) for _ in range(3)]
    page = await inspector.get("/loans", params={"county": county, "limit": 2})
    body = page.json()
    assert len(body["items"]) == 2 and body["next_cursor"]
    rest = (await inspector.get("/loans", params={"county": county, "limit": 2, "cursor": body["next_cursor"]})).json()
    assert {x["id"] for x in body["items"] + rest["items"]} == {x["id"] for x in loans}
    stranger = await make_principal("inspector", "450101")
    assert (await stranger.get(f"/loans/{loans[0]['id']}")).json()["code"] == "NOT_IN_JURISDICTION"
    assert (await stranger.get("/loans", params={"county": county})).status_code == 403
    overdue = await inspector.get("/loans", params={"county": county, "status": "overdue", "as_of": "2021-03-02"})
    assert len(overdue.json()["items"]) == 3
    active = await inspector.get("/loans", params={"county": county, "status": "active", "as_of": "2021-03-01"})
    assert len(active.json()["items"]) == 3


async def test_overdue_buckets_at_their_edges(lender: Api, seed: Seed, county: str) -> None:
    loan = await new_loan(lender, seed, amount_fen=1_000_000, term_months=1, issued_on="2018-01-15")
    maturity = date(2018, 2, 15)
    await repay(lender, loan["id"], 250_000, "2018-02-01")
    expected = {0: None, 1: "1-30", 30: "1-30", 31: "31-90", 90: "31-90", 91: "91-180", 180: "91-180",
                181: "180+"}
    for days, bucket in expected.items():
        as_of = (maturity + timedelta(days=days)).isoformat()
        report = (await lender.get("/loans/reports/overdue", params={"as_of": as_of, "county": county})).json()
        counts = {name: b["count"] for name, b in report["buckets"].items()}
        assert counts == {name: int(name == bucket) for name in codes.BUCKETS}, (days, report)
        if bucket:
            assert report["buckets"][bucket]["principal_fen"] == 750_000
    await repay(lender, loan["id"], 750_000, "2018-06-01")
    after = (await lender.get("/loans/reports/overdue", params={"as_of": "2018-06-01", "county": county})).json()
    assert all(b["count"] == 0 for b in after["buckets"].values())


async def test_outstanding_per_county(lender: Api, seed: Seed, county: str) -> None:
    first = await new_loan(lender, seed, amount_fen=1_000_000)
    await new_loan(lender, seed, amount_fen=2_000_000)
    await repay(lender, first["id"], 1_000_000, "2018-05-01")
    report = (await lender.get("/loans/reports/outstanding", params={"county": county})).json()
    assert report["items"] == [{"county_code": county, "loans": 2, "outstanding_loans": 1,
                                "outstanding_fen": 2_000_000}]


async def test_subsidy_to_the_fen_with_repayments_and_an_overdue_stretch(
    lender: Api, seed: Seed, county: str, make_principal: MakePrincipal
) -> None:
    loan = await new_loan(lender, seed, amount_fen=1_000_000, term_months=3, issued_on="2018-01-01")
    await repay(lender, loan["id"], 400_000, "2018-02-01")
    await repay(lender, loan["id"], 100_000, "2018-05-10")  # while overdue: no subsidy either way
    # By hand, period [2018-01-01, 2018-05-01) at 4.75%:
    #   01-01..01-31  31 days × 1,000,000 = 31,000,000 fen-days (the repayment day earns nothing on 400,000)
    #   02-01..04-01  60 days ×   600,000 = 36,000,000 fen-days (maturity 04-01 itself is not overdue)
    #   04-02..04-30  29 days overdue: none
    #   67,000,000 × 475 / 10,000 / 360 = 8,840.28 → 8,840 fen
    finance = await make_principal("finance", county)
    params = {"from": "2018-01-01", "to": "2018-05-01", "rate_bp": 475}
    response = await finance.get(f"/loans/{loan['id']}/subsidy", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["subsidy_fen"] == 8_840 and body["days"] == 120 and body["overdue_days"] == 29
    assert body["from"] == "2018-01-01" and body["principal_fen_days"] == 67_000_000
    report = (await finance.get("/loans/reports/subsidy", params={**params, "county": county})).json()
    assert report["items"] == [{"county_code": county, "loans": 1, "subsidy_fen": 8_840}]
    assert report["total_fen"] == 8_840
    backwards = await finance.get(f"/loans/{loan['id']}/subsidy", params={**params, "to": "2017-12-01"})
    assert backwards.status_code == 422 and backwards.json()["field"] == "to"
    no_rate = await finance.get(f"/loans/{loan['id']}/subsidy", params={"from": "2018-01-01", "to": "2018-02-01"})
    assert no_rate.status_code == 422 and no_rate.json()["field"] == "rate_bp"


async def test_no_subsidy_from_a_rule_breaking_usage_report(lender: Api, seed: Seed) -> None:
    loan = await new_loan(lender, seed, amount_fen=3_600_000, issued_on="2018-01-01")
    await lender.post(f"/loans/{loan['id']}/usage-reports", json={
        "recipient": {"kind": "enterprise", "id": credit_code("1"), "name": "某公司"}, "amount_fen": 3_600_000,
        "purpose": "breeding", "reported_on": "2018-01-11"})
    body = (await lender.get(f"/loans/{loan['id']}/subsidy",
                             params={"from": "2018-01-01", "to": "2018-03-01", "rate_bp": 1000})).json()
    # 10 days × 3,600,000 × 10% / 360 = 10,000 fen; nothing from 01-11 on
    assert body["subsidy_fen"] == 10_000 and body["misuse_from"] == "2018-01-11"
