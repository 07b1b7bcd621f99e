"""Issue #18 under concurrency and repetition: claims on one loan take turns (L8), two finance people approving one
claim at once pay it once (L9), and the funds ledger's risk-fund move answers the same id again without moving money
twice (its internal API, services only)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from typing import Any

import httpx

from services.kernel.identity import Principal, sign
from services.loans import codes
from tests.conftest import Api, MakePrincipal
from tests.loans.conftest import Seed
from tests.loans.risk_world import funded_county, lend
from tests.stack import Stack

LOANS = Principal(id="service:loans", role="service", region_code="000000", name="loans")


async def _overdue_loan(lender: Api, seed: Seed) -> str:
    response = await lend(lender, await seed(), amount_fen=1_000_000, term_months=12)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_two_claims_on_one_loan_at_once_cannot_claim_more_than_is_outstanding(
    admin: Api, make_principal: MakePrincipal, county: str, lender: Api, seed: Seed
) -> None:
    place = await funded_county(admin, make_principal, county, 2_000_000)
    await place.set_up_fund(1_000_000)
    loan = await _overdue_loan(lender, seed)
    body = {"principal_lost_fen": 600_000, "claimed_on": "2019-06-30", "reason": "失联"}
    answers = await asyncio.gather(lender.post(f"/loans/{loan}/compensation-claims", json=body),
                                   place.finance.post(f"/loans/{loan}/compensation-claims", json=body))
    assert sorted(a.status_code for a in answers) == [201, 422], [a.text for a in answers]
    [refused] = [a for a in answers if a.status_code == 422]
    assert (refused.json()["code"], refused.json()["claimable_fen"]) == (codes.CLAIM_OVER_OUTSTANDING, 400_000)


async def test_two_approvals_of_one_claim_at_once_pay_it_once(
    admin: Api, make_principal: MakePrincipal, county: str, lender: Api, inspector: Api, seed: Seed
) -> None:
    place = await funded_county(admin, make_principal, county, 2_000_000)
    fund = await place.set_up_fund(1_000_000)
    loan = await _overdue_loan(lender, seed)
    made = await lender.post(f"/loans/{loan}/compensation-claims",
                             json={"principal_lost_fen": 500_000, "claimed_on": "2019-06-30", "reason": "失联"})
    claim_id = made.json()["id"]
    decision = {"decided_on": "2019-07-01", "note": "同意"}
    answers = await asyncio.gather(*(f.post(f"/loans/compensation-claims/{claim_id}/approve", json=decision)
                                     for f in (place.finance, place.second)))
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    assert await place.account(inspector, "bank", fund["id"]) == 350_000  # the fund's 70 %, once
    assert await place.account(inspector, "risk_fund", fund["id"]) == 650_000


async def _move(stack: Stack, body: dict[str, Any], principal: Principal = LOANS) -> httpx.Response:
    path, content = "/internal/risk-fund-moves", json.dumps(body).encode()
    headers = sign(stack.secret, method="POST", path=path, query="", request_id=uuid.uuid4().hex,
                   principal=principal, body_sha256=hashlib.sha256(content).hexdigest(), audience="funds")
    async with httpx.AsyncClient(base_url=stack.service_urls["funds"]) as client:
        return await client.post(path, content=content, headers={**headers, "content-type": "application/json"})


async def test_a_move_asked_again_is_answered_not_made_again_and_services_only_may_ask(
    admin: Api, make_principal: MakePrincipal, county: str, inspector: Api, stack: Stack
) -> None:
    place = await funded_county(admin, make_principal, county, 1_000_000)
    fund_id = f"rf_{county}_test"
    body = {"id": fund_id, "kind": "deposit", "county_code": county, "fund_id": fund_id,
            "fund_source": place.source, "amount_fen": 300_000, "doc_no": "协议", "occurred_on": "2018-02-15"}
    first, again = await _move(stack, body), await _move(stack, body)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert first.json()["transfer_ids"] == again.json()["transfer_ids"]
    assert again.json()["fund_balance_fen"] == 300_000
    assert await place.account(inspector, "fund") == 700_000
    other = await _move(stack, {**body, "amount_fen": 300_001})
    assert other.status_code == 409, other.text
    assert other.json()["code"] == "RISK_MOVE_CONFLICT"
    # the review: a decision whose record failed in loans is asked again on another day; the id names the move, so
    # it is answered as made (on its first date), not refused for good
    later = await _move(stack, {**body, "occurred_on": "2018-02-20"})
    assert later.status_code == 201, later.text
    assert (later.json()["transfer_ids"], later.json()["occurred_on"]) == (first.json()["transfer_ids"], "2018-02-15")
    too_much = await _move(stack, {**body, "id": f"{fund_id}:2", "kind": "compensation", "amount_fen": 300_001})
    assert too_much.status_code == 409, too_much.text
    assert too_much.json()["code"] == "INSUFFICIENT_FUNDS"
    someone = Principal(id="someone", role="finance", region_code=county)
    assert (await _move(stack, {**body, "id": f"{fund_id}:3"}, someone)).status_code == 404
    assert await place.account(inspector, "risk_fund", fund_id) == 300_000
