"""L14 through the gateway: a renewal (续贷) recorded as a new loan linked to the old one, repaid in full by the new
one's issue date, once per loan; an extension dates itself; a renewal not recorded is UNRECORDED_RENEWAL."""

from __future__ import annotations

import asyncio
from typing import Any

from services.kernel import clock
from services.loans import codes
from tests.conftest import Api, MakePrincipal, scan_alerts
from tests.loans.conftest import Household, Seed
from tests.loans.helpers import loan_body


async def lend(lender: Api, h: Household, **overrides: Any) -> dict[str, Any]:
    response = await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number, **overrides))
    assert response.status_code == 201, response.text
    loan: dict[str, Any] = response.json()
    return loan


async def repay(lender: Api, loan: dict[str, Any], principal: int, paid_on: str) -> None:
    response = await lender.post(f"/loans/{loan['id']}/repayments",
                                 json={"principal_fen": principal, "interest_fen": 0, "paid_on": paid_on})
    assert response.status_code == 201, response.text


async def renew(lender: Api, old: dict[str, Any], h: Household, **overrides: Any) -> Any:
    return await lender.post(f"/loans/{old['id']}/renewals",
                             json=loan_body(h.household_id, h.head_id_number, **overrides))


async def test_a_renewal_is_a_new_loan_linked_to_the_repaid_one_once(lender: Api, seed: Seed) -> None:
    h = await seed()
    old = await lend(lender, h, amount_fen=1_000_000, term_months=12, issued_on="2018-03-01")
    await repay(lender, old, 1_000_000, "2019-03-01")
    made = await renew(lender, old, h, amount_fen=1_000_000, issued_on="2019-03-01")
    assert made.status_code == 201, made.text
    renewal, loan = made.json()["renewal"], made.json()["loan"]
    assert (renewal["old_loan_id"], renewal["new_loan_id"]) == (old["id"], loan["id"])
    assert (renewal["renewed_on"], loan["issued_on"], loan["amount_fen"]) == ("2019-03-01", "2019-03-01", 1_000_000)
    assert (await lender.get(f"/loans/{loan['id']}")).json()["household_id"] == h.household_id
    old_records = (await lender.get(f"/loans/{old['id']}/records")).json()
    new_records = (await lender.get(f"/loans/{loan['id']}/records")).json()
    assert (old_records["renewed_by_loan_id"], old_records["renews_loan_id"]) == (loan["id"], None)
    assert (new_records["renews_loan_id"], new_records["renewed_by_loan_id"]) == (old["id"], None)
    again = await renew(lender, old, h, amount_fen=100, issued_on="2019-03-02")
    assert again.status_code == 409 and again.json()["code"] == codes.RENEWAL_EXISTS, again.text
    # the refused renewal made no loan: the household has the old loan and its one renewal
    listed = (await lender.get("/loans", params={"household_id": h.household_id})).json()["items"]
    assert sorted(item["id"] for item in listed) == sorted([old["id"], loan["id"]])


async def test_a_renewal_of_a_loan_still_owing_on_the_issue_date_is_refused(lender: Api, seed: Seed) -> None:
    h = await seed()
    old = await lend(lender, h, amount_fen=1_000_000, issued_on="2018-03-01")
    await repay(lender, old, 999_999, "2019-02-01")
    owing = await renew(lender, old, h, amount_fen=100, issued_on="2019-03-01")
    assert owing.status_code == 422 and owing.json()["code"] == codes.RENEWAL_OLD_LOAN_OUTSTANDING, owing.text
    assert (owing.json()["field"], owing.json()["outstanding_fen"]) == ("issued_on", 1)
    await repay(lender, old, 1, "2019-03-02")
    # repaid the day after the new issue date: still owing on it
    late = await renew(lender, old, h, amount_fen=100, issued_on="2019-03-01")
    assert late.json()["code"] == codes.RENEWAL_OLD_LOAN_OUTSTANDING
    assert (await renew(lender, old, h, amount_fen=100, issued_on="2019-03-02")).status_code == 201


async def test_a_renewal_goes_to_the_same_household_after_the_old_loan(lender: Api, seed: Seed) -> None:
    h, other = await seed(), await seed()
    old = await lend(lender, h, amount_fen=1_000, issued_on="2018-03-01")
    await repay(lender, old, 1_000, "2018-03-01")
    stranger = await renew(lender, old, other, amount_fen=100, issued_on="2018-04-01")
    assert stranger.status_code == 422 and stranger.json()["code"] == codes.RENEWAL_OTHER_HOUSEHOLD
    same_day = await renew(lender, old, h, amount_fen=100, issued_on="2018-03-01")
    assert same_day.status_code == 422 and same_day.json()["code"] == codes.RENEWAL_NOT_LATER
    # the new loan's own rules come first, as on POST /loans
    renamed = await renew(lender, old, h, amount_fen=100, issued_on="2018-04-01", product_name="惠农e贷")
    assert renamed.json()["code"] == codes.LOAN_PRODUCT_RENAMED
    assert (await lender.get("/loans", params={"household_id": other.household_id})).json()["items"] == []


async def test_two_renewals_of_one_loan_at_once_make_one(lender: Api, seed: Seed) -> None:
    h = await seed()
    old = await lend(lender, h, amount_fen=1_000, issued_on="2018-03-01")
    await repay(lender, old, 1_000, "2018-05-01")
    answers = await asyncio.gather(*(renew(lender, old, h, amount_fen=100, issued_on="2018-06-01")
                                     for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409], [a.text for a in answers]
    listed = (await lender.get("/loans", params={"household_id": h.household_id})).json()["items"]
    assert len(listed) == 2


async def test_renewals_of_another_county_are_refused(make_principal: MakePrincipal, lender: Api, seed: Seed) -> None:
    h = await seed()
    old = await lend(lender, h, amount_fen=1_000, issued_on="2018-03-01")
    stranger = await make_principal("lender", "450101")
    refused = await renew(stranger, old, h, amount_fen=100, issued_on="2018-06-01")
    assert refused.status_code == 403 and refused.json()["code"] == "NOT_IN_JURISDICTION"


async def test_an_extension_dates_itself(lender: Api, seed: Seed) -> None:
    h = await seed()
    loan = await lend(lender, h, term_months=12, issued_on="2018-03-01")
    url = f"/loans/{loan['id']}/extensions"
    body = {"new_maturity_on": "2019-09-01", "reason": "受灾"}
    before = await lender.post(url, json={**body, "extended_on": "2018-02-28"})
    assert before.status_code == 422 and before.json()["code"] == codes.EXTENSION_BEFORE_ISSUE
    assert before.json()["field"] == "extended_on"
    made = await lender.post(url, json={**body, "extended_on": "2019-02-20"})
    assert made.status_code == 201 and made.json()["extended_on"] == "2019-02-20", made.text
    detail = (await lender.get(f"/loans/{loan['id']}")).json()
    assert detail["extension"]["extended_on"] == "2019-02-20"


async def test_an_extension_without_its_day_is_dated_today(lender: Api, seed: Seed) -> None:
    h = await seed()
    loan = await lend(lender, h, term_months=12, issued_on="2018-03-01")
    body = {"new_maturity_on": "2019-09-01", "reason": "受灾"}
    made = await lender.post(f"/loans/{loan['id']}/extensions", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["extended_on"] == clock.today().isoformat()


async def unrecorded(inspector: Api, county: str) -> dict[str, dict[str, Any]]:
    response = await inspector.get("/alerts", params={"type": codes.ALERT_UNRECORDED_RENEWAL, "region": county,
                                                      "limit": 500})
    assert response.status_code == 200, response.text
    return {a["subject"]["id"]: a for a in response.json()["items"]}


async def test_a_new_loan_within_30_days_of_a_repaid_one_is_an_unrecorded_renewal(
    admin: Api, lender: Api, inspector: Api, seed: Seed, county: str
) -> None:
    h, far, recorded = await seed(), await seed(), await seed()
    old = await lend(lender, h, amount_fen=1_000, issued_on="2018-03-01")
    await repay(lender, old, 1_000, "2018-06-01")
    hidden = await lend(lender, h, amount_fen=1_000, issued_on="2018-07-01")  # 30 days after: 借新还旧 hidden
    far_old = await lend(lender, far, amount_fen=1_000, issued_on="2018-03-01")
    await repay(lender, far_old, 1_000, "2018-06-01")
    far_new = await lend(lender, far, amount_fen=1_000, issued_on="2018-07-02")  # 31 days after: not a renewal
    kept_old = await lend(lender, recorded, amount_fen=1_000, issued_on="2018-03-01")
    await repay(lender, kept_old, 1_000, "2018-06-01")
    other_old = await lend(lender, recorded, amount_fen=1_000, issued_on="2018-03-02")  # also repaid near it:
    await repay(lender, other_old, 1_000, "2018-06-05")  # a loan recorded as a renewal hides nothing
    kept = await renew(lender, kept_old, recorded, amount_fen=1_000, issued_on="2018-06-10")
    assert kept.status_code == 201, kept.text
    await scan_alerts(admin, "2018-06-30")  # before the new loan was issued: nothing to see yet
    assert await unrecorded(inspector, county) == {}
    await scan_alerts(admin, "2018-08-01")
    found = await unrecorded(inspector, county)
    assert set(found) == {hidden["id"]}, found
    facts = found[hidden["id"]]["facts"]
    assert (facts["old_loan_id"], facts["old_repaid_on"], facts["days_apart"], facts["rule"]) == (
        old["id"], "2018-06-01", 30, "L14")
    assert far_new["id"] not in found and kept.json()["loan"]["id"] not in found
