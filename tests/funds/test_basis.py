"""The basis of every payment through the gateway (issue #17 points 2 and 8): F11 an enterprise is paid against its
contract, within what it leaves, even by two payments at once; F12 a household on a stated basis, never a direct
cash handout; F13 a 奖补 within the county's published standard; F14 retention and final payments after acceptance."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from services.funds import codes
from tests.conftest import Api, MakePrincipal
from tests.funds.site import Site, credit_code
from tests.projects.factory import act


def contract_body(contractor: str, amount: int, method: str = "public_tender", **extra: Any) -> dict[str, Any]:
    return {"contract_no": f"合同-{contractor[-6:]}-{amount}", "contractor_uscc": contractor,
            "contractor_name": "某建筑公司", "amount_fen": amount, "tender_method": method, "signed_on": "2018-03-01",
            **extra}


async def record_contract(site: Site, project_id: str, contractor: str, amount: int) -> str:
    response = await site.pm.post(f"/projects/{project_id}/contracts", json=contract_body(contractor, amount))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def enterprise_payment(site: Site, project_id: str, amount: int, contractor: str, **extra: Any) -> dict[str, Any]:
    body = site.payment(project_id, amount, **extra)
    body["payee"] = {"kind": "enterprise", "id": contractor, "name": "某建筑公司", "account_no": "95588000123"}
    del body["basis"]
    return body


async def funded_project(site: Site, amount: int = 500_000) -> str:
    project_id = await site.project("in_progress")
    arranged = await site.world.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, amount))
    assert arranged.status_code == 201, arranged.text
    return project_id


def refusal(response: Any) -> tuple[int, str, str | None, str | None]:
    body = response.json()
    return response.status_code, body["code"], body.get("field"), body.get("rule")


async def payments_of(db: asyncpg.Pool, project_id: str) -> int:
    return int(await db.fetchval("SELECT count(*) FROM funds.disbursements WHERE project_id = $1", project_id))


async def test_f11_an_enterprise_is_paid_against_its_own_contract(site: Site, db: asyncpg.Pool) -> None:
    fin = site.world.fin_pilot
    project_id = await funded_project(site)
    contractor, other = credit_code(), credit_code()
    contract = await record_contract(site, project_id, contractor, 300_000)
    unnamed = await fin.post("/funds/disbursements", json=enterprise_payment(site, project_id, 1_000, contractor))
    assert refusal(unnamed) == (422, codes.CONTRACT_REQUIRED, "contract_id", "F11")
    unknown = enterprise_payment(site, project_id, 1_000, contractor, contract_id="ctr_unknown")
    assert refusal(await fin.post("/funds/disbursements", json=unknown)) == (
        422, codes.CONTRACT_NOT_FOUND, "contract_id", "F11")
    not_its = enterprise_payment(site, project_id, 1_000, other, contract_id=contract)
    assert refusal(await fin.post("/funds/disbursements", json=not_its)) == (
        422, codes.CONTRACT_PAYEE_MISMATCH, "payee.id", "F11")
    with_basis = {**enterprise_payment(site, project_id, 1_000, contractor, contract_id=contract),
                  "basis": {"kind": "wages"}}
    assert refusal(await fin.post("/funds/disbursements", json=with_basis))[:3] == (
        422, "VALIDATION_ERROR", "basis")
    # a contract of another project of the county is not this project's
    elsewhere = await funded_project(site)
    assert refusal(await fin.post("/funds/disbursements", json=enterprise_payment(
        site, elsewhere, 1_000, contractor, contract_id=contract)))[:2] == (422, codes.CONTRACT_NOT_FOUND)
    assert await payments_of(db, project_id) == 0 and await payments_of(db, elsewhere) == 0
    paid = await fin.post("/funds/disbursements", json=enterprise_payment(site, project_id, 200_000, contractor,
                                                                          contract_id=contract))
    assert paid.status_code == 201, paid.text
    assert (paid.json()["contract_id"], paid.json()["contract_stage"]) == (contract, "progress")
    assert paid.json()["basis"]["kind"] == "contract"
    over = await fin.post("/funds/disbursements", json=enterprise_payment(site, project_id, 100_001, contractor,
                                                                          contract_id=contract))
    assert refusal(over) == (422, codes.CONTRACT_EXCEEDED, "amount_fen", "F11")
    assert (over.json()["contract_fen"], over.json()["paid_fen"], over.json()["left_fen"]) == (
        300_000, 200_000, 100_000)
    # a reversed payment gives the contract its room back; then exactly what is left is paid
    reversed_ = await fin.post("/funds/reversals", json={"target_id": paid.json()["id"], "reason": "付错 / wrong"})
    assert reversed_.status_code == 201, reversed_.text
    exact = await fin.post("/funds/disbursements", json=enterprise_payment(site, project_id, 300_000, contractor,
                                                                           contract_id=contract))
    assert exact.status_code == 201, exact.text
    assert refusal(await fin.post("/funds/disbursements", json=enterprise_payment(
        site, project_id, 1, contractor, contract_id=contract)))[:2] == (422, codes.CONTRACT_EXCEEDED)


async def test_f11_two_payments_at_once_cannot_both_pass_the_contract(site: Site, db: asyncpg.Pool) -> None:
    fin = site.world.fin_pilot
    project_id = await funded_project(site, 1_000_000)
    for _ in range(3):
        contractor = credit_code()
        contract = await record_contract(site, project_id, contractor, 100_000)
        answers = await asyncio.gather(*(fin.post("/funds/disbursements", json=enterprise_payment(
            site, project_id, 60_000, contractor, contract_id=contract)) for _ in range(2)))
        assert sorted(a.status_code for a in answers) == [201, 422], [a.text for a in answers]
        assert [a.json()["code"] for a in answers if a.status_code == 422] == [codes.CONTRACT_EXCEEDED]
        paid = await db.fetchval("SELECT sum(amount_fen) FROM funds.disbursement_bases WHERE contract_id = $1",
                                 contract)
        assert paid == 60_000


async def test_f12_no_direct_cash_handout_to_a_household(site: Site, db: asyncpg.Pool) -> None:
    fin = site.world.fin_pilot
    project_id = await funded_project(site)
    bare = site.payment(project_id, 1_000)
    del bare["basis"]
    assert refusal(await fin.post("/funds/disbursements", json=bare)) == (422, codes.BASIS_REQUIRED, "basis", "F12")
    no_reason = site.payment(project_id, 1_000, basis={"kind": "other"})
    assert refusal(await fin.post("/funds/disbursements", json=no_reason)) == (
        422, codes.BASIS_REQUIRED, "basis.reason", "F12")
    no_category = site.payment(project_id, 1_000, basis={"kind": "subsidy"})
    assert refusal(await fin.post("/funds/disbursements", json=no_category)) == (
        422, codes.BASIS_REQUIRED, "basis.category", "F12")
    contract = await record_contract(site, project_id, credit_code(), 10_000)
    as_contract = site.payment(project_id, 1_000, contract_id=contract)
    assert refusal(await fin.post("/funds/disbursements", json=as_contract))[:3] == (
        422, "VALIDATION_ERROR", "contract_id")
    unknown_kind = site.payment(project_id, 1_000, basis={"kind": "cash"})
    assert (await fin.post("/funds/disbursements", json=unknown_kind)).status_code == 422
    assert await payments_of(db, project_id) == 0
    for basis in ({"kind": "wages"}, {"kind": "dividend"}, {"kind": "other", "reason": "低保兜底 / minimum living"}):
        paid = await fin.post("/funds/disbursements", json=site.payment(project_id, 1_000, basis=basis))
        assert paid.status_code == 201, paid.text
        assert paid.json()["basis"] == {"category": None, "reason": None, **basis}
    kinds = await db.fetch("SELECT basis_kind, reason FROM funds.disbursement_bases WHERE project_id = $1 "
                           "ORDER BY basis_kind", project_id)
    assert [(k["basis_kind"], k["reason"]) for k in kinds] == [
        ("dividend", None), ("other", "低保兜底 / minimum living"), ("wages", None)]


async def publish(fin: Api, county: str, category: str, amount: int, effective_on: str) -> dict[str, Any]:
    response = await fin.post("/funds/subsidy-standards", json={
        "county_code": county, "category": category, "amount_fen": amount, "effective_on": effective_on,
        "doc_no": f"县财〔{effective_on[:4]}〕{amount}号"})
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_f13_a_subsidy_stays_within_the_countys_published_standard(site: Site) -> None:
    fin = site.world.fin_pilot
    project_id = await funded_project(site)

    def subsidy(amount: int, on: str, category: str = "产业奖补-养殖") -> dict[str, Any]:
        return site.payment(project_id, amount, basis={"kind": "subsidy", "category": category}, paid_on=on)

    unpublished = await fin.post("/funds/disbursements", json=subsidy(1_000, "2018-05-01"))
    assert refusal(unpublished) == (422, codes.SUBSIDY_STANDARD_MISSING, "basis.category", "F13")
    await publish(fin, site.county, "产业奖补-养殖", 3_000, "2018-01-01")
    before = await fin.post("/funds/disbursements", json=subsidy(1_000, "2017-12-31"))
    assert refusal(before)[:2] == (422, codes.SUBSIDY_STANDARD_MISSING)  # not yet in force that day
    assert (await fin.post("/funds/disbursements", json=subsidy(2_000, "2018-05-01"))).status_code == 201
    above = await fin.post("/funds/disbursements", json=subsidy(1_001, "2018-06-01"))
    assert refusal(above) == (422, codes.SUBSIDY_ABOVE_STANDARD, "amount_fen", "F13")
    assert (above.json()["standard_fen"], above.json()["paid_fen"]) == (3_000, 2_000)
    assert (await fin.post("/funds/disbursements", json=subsidy(1_000, "2018-06-01"))).status_code == 201
    other = await fin.post("/funds/disbursements", json=subsidy(1_000, "2018-06-01", category="危房改造"))
    assert refusal(other)[:2] == (422, codes.SUBSIDY_STANDARD_MISSING)  # another category has its own standard
    # a new year starts afresh; a new version supersedes the old one from its day
    assert (await fin.post("/funds/disbursements", json=subsidy(3_000, "2019-02-01"))).status_code == 201
    await publish(fin, site.county, "产业奖补-养殖", 5_000, "2019-06-01")
    assert refusal(await fin.post("/funds/disbursements", json=subsidy(2_001, "2019-07-01")))[:2] == (
        422, codes.SUBSIDY_ABOVE_STANDARD)
    assert (await fin.post("/funds/disbursements", json=subsidy(2_000, "2019-07-01"))).status_code == 201
    listed = await fin.get("/funds/subsidy-standards", params={"county": site.county})
    assert listed.status_code == 200, listed.text
    assert [(s["amount_fen"], s["effective_on"]) for s in listed.json()["items"]] == [
        (5_000, "2019-06-01"), (3_000, "2018-01-01")]


async def test_f13_standards_are_the_countys_own(site: Site, make_principal: MakePrincipal) -> None:
    elsewhere = await make_principal("finance", site.world.poor)
    refused = await elsewhere.post("/funds/subsidy-standards", json={
        "county_code": site.county, "category": "产业奖补", "amount_fen": 1_000, "effective_on": "2018-01-01",
        "doc_no": "外县1号"})
    assert (refused.status_code, refused.json()["code"]) == (403, "NOT_IN_JURISDICTION")
    seen = await elsewhere.get("/funds/subsidy-standards", params={"county": site.county})
    assert (seen.status_code, seen.json()["code"]) == (403, "NOT_IN_JURISDICTION")
    bad = await site.world.fin_pilot.post("/funds/subsidy-standards", json={
        "county_code": site.county, "category": "产业奖补", "amount_fen": 0, "effective_on": "2018-01-01",
        "doc_no": "县1号"})
    assert (bad.status_code, bad.json()["field"]) == (422, "amount_fen")


async def test_f14_retention_and_final_payments_after_acceptance(site: Site, db: asyncpg.Pool) -> None:
    fin = site.world.fin_pilot
    project_id = await funded_project(site)
    contractor = credit_code()
    contract = await record_contract(site, project_id, contractor, 100_000)

    def stage(amount: int, name: str | None) -> dict[str, Any]:
        extra = {"contract_stage": name} if name else {}
        return enterprise_payment(site, project_id, amount, contractor, contract_id=contract, **extra)

    assert (await fin.post("/funds/disbursements", json=stage(80_000, None))).status_code == 201
    assert (await act(site.pm, project_id, "complete")).status_code == 200
    awaiting = await fin.post("/funds/disbursements", json=stage(10_000, "retention"))
    assert refusal(awaiting) == (422, codes.PROJECT_NOT_IN_PROGRESS, "contract_stage", "F14")  # not yet accepted
    assert (await act(site.pm, project_id, "accept")).status_code == 200
    progress = await fin.post("/funds/disbursements", json=stage(10_000, "progress"))
    assert refusal(progress) == (422, codes.PROJECT_NOT_IN_PROGRESS, "contract_stage", "F14")
    wages = await fin.post("/funds/disbursements", json=site.payment(project_id, 1_000))
    assert refusal(wages) == (422, codes.PROJECT_NOT_IN_PROGRESS, "project_id", "F14")
    retention = await fin.post("/funds/disbursements", json=stage(10_000, "retention"))
    assert retention.status_code == 201, retention.text
    assert retention.json()["contract_stage"] == "retention"
    assert refusal(await fin.post("/funds/disbursements", json=stage(10_001, "final")))[:2] == (
        422, codes.CONTRACT_EXCEEDED)
    assert (await fin.post("/funds/disbursements", json=stage(10_000, "final"))).status_code == 201
    stages = await db.fetch("SELECT contract_stage, sum(amount_fen) AS paid FROM funds.disbursement_bases "
                            "WHERE contract_id = $1 GROUP BY contract_stage ORDER BY contract_stage", contract)
    assert [(s["contract_stage"], s["paid"]) for s in stages] == [
        ("final", 10_000), ("progress", 80_000), ("retention", 10_000)]


async def test_f13_two_subsidies_at_once_from_two_projects_cannot_both_pass_the_standard(site: Site) -> None:
    fin = site.world.fin_pilot
    await publish(fin, site.county, "危房改造", 3_000, "2018-01-01")
    first, second = await funded_project(site), await funded_project(site)
    answers = await asyncio.gather(*(fin.post("/funds/disbursements", json=site.payment(
        project_id, 2_000, basis={"kind": "subsidy", "category": "危房改造"}, paid_on="2018-05-01"))
        for project_id in (first, second)))
    assert sorted(a.status_code for a in answers) == [201, 422], [a.text for a in answers]
    assert [a.json()["code"] for a in answers if a.status_code == 422] == [codes.SUBSIDY_ABOVE_STANDARD]
