"""POST /loans through the gateway: every refusal code on both sides (L1, L2a–e, L4), jurisdiction, bad input,
and the household cap under concurrent originations."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest

from services.kernel import clock
from services.loans import codes
from tests.conftest import Api, MakePrincipal
from tests.loans.conftest import Seed
from tests.loans.helpers import credit_code, household_id, id_number, loan_body


async def loans_of(api: Api, household: str) -> list[dict[str, Any]]:
    response = await api.get("/loans", params={"household_id": household})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_valid_loan_is_recorded(lender: Api, seed: Seed, county: str) -> None:
    h = await seed()
    response = await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number))
    assert response.status_code == 201, response.text
    loan = response.json()
    assert loan["id"].startswith("loan_") and loan["county_code"] == county
    assert loan["maturity_on"] == "2021-03-01" and loan["outstanding_fen"] == 3_000_000
    assert loan["borrower_id_number"] == h.head_id_number[:6] + "********" + h.head_id_number[-4:]
    assert loan["cooperative_uscc"] is None and loan["product_name"] == codes.PRODUCT_NAME


async def test_cooperative_mode_records_the_cooperative(lender: Api, seed: Seed) -> None:
    h = await seed()
    coop = credit_code("3")
    body = loan_body(h.household_id, h.head_id_number, mode="cooperative",
                     disbursement_account={"holder_uscc": coop, "account_no": "C-1"})
    response = await lender.post("/loans", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["cooperative_uscc"] == coop


async def assert_refused(lender: Api, body: dict[str, Any], code: str, status: int = 422) -> dict[str, Any]:
    response = await lender.post("/loans", json=body)
    assert response.status_code == status, response.text
    problem: dict[str, Any] = response.json()
    assert problem["code"] == code, problem
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await loans_of(lender, body["household_id"]) == []  # nothing written
    return problem


async def test_borrower_not_registered(lender: Api, seed: Seed, county: str) -> None:
    await assert_refused(lender, loan_body(household_id(), id_number(county, date(1980, 1, 1))),
                         codes.BORROWER_NOT_REGISTERED)
    h = await seed()
    problem = await assert_refused(lender, loan_body(h.household_id, id_number(county, date(1979, 1, 1))),
                                   codes.BORROWER_NOT_REGISTERED)
    assert problem["field"] == "borrower_id_number" and "L1" in problem["detail"]


@pytest.mark.parametrize("kind", ["not_poor", "cadre", "too_old", "too_young"])
async def test_borrower_not_eligible(lender: Api, seed: Seed, kind: str) -> None:
    if kind == "not_poor":
        h = await seed(status="not_poor")
    elif kind == "cadre":
        h = await seed(village_cadre=True)
    elif kind == "too_old":
        h = await seed(birth=date(1952, 3, 1))  # 66 on 2018-03-01
    else:
        h = await seed(birth=date(2000, 3, 2))  # 17 on 2018-03-01
    problem = await assert_refused(lender, loan_body(h.household_id, h.head_id_number), codes.BORROWER_NOT_ELIGIBLE)
    by_age = kind.startswith("too_")
    assert problem["rule"] == ("L1a" if by_age else "L1")
    assert problem["field"] == ("borrower_id_number" if by_age else "household_id")


@pytest.mark.parametrize("status", ["exited", "returned"])
async def test_exited_and_returned_households_may_borrow_at_the_age_edges(
    lender: Api, seed: Seed, status: str
) -> None:
    h = await seed(status=status, birth=date(2000, 3, 1))  # 18 on the issue day
    assert (await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number))).status_code == 201
    old = await seed(birth=date(1952, 3, 2))  # 65 and 364 days
    assert (await lender.post("/loans", json=loan_body(old.household_id, old.head_id_number))).status_code == 201


def refusals() -> list[tuple[str, str, str, dict[str, Any]]]:
    """(code, rule, field, overrides): each refusal names its rule and the field to correct."""
    other = id_number("440101", date(1975, 1, 1))
    account = "disbursement_account."
    return [
        (codes.LOAN_ENTERPRISE_USE, "L2a", account + "holder_uscc",
         {"disbursement_account": {"holder_uscc": credit_code("1"), "account_no": "E"}}),
        (codes.LOAN_ENTERPRISE_USE, "L2a", account + "holder_id_number",
         {"disbursement_account": {"holder_id_number": other, "account_no": "P"}}),
        (codes.LOAN_ENTERPRISE_USE, "L2a", account + "holder_uscc",
         {"disbursement_account": {"holder_uscc": credit_code("3"), "account_no": "C"}}),
        (codes.LOAN_ENTERPRISE_USE, "L3", "cooperative_uscc",
         {"mode": "cooperative", "cooperative_uscc": credit_code("1")}),
        (codes.LOAN_ENTERPRISE_USE, "L3", "cooperative_uscc", {"mode": "cooperative"}),
        (codes.LOAN_ENTERPRISE_USE, "L3", "cooperative_uscc",
         {"mode": "partnership", "cooperative_uscc": credit_code("3")}),
        (codes.LOAN_NON_PRODUCTIVE_PURPOSE, "L2b", "purpose", {"purpose": "housing"}),
        (codes.LOAN_NON_PRODUCTIVE_PURPOSE, "L2b", "purpose", {"purpose": "debt_repayment"}),
        (codes.LOAN_RATE_ABOVE_BENCHMARK, "L2c", "annual_rate_bp", {"annual_rate_bp": 476}),
        (codes.LOAN_RATE_ABOVE_BENCHMARK, "L2c", "fees_fen", {"fees_fen": 1}),
        # A one-year loan of 2018 declaring the three-year benchmark (4.75 %): the official one was 4.35 %.
        (codes.LOAN_RATE_ABOVE_BENCHMARK, "L2c", "benchmark_rate_bp",
         {"term_months": 12, "benchmark_rate_bp": 475, "annual_rate_bp": 475}),
        (codes.LOAN_COLLATERAL_REQUIRED, "L2d", "collateral_required", {"collateral_required": True}),
        (codes.LOAN_COLLATERAL_REQUIRED, "L2d", "guarantee_required", {"guarantee_required": True}),
        (codes.LOAN_PRODUCT_RENAMED, "L2e", "product_name", {"product_name": "惠农e贷"}),
        (codes.LOAN_AMOUNT_OVER_CAP, "L4", "amount_fen", {"amount_fen": 5_000_001}),
        (codes.LOAN_TERM_OVER_CAP, "L4", "term_months", {"term_months": 37}),
    ]


@pytest.mark.parametrize("case", range(len(refusals())))
async def test_contract_refusals(lender: Api, seed: Seed, case: int) -> None:
    h = await seed()
    code, rule, field, overrides = refusals()[case]
    problem = await assert_refused(lender, loan_body(h.household_id, h.head_id_number, **overrides), code)
    assert (problem["rule"], problem["field"]) == (rule, field), problem
    assert rule in problem["detail"]


async def test_the_benchmark_of_the_issue_date_and_term_is_allowed(lender: Api, seed: Seed) -> None:
    """L2c, the allowed side: 4.35 % for a year and 4.75 % for three in 2018; after 2019-08-20 (the LPR, not held
    here) the declared benchmark is taken."""
    for overrides in ({"term_months": 12, "benchmark_rate_bp": 435, "annual_rate_bp": 435},
                      {"term_months": 36, "benchmark_rate_bp": 475, "annual_rate_bp": 475},
                      {"term_months": 12, "benchmark_rate_bp": 385, "annual_rate_bp": 385, "issued_on": "2020-06-01"}):
        h = await seed()
        response = await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number, **overrides))
        assert response.status_code == 201, (overrides, response.text)


async def test_partnership_mode_and_every_productive_purpose_are_allowed(lender: Api, seed: Seed) -> None:
    """L2b and L3, the allowed side: each productive purpose, in the self and the partnership mode (户贷户用; the
    latter names its partner household, L16)."""
    h = await seed()
    partner = await seed()
    for index, purpose in enumerate(codes.PRODUCTIVE_PURPOSES):
        mode = ("self", "partnership")[index % 2]
        partners = {"partners": [partner.household_id]} if mode == "partnership" else {}
        body = loan_body(h.household_id, h.head_id_number, amount_fen=500_000, purpose=purpose, mode=mode,
                         **partners)
        response = await lender.post("/loans", json=body)
        assert response.status_code == 201, (purpose, response.text)
        assert (response.json()["purpose"], response.json()["mode"]) == (purpose, mode)
        assert response.json()["cooperative_uscc"] is None
    assert len(await loans_of(lender, h.household_id)) == len(codes.PRODUCTIVE_PURPOSES)


async def test_caps_allow_their_edges(lender: Api, seed: Seed) -> None:
    h = await seed()
    body = loan_body(h.household_id, h.head_id_number, amount_fen=5_000_000, term_months=36, annual_rate_bp=435)
    assert (await lender.post("/loans", json=body)).status_code == 201


async def test_household_cap_counts_outstanding_principal(lender: Api, seed: Seed) -> None:
    h = await seed()
    first = await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number, amount_fen=3_000_000))
    assert first.status_code == 201
    over = loan_body(h.household_id, h.head_id_number, amount_fen=2_000_001)
    assert (await lender.post("/loans", json=over)).json()["code"] == codes.LOAN_HOUSEHOLD_CAP
    repaid = await lender.post(f"/loans/{first.json()['id']}/repayments",
                               json={"principal_fen": 1, "interest_fen": 0, "paid_on": "2018-04-01"})
    assert repaid.status_code == 201
    assert (await lender.post("/loans", json=over)).status_code == 201  # 2,999,999 + 2,000,001 = the cap


async def test_household_cap_under_concurrent_originations(lender: Api, seed: Seed) -> None:
    h = await seed()
    body = loan_body(h.household_id, h.head_id_number, amount_fen=2_000_000)
    responses = await asyncio.gather(*(lender.post("/loans", json=body) for _ in range(6)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 201, 422, 422, 422, 422], [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 422} == {codes.LOAN_HOUSEHOLD_CAP}
    assert sum(loan["amount_fen"] for loan in await loans_of(lender, h.household_id)) == 4_000_000


async def test_lender_outside_the_county_is_refused(make_principal: MakePrincipal, seed: Seed) -> None:
    h = await seed()
    stranger = await make_principal("lender", "450101")
    response = await stranger.post("/loans", json=loan_body(h.household_id, h.head_id_number))
    assert response.status_code == 403 and response.json()["code"] == "NOT_IN_JURISDICTION"


async def test_inspectors_may_not_originate(inspector: Api, seed: Seed) -> None:
    h = await seed()
    assert (await inspector.post("/loans", json=loan_body(h.household_id, h.head_id_number))).status_code == 403


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount_fen": "3000000"}, "amount_fen"),
        ({"amount_fen": -5}, "amount_fen"),
        ({"term_months": 0}, "term_months"),
        ({"mode": "solo"}, "mode"),
        ({"purpose": "gambling"}, "purpose"),
        ({"issued_on": "2018-02-30"}, "issued_on"),
        ({"borrower_id_number": "430523198001011230"}, "borrower_id_number"),
        ({"cooperative_uscc": "93ABC"}, "cooperative_uscc"),
        ({"amount_yuan": 5}, "amount_yuan"),
        ({"disbursement_account": {"account_no": "X"}}, "disbursement_account"),
    ],
)
async def test_bad_input_is_422_naming_the_field(
    lender: Api, seed: Seed, overrides: dict[str, Any], field: str
) -> None:
    h = await seed()
    response = await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number, **overrides))
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "VALIDATION_ERROR" and problem["field"].startswith(field), problem
    assert await loans_of(lender, h.household_id) == []


async def test_a_loan_is_issued_repaid_and_used_today_at_the_latest(lender: Api, seed: Seed) -> None:
    """A loan's issue, a repayment and a usage report are dated today at the latest (in China): a date after it is
    a 422 naming the field, nothing written; today is allowed."""
    h = await seed()
    today, tomorrow = clock.today(), clock.today() + timedelta(days=1)
    refused = await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number,
                                                         issued_on=tomorrow.isoformat()))
    assert refused.status_code == 422 and refused.json()["field"] == "issued_on", refused.text
    assert await loans_of(lender, h.household_id) == []
    allowed = await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number, issued_on=today.isoformat(),
                                                         benchmark_rate_bp=385, annual_rate_bp=385))
    assert allowed.status_code == 201, allowed.text
    loan_id = allowed.json()["id"]
    for path, body, field in (
        ("repayments", {"principal_fen": 1, "interest_fen": 0, "paid_on": tomorrow.isoformat()}, "paid_on"),
        ("usage-reports", {"recipient": {"kind": "household", "id": h.household_id, "name": "户"}, "amount_fen": 1,
                           "purpose": "breeding", "reported_on": tomorrow.isoformat()}, "reported_on"),
    ):
        response = await lender.post(f"/loans/{loan_id}/{path}", json=body)
        assert response.status_code == 422 and response.json()["field"] == field, response.text
    detail = (await lender.get(f"/loans/{loan_id}")).json()
    assert detail["repayments"] == [] and detail["usage_reports"] == []
    repaid = await lender.post(f"/loans/{loan_id}/repayments",
                               json={"principal_fen": 1, "interest_fen": 0, "paid_on": today.isoformat()})
    assert repaid.status_code == 201, repaid.text
