"""Issue #18: a claim's outcome is decided once, in funds (L9, L13). An approval asks funds to pay the claim before it
records its decision (the unit of work asks first, then writes); a rejection recorded meanwhile must not leave the
money paid on a rejected claim. Each race is played in its order by calling funds' internal route as the other
request would have (the step it takes before recording), then the gateway's route."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from typing import Any

import httpx
import pytest

from services.kernel.identity import Principal, sign
from services.loans import codes
from services.loans.risk_rules import payment_id_of
from tests.conftest import Api, MakePrincipal
from tests.funds.world import make_world
from tests.loans.conftest import Seed
from tests.loans.risk_world import County, funded_county
from tests.loans.test_compensation_claims import claim as compensation_claim
from tests.loans.test_compensation_claims import decide as decide_compensation
from tests.loans.test_compensation_claims import overdue_loan
from tests.loans.test_servicing import new_loan
from tests.loans.test_subsidy_claims import BANK_ACCOUNT, Office, claim, decide
from tests.stack import Stack

LOANS = Principal(id="service:loans", role="service", region_code="000000", name="loans")


async def internal(stack: Stack, path: str, body: dict[str, Any], principal: Principal = LOANS) -> httpx.Response:
    """Funds' internal route, asked as the loans service asks it (signed, audience funds)."""
    content = json.dumps(body).encode()
    headers = sign(stack.secret, method="POST", path=path, query="", request_id=uuid.uuid4().hex, principal=principal,
                   body_sha256=hashlib.sha256(content).hexdigest(), audience="funds")
    async with httpx.AsyncClient(base_url=stack.service_urls["funds"]) as client:
        return await client.post(path, content=content, headers={**headers, "content-type": "application/json"})


# Subsidy claims (L13)


@pytest.fixture
async def desk(admin: Api, make_principal: MakePrincipal, county: str) -> Office:
    """The county's finance bureau with money in its pool (as test_subsidy_claims' office)."""
    world = await make_world(admin, make_principal, pilot=county)
    assert (await world.appropriate(10_000_000)).status_code == 201
    assert (await world.allocate(2_000_000, to=county)).status_code == 201
    return Office(world, world.fin_pilot, await make_principal("finance", county), county)


async def _checked_claim(office: Office, lender: Api, seed: Seed) -> dict[str, Any]:
    assert (await office.declare()).status_code == 201
    await new_loan(lender, seed, amount_fen=2_000_000, issued_on="2018-01-01")
    created: dict[str, Any] = (await claim(lender, office.county)).json()
    assert (await decide(office.checker, created["id"], "checked")).status_code == 201
    return created


async def _pay_subsidy(stack: Stack, office: Office, created: dict[str, Any]) -> httpx.Response:
    """What an approval asks funds before it records (L13): pay the claim, keyed by it."""
    return await internal(stack, "/internal/subsidy-payments", {
        "claim_id": created["id"], "county_code": office.county, "fund_source": office.world.source,
        "paid_on": "2018-04-10", "payee_kind": "bank",
        "payees": [{"id": BANK_ACCOUNT, "amount_fen": created["subsidy_fen"]}]})


async def test_l13_a_rejection_after_the_approval_paid_is_refused_and_the_approval_completes(
    desk: Office, lender: Api, seed: Seed, stack: Stack
) -> None:
    office = desk
    created = await _checked_claim(office, lender, seed)
    pool_before = await office.pool()
    paid = await _pay_subsidy(stack, office, created)  # the approval's first step; its recording comes later
    assert paid.status_code == 200, paid.text
    rejected = await decide(office.approver, created["id"], "rejected")
    assert rejected.status_code == 409, rejected.text
    assert rejected.json()["code"] == codes.SUBSIDY_CLAIM_DECIDED and "approved" in rejected.json()["detail"]
    read = (await office.checker.get(f"/loans/subsidy-claims/{created['id']}")).json()
    assert read["status"] == "checked"  # the refusal recorded nothing
    approved = await decide(office.approver, created["id"], "approved")  # asked again: completed
    assert approved.status_code == 201, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["decisions"][-1]["payment_id"] == paid.json()["id"]
    assert await office.pool() == pool_before - created["subsidy_fen"]  # paid once


async def test_l13_an_approval_after_a_rejection_pays_nothing(
    desk: Office, lender: Api, seed: Seed, stack: Stack
) -> None:
    office = desk
    created = await _checked_claim(office, lender, seed)
    pool_before = await office.pool()
    rejected = await decide(office.approver, created["id"], "rejected")
    assert rejected.status_code == 201, rejected.text
    late = await _pay_subsidy(stack, office, created)  # an approval that read the claim before the rejection
    assert late.status_code == 409, late.text
    assert late.json()["code"] == "CLAIM_VOIDED"
    approved = await decide(office.approver, created["id"], "approved")
    assert approved.status_code == 409 and approved.json()["code"] == codes.SUBSIDY_CLAIM_DECIDED
    assert await office.pool() == pool_before


async def test_l13_an_approval_and_a_rejection_at_once_decide_once_and_pay_only_if_approved(
    desk: Office, lender: Api, seed: Seed, make_principal: MakePrincipal
) -> None:
    office = desk
    created = await _checked_claim(office, lender, seed)
    pool_before = await office.pool()
    other = await make_principal("finance", office.county)
    approval, rejection = await asyncio.gather(decide(office.approver, created["id"], "approved"),
                                               decide(other, created["id"], "rejected"))
    assert sorted([approval.status_code, rejection.status_code]) == [201, 409], (approval.text, rejection.text)
    read = (await office.checker.get(f"/loans/subsidy-claims/{created['id']}")).json()
    assert read["status"] == ("approved" if approval.status_code == 201 else "rejected")
    paid = created["subsidy_fen"] if read["status"] == "approved" else 0
    assert await office.pool() == pool_before - paid


# Compensation claims on the risk fund (L9)


async def _pending_claim(admin: Api, make_principal: MakePrincipal, county: str, lender: Api,
                         seed: Seed) -> tuple[County, dict[str, Any], dict[str, Any]]:
    place = await funded_county(admin, make_principal, county, 5_000_000)
    fund = await place.set_up_fund(2_000_000)
    loan = await overdue_loan(lender, seed)
    made = await compensation_claim(lender, loan["id"], 1_000_000)
    assert made.status_code == 201, made.text
    return place, fund, made.json()


async def _pay_compensation(stack: Stack, place: County, fund: dict[str, Any], claim_id: str) -> httpx.Response:
    """What an approval asks funds before it records (L9): the fund's 70 % to the bank, keyed by the claim."""
    return await internal(stack, "/internal/risk-fund-moves", {
        "id": payment_id_of(claim_id), "kind": "compensation", "county_code": place.code, "fund_id": fund["id"],
        "fund_source": place.source, "amount_fen": 700_000, "doc_no": fund["agreement_no"],
        "occurred_on": "2019-06-10"})


async def test_l9_a_rejection_after_the_approval_paid_is_refused_and_the_approval_completes(
    admin: Api, make_principal: MakePrincipal, county: str, lender: Api, seed: Seed, inspector: Api, stack: Stack
) -> None:
    place, fund, made = await _pending_claim(admin, make_principal, county, lender, seed)
    paid = await _pay_compensation(stack, place, fund, made["id"])
    assert paid.status_code == 201, paid.text
    rejected = await decide_compensation(place.finance, made["id"], "reject")
    assert rejected.status_code == 409, rejected.text
    assert rejected.json()["code"] == codes.CLAIM_DECIDED and "approved" in rejected.json()["detail"]
    assert (await place.finance.get(f"/loans/compensation-claims/{made['id']}")).json()["status"] == "pending"
    approved = await decide_compensation(place.finance, made["id"], "approve")
    assert approved.status_code == 201, approved.text
    assert approved.json()["decision"]["transfer_ids"] == paid.json()["transfer_ids"]
    assert await place.account(inspector, "bank", fund["id"]) == 700_000  # once


async def test_l9_an_approval_after_a_rejection_moves_nothing(
    admin: Api, make_principal: MakePrincipal, county: str, lender: Api, seed: Seed, inspector: Api, stack: Stack
) -> None:
    place, fund, made = await _pending_claim(admin, make_principal, county, lender, seed)
    rejected = await decide_compensation(place.finance, made["id"], "reject")
    assert rejected.status_code == 201, rejected.text
    late = await _pay_compensation(stack, place, fund, made["id"])
    assert late.status_code == 409, late.text
    assert late.json()["code"] == "CLAIM_VOIDED"
    assert (await decide_compensation(place.second, made["id"], "approve")).status_code == 409
    assert await place.account(inspector, "bank", fund["id"]) == 0
    assert await place.account(inspector, "risk_fund", fund["id"]) == 2_000_000


async def test_l9_an_approval_and_a_rejection_at_once_decide_once_and_pay_only_if_approved(
    admin: Api, make_principal: MakePrincipal, county: str, lender: Api, seed: Seed, inspector: Api
) -> None:
    place, fund, made = await _pending_claim(admin, make_principal, county, lender, seed)
    approval, rejection = await asyncio.gather(decide_compensation(place.finance, made["id"], "approve"),
                                               decide_compensation(place.second, made["id"], "reject"))
    assert sorted([approval.status_code, rejection.status_code]) == [201, 409], (approval.text, rejection.text)
    status = (await place.finance.get(f"/loans/compensation-claims/{made['id']}")).json()["status"]
    assert status == ("approved" if approval.status_code == 201 else "rejected")
    assert await place.account(inspector, "bank", fund["id"]) == (700_000 if status == "approved" else 0)


# Replays: a decision settled in funds whose recording failed in loans is completed by asking it again


async def _void(stack: Stack, county: str, kind: str, key: str) -> httpx.Response:
    """What a rejection asks funds before it records (L9, L13)."""
    return await internal(stack, "/internal/claim-voids", {"county_code": county, "kind": kind, "payment_key": key})


async def test_l13_a_rejection_voided_in_funds_but_not_recorded_is_completed_by_asking_again(
    desk: Office, lender: Api, seed: Seed, stack: Stack
) -> None:
    office = desk
    created = await _checked_claim(office, lender, seed)
    pool_before = await office.pool()
    first, again = (await _void(stack, office.county, "subsidy", created["id"]),
                    await _void(stack, office.county, "subsidy", created["id"]))
    assert (first.status_code, again.status_code) == (200, 200), again.text
    assert first.json() == again.json() == {"county_code": office.county, "kind": "subsidy",
                                            "payment_key": created["id"], "outcome": "voided"}
    approved = await decide(office.approver, created["id"], "approved")
    assert approved.status_code == 409, approved.text
    assert (approved.json()["code"], approved.json()["decision"]) == (codes.SUBSIDY_CLAIM_DECIDED, "rejected")
    assert (await office.checker.get(f"/loans/subsidy-claims/{created['id']}")).json()["status"] == "checked"
    rejected = await decide(office.approver, created["id"], "rejected")
    assert rejected.status_code == 201 and rejected.json()["status"] == "rejected", rejected.text
    assert await office.pool() == pool_before


async def test_l13_an_approval_refused_for_want_of_money_settles_nothing_so_a_rejection_may_follow(
    admin: Api, make_principal: MakePrincipal, lender: Api, seed: Seed, county: str, stack: Stack
) -> None:
    world = await make_world(admin, make_principal, pilot=county)  # nothing allocated to the county
    office = Office(world, world.fin_pilot, await make_principal("finance", county), county)
    created = await _checked_claim(office, lender, seed)
    short = await decide(office.approver, created["id"], "approved")
    assert short.status_code == 409 and short.json()["code"] == "INSUFFICIENT_FUNDS", short.text
    rejected = await decide(office.approver, created["id"], "rejected")
    assert rejected.status_code == 201 and rejected.json()["status"] == "rejected", rejected.text
    late = await _pay_subsidy(stack, office, created)
    assert late.status_code == 409 and late.json()["code"] == "CLAIM_VOIDED", late.text


async def test_l9_a_rejection_voided_in_funds_but_not_recorded_is_completed_by_asking_again(
    admin: Api, make_principal: MakePrincipal, county: str, lender: Api, seed: Seed, inspector: Api, stack: Stack
) -> None:
    place, fund, made = await _pending_claim(admin, make_principal, county, lender, seed)
    key = payment_id_of(made["id"])
    assert (await _void(stack, county, "compensation", key)).status_code == 200
    approved = await decide_compensation(place.finance, made["id"], "approve")
    assert approved.status_code == 409, approved.text
    assert (approved.json()["code"], approved.json()["decision"]) == (codes.CLAIM_DECIDED, "rejected")
    rejected = await decide_compensation(place.finance, made["id"], "reject")
    assert rejected.status_code == 201 and rejected.json()["status"] == "rejected", rejected.text
    assert await place.account(inspector, "bank", fund["id"]) == 0


async def test_funds_refuses_to_void_a_paid_claim_and_answers_only_services(
    admin: Api, make_principal: MakePrincipal, county: str, lender: Api, seed: Seed, inspector: Api, stack: Stack
) -> None:
    place, fund, made = await _pending_claim(admin, make_principal, county, lender, seed)
    key = payment_id_of(made["id"])
    assert (await _pay_compensation(stack, place, fund, made["id"])).status_code == 201
    paid_again = await _pay_compensation(stack, place, fund, made["id"])  # the approval's retry: answered, not made
    assert paid_again.status_code == 201, paid_again.text
    refused = await _void(stack, county, "compensation", key)
    assert refused.status_code == 409, refused.text
    assert (refused.json()["code"], refused.json()["field"], refused.json()["outcome"]) == (
        "CLAIM_ALREADY_PAID", "payment_key", "paid")
    assert await place.account(inspector, "bank", fund["id"]) == 700_000
    bad = await internal(stack, "/internal/claim-voids", {"county_code": county, "kind": "loan", "payment_key": key})
    assert bad.status_code == 422 and bad.json()["field"] == "kind", bad.text
    odd = await internal(stack, "/internal/claim-voids", {"county_code": county, "kind": "subsidy",
                                                          "payment_key": "a b"})
    assert odd.status_code == 422, odd.text
    someone = Principal(id="someone", role="finance", region_code=county)
    body = {"county_code": county, "kind": "compensation", "payment_key": f"{made['id']}:other"}
    assert (await internal(stack, "/internal/claim-voids", body, someone)).status_code == 404


async def test_l13_two_rejections_at_once_void_once_and_record_once(
    desk: Office, lender: Api, seed: Seed, make_principal: MakePrincipal, stack: Stack
) -> None:
    office = desk
    created = await _checked_claim(office, lender, seed)
    other = await make_principal("finance", office.county)
    answers = await asyncio.gather(decide(office.approver, created["id"], "rejected"),
                                   decide(other, created["id"], "rejected"))
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    [refused] = [a for a in answers if a.status_code == 409]
    assert refused.json()["code"] == codes.SUBSIDY_CLAIM_DECIDED
    read = (await office.checker.get(f"/loans/subsidy-claims/{created['id']}")).json()
    assert [d["decision"] for d in read["decisions"]] == ["checked", "rejected"]
    assert (await _pay_subsidy(stack, office, created)).json()["code"] == "CLAIM_VOIDED"
