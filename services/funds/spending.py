"""Spending at the county: arrangements (pool → a library project, F4/F5) and disbursements (project → payee, F6).

The projects and registry services are asked first, before anything is locked or written: if one is down the
request is refused with 503 and nothing changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.funds import clients, codes, rules
from services.funds.allocations import duplicate_document
from services.funds.ledger import AccountKey, Book, Posted, account_keys, open_book
from services.funds.reference import load_reference, unknown_source, unregistered_county
from services.funds.schemas import (
    ArrangementCreate,
    ArrangementRead,
    DisbursementCreate,
    DisbursementRead,
    MovementRead,
    PayeeRead,
)
from services.kernel import clock, throttle
from services.kernel.errors import NotInJurisdiction, Problem
from services.kernel.identity import Principal
from services.kernel.ids import new_id

_LOCK_PROJECT = text(
    """
    INSERT INTO project_ledgers (project_id, county_code) VALUES (:project_id, :county)
    ON CONFLICT (project_id) DO UPDATE SET county_code = EXCLUDED.county_code
    RETURNING arranged_fen
    """
)


def _movements(posted: list[Posted]) -> list[MovementRead]:
    return [MovementRead(transfer_id=p.id, fund_source=p.fund_source, amount_fen=p.amount_fen) for p in posted]


def _draw(book: Book, sources: list[AccountKey], amount_fen: int) -> list[tuple[AccountKey, int]]:
    parts = rules.draw([(i, book.balance(k)) for i, k in enumerate(sources)], amount_fen)
    if parts is None:
        held = sum(book.balance(k) for k in sources)
        raise rules.insufficient(f"the accounts hold {held} fen, {amount_fen} needed", field="amount_fen",
                                 balance_fen=held)
    return [(sources[p.account_id], p.amount_fen) for p in parts]


async def _pool_accounts(session: AsyncSession, body: ArrangementCreate) -> list[AccountKey]:
    """Where a county's arrangement draws from: its pool if it is a pilot (F1/F7), else its fund accounts;
    restricted to one fund source if the caller names it."""
    sources = [body.fund_source] if body.fund_source else []
    integrable, counties = await load_reference(session, sources=sources, counties=[body.county_code])
    county = counties.get(body.county_code)
    if county is None:
        raise unregistered_county(body.county_code, "county_code")
    if body.fund_source is not None:
        if body.fund_source not in integrable:
            raise unknown_source(body.fund_source)
        pooled = rules.is_block_grant(integrable=integrable[body.fund_source], county=county)
        return [AccountKey(body.county_code, "pool" if pooled else "fund", body.fund_source)]
    kind = "pool" if county["integration_pilot"] else "fund"
    return await account_keys(session, region_code=body.county_code, kinds=[kind])


async def arrange(
    session: AsyncSession, *, principal: Principal, services: Mapping[str, Any], body: ArrangementCreate
) -> ArrangementRead:
    if not principal.covers(body.county_code):
        raise NotInJurisdiction(f"县 {body.county_code} 不在管辖范围内 / county is outside your jurisdiction",
                                field="county_code")
    project = await clients.get_project(services, body.project_id)
    rules.check_project_in_library(project, county_code=body.county_code, project_id=body.project_id)
    assert project is not None
    rules.check_not_negative_list(project["category"], negative_list=project["negative_list"])
    sources = await _pool_accounts(session, body)
    arranged = (await session.execute(_LOCK_PROJECT, {"project_id": body.project_id, "county": body.county_code}))
    rules.check_within_budget(arranged_fen=int(arranged.scalar_one()), amount_fen=body.amount_fen,
                              budget_fen=int(project["budget_fen"]))
    targets = {k: AccountKey(body.county_code, "project", k.fund_source, body.project_id) for k in sources}
    book = await open_book(session, sources, create=targets.values())
    record_id, on = new_id("arr"), body.arranged_on or clock.today()
    posted = [
        book.move(source, targets[source], amount, kind="arrangement", record_id=record_id,
                  doc_no=body.project_id, occurred_on=on)
        for source, amount in _draw(book, sources, body.amount_fen)
    ]
    await session.execute(
        text("INSERT INTO arrangements (id, county_code, project_id, amount_fen, fund_source, arranged_on, created_by)"
             " VALUES (:id, :county, :project, :amount, :fund, :on, :by)"),
        {"id": record_id, "county": body.county_code, "project": body.project_id, "amount": body.amount_fen,
         "fund": body.fund_source, "on": on, "by": principal.id},
    )
    await session.execute(
        text("UPDATE project_ledgers SET arranged_fen = arranged_fen + :amount WHERE project_id = :project"),
        {"amount": body.amount_fen, "project": body.project_id},
    )
    await book.flush(session)
    return ArrangementRead(id=record_id, county_code=body.county_code, project_id=body.project_id,
                           amount_fen=body.amount_fen, fund_source=body.fund_source, arranged_on=on,
                           movements=_movements(posted))


async def disburse(
    session: AsyncSession, *, principal: Principal, services: Mapping[str, Any], body: DisbursementCreate
) -> DisbursementRead:
    """Project → payee. A household payee's account is compared last (S6): a right and a wrong account are answered
    alike while another rule refuses, and refusals about household payees are counted per principal."""
    household_payee = body.payee.kind == "household"
    try:
        return await _disburse(session, principal=principal, services=services, body=body)
    except Problem as refusal:
        if household_payee and refusal.code in codes.PAYEE_REFUSALS:
            await throttle.count_refusal(session, principal=principal, limit=codes.PAYEE_CHECKS, refusal=refusal,
                                         service="funds", target=body.payee.id)
        raise


async def _disburse(
    session: AsyncSession, *, principal: Principal, services: Mapping[str, Any], body: DisbursementCreate
) -> DisbursementRead:
    # the other services are asked first, before this request takes a database connection (none is held while they
    # answer); then a principal or household at S6's limit is answered 429 before anything is judged
    project = await clients.get_project(services, body.project_id)
    payee = body.payee
    household = await clients.get_household(services, payee.id) if payee.kind == "household" else None
    if payee.kind == "household":
        await throttle.check_not_limited(session, principal=principal, limit=codes.PAYEE_CHECKS, target=payee.id)
    if project is not None and not principal.covers(project["county_code"]):  # before its status is told (A5)
        raise NotInJurisdiction(f"项目 {body.project_id} 不在管辖范围内 / project is outside your jurisdiction",
                                field="project_id")
    rules.check_project_in_progress(project, project_id=body.project_id)
    assert project is not None
    county_code = project["county_code"]
    if payee.kind == "household":
        rules.check_payee_household_of(household, county_code=county_code, household_id=payee.id)
    sources = await account_keys(session, region_code=county_code, kinds=["project"], ref=body.project_id)
    targets = {k: AccountKey(county_code, "payee", k.fund_source, payee.id) for k in sources}
    book = await open_book(session, sources, create=targets.values())
    rules.check_within_arranged(project_balance_fen=sum(book.balance(k) for k in sources), amount_fen=body.amount_fen)
    record_id, on = new_id("dsb"), body.paid_on or clock.today()
    posted = [
        book.move(source, targets[source], amount, kind="disbursement", record_id=record_id,
                  doc_no=body.voucher_no, occurred_on=on)
        for source, amount in _draw(book, sources, body.amount_fen)
    ]
    try:
        await session.execute(
            text("INSERT INTO disbursements (id, project_id, county_code, amount_fen, voucher_no, payee_kind, "
                 "payee_id, payee_name, payee_account_no, paid_on, created_by) VALUES (:id, :project, :county, "
                 ":amount, :voucher, :kind, :pid, :pname, :account, :on, :by)"),
            {"id": record_id, "project": body.project_id, "county": county_code, "amount": body.amount_fen,
             "voucher": body.voucher_no, "kind": payee.kind, "pid": payee.id, "pname": payee.name,
             "account": payee.account_no, "on": on, "by": principal.id},
        )
    except IntegrityError as exc:
        raise duplicate_document(body.voucher_no, field="voucher_no") from exc
    if household is not None:
        rules.check_household_account(household, account_no=payee.account_no)  # last of all (S6); rolls back
    await book.flush(session)
    return DisbursementRead(id=record_id, project_id=body.project_id, county_code=county_code,
                            amount_fen=body.amount_fen, voucher_no=body.voucher_no,
                            payee=PayeeRead(**payee.model_dump()), paid_on=on, movements=_movements(posted))
