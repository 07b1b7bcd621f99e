"""S5: a signed request is bound to its body and can be used once. Called on the loans service's own port, with the
headers crafted here with the shared secret, as an attacker who captured one request on the wire would replay it."""

from __future__ import annotations

import json

import httpx

from services.kernel.identity import STREAMED_BODY, Principal
from tests.conftest import Api, signed
from tests.loans.conftest import Seed
from tests.loans.test_servicing import new_loan
from tests.stack import Stack


def _repayment(principal_fen: int) -> bytes:
    return json.dumps({"principal_fen": principal_fen, "interest_fen": 0, "paid_on": "2018-06-01"}).encode()


async def test_a_captured_repayment_cannot_be_replayed_nor_carry_another_body(
    stack: Stack, lender: Api, seed: Seed
) -> None:
    loan = await new_loan(lender, seed, amount_fen=1_000_000)
    url = f"{stack.service_urls['loans']}/loans/{loan['id']}/repayments"
    who = Principal(id=lender.principal_id, role="lender", region_code=lender.region_code)
    body = _repayment(100)
    captured = {**signed(stack, "POST", url, who, body=body), "content-type": "application/json"}
    async with httpx.AsyncClient() as client:
        first = await client.post(url, content=body, headers=captured)
        assert first.status_code == 201, first.text

        replayed = await client.post(url, content=body, headers=captured)
        assert replayed.status_code == 401 and replayed.json()["code"] == "REPLAYED_REQUEST", replayed.text

        other_body = await client.post(url, content=_repayment(900_000), headers=captured)
        assert other_body.status_code == 401 and other_body.json()["code"] == "BODY_DIGEST_MISMATCH"

        unbound = {**signed(stack, "POST", url, who, digest=STREAMED_BODY), "content-type": "application/json"}
        not_streamed = await client.post(url, content=_repayment(900_000), headers=unbound)
        assert not_streamed.status_code == 401 and not_streamed.json()["code"] == "BODY_DIGEST_MISMATCH"

        fresh = {**signed(stack, "POST", url, who, body=body), "content-type": "application/json"}
        again = await client.post(url, content=body, headers=fresh)
        assert again.status_code == 201, again.text

    detail = (await lender.get(f"/loans/{loan['id']}")).json()
    assert detail["repaid_fen"] == 200 and len(detail["repayments"]) == 2  # the two signed once, nothing else


async def test_a_read_may_be_repeated_within_the_signature_lifetime(stack: Stack, lender: Api, seed: Seed) -> None:
    """GETs change nothing: their nonce is signed but not kept (no database round trip on the read path)."""
    loan = await new_loan(lender, seed)
    url = f"{stack.service_urls['loans']}/loans/{loan['id']}"
    who = Principal(id=lender.principal_id, role="lender", region_code=lender.region_code)
    headers = signed(stack, "GET", url, who)
    async with httpx.AsyncClient() as client:
        assert (await client.get(url, headers=headers)).status_code == 200
        assert (await client.get(url, headers=headers)).status_code == 200
        with_body = await client.request("GET", url, headers=headers, content=b"x")
        assert with_body.status_code == 401 and with_body.json()["code"] == "BODY_DIGEST_MISMATCH"


async def test_the_gateway_signs_each_request_afresh(lender: Api, seed: Seed) -> None:
    """The same repayment posted twice through the gateway is two requests (two nonces), both taken."""
    loan = await new_loan(lender, seed, amount_fen=1_000)
    body = {"principal_fen": 10, "interest_fen": 0, "paid_on": "2018-06-01"}
    for _ in range(2):
        response = await lender.post(f"/loans/{loan['id']}/repayments", json=body)
        assert response.status_code == 201, response.text
