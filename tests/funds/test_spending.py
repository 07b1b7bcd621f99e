"""Arrangements (pool → library project: F4, F5) and disbursements (project → payee: F6, OVER_ARRANGED), with the
real projects and registry services behind the gateway."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from services.funds import codes
from services.kernel.types import uscc_check_char
from tests.conftest import Api, MakePrincipal
from tests.funds.world import World, make_world
from tests.projects.factory import import_households, new_county, project_in


def credit_code(kind: str = "91") -> str:
    first17 = f"{kind}430523" + uuid.uuid4().hex[:9].upper().replace("I", "1").replace("O", "0")
    first17 = "".join(c if c in "0123456789ABCDEFGHJKLMNPQRTUWXY" else "1" for c in first17)
    return first17 + uscc_check_char(first17)


@dataclass
class Site:
    world: World
    county: str
    pm: Api
    households: list[dict[str, str]]  # poor, exited, not_poor

    def arrangement(self, project_id: str, amount: int, **extra: Any) -> dict[str, Any]:
        return {"county_code": self.county, "project_id": project_id, "amount_fen": amount, **extra}

    def payment(self, project_id: str, amount: int, household: dict[str, str] | None = None,
                **extra: Any) -> dict[str, Any]:
        h = household or self.households[0]
        return {"project_id": project_id, "amount_fen": amount, "voucher_no": f"凭证-{uuid.uuid4().hex[:10]}",
                "payee": {"kind": "household", "id": h["household_id"], "name": h["head_name"],
                          "account_no": h["card_account"]}, **extra}

    async def project(self, status: str = "in_progress", budget: int = 1_000_000) -> str:
        return await project_in(self.pm, self.county, [self.households[0]["household_id"]], status,
                                budget_fen=budget)


@pytest.fixture
async def site(admin: Api, make_principal: MakePrincipal) -> Site:
    county = new_county()
    world = await make_world(admin, make_principal, pilot=county)
    households = await import_households(admin, county, ["poor", "exited", "not_poor"])
    pm = await make_principal("project_manager", county)
    assert (await world.appropriate(10_000_000)).status_code == 201
    assert (await world.allocate(5_000_000, to=county)).status_code == 201
    return Site(world, county, pm, households)


async def test_arrangement_moves_pool_money_to_a_library_project(site: Site) -> None:
    w = site.world
    project_id = await site.project("approved")
    response = await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 400_000))
    assert response.status_code == 201, response.text
    assert response.json()["movements"][0]["fund_source"] == w.source
    assert await w.balances(site.county) == {("pool", w.source, ""): 4_600_000,
                                             ("project", w.source, project_id): 400_000}


async def test_f4_project_must_be_in_this_countys_library(site: Site, admin: Api,
                                                          make_principal: MakePrincipal) -> None:
    w = site.world
    for status in ("draft", "announced", "rejected"):
        project_id = await site.project(status)
        refused = await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 1_000))
        assert refused.status_code == 422, (status, refused.text)
        assert refused.json()["code"] == codes.PROJECT_NOT_IN_LIBRARY and refused.json()["rule"] == "F4"
    unknown = await w.fin_pilot.post("/funds/arrangements", json=site.arrangement("prj_unknown", 1_000))
    assert unknown.json()["code"] == codes.PROJECT_NOT_IN_LIBRARY
    # A project of another county's library.
    other = new_county()
    rows = await import_households(admin, other, ["poor"])
    other_project = await project_in(await make_principal("project_manager", other), other,
                                     [rows[0]["household_id"]], "approved")
    wrong = await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(other_project, 1_000))
    assert wrong.status_code == 422 and wrong.json()["code"] == codes.PROJECT_NOT_IN_LIBRARY
    assert await w.balances(site.county) == {("pool", w.source, ""): 5_000_000}


async def test_f4_never_beyond_the_project_budget(site: Site) -> None:
    w = site.world
    project_id = await site.project("in_progress", budget=300_000)
    assert (await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 200_000))).status_code == 201
    over = await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 100_001))
    assert over.status_code == 422 and over.json()["code"] == codes.OVER_PROJECT_BUDGET
    exact = await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 100_000))
    assert exact.status_code == 201
    # A reversal gives the headroom back.
    reversal = await w.fin_pilot.post("/funds/reversals", json={"target_id": exact.json()["id"],
                                                                "reason": "安排错误 / wrong amount"})
    assert reversal.status_code == 201, reversal.text
    assert (await w.fin_pilot.post("/funds/arrangements",
                                   json=site.arrangement(project_id, 100_000))).status_code == 201


async def test_f5_negative_list_category(site: Site, db: asyncpg.Pool) -> None:
    w = site.world
    project_id = await site.project("approved")
    # The projects service refuses such projects at submit (P4): simulate one reclassified after approval.
    await db.execute("UPDATE projects.projects SET category = 'office_building' WHERE id = $1", project_id)
    refused = await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 1_000))
    assert refused.status_code == 422 and refused.json()["code"] == codes.NEGATIVE_LIST
    assert refused.json()["rule"] == "F5"


async def test_arrangement_cannot_overdraw_the_pool(site: Site) -> None:
    w = site.world
    project_id = await site.project("in_progress", budget=10_000_000)
    over = await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 5_000_001))
    assert over.status_code == 409 and over.json()["code"] == codes.INSUFFICIENT_FUNDS


async def test_disbursement_to_the_household_card_account(site: Site, db: asyncpg.Pool) -> None:
    w = site.world
    project_id = await site.project("in_progress")
    assert (await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 50_000))).status_code == 201
    paid = await w.fin_pilot.post("/funds/disbursements", json=site.payment(project_id, 30_000))
    assert paid.status_code == 201, paid.text
    wrong_account = site.payment(project_id, 1_000)
    wrong_account["payee"]["account_no"] = "6217999999999999999"
    refused = await w.fin_pilot.post("/funds/disbursements", json=wrong_account)
    assert refused.status_code == 422 and refused.json()["code"] == codes.PAYEE_NOT_HOUSEHOLD_ACCOUNT
    assert refused.json()["rule"] == "F6"
    unknown = site.payment(project_id, 1_000)
    unknown["payee"]["id"] = "hh-not-registered"
    assert (await w.fin_pilot.post("/funds/disbursements", json=unknown)).json()["code"] == \
        codes.PAYEE_NOT_HOUSEHOLD_ACCOUNT
    over = await w.fin_pilot.post("/funds/disbursements", json=site.payment(project_id, 20_001))
    assert over.status_code == 422 and over.json()["code"] == codes.OVER_ARRANGED
    enterprise = site.payment(project_id, 20_000)
    enterprise["payee"] = {"kind": "enterprise", "id": credit_code(), "name": "某建筑公司", "account_no": "1234"}
    assert (await w.fin_pilot.post("/funds/disbursements", json=enterprise)).status_code == 201
    balances = await w.balances(site.county)
    assert balances[("project", w.source, project_id)] == 0
    assert balances[("payee", w.source, site.households[0]["household_id"])] == 30_000
    assert await db.fetchval("SELECT count(*) FROM funds.disbursements WHERE project_id = $1", project_id) == 2


async def test_disbursement_needs_a_project_in_progress(site: Site) -> None:
    w = site.world
    project_id = await site.project("approved")
    assert (await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 5_000))).status_code == 201
    refused = await w.fin_pilot.post("/funds/disbursements", json=site.payment(project_id, 1_000))
    assert refused.status_code == 422 and refused.json()["code"] == codes.PROJECT_NOT_IN_PROGRESS


async def test_bad_enterprise_credit_code_is_422(site: Site) -> None:
    w = site.world
    project_id = await site.project("in_progress")
    body = site.payment(project_id, 1_000)
    body["payee"] = {"kind": "enterprise", "id": "91430523MA4L00000X", "name": "某公司", "account_no": "1"}
    refused = await w.fin_pilot.post("/funds/disbursements", json=body)
    assert refused.status_code == 422 and refused.json()["field"] == "payee.enterprise.id"
