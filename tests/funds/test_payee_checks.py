"""Household payees (POST /funds/disbursements) through the gateway: S9, a project pays households of its own
county's roster only; S6 (A5), the household's 一卡通 account, which the caller sees masked, cannot be recovered from
the answers: it is compared last, and refusals about household payees are counted, alerted and limited."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from services.funds import codes
from services.kernel.errors import RATE_LIMITED
from tests.conftest import Api
from tests.funds.site import Site
from tests.projects.factory import import_households, new_county, project_in

LIMIT = codes.PAYEE_CHECKS.windows[0].refusals


def answer(response: Any) -> tuple[int, str, str | None, str | None]:
    problem = response.json()
    return response.status_code, problem.get("code"), problem.get("field"), problem.get("rule")


async def paid_to(db: asyncpg.Pool, project_id: str) -> int:
    return int(await db.fetchval("SELECT count(*) FROM funds.disbursements WHERE project_id = $1", project_id))


async def funded_project(site: Site, amount: int = 50_000) -> str:
    project_id = await site.project("in_progress")
    arranged = await site.world.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, amount))
    assert arranged.status_code == 201, arranged.text
    return project_id


async def test_s9_a_household_of_another_county_is_not_paid(site: Site, admin: Api, db: asyncpg.Pool) -> None:
    project_id = await funded_project(site)
    [stranger] = await import_households(admin, new_county(), ["poor"])
    refused = await site.world.fin_pilot.post("/funds/disbursements", json=site.payment(project_id, 1_000, stranger))
    assert answer(refused) == (422, codes.PAYEE_NOT_IN_COUNTY, "payee.id", "S9"), refused.text
    unknown = site.payment(project_id, 1_000, {**stranger, "household_id": "hh-never-registered"})
    # answered as a household on no roster at all: nothing said about the other county
    assert answer(await site.world.fin_pilot.post("/funds/disbursements", json=unknown)) == answer(refused)
    assert site.county not in refused.json()["detail"] and stranger["head_name"] not in refused.json()["detail"]
    assert await paid_to(db, project_id) == 0
    own = await site.world.fin_pilot.post("/funds/disbursements", json=site.payment(project_id, 1_000))
    assert own.status_code == 201, own.text
    assert await paid_to(db, project_id) == 1


@pytest.mark.parametrize("case", ["over_arranged", "duplicate_voucher"])
async def test_a_right_and_a_wrong_card_account_are_answered_alike_when_another_rule_refuses(
    site: Site, db: asyncpg.Pool, case: str
) -> None:
    project_id = await funded_project(site)
    right = site.payment(project_id, 50_001 if case == "over_arranged" else 1_000)
    if case == "duplicate_voucher":
        first = await site.world.fin_pilot.post("/funds/disbursements", json=right)
        assert first.status_code == 201, first.text
    wrong = {**right, "payee": {**right["payee"], "account_no": right["payee"]["account_no"][:-1] + "9"}}
    if wrong["payee"]["account_no"] == right["payee"]["account_no"]:
        wrong["payee"]["account_no"] = right["payee"]["account_no"][:-1] + "8"
    right_answer = await site.world.fin_pilot.post("/funds/disbursements", json=right)
    wrong_answer = await site.world.fin_pilot.post("/funds/disbursements", json=wrong)
    assert right_answer.json()["code"] in (codes.OVER_ARRANGED, codes.DUPLICATE_DOCUMENT), right_answer.text
    assert answer(wrong_answer) == answer(right_answer), (wrong_answer.text, right_answer.text)
    assert await paid_to(db, project_id) == (1 if case == "duplicate_voucher" else 0)


async def test_card_account_enumeration_is_alerted_and_then_limited(site: Site, db: asyncpg.Pool,
                                                                    make_principal: Any) -> None:
    project_id = await funded_project(site)
    w = site.world
    good = site.payment(project_id, 100)
    for n in range(LIMIT - 1):
        guess = {**good, "payee": {**good["payee"], "account_no": f"6217{n:015d}"}}
        refused = await w.fin_pilot.post("/funds/disbursements", json=guess)
        assert answer(refused) == (422, codes.PAYEE_NOT_HOUSEHOLD_ACCOUNT, "payee.account_no", "F6"), refused.text
    assert (await w.fin_pilot.post("/funds/disbursements", json=site.payment(project_id, 100))).status_code == 201
    last = {**good, "payee": {**good["payee"], "account_no": "6217999999999999999"}}
    assert (await w.fin_pilot.post("/funds/disbursements", json=last)).json()["code"] == \
        codes.PAYEE_NOT_HOUSEHOLD_ACCOUNT  # the refusal that reaches the limit
    alerts = await w.inspector.get("/alerts", params={"type": codes.ID_ENUMERATION_SUSPECTED, "limit": 500})
    mine = [a for a in alerts.json()["items"] if a["subject"]["id"] == w.fin_pilot.principal_id]
    assert len(mine) == 1 and mine[0]["facts"]["refusals"] == LIMIT, alerts.text
    limited = await w.fin_pilot.post("/funds/disbursements", json=site.payment(project_id, 100))
    assert limited.status_code == 429 and limited.json()["code"] == RATE_LIMITED, limited.text
    assert limited.json()["rule"] == "S6"
    assert await paid_to(db, project_id) == 1
    # the household guessed at is counted too: another key of the county is limited for it (an admin issues keys
    # at will), and the alert names the household as well as the key
    other = await make_principal("finance", site.county)
    limited = await other.post("/funds/disbursements", json=site.payment(project_id, 100))
    assert limited.status_code == 429 and limited.json()["rule"] == "S6", limited.text
    household = good["payee"]["id"]
    assert [a["subject"] for a in alerts.json()["items"] if a["subject"]["kind"] == "household"
            and a["subject"]["id"] == household] == [{"kind": "household", "id": household, "responsible_org": None}]


async def test_another_countys_project_is_neither_located_nor_its_status_told(
    site: Site, admin: Api, make_principal: Any
) -> None:
    """A5: arranging for, or paying from, another county's project says no more than "not in your library" or
    "outside your jurisdiction": not the project's county, nor its status."""
    other = new_county()
    [row] = await import_households(admin, other, ["poor"])
    other_pm = await make_principal("project_manager", other)
    approved = await project_in(other_pm, other, [row["household_id"]], "approved")
    arranged = await site.world.fin_pilot.post("/funds/arrangements", json=site.arrangement(approved, 1_000))
    unknown = await site.world.fin_pilot.post("/funds/arrangements", json=site.arrangement("prj_none", 1_000))
    assert answer(arranged) == answer(unknown) == (422, codes.PROJECT_NOT_IN_LIBRARY, "project_id", "F4")
    assert other not in arranged.text and "approved" not in arranged.text
    assert arranged.json()["detail"].replace(approved, "?") == unknown.json()["detail"].replace("prj_none", "?")
    paid = await site.world.fin_pilot.post("/funds/disbursements", json=site.payment(approved, 1_000))
    assert paid.status_code == 403 and paid.json()["code"] == "NOT_IN_JURISDICTION", paid.text
    assert other not in paid.text and "approved" not in paid.text
    own = await site.project("approved")  # the county's own project: its state is told
    assert (await site.world.fin_pilot.post("/funds/disbursements", json=site.payment(own, 1_000))).json()["code"] \
        == codes.PROJECT_NOT_IN_PROGRESS
