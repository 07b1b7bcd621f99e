"""Appropriations (money entering from the budget) and allocations down the hierarchy (F1, direction, no overdraft,
uniqueness by document). A single allocation is a batch of one: the same rules, the same locking."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.funds import ledger, problems, rules
from services.funds.clients import Gateway
from services.funds.ledger import AccountKey, Move
from services.funds.reference import load_reference
from services.funds.repository import allocations as repository
from services.funds.repository import reference as reference_repository
from services.funds.repository.unique import Duplicate
from services.funds.schemas import (
    AllocationBatchRead,
    AllocationCreate,
    AllocationRead,
    AppropriationCreate,
    AppropriationRead,
)
from services.kernel import clock
from services.kernel.errors import Problem
from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.kernel.regions import region_level
from services.kernel.scope import check_covers
from services.kernel.uow import NO_RECEIPT, Receipt

_DUPLICATE_KEY = re.compile(r"=\((\d+), (.*), ([^,]+)\) already exists")


async def appropriate(
    session: AsyncSession, *, principal: Principal, gateway: Gateway, body: AppropriationCreate
) -> AppropriationRead:
    """Money enters only here: budget → treasury at a region the caller covers. The region's finance bureau is asked
    of the gateway first (O13), before the first statement."""
    check_covers(principal, body.region_code, field="region_code")
    recorded_by = principal.organisation
    responsible = rules.responsible_org(recorded_by_org=recorded_by,
                                        finance_bureau=await gateway.finance_bureau(body.region_code))
    source = await reference_repository.get_source(session, body.fund_source)
    if source is None:
        raise problems.unknown_source(body.fund_source)
    rules.check_appropriated_in_province(body.fund_source, source.province_code, body.region_code)
    on = body.appropriated_on or clock.today()
    record_id = new_id("apr")
    try:
        await repository.insert_appropriation(
            session, id=record_id, fund_source=body.fund_source, fiscal_year=body.fiscal_year,
            region_code=body.region_code, amount_fen=body.amount_fen, doc_no=body.doc_no, appropriated_on=on,
            created_by=principal.id, recorded_by_org=recorded_by, responsible_org=responsible,
        )
    except Duplicate as exc:
        raise problems.duplicate_document(body.doc_no) from exc
    budget = AccountKey(body.region_code, "budget", body.fund_source)
    treasury = AccountKey(body.region_code, "treasury", body.fund_source)
    [posted] = await ledger.move(session, [Move((budget,), (treasury,), body.amount_fen, kind="appropriation",
                                                record_id=record_id, doc_no=body.doc_no, occurred_on=on)])
    return AppropriationRead(id=record_id, fund_source=body.fund_source, fiscal_year=body.fiscal_year,
                             region_code=body.region_code, amount_fen=body.amount_fen, doc_no=body.doc_no,
                             appropriated_on=on, transfer_id=posted.id, recorded_by_org=recorded_by,
                             responsible_org=responsible)


@dataclass
class Planned:
    item: AllocationCreate
    id: str
    destination: AccountKey
    sources: tuple[AccountKey, AccountKey]  # the issuer's treasury, then its fund account
    recorded_by_org: str | None = None
    responsible_org: str | None = None  # O13: the issuer's finance bureau, else the recording organisation

    def move(self, index: int | None) -> Move:
        item = self.item
        return Move(self.sources, (self.destination, self.destination), item.amount_fen, kind="allocation",
                    record_id=self.id, doc_no=item.doc_no, occurred_on=item.issued_on, index=index)

    def answer(self) -> AllocationRead:
        return AllocationRead(**self.item.model_dump(exclude={"tasks"}),
                              tasks=[t.model_dump() for t in self.item.tasks], id=self.id,
                              destination_account=self.destination.kind, recorded_by_org=self.recorded_by_org,
                              responsible_org=self.responsible_org)


async def allocate(
    session: AsyncSession, *, principal: Principal, gateway: Gateway, items: Sequence[AllocationCreate],
    batch: bool = False, receipt: Receipt = NO_RECEIPT,
) -> list[AllocationRead]:
    """Post allocations all-or-nothing, in order (a later item may pass on money an earlier one brought).

    The issuer's balance rows, which every allocation of that issuer locks, are locked as late as possible: the
    records are inserted with the balances read unlocked (one statement), the request's audit entry and idempotency
    record are written (`receipt`), and the money moves last, in `ledger.move` (lock, check, write; it plans again
    under the lock if the unlocked balances no longer cover the allocations). The issuers' finance bureaus are
    asked of the gateway first (O13), before the first statement."""
    bureaus = await gateway.finance_bureaus([i.from_region for i in items])
    planned = await _plan(session, items, principal, batch)
    recorded_by = principal.organisation
    for plan in planned:
        plan.recorded_by_org = recorded_by
        plan.responsible_org = rules.responsible_org(recorded_by_org=recorded_by,
                                                     finance_bureau=bureaus[plan.item.from_region])
    book = await _insert_and_read(session, planned, principal, batch)
    answers = [p.answer() for p in planned]
    await receipt.write(AllocationBatchRead(items=answers) if batch else answers[0], entities=[a.id for a in answers])
    await ledger.move(session, [p.move(i if batch else None) for i, p in enumerate(planned)], book=book)
    return answers


async def _plan(session: AsyncSession, items: Sequence[AllocationCreate], principal: Principal,
                batch: bool) -> list[Planned]:
    for index, item in enumerate(items):
        try:
            check_covers(principal, item.from_region, field="from_region")
            rules.check_allocation_direction(item.from_region, item.to_region)
        except Problem as problem:
            raise problems.in_batch(problem, index if batch else None) from None
    county_codes = [i.to_region for i in items if region_level(i.to_region) == "county"]
    # F7 (extended): a source is judged by the scope of the year its money moves (one round trip a year issued in)
    by_year: dict[int, dict[str, bool]] = {}
    counties: dict[str, dict[str, Any]] = {}
    for year in sorted({i.issued_on.year for i in items}):
        by_year[year], counties = await load_reference(
            session, sources=[i.fund_source for i in items], counties=county_codes, year=year)
    planned: list[Planned] = []
    seen: set[tuple[str, str, str]] = set()
    for index, item in enumerate(items):
        try:
            planned.append(_plan_item(item, by_year[item.issued_on.year], counties, seen))
        except Problem as problem:
            raise problems.in_batch(problem, index if batch else None) from None
    return planned


def _plan_item(item: AllocationCreate, sources: dict[str, bool], counties: dict[str, dict[str, Any]],
               seen: set[tuple[str, str, str]]) -> Planned:
    if item.fund_source not in sources:
        raise problems.unknown_source(item.fund_source)
    county = counties.get(item.to_region)
    if region_level(item.to_region) == "county" and county is None:
        raise problems.unregistered_county(item.to_region, "to_region")
    block_grant = rules.is_block_grant(integrable=sources[item.fund_source], county=county)
    rules.check_block_grant(
        block_grant=rules.is_issued_in_blocks(integrable=sources[item.fund_source], to_region=item.to_region,
                                              county=county),
        designated_project_id=item.designated_project_id,
        tasks=[t.model_dump() for t in item.tasks],
    )
    doc_key = (item.from_region, item.doc_no, item.fund_source)
    if doc_key in seen:
        raise problems.duplicate_document(item.doc_no)
    seen.add(doc_key)
    kind = rules.destination_kind(block_grant=block_grant)
    return Planned(
        item=item,
        id=new_id("alc"),
        destination=AccountKey(item.to_region, kind, item.fund_source),
        sources=(AccountKey(item.from_region, "treasury", item.fund_source),
                 AccountKey(item.from_region, "fund", item.fund_source)),
    )


async def _insert_and_read(session: AsyncSession, planned: Sequence[Planned], principal: Principal,
                           batch: bool) -> ledger.Book:
    """Insert the allocation records (the unique index settles duplicate documents) and read the unlocked balances
    of the accounts their money moves between, in one round trip."""
    columns: dict[str, list[Any]] = {name: [] for name in repository.ALLOCATION_COLUMNS}
    for plan in planned:
        row = plan.item.model_dump(exclude={"tasks"})
        row.update(id=plan.id, tasks=json.dumps([t.model_dump() for t in plan.item.tasks], ensure_ascii=False),
                   destination_kind=plan.destination.kind, responsible_org=plan.responsible_org)
        for name, values in columns.items():
            values.append(row[name])
    destinations = {p.destination for p in planned}
    wanted = sorted({k for p in planned for k in p.sources} | destinations)
    try:
        rows = await repository.insert_and_read_balances(session, columns, principal.id,
                                                         principal.organisation, ledger.key_columns(wanted))
    except Duplicate as exc:
        found = _DUPLICATE_KEY.search(exc.detail)
        index = next((i for i, p in enumerate(planned) if found and p.item.doc_no == found.group(2)), None)
        doc = planned[index].item.doc_no if index is not None else (found.group(2) if found else "")
        raise problems.in_batch(problems.duplicate_document(doc), index if batch else None) from exc
    book = ledger.Book(locked=False)
    book.fill(rows)
    return await ledger.complete(session, book, wanted, destinations)
