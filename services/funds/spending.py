"""Spending at the county: arrangements (pool → a library project, F4/F5) and disbursements (project → payee, F6).

The projects and registry services are asked first, before anything is locked or written: if one is down the
request is refused with 503 and nothing changes.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.funds import basis, codes, ledger, plans, problems, rules
from services.funds.clients import Gateway, Household, Projects, Registry
from services.funds.ledger import AccountKey, Move, Posted
from services.funds.reference import load_reference
from services.funds.repository import accounts, arrangements, disbursements
from services.funds.repository.unique import Duplicate
from services.funds.schemas import (
    ArrangementCreate,
    ArrangementRead,
    DisbursementCreate,
    DisbursementRead,
    MovementRead,
    PayeeRead,
)
from services.kernel import clock, throttle
from services.kernel.errors import Problem
from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.kernel.scope import check_covers


def _movements(posted: list[Posted]) -> list[MovementRead]:
    return [MovementRead(transfer_id=p.id, fund_source=p.fund_source, amount_fen=p.amount_fen) for p in posted]


async def _pool_accounts(session: AsyncSession, body: ArrangementCreate) -> list[AccountKey]:
    """Where a county's arrangement draws from: its pool if it is a pilot (F1/F7), else its fund accounts;
    restricted to one fund source if the caller names it."""
    sources = [body.fund_source] if body.fund_source else []
    integrable, counties = await load_reference(session, sources=sources, counties=[body.county_code])
    county = counties.get(body.county_code)
    if county is None:
        raise problems.unregistered_county(body.county_code, "county_code")
    if body.fund_source is not None:
        if body.fund_source not in integrable:
            raise problems.unknown_source(body.fund_source)
        pooled = rules.is_block_grant(integrable=integrable[body.fund_source], county=county)
        # F7 (extended): at a pilot county a source's money lies in the pool or, allocated in a year whose scope
        # differs from the source's own flag, in the fund account: drawn from both, the one its flag names first
        first, other = ("pool", "fund") if pooled else ("fund", "pool")
        kinds = (first, other) if county["integration_pilot"] else (first,)
        return [AccountKey(body.county_code, kind, body.fund_source) for kind in kinds]
    kind = "pool" if county["integration_pilot"] else "fund"
    found = await accounts.keys_of(session, region_code=body.county_code, kinds=[kind])
    return [AccountKey(a.region_code, a.kind, a.fund_source, a.ref) for a in found]


async def arrange(
    session: AsyncSession, *, principal: Principal, projects: Projects, gateway: Gateway, body: ArrangementCreate
) -> ArrangementRead:
    """Pool → a project of the county's library (F4, F5), within its budget (F4): the project's ledger row is locked
    first (it keeps concurrent arrangements within the budget), then the money moves. The county's finance bureau
    answers for it (O13), asked of the gateway with the project, before the first statement."""
    check_covers(principal, body.county_code, field="county_code")
    project = await projects.get_project(body.project_id)
    recorded_by = principal.organisation
    responsible = rules.responsible_org(recorded_by_org=recorded_by,
                                        finance_bureau=await gateway.finance_bureau(body.county_code))
    rules.check_project_in_library(project, county_code=body.county_code, project_id=body.project_id)
    assert project is not None
    rules.check_not_negative_list(project["category"], negative_list=project["negative_list"])
    sources = await _pool_accounts(session, body)
    arranged_fen = await arrangements.lock_project(session, project_id=body.project_id, county_code=body.county_code)
    rules.check_within_budget(arranged_fen=arranged_fen, amount_fen=body.amount_fen,
                              budget_fen=int(project["budget_fen"]))
    record_id, on = new_id("arr"), body.arranged_on or clock.today()
    await plans.check_arrangement(session, county_code=body.county_code, project_id=body.project_id, on=on,
                                  amount_fen=body.amount_fen)  # F15, with the project's row locked
    await arrangements.insert_arrangement(
        session, id=record_id, county_code=body.county_code, project_id=body.project_id, amount_fen=body.amount_fen,
        fund_source=body.fund_source, arranged_on=on, created_by=principal.id, recorded_by_org=recorded_by,
        responsible_org=responsible,
    )
    await arrangements.add_arranged(session, county_code=body.county_code, project_id=body.project_id,
                                    amount_fen=body.amount_fen)
    targets = tuple(AccountKey(body.county_code, "project", k.fund_source, body.project_id) for k in sources)
    posted = await ledger.move(session, [Move(tuple(sources), targets, body.amount_fen, kind="arrangement",
                                              record_id=record_id, doc_no=body.project_id, occurred_on=on)])
    return ArrangementRead(id=record_id, county_code=body.county_code, project_id=body.project_id,
                           amount_fen=body.amount_fen, fund_source=body.fund_source, arranged_on=on,
                           movements=_movements(posted), recorded_by_org=recorded_by, responsible_org=responsible)


async def disburse(
    session: AsyncSession, *, principal: Principal, projects: Projects, registry: Registry, gateway: Gateway,
    body: DisbursementCreate,
) -> DisbursementRead:
    """Project → payee. A household payee's account is compared last (S6): a right and a wrong account are answered
    alike while another rule refuses, and refusals about household payees are counted per principal."""
    household_payee = body.payee.kind == "household"
    try:
        return await _disburse(session, principal=principal, projects=projects, registry=registry, gateway=gateway,
                               body=body)
    except Problem as refusal:
        if household_payee and refusal.code in codes.PAYEE_REFUSALS:
            await throttle.count_refusal(session, principal=principal, limit=codes.PAYEE_CHECKS, refusal=refusal,
                                         service="funds", target=body.payee.id)
        raise


async def _disburse(
    session: AsyncSession, *, principal: Principal, projects: Projects, registry: Registry, gateway: Gateway,
    body: DisbursementCreate,
) -> DisbursementRead:
    # the other services are asked first, before this request takes a database connection (none is held while they
    # answer); then a principal or household at S6's limit is answered 429 before anything is judged
    project = await projects.get_project(body.project_id)
    contract = await basis.fetch_contract(projects, body)  # F11
    payee = body.payee
    household: Household | None = None
    # O13: the project's county's finance bureau answers for the payment (asked now, before the first statement)
    bureau = await gateway.finance_bureau(project["county_code"]) if project is not None else None
    if payee.kind == "household":
        household = await registry.get_household(payee.id)
        await throttle.check_not_limited(session, principal=principal, limit=codes.PAYEE_CHECKS, target=payee.id)
    if project is not None:  # before its status is told (A5)
        check_covers(principal, project["county_code"], field="project_id", subject=f"project {body.project_id}")
    basis.check_named(body, project, contract)  # F14 (the project's status), F11, F12
    assert project is not None
    county_code = project["county_code"]
    if payee.kind == "household":
        rules.check_payee_household_of(household, county_code=county_code, household_id=payee.id)
    found = await accounts.keys_of(session, region_code=county_code, kinds=["project"], ref=body.project_id)
    sources = tuple(AccountKey(a.region_code, a.kind, a.fund_source, a.ref) for a in found)
    targets = tuple(AccountKey(county_code, "payee", k.fund_source, payee.id) for k in sources)
    book = await ledger.lock(session, sources, create=targets)
    rules.check_within_arranged(project_balance_fen=book.held(sources), amount_fen=body.amount_fen)
    record_id, on = new_id("dsb"), body.paid_on or clock.today()
    await basis.check_left(session, body, county_code=county_code, contract=contract, on=on)  # F11, F13
    recorded_by = principal.organisation
    responsible = rules.responsible_org(recorded_by_org=recorded_by, finance_bureau=bureau)
    try:
        await disbursements.insert_disbursement(
            session, id=record_id, project_id=body.project_id, county_code=county_code, amount_fen=body.amount_fen,
            voucher_no=body.voucher_no, payee_kind=payee.kind, payee_id=payee.id, payee_name=payee.name,
            payee_account_no=payee.account_no, paid_on=on, created_by=principal.id, recorded_by_org=recorded_by,
            responsible_org=responsible,
        )
    except Duplicate as exc:
        raise problems.duplicate_document(body.voucher_no, field="voucher_no") from exc
    stated = await basis.record(session, body, disbursement_id=record_id, county_code=county_code, on=on)
    if household is not None:
        rules.check_household_account(household, account_no=payee.account_no)  # last of all (S6); rolls back
    posted = await ledger.move(session, [Move(sources, targets, body.amount_fen, kind="disbursement",
                                              record_id=record_id, doc_no=body.voucher_no, occurred_on=on)],
                               book=book)
    return DisbursementRead(id=record_id, project_id=body.project_id, county_code=county_code,
                            amount_fen=body.amount_fen, voucher_no=body.voucher_no,
                            payee=PayeeRead(**payee.model_dump()), paid_on=on, movements=_movements(posted),
                            recorded_by_org=recorded_by, responsible_org=responsible, contract_id=body.contract_id,
                            contract_stage=basis.stage_of(body),
                            basis=stated)
