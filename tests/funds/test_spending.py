"""Arrangements (pool → library project: F4, F5) and disbursements (project → payee: F6, OVER_ARRANGED), with the
real projects and registry services behind the gateway."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from services.funds import codes, spending
from services.funds.clients import Gateway, Projects, Registry
from services.funds.schemas import ArrangementCreate, DisbursementCreate
from services.kernel.db import asyncpg_url, session_factory
from services.kernel.errors import ServiceUnavailable
from services.kernel.http import ServiceClient
from services.kernel.identity import Principal
from tests.conftest import Api, MakePrincipal
from tests.funds.site import Site, credit_code
from tests.projects.factory import import_households, new_county, project_in
from tests.stack import TestDatabase


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
    first = await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 200_000))
    assert first.status_code == 201
    over = await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 100_001))
    assert over.status_code == 422 and over.json()["code"] == codes.OVER_PROJECT_BUDGET
    assert (over.json()["rule"], over.json()["field"]) == ("F4", "amount_fen")
    assert await w.balances(site.county) == {("pool", w.source, ""): 4_800_000,
                                             ("project", w.source, project_id): 200_000}  # nothing moved
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
    assert refused.json()["rule"] == "F5" and refused.json()["field"] == "project_id"
    assert await w.balances(site.county) == {("pool", w.source, ""): 5_000_000}  # nothing moved
    assert await db.fetchval("SELECT count(*) FROM funds.arrangements WHERE project_id = $1", project_id) == 0


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
    assert refused.json()["rule"] == "F6" and refused.json()["field"] == "payee.account_no"
    unknown = site.payment(project_id, 1_000)
    unknown["payee"]["id"] = "hh-not-registered"
    assert (await w.fin_pilot.post("/funds/disbursements", json=unknown)).json()["code"] == codes.PAYEE_NOT_IN_COUNTY
    over = await w.fin_pilot.post("/funds/disbursements", json=site.payment(project_id, 20_001))
    assert over.status_code == 422 and over.json()["code"] == codes.OVER_ARRANGED
    contractor = credit_code()
    contract = await site.pm.post(f"/projects/{project_id}/contracts", json={
        "contract_no": "施工合同-1", "contractor_uscc": contractor, "contractor_name": "某建筑公司",
        "amount_fen": 20_000, "tender_method": "public_tender", "signed_on": "2018-03-01"})
    assert contract.status_code == 201, contract.text
    enterprise = site.payment(project_id, 20_000, contract_id=contract.json()["id"])
    enterprise["payee"] = {"kind": "enterprise", "id": contractor, "name": "某建筑公司", "account_no": "1234"}
    del enterprise["basis"]  # F11: an enterprise is paid on its contract
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


async def assert_ledger_invariant(db: asyncpg.Pool) -> None:
    """No account but a budget is negative; the money held equals all live appropriations; every balance row
    equals the sum of its transfers."""
    row = await db.fetchrow(
        "SELECT min(balance_fen) FILTER (WHERE kind <> 'budget') AS low,"
        " sum(balance_fen) FILTER (WHERE kind <> 'budget') AS held,"
        " -sum(balance_fen) FILTER (WHERE kind = 'budget') AS budget FROM funds.accounts")
    appropriated = await db.fetchval(
        "SELECT COALESCE(sum(amount_fen), 0) FROM funds.appropriations a"
        " WHERE NOT EXISTS (SELECT 1 FROM funds.reversals r WHERE r.target_id = a.id)")
    assert row["low"] >= 0
    assert row["held"] == row["budget"] == appropriated
    drift = await db.fetchval(
        "SELECT count(*) FROM funds.accounts a WHERE a.balance_fen <> "
        "(SELECT COALESCE(sum(CASE t.leg WHEN 'in' THEN t.amount_fen ELSE -t.amount_fen END), 0)"
        " FROM funds.transfer_legs t WHERE t.account_id = a.id)")
    assert drift == 0


async def test_ledger_invariant_under_racing_allocations_arrangements_and_payments(
    site: Site, db: asyncpg.Pool
) -> None:
    w = site.world
    budgeted = await site.project("in_progress", budget=1_000_000)
    paying = await site.project("in_progress", budget=1_000_000)
    assert (await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(paying, 100_000))).status_code == 201
    # The province holds 5,000,000: 25 of 50 allocations of 200,000 fit. The budget of 1,000,000 lets 20 of 50
    # arrangements of 50,000 through. 100,000 arranged pays 33 of 50 payments of 3,000.
    allocations = [w.allocate(200_000, to=w.poor) for _ in range(50)]
    arrangements = [w.fin_pilot.post("/funds/arrangements", json=site.arrangement(budgeted, 50_000))
                    for _ in range(50)]
    payments = [w.fin_pilot.post("/funds/disbursements", json=site.payment(paying, 3_000)) for _ in range(50)]
    results = await asyncio.gather(*allocations, *arrangements, *payments)
    statuses = [r.status_code for r in results]
    assert sorted(statuses[:50]) == [201] * 25 + [409] * 25
    assert sorted(statuses[50:100]) == [201] * 20 + [422] * 30
    assert sorted(statuses[100:]) == [201] * 33 + [422] * 17
    assert {r.json()["code"] for r in results if r.status_code >= 400} == {
        codes.INSUFFICIENT_FUNDS, codes.OVER_PROJECT_BUDGET, codes.OVER_ARRANGED}
    balances = await w.balances(site.county)
    assert balances[("project", w.source, budgeted)] == 1_000_000
    assert balances[("project", w.source, paying)] == 1_000
    assert balances[("pool", w.source, "")] == 5_000_000 - 1_100_000
    assert (await w.balances(w.province))[("treasury", w.source, "")] == 0
    await assert_ledger_invariant(db)


async def test_other_service_down_is_503_and_changes_nothing(site: Site, database: TestDatabase,
                                                            db: asyncpg.Pool) -> None:
    """The service layer against a projects/registry address where nothing listens: ServiceUnavailable (503) before
    anything is locked or written."""
    w = site.world
    project_id = await site.project("in_progress")
    engine = create_async_engine(asyncpg_url(database.url),
                                 connect_args={"server_settings": {"search_path": "funds"}})
    dead = {name: ServiceClient(name, "http://127.0.0.1:9", caller="funds")
            for name in ("projects", "registry", "gateway")}
    principal = Principal(id="t", role="finance", region_code=site.county)
    try:
        async with session_factory(engine)() as session:
            with pytest.raises(ServiceUnavailable):
                await spending.arrange(session, principal=principal, projects=Projects(dead["projects"]),
                                       gateway=Gateway(dead["gateway"]),
                                       body=ArrangementCreate(county_code=site.county, project_id=project_id,
                                                              amount_fen=1))
            with pytest.raises(ServiceUnavailable):
                await spending.disburse(session, principal=principal, projects=Projects(dead["projects"]),
                                        registry=Registry(dead["registry"]), gateway=Gateway(dead["gateway"]),
                                        body=DisbursementCreate.model_validate(site.payment(project_id, 1)))
            assert not session.new and not session.dirty
            await session.rollback()
    finally:
        for client in dead.values():
            await client.aclose()
        await engine.dispose()
    assert await db.fetchval("SELECT count(*) FROM funds.arrangements WHERE project_id = $1", project_id) == 0
    assert await w.balances(site.county) == {("pool", w.source, ""): 5_000_000}
