"""Subsidy settlement through the gateway (issue #18 point 3): rates by county and period (L11), a bank's claim
computed loan by loan with its excluded days (L12, L6), SUBSIDY_ALREADY_CLAIMED even for two claims at once, two
people of finance (L13), the payment in the funds ledger, and the claim as JSON pages, CSV and an Excel workbook."""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from services.loans import codes
from tests.conftest import Api, MakePrincipal
from tests.funds.world import World, make_world
from tests.loans.conftest import Seed
from tests.loans.helpers import credit_code
from tests.loans.test_servicing import new_loan, repay
from tests.oversight.conftest import member, organisation

Q1 = {"period_from": "2018-01-01", "period_to": "2018-04-01"}
BANK = "县农商银行"
BANK_ACCOUNT = "6230009999"


@dataclass
class Office:
    """A county's finance bureau (two people, and the funds world whose pool pays), and its lender."""

    world: World
    checker: Api
    approver: Api
    county: str

    async def declare(self, paid_to: str = "bank", rate_bp: int = 475, **period: str) -> Any:
        return await self.checker.post("/loans/subsidy-rates", json={
            "county_code": self.county, "rate_bp": rate_bp, "paid_to": paid_to, "fund_source": self.world.source,
            "period_from": "2018-01-01", "period_to": "2019-01-01", **period})

    async def pool(self) -> int:
        return (await self.world.balances(self.county)).get(("pool", self.world.source, ""), 0)


@pytest.fixture
async def office(admin: Api, make_principal: MakePrincipal, county: str) -> Office:
    world = await make_world(admin, make_principal, pilot=county)
    assert (await world.appropriate(10_000_000)).status_code == 201
    assert (await world.allocate(2_000_000, to=county)).status_code == 201
    return Office(world, world.fin_pilot, await make_principal("finance", county), county)


async def claim(lender: Api, county: str, **overrides: Any) -> Any:
    return await lender.post("/loans/subsidy-claims", json={
        "county_code": county, "lender_name": BANK, "bank_account_no": BANK_ACCOUNT, **Q1, **overrides})


def lines_by_loan(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {line["loan_id"]: line for line in body["items"]}


async def test_l11_rates_are_declared_by_finance_once_per_period_of_a_county(
    office: Office, lender: Api, make_principal: MakePrincipal
) -> None:
    declared = await office.declare()
    assert declared.status_code == 201, declared.text
    assert declared.json()["rate_bp"] == 475 and declared.json()["paid_to"] == "bank"
    overlapping = await office.declare(period_from="2018-12-01", period_to="2019-04-01")
    assert overlapping.status_code == 409 and overlapping.json()["code"] == codes.SUBSIDY_RATE_OVERLAP
    assert (await office.declare(period_from="2019-01-01", period_to="2019-04-01")).status_code == 201
    by_lender = await lender.post("/loans/subsidy-rates", json={
        "county_code": office.county, "rate_bp": 475, "paid_to": "bank", "fund_source": office.world.source,
        "period_from": "2020-01-01", "period_to": "2020-04-01"})
    assert by_lender.status_code == 403
    elsewhere = await make_principal("finance", office.world.rich)
    outside = await elsewhere.post("/loans/subsidy-rates", json={
        "county_code": office.county, "rate_bp": 475, "paid_to": "bank", "fund_source": office.world.source,
        "period_from": "2020-01-01", "period_to": "2020-04-01"})
    assert outside.status_code == 403 and outside.json()["field"] == "county_code"
    listed = await lender.get("/loans/subsidy-rates", params={"county": office.county})
    assert [r["period_from"] for r in listed.json()["items"]] == ["2018-01-01", "2019-01-01"]
    backwards = await office.declare(period_from="2018-05-01", period_to="2018-04-01")
    assert backwards.status_code == 422


async def test_l12_each_loan_with_its_figures_and_excluded_days_as_the_old_route_computes_them(
    office: Office, lender: Api, seed: Seed
) -> None:
    assert (await office.declare()).status_code == 201
    plain = await new_loan(lender, seed, amount_fen=1_000_000, term_months=3, issued_on="2017-12-01")
    await repay(lender, plain["id"], 400_000, "2018-02-01")
    misused = await new_loan(lender, seed, amount_fen=3_600_000, issued_on="2018-01-01")
    report = await lender.post(f"/loans/{misused['id']}/usage-reports", json={
        "recipient": {"kind": "enterprise", "id": credit_code("1"), "name": "某公司"}, "amount_fen": 3_600_000,
        "purpose": "breeding", "reported_on": "2018-01-11"})
    assert report.status_code == 201, report.text
    other_bank = await new_loan(lender, seed, lender_name="另一家银行", issued_on="2018-01-01")
    created = await claim(lender, office.county)
    assert created.status_code == 201, created.text
    body = created.json()
    lines = lines_by_loan(body)
    assert set(lines) == {plain["id"], misused["id"]} and other_bank["id"] not in lines
    assert body["status"] == "submitted" and body["rate_bp"] == 475 and body["loans"] == 2
    # plain: matures 2018-03-01; 01-01..01-31 × 1,000,000 + 02-01..03-01 (29 days) × 600,000; 03-02..03-31 overdue
    assert lines[plain["id"]]["principal_fen_days"] == 31 * 1_000_000 + 29 * 600_000
    assert lines[plain["id"]]["excluded"] == [{"reason": "overdue", "from": "2018-03-02", "to": "2018-04-01",
                                               "days": 30}]
    assert lines[misused["id"]]["excluded"] == [{"reason": "misuse", "from": "2018-01-11", "to": "2018-04-01",
                                                 "days": 80}]
    for loan_id, line in lines.items():  # the old route (API.md) still answers, with the same figure
        old = await lender.get(f"/loans/{loan_id}/subsidy",
                               params={"from": Q1["period_from"], "to": Q1["period_to"], "rate_bp": 475})
        assert old.status_code == 200 and old.json()["subsidy_fen"] == line["subsidy_fen"]
    assert body["subsidy_fen"] == sum(line["subsidy_fen"] for line in lines.values()) > 0


async def test_l12_the_claim_pages_by_loan_and_downloads_as_csv_and_excel(
    office: Office, lender: Api, seed: Seed
) -> None:
    assert (await office.declare()).status_code == 201
    loans = [await new_loan(lender, seed, amount_fen=1_000_000, issued_on="2018-01-01") for _ in range(3)]
    claim_id = (await claim(lender, office.county)).json()["id"]
    seen: list[str] = []
    cursor = None
    while True:
        page = await office.checker.get(f"/loans/subsidy-claims/{claim_id}",
                                        params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        seen += [line["loan_id"] for line in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(loan["id"] for loan in loans)
    each = 90 * 1_000_000 * 475 // (10000 * 360)  # 11,875 fen: exact, no rounding
    as_csv = await office.checker.get(f"/loans/subsidy-claims/{claim_id}", params={"format": "csv"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    loan_rows = [r for r in rows if r and r[0] in seen]
    assert [int(r[-1]) for r in loan_rows] == [each] * 3
    assert rows[-1][0] == "合计 total" and int(rows[-1][-1]) == 3 * each
    as_xlsx = await office.checker.get(f"/loans/subsidy-claims/{claim_id}", params={"format": "xlsx"})
    assert as_xlsx.status_code == 200, as_xlsx.text
    sheet = load_workbook(io.BytesIO(as_xlsx.content), read_only=True).worksheets[0]
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert [r[-1] for r in cells if r and r[0] in seen] == [each] * 3 and cells[-1][-1] == 3 * each
    unknown = await office.checker.get("/loans/subsidy-claims/sbc_nothing")
    assert unknown.status_code == 404


async def test_l12_a_period_claimed_before_is_refused_even_for_two_claims_at_once(
    office: Office, lender: Api, seed: Seed
) -> None:
    assert (await office.declare()).status_code == 201
    loan = await new_loan(lender, seed, amount_fen=1_000_000, issued_on="2018-01-01")
    first, second = await asyncio.gather(claim(lender, office.county), claim(lender, office.county))
    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [201, 409], (first.text, second.text)
    refused = first if first.status_code == 409 else second
    assert refused.json()["code"] == codes.SUBSIDY_ALREADY_CLAIMED and refused.json()["loan_ids"] == [loan["id"]]
    overlapping = await claim(lender, office.county, period_from="2018-03-01", period_to="2018-06-01")
    assert overlapping.status_code == 409 and overlapping.json()["code"] == codes.SUBSIDY_ALREADY_CLAIMED
    next_quarter = await claim(lender, office.county, period_from="2018-04-01", period_to="2018-07-01")
    assert next_quarter.status_code == 201, next_quarter.text


async def test_l12_refusals_rate_not_declared_period_not_over_or_too_long_nothing_to_claim(
    office: Office, lender: Api, seed: Seed
) -> None:
    await new_loan(lender, seed, amount_fen=1_000_000, issued_on="2018-01-01")
    undeclared = await claim(lender, office.county)
    assert undeclared.status_code == 422 and undeclared.json()["code"] == codes.SUBSIDY_RATE_NOT_DECLARED
    assert (await office.declare(period_from="2018-01-01", period_to="2030-01-01")).status_code == 201
    not_over = await claim(lender, office.county, period_from="2029-01-01", period_to="2029-04-01")
    assert not_over.status_code == 422 and not_over.json()["code"] == codes.SUBSIDY_PERIOD_NOT_OVER
    too_long = await claim(lender, office.county, period_from="2018-01-01", period_to="2019-06-01")
    assert too_long.status_code == 422 and too_long.json()["code"] == codes.SUBSIDY_PERIOD_TOO_LONG
    nothing = await claim(lender, office.county, lender_name="无此银行")
    assert nothing.status_code == 422 and nothing.json()["code"] == codes.SUBSIDY_NOTHING_TO_CLAIM
    by_finance = await claim(office.checker, office.county)
    assert by_finance.status_code == 403


async def decide(api: Api, claim_id: str, decision: str, **extra: Any) -> Any:
    return await api.post(f"/loans/subsidy-claims/{claim_id}/decisions",
                          json={"decision": decision, "note": f"{decision} 审核意见", **extra})


async def test_l13_checked_and_approved_by_two_people_then_paid_to_the_bank_once(
    office: Office, lender: Api, seed: Seed
) -> None:
    assert (await office.declare()).status_code == 201
    await new_loan(lender, seed, amount_fen=2_000_000, issued_on="2018-01-01")
    created = (await claim(lender, office.county)).json()
    claim_id, total = created["id"], created["subsidy_fen"]
    pool_before = await office.pool()
    unchecked = await decide(office.approver, claim_id, "approved")
    assert unchecked.status_code == 409 and unchecked.json()["code"] == codes.SUBSIDY_NOT_CHECKED
    by_lender = await decide(lender, claim_id, "checked")
    assert by_lender.status_code == 403
    checked = await decide(office.checker, claim_id, "checked")
    assert checked.status_code == 201 and checked.json()["status"] == "checked"
    same_person = await decide(office.checker, claim_id, "approved")
    assert same_person.status_code == 403 and same_person.json()["code"] == codes.SUBSIDY_SAME_PERSON
    assert await office.pool() == pool_before  # nothing paid by a refusal
    approved = await decide(office.approver, claim_id, "approved", paid_on="2018-04-10")
    assert approved.status_code == 201, approved.text
    decision = approved.json()["decisions"][-1]
    assert approved.json()["status"] == "approved" and decision["payment_id"] and decision["paid_on"] == "2018-04-10"
    assert await office.pool() == pool_before - total
    payee = (await office.world.balances(office.county)).get(("payee", office.world.source, BANK_ACCOUNT))
    assert payee in (None, total)  # the balances report may leave payee accounts out; the pool says it moved
    again = await decide(office.approver, claim_id, "approved")
    assert again.status_code == 409 and again.json()["code"] == codes.SUBSIDY_CLAIM_DECIDED
    assert await office.pool() == pool_before - total


async def test_l13_a_county_that_pays_households_pays_each_its_loans_subsidy(
    office: Office, lender: Api, seed: Seed
) -> None:
    assert (await office.declare(paid_to="household")).status_code == 201
    for _ in range(2):
        await new_loan(lender, seed, amount_fen=1_000_000, issued_on="2018-01-01")
    created = (await claim(lender, office.county)).json()
    assert created["paid_to"] == "household"
    pool_before = await office.pool()
    assert (await decide(office.checker, created["id"], "checked")).status_code == 201
    approved = await decide(office.approver, created["id"], "approved")
    assert approved.status_code == 201, approved.text
    assert await office.pool() == pool_before - created["subsidy_fen"]
    for line in created["items"]:  # A4: traced from the household back to the county's pool
        trace = await office.world.inspector.get("/funds/trace", params={"household_id": line["household_id"]})
        assert trace.status_code == 200, trace.text
        [paid] = trace.json()["movements"]
        assert (paid["kind"], paid["doc_no"], paid["amount_fen"]) == ("subsidy", created["id"], line["subsidy_fen"])
        assert paid["from"] == {"region_code": office.county, "account": "pool", "ref": ""}


async def test_l13_a_rejected_claim_pays_nothing_and_its_period_may_be_claimed_again(
    office: Office, lender: Api, seed: Seed
) -> None:
    assert (await office.declare()).status_code == 201
    await new_loan(lender, seed, amount_fen=1_000_000, issued_on="2018-01-01")
    first = (await claim(lender, office.county)).json()
    pool_before = await office.pool()
    rejected = await decide(office.checker, first["id"], "rejected")
    assert rejected.status_code == 201 and rejected.json()["status"] == "rejected"
    assert (await decide(office.approver, first["id"], "checked")).json()["code"] == codes.SUBSIDY_CLAIM_DECIDED
    assert await office.pool() == pool_before
    assert (await claim(lender, office.county)).status_code == 201


async def test_l13_a_county_whose_fund_cannot_cover_it_is_refused_and_nothing_is_recorded(
    admin: Api, make_principal: MakePrincipal, lender: Api, seed: Seed, county: str
) -> None:
    world = await make_world(admin, make_principal, pilot=county)  # nothing allocated to the county
    office = Office(world, world.fin_pilot, await make_principal("finance", county), county)
    assert (await office.declare()).status_code == 201
    await new_loan(lender, seed, amount_fen=1_000_000, issued_on="2018-01-01")
    claim_id = (await claim(lender, county)).json()["id"]
    assert (await decide(office.checker, claim_id, "checked")).status_code == 201
    short = await decide(office.approver, claim_id, "approved")
    assert short.status_code == 409 and short.json()["code"] == "INSUFFICIENT_FUNDS"
    read = (await office.checker.get(f"/loans/subsidy-claims/{claim_id}")).json()
    assert read["status"] == "checked"


async def test_l12_a_branch_claims_only_the_loans_its_organisation_answers_for(
    office: Office, admin: Api, http: httpx.AsyncClient, seed: Seed
) -> None:
    assert (await office.declare()).status_code == 201
    branch, other_branch = [await organisation(admin, "bank_branch", office.county) for _ in range(2)]
    teller = await member(admin, http, "lender", office.county, branch)
    other_teller = await member(admin, http, "lender", office.county, other_branch)
    mine = await new_loan(teller, seed, amount_fen=1_000_000, issued_on="2018-01-01")
    theirs = await new_loan(other_teller, seed, amount_fen=1_000_000, issued_on="2018-01-01")
    claimed = await claim(teller, office.county)  # the same bank's name on both loans
    assert claimed.status_code == 201, claimed.text
    assert set(lines_by_loan(claimed.json())) == {mine["id"]}
    their_claim = await claim(other_teller, office.county)
    assert their_claim.status_code == 201, their_claim.text
    assert set(lines_by_loan(their_claim.json())) == {theirs["id"]}


async def test_l13_a_claim_whose_loans_all_lost_their_subsidy_is_approved_with_nothing_paid(
    office: Office, lender: Api, seed: Seed
) -> None:
    assert (await office.declare()).status_code == 201
    await new_loan(lender, seed, amount_fen=1_000_000, term_months=3, issued_on="2017-06-01")  # overdue all Q1
    created = (await claim(lender, office.county)).json()
    [line] = created["items"]
    assert (created["subsidy_fen"], line["overdue_days"], line["excluded"][0]["days"]) == (0, 90, 90)
    pool_before = await office.pool()
    assert (await decide(office.checker, created["id"], "checked")).status_code == 201
    approved = await decide(office.approver, created["id"], "approved")
    assert approved.status_code == 201, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["decisions"][-1]["payment_id"] is None
    assert await office.pool() == pool_before


async def test_l13_two_approvals_at_once_pay_once(
    office: Office, lender: Api, seed: Seed, make_principal: MakePrincipal
) -> None:
    assert (await office.declare()).status_code == 201
    await new_loan(lender, seed, amount_fen=1_000_000, issued_on="2018-01-01")
    created = (await claim(lender, office.county)).json()
    assert (await decide(office.checker, created["id"], "checked")).status_code == 201
    pool_before = await office.pool()
    third = await make_principal("finance", office.county)
    first, second = await asyncio.gather(decide(office.approver, created["id"], "approved"),
                                         decide(third, created["id"], "approved"))
    assert sorted([first.status_code, second.status_code]) == [201, 409], (first.text, second.text)
    refused = first if first.status_code == 409 else second
    assert refused.json()["code"] == codes.SUBSIDY_CLAIM_DECIDED
    assert await office.pool() == pool_before - created["subsidy_fen"]
