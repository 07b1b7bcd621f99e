"""A4 fund-flow tracing: from an allocation, a project or a household, every movement back to the appropriations
and forward to the payees, with document numbers and dates.

Money in one account is fungible: upstream lists every movement that fed the accounts on the path (of the same
fund source, since accounts are per source), downstream every movement that left them. Reversed movements are
shown with `reversed_by`, and compensating entries are not followed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.errors import NotFound, NotInJurisdiction, ValidationProblem
from services.kernel.identity import Principal

MAX_HOPS = 8
_HOPS = """
    SELECT t.id AS transfer_id, t.kind, t.record_id, t.doc_no, t.occurred_on, t.amount_fen, t.fund_source,
           t.source_account_id, t.destination_account_id, rv.id AS reversed_by,
           s.region_code AS s_region, s.kind AS s_kind, s.ref AS s_ref,
           d.region_code AS d_region, d.kind AS d_kind, d.ref AS d_ref
    FROM transfers t JOIN accounts s ON s.id = t.source_account_id JOIN accounts d ON d.id = t.destination_account_id
    LEFT JOIN transfers rv ON rv.reverses_id = t.id
    WHERE t.kind <> 'reversal' AND {where} ORDER BY t.occurred_on, t.id
"""


def _hop(row: Any) -> dict[str, Any]:
    return {
        "transfer_id": row.transfer_id,
        "kind": row.kind,
        "record_id": row.record_id,
        "doc_no": row.doc_no,
        "occurred_on": row.occurred_on.isoformat(),
        "amount_fen": row.amount_fen,
        "fund_source": row.fund_source,
        "from": {"region_code": row.s_region, "account": row.s_kind, "ref": row.s_ref},
        "to": {"region_code": row.d_region, "account": row.d_kind, "ref": row.d_ref},
        "reversed_by": row.reversed_by,
    }


async def _walk(session: AsyncSession, start: set[int], *, upstream: bool) -> list[dict[str, Any]]:
    """Breadth-first over the transfer graph, up to MAX_HOPS levels, never visiting an account twice."""
    column, follow = ("destination_account_id", "source_account_id") if upstream else (
        "source_account_id", "destination_account_id")
    query = text(_HOPS.format(where=f"t.{column} = ANY(CAST(:ids AS bigint[]))"))
    seen, frontier = set(start), set(start)
    hops: list[dict[str, Any]] = []
    for _ in range(MAX_HOPS):
        if not frontier:
            break
        rows = list(await session.execute(query, {"ids": sorted(frontier)}))
        hops.extend(_hop(r) for r in rows)
        nxt = {getattr(r, follow) for r in rows if not (upstream and r.s_kind == "budget")}
        frontier = nxt - seen
        seen |= nxt
    return hops


async def _accounts(session: AsyncSession, where: str, params: dict[str, Any]) -> list[Any]:
    return list(await session.execute(text(f"SELECT id, region_code, kind FROM accounts WHERE {where}"), params))


async def trace(
    session: AsyncSession,
    *,
    principal: Principal,
    allocation_id: str | None,
    project_id: str | None,
    household_id: str | None,
) -> dict[str, Any]:
    named = [(k, v) for k, v in (("allocation", allocation_id), ("project", project_id),
                                 ("household", household_id)) if v]
    if len(named) != 1:
        raise ValidationProblem("请给出且只给出一个追溯对象 / give exactly one of allocation_id, project_id, "
                                "household_id", field="allocation_id")
    kind, subject = named[0]
    own: list[dict[str, Any]] = []
    if kind == "allocation":
        own = [_hop(r) for r in await session.execute(text(_HOPS.format(where="t.record_id = :id")), {"id": subject})]
        if not own:
            raise NotFound(f"没有这笔资金下达 / no allocation {subject}", field="allocation_id")
        regions = {own[0]["from"]["region_code"], own[0]["to"]["region_code"]}
        up_from = {r.source_account_id for r in await _source_ids(session, subject)}
        down_from = {r.destination_account_id for r in await _source_ids(session, subject)}
    else:
        account_kind = "project" if kind == "project" else "payee"
        rows = await _accounts(session, "kind = :k AND ref = :ref", {"k": account_kind, "ref": subject})
        if not rows:
            raise NotFound(f"没有 {subject} 的资金记录 / no movements recorded for {kind} {subject}")
        regions = {r.region_code for r in rows}
        up_from = down_from = {r.id for r in rows}
    if not any(principal.covers(r) for r in regions):
        raise NotInJurisdiction(f"{subject} 不在管辖范围内 / {kind} {subject} is outside your jurisdiction")
    upstream = await _walk(session, up_from, upstream=True)
    downstream = await _walk(session, down_from, upstream=False) if kind != "household" else []
    if kind != "allocation":
        own = [h for h in upstream if h["to"]["ref"] == subject]
        upstream = [h for h in upstream if h["to"]["ref"] != subject]
    return {"subject": {"kind": kind, "id": subject}, "upstream": upstream, "movements": own,
            "downstream": downstream}


async def _source_ids(session: AsyncSession, record_id: str) -> list[Any]:
    return list(await session.execute(
        text("SELECT source_account_id, destination_account_id FROM transfers WHERE record_id = :id"),
        {"id": record_id}))
