"""S6 (A5): a lender sees a household head's identity number masked (`430523********1026`); POST /loans must not
let it recover the number by trying the ~2,000 that fit the mask. The head's number is compared last, so a wrong and
a right number are answered alike whenever another rule refuses; a right one is told apart only by a loan being made.
Refusals about the borrower are counted per principal: at the limit, ID_ENUMERATION_SUSPECTED on the principal and
429 RATE_LIMITED, unjudged, for its further loan requests. Through the gateway."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.kernel.errors import NOT_IN_JURISDICTION, RATE_LIMITED
from services.loans import codes
from tests.conftest import Api, MakePrincipal
from tests.loans.conftest import Household, Seed
from tests.loans.helpers import id_number, loan_body
from tests.loans.test_origination import loans_of

LIMIT = codes.BORROWER_CHECKS.windows[0].refusals
DAILY = codes.BORROWER_CHECKS.windows[1]


def wrong_number(h: Household) -> str:
    """Another valid number of the household's county: one of the guesses an enumeration tries."""
    return id_number(h.county_code, date(1980, 5, 18))


def answer(response: Any) -> tuple[int, str, str | None, str | None]:
    problem = response.json()
    return response.status_code, problem.get("code"), problem.get("field"), problem.get("rule")


@pytest.mark.parametrize("case", ["collateral", "household_cap", "not_poor", "too_young"])
async def test_a_right_and_a_wrong_number_are_answered_alike_when_another_rule_refuses(
    lender: Api, seed: Seed, case: str
) -> None:
    overrides: dict[str, Any] = {}
    if case == "not_poor":
        h = await seed(status="not_poor")
    elif case == "too_young":
        h = await seed(birth=date(2000, 3, 2))  # 17 on the issue date
    else:
        h = await seed()
    if case == "collateral":
        overrides = {"collateral_required": True}
    if case == "household_cap":
        full = await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number, amount_fen=5_000_000))
        assert full.status_code == 201, full.text
        overrides = {"amount_fen": 100}
    wrong = wrong_number(h) if case != "too_young" else id_number(h.county_code, date(2000, 3, 2), seq=7)
    right_answer = await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number, **overrides))
    wrong_answer = await lender.post("/loans", json=loan_body(h.household_id, wrong, **overrides))
    assert right_answer.status_code == 422, right_answer.text
    assert answer(wrong_answer) == answer(right_answer), (wrong_answer.text, right_answer.text)
    assert right_answer.json()["code"] != codes.BORROWER_NOT_REGISTERED
    assert len(await loans_of(lender, h.household_id)) == (1 if case == "household_cap" else 0)


async def test_a_wrong_number_is_refused_and_the_right_one_lends(lender: Api, seed: Seed) -> None:
    """The allowed side and the refusal L1 still makes: the borrower must be the head."""
    h = await seed()
    refused = await lender.post("/loans", json=loan_body(h.household_id, wrong_number(h)))
    assert answer(refused) == (422, codes.BORROWER_NOT_REGISTERED, "borrower_id_number", "L1")
    assert await loans_of(lender, h.household_id) == []
    assert (await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number))).status_code == 201


async def test_a_counted_refusal_leaves_its_idempotency_key_free(lender: Api, seed: Seed) -> None:
    """A refusal S6 counts is recorded in a transaction of its own; the request's key is not claimed there: the
    refused request changed nothing, so the corrected request with the same key lends (it used to find an empty claim
    committed with the refusal: 409 IDEMPOTENCY_CONFLICT), and the refused one sent again is judged again."""
    h = await seed()
    key = {"Idempotency-Key": f"loan-{h.household_id}"}
    wrong = loan_body(h.household_id, wrong_number(h))
    assert answer(await lender.post("/loans", json=wrong, headers=key))[:2] == (422, codes.BORROWER_NOT_REGISTERED)
    assert answer(await lender.post("/loans", json=wrong, headers=key))[:2] == (422, codes.BORROWER_NOT_REGISTERED)
    lent = await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number), headers=key)
    assert lent.status_code == 201, lent.text
    again = await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number), headers=key)
    assert again.status_code == 201 and again.json()["id"] == lent.json()["id"]  # the kept answer, once
    assert len(await loans_of(lender, h.household_id)) == 1


async def test_another_countys_household_is_answered_alike_for_any_number(
    make_principal: MakePrincipal, seed: Seed
) -> None:
    """Outside the lender's county the number is never compared: one answer, naming neither the county nor the
    head, for the right number and a wrong one."""
    h = await seed()
    stranger = await make_principal("lender", "450102")
    right = await stranger.post("/loans", json=loan_body(h.household_id, h.head_id_number))
    wrong = await stranger.post("/loans", json=loan_body(h.household_id, wrong_number(h)))
    assert answer(right) == answer(wrong) == (403, NOT_IN_JURISDICTION, None, "A5")
    assert right.json()["detail"] == wrong.json()["detail"]
    assert h.county_code not in right.json()["detail"] and "王五" not in right.json()["detail"]


async def alerts_on(inspector: Api, principal_id: str) -> list[dict[str, Any]]:
    response = await inspector.get("/alerts", params={"type": codes.ALERT_ID_ENUMERATION_SUSPECTED, "limit": 500})
    assert response.status_code == 200, response.text
    return [a for a in response.json()["items"]
            if (a["subject"]["kind"], a["subject"]["id"]) == ("principal", principal_id)]


async def test_enumeration_is_alerted_and_then_limited(
    lender: Api, inspector: Api, make_principal: MakePrincipal, seed: Seed, county: str
) -> None:
    h = await seed()
    for _ in range(LIMIT - 1):
        refused = await lender.post("/loans", json=loan_body(h.household_id, wrong_number(h)))
        assert refused.json()["code"] == codes.BORROWER_NOT_REGISTERED, refused.text
    assert await alerts_on(inspector, lender.principal_id) == []  # below the limit: judged, not alerted
    assert (await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number, amount_fen=100))
            ).status_code == 201
    refused = await lender.post("/loans", json=loan_body(h.household_id, wrong_number(h)))
    assert refused.json()["code"] == codes.BORROWER_NOT_REGISTERED  # the refusal that reaches the limit
    [alert] = await alerts_on(inspector, lender.principal_id)
    assert alert["region_code"] == county and alert["facts"]["refusals"] == LIMIT
    for number in (wrong_number(h), h.head_id_number):  # unjudged now: a right number tells nothing either
        limited = await lender.post("/loans", json=loan_body(h.household_id, number, amount_fen=100))
        assert limited.status_code == 429 and limited.json()["code"] == RATE_LIMITED, limited.text
        assert limited.json()["rule"] == "S6"
    assert len(await loans_of(lender, h.household_id)) == 1
    # another lender is not limited for another household; for this one it is (the household is counted too)
    other, elsewhere = await make_principal("lender", county), await seed()
    assert (await other.post("/loans", json=loan_body(elsewhere.household_id, elsewhere.head_id_number))
            ).status_code == 201
    limited = await other.post("/loans", json=loan_body(h.household_id, h.head_id_number, amount_fen=100))
    assert limited.status_code == 429 and limited.json()["code"] == RATE_LIMITED, limited.text


async def test_guesses_from_many_keys_at_one_household_are_counted_together(
    inspector: Api, make_principal: MakePrincipal, seed: Seed, county: str
) -> None:
    """An admin issues keys at will: an outside probe guessed 87 times at one household from three fresh keys of 29
    guesses each, each key under its own limit. The household's refusals are counted whoever guesses."""
    h, bystander = await seed(), await seed()
    per_key = LIMIT // 3 + 1
    keys = [await make_principal("lender", county) for _ in range(3)]
    answers = []
    for key in keys:
        for _ in range(per_key):
            answers.append((await key.post("/loans", json=loan_body(h.household_id, wrong_number(h)))).status_code)
    assert answers[:LIMIT] == [422] * LIMIT and set(answers[LIMIT:]) == {429}, answers
    fresh = await make_principal("lender", county)
    limited = await fresh.post("/loans", json=loan_body(h.household_id, h.head_id_number))
    assert limited.status_code == 429 and limited.json()["rule"] == "S6", limited.text
    response = await inspector.get("/alerts", params={"type": codes.ALERT_ID_ENUMERATION_SUSPECTED, "limit": 500})
    on_household = [a for a in response.json()["items"]
                    if (a["subject"]["kind"], a["subject"]["id"]) == ("household", h.household_id)]
    assert len(on_household) == 1 and on_household[0]["facts"]["refusals"] == LIMIT
    for key in keys:  # no one key reached its own limit
        assert await alerts_on(inspector, key.principal_id) == []
    # the allowed side: the same keys still lend to another household
    assert (await keys[0].post("/loans", json=loan_body(bystander.household_id, bystander.head_id_number))
            ).status_code == 201


async def test_a_slow_enumeration_meets_the_daily_window(
    lender: Api, inspector: Api, seed: Seed, db: Any
) -> None:
    """Kept under the short window (fewer than 30 in 10 minutes), guesses still add up within the day: the long
    window alerts and limits too. The earlier refusals of the day are written as they would have been, an hour ago."""
    h = await seed()
    recent = LIMIT - 2  # with the hundredth below, still under the short window
    earlier = DAILY.refusals - recent - 1
    await db.executemany(
        "INSERT INTO loans.refusals (principal_id, kind, code, at) VALUES ($1, $2, $3, now() - interval '1 hour')",
        [(lender.principal_id, codes.BORROWER_CHECKS.kind, codes.BORROWER_NOT_REGISTERED)] * earlier,
    )
    for _ in range(recent):  # under both windows: judged
        refused = await lender.post("/loans", json=loan_body(h.household_id, wrong_number(h)))
        assert refused.json()["code"] == codes.BORROWER_NOT_REGISTERED, refused.text
    assert await alerts_on(inspector, lender.principal_id) == []
    refused = await lender.post("/loans", json=loan_body(h.household_id, wrong_number(h)))
    assert refused.json()["code"] == codes.BORROWER_NOT_REGISTERED  # the day's hundredth
    [alert] = await alerts_on(inspector, lender.principal_id)
    assert alert["facts"]["refusals"] == DAILY.refusals and alert["facts"]["window_minutes"] == DAILY.minutes
    limited = await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number))
    assert limited.status_code == 429 and limited.json()["code"] == RATE_LIMITED, limited.text
