"""Appropriations (money entering from the budget) and allocations down the hierarchy (F1, direction, no overdraft,
uniqueness by document). A single allocation is a batch of one: the same rules, the same locking."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.funds import codes, rules
from services.funds.ledger import AccountKey, Book, open_book, read_book_after
from services.funds.reference import load_reference, unknown_source, unregistered_county
from services.funds.schemas import AllocationCreate, AllocationRead, AppropriationCreate, AppropriationRead
from services.kernel import clock
from services.kernel.errors import Conflict, NotInJurisdiction, Problem
from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.kernel.regions import region_level
from services.kernel.uow import LastStep, run_last

_ALLOCATION_COLUMNS = ("id", "fund_source", "fiscal_year", "from_region", "to_region", "amount_fen", "doc_no",
                       "issued_on", "designated_project_id", "tasks", "destination_kind")
_INSERT_ALLOCATIONS = """
    INSERT INTO allocations (id, fund_source, fiscal_year, from_region, to_region, amount_fen, doc_no, issued_on,
                             designated_project_id, tasks, destination_kind, created_by)
    SELECT id, fund_source, fiscal_year, from_region, to_region, amount_fen, doc_no, issued_on,
           designated_project_id, tasks::jsonb, destination_kind, $12
    FROM unnest($1::varchar[], $2::varchar[], $3::int[], $4::varchar[], $5::varchar[], $6::bigint[], $7::varchar[],
                $8::date[], $9::varchar[], $10::text[], $11::varchar[])
         AS a(id, fund_source, fiscal_year, from_region, to_region, amount_fen, doc_no, issued_on,
              designated_project_id, tasks, destination_kind)
"""
_DUPLICATE_KEY = re.compile(r"=\((\d+), (.*), ([^,]+)\) already exists")


def duplicate_document(doc_no: str, field: str = "doc_no", **extra: Any) -> Conflict:
    return Conflict(
        f"文号重复 / duplicate document: {doc_no} was already posted (same issuer and fund source, or same voucher)",
        code=codes.DUPLICATE_DOCUMENT,
        field=field,
        **extra,
    )


async def appropriate(
    session: AsyncSession, *, principal: Principal, body: AppropriationCreate
) -> AppropriationRead:
    """Money enters only here: budget → treasury at a region the caller covers."""
    if not principal.covers(body.region_code):
        raise NotInJurisdiction(
            f"{body.region_code} 不在管辖范围内 / is outside your jurisdiction", field="region_code"
        )
    sources, _ = await load_reference(session, sources=[body.fund_source], counties=[])
    if body.fund_source not in sources:
        raise unknown_source(body.fund_source)
    on = body.appropriated_on or clock.today()
    record_id = new_id("apr")
    budget = AccountKey(body.region_code, "budget", body.fund_source)
    treasury = AccountKey(body.region_code, "treasury", body.fund_source)
    try:
        await session.execute(
            text(
                "INSERT INTO appropriations (id, fund_source, fiscal_year, region_code, amount_fen, doc_no, "
                "appropriated_on, created_by) VALUES (:id, :fs, :fy, :region, :amount, :doc, :on, :by)"
            ),
            {"id": record_id, "fs": body.fund_source, "fy": body.fiscal_year, "region": body.region_code,
             "amount": body.amount_fen, "doc": body.doc_no, "on": on, "by": principal.id},
        )
    except IntegrityError as exc:
        raise duplicate_document(body.doc_no) from exc
    book = await open_book(session, [budget, treasury], create=[budget, treasury])
    posted = book.move(budget, treasury, body.amount_fen, kind="appropriation", record_id=record_id,
                       doc_no=body.doc_no, occurred_on=on)
    await book.flush(session)
    return AppropriationRead(id=record_id, fund_source=body.fund_source, fiscal_year=body.fiscal_year,
                             region_code=body.region_code, amount_fen=body.amount_fen, doc_no=body.doc_no,
                             appropriated_on=on, transfer_id=posted.id)


@dataclass
class Planned:
    item: AllocationCreate
    id: str
    destination: AccountKey
    sources: tuple[AccountKey, AccountKey]  # the issuer's treasury, then its fund account


def _in_batch(problem: Problem, index: int | None) -> Problem:
    """Name the batch item a problem is about: `items.3.amount_fen`."""
    if index is not None:
        problem.field = f"items.{index}.{problem.field}" if problem.field else f"items.{index}"
        problem.extra["index"] = index
    return problem


def _check_item(item: AllocationCreate, principal: Principal) -> None:
    if not principal.covers(item.from_region):
        raise NotInJurisdiction(
            f"{item.from_region} 不在管辖范围内 / from_region {item.from_region} is outside your jurisdiction",
            field="from_region",
        )
    rules.check_allocation_direction(item.from_region, item.to_region)


async def _plan(session: AsyncSession, items: Sequence[AllocationCreate], principal: Principal,
                batch: bool) -> list[Planned]:
    for index, item in enumerate(items):
        try:
            _check_item(item, principal)
        except Problem as problem:
            raise _in_batch(problem, index if batch else None) from None
    county_codes = [i.to_region for i in items if region_level(i.to_region) == "county"]
    sources, counties = await load_reference(session, sources=[i.fund_source for i in items], counties=county_codes)
    planned: list[Planned] = []
    seen: set[tuple[str, str, str]] = set()
    for index, item in enumerate(items):
        try:
            planned.append(_plan_item(item, sources, counties, seen))
        except Problem as problem:
            raise _in_batch(problem, index if batch else None) from None
    return planned


def _plan_item(item: AllocationCreate, sources: dict[str, bool], counties: dict[str, dict[str, Any]],
               seen: set[tuple[str, str, str]]) -> Planned:
    if item.fund_source not in sources:
        raise unknown_source(item.fund_source)
    county = counties.get(item.to_region)
    if region_level(item.to_region) == "county" and county is None:
        raise unregistered_county(item.to_region, "to_region")
    block_grant = rules.is_block_grant(integrable=sources[item.fund_source], county=county)
    rules.check_block_grant(
        block_grant=block_grant,
        designated_project_id=item.designated_project_id,
        tasks=[t.model_dump() for t in item.tasks],
    )
    doc_key = (item.from_region, item.doc_no, item.fund_source)
    if doc_key in seen:
        raise duplicate_document(item.doc_no)
    seen.add(doc_key)
    kind = rules.destination_kind(block_grant=block_grant)
    return Planned(
        item=item,
        id=new_id("alc"),
        destination=AccountKey(item.to_region, kind, item.fund_source),
        sources=(AccountKey(item.from_region, "treasury", item.fund_source),
                 AccountKey(item.from_region, "fund", item.fund_source)),
    )


def _post(book: Book, plan: Planned, *, first_source_only: bool = False) -> bool:
    """Move the allocation's money in `book`; True if it was all drawn from the first source (the treasury). With
    `first_source_only`, nothing is moved unless it can be."""
    item = plan.item
    parts = rules.draw([(i, book.balance(k)) for i, k in enumerate(plan.sources)], item.amount_fen)
    single = parts is not None and len(parts) == 1 and parts[0].account_id == 0
    if first_source_only and not single:
        return False
    if parts is None:
        held = sum(book.balance(k) for k in plan.sources)
        raise rules.insufficient(
            f"{item.from_region} holds {held} fen of {item.fund_source}, {item.amount_fen} needed",
            field="amount_fen", balance_fen=held,
        )
    for part in parts:
        book.move(plan.sources[part.account_id], plan.destination, part.amount_fen, kind="allocation",
                  record_id=plan.id, doc_no=item.doc_no, occurred_on=item.issued_on)
    return single


async def _insert_and_read(session: AsyncSession, planned: Sequence[Planned], principal: Principal,
                           batch: bool) -> Book:
    """Insert the allocation records (the unique index settles duplicate documents) and read the unlocked balances
    of the accounts their money moves between, in one round trip."""
    columns: dict[str, list[Any]] = {name: [] for name in _ALLOCATION_COLUMNS}
    for plan in planned:
        row = plan.item.model_dump(exclude={"tasks"})
        row.update(id=plan.id, tasks=json.dumps([t.model_dump() for t in plan.item.tasks], ensure_ascii=False),
                   destination_kind=plan.destination.kind)
        for name, values in columns.items():
            values.append(row[name])
    try:
        return await read_book_after(
            session, _INSERT_ALLOCATIONS, [*columns.values(), principal.id],
            [k for p in planned for k in p.sources], create=[p.destination for p in planned],
        )
    except asyncpg.UniqueViolationError as exc:
        found = _DUPLICATE_KEY.search(str(exc.detail or ""))
        index = next((i for i, p in enumerate(planned) if found and p.item.doc_no == found.group(2)), None)
        doc = planned[index].item.doc_no if index is not None else (found.group(2) if found else "")
        raise _in_batch(duplicate_document(doc), index if batch else None) from exc


async def allocate(
    session: AsyncSession, *, principal: Principal, items: Sequence[AllocationCreate], batch: bool = False
) -> list[AllocationRead]:
    """Post allocations all-or-nothing, in order (a later item may pass on money an earlier one brought)."""
    planned = await _plan(session, items, principal, batch)
    # The records first, with the balances unlocked; the issuer's balance rows, which every allocation of that
    # issuer locks, are locked as late as possible.
    book = await _insert_and_read(session, planned, principal, batch)
    await run_last(session, _mover(book, planned, batch))
    return [
        AllocationRead(**p.item.model_dump(exclude={"tasks"}), tasks=[t.model_dump() for t in p.item.tasks],
                       id=p.id, destination_account=p.destination.kind)
        for p in planned
    ]


def _mover(book: Book, planned: Sequence[Planned], batch: bool) -> LastStep:
    """The money moves, as the last statement before the commit.

    Planned on the unlocked balances of `book` when every allocation can be drawn from the issuer's treasury alone:
    one statement then locks, checks that the balances still cover it, and writes; the lock is held for that
    statement and the commit. Otherwise, or if the balances went down meanwhile, the moves are planned again under
    the lock."""
    sources = [k for p in planned for k in p.sources]
    destinations = [p.destination for p in planned]
    try:
        simple = all(_post(book, plan, first_source_only=True) for plan in planned)
    except Problem:
        simple = False

    async def locked_path(session: AsyncSession) -> None:
        book = await open_book(session, sources, create=destinations)
        for index, plan in enumerate(planned):
            try:
                _post(book, plan)
            except Problem as problem:
                raise _in_batch(problem, index if batch else None) from None
        await book.flush(session)

    async def optimistic_path(session: AsyncSession) -> None:
        if not await book.flush_if_covered(session):
            await locked_path(session)

    return optimistic_path if simple else locked_path
