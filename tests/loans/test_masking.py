"""S7 (A5): a loan read shows the borrower's identity number and a person's disbursement account masked, by the
kernel's one pair of functions; an organisation's (a cooperative's) account is not personal data. Through the
gateway."""

from __future__ import annotations

from services.kernel.types import mask_account_no, mask_id_number
from tests.conftest import Api
from tests.loans.conftest import Seed
from tests.loans.helpers import credit_code, loan_body


async def test_a_persons_account_is_masked_an_organisations_is_not(lender: Api, inspector: Api, seed: Seed) -> None:
    h = await seed()
    personal = "6230001234567890123"
    body = loan_body(h.household_id, h.head_id_number, amount_fen=100,
                     disbursement_account={"holder_id_number": h.head_id_number, "account_no": personal})
    created = await lender.post("/loans", json=body)
    assert created.status_code == 201, created.text
    coop = credit_code("3")
    cooperative = loan_body(h.household_id, h.head_id_number, amount_fen=100, mode="cooperative",
                            disbursement_account={"holder_uscc": coop, "account_no": "6230009999"})
    assert (await lender.post("/loans", json=cooperative)).status_code == 201
    for api in (lender, inspector):
        items = (await api.get("/loans", params={"household_id": h.household_id})).json()["items"]
        accounts = sorted(item["disbursement_account"]["account_no"] for item in items)
        assert accounts == sorted([mask_account_no(personal), "6230009999"]), accounts
        assert mask_account_no(personal) == "623000*********0123"
        assert {item["borrower_id_number"] for item in items} == {mask_id_number(h.head_id_number)}
        one = (await api.get(f"/loans/{created.json()['id']}")).json()
        assert one["disbursement_account"]["account_no"] == mask_account_no(personal)
    assert personal not in created.text
