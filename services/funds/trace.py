"""A4 fund-flow tracing: from an allocation, a project or a household, every movement back to the appropriations
and forward to the payees, with document numbers and dates.

Money in one account is fungible: upstream lists every movement that fed the accounts on the path (of the same
fund source, since accounts are per source), downstream every movement that left them. Reversed movements are
shown with `reversed_by`, and compensating entries are not followed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.funds import problems
from services.funds.repository import accounts, transfers
from services.kernel.identity import Principal
from services.kernel.scope import check_covers_any

MAX_HOPS = 8


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
    follow = "source_account_id" if upstream else "destination_account_id"
    seen, frontier = set(start), set(start)
    hops: list[dict[str, Any]] = []
    for _ in range(MAX_HOPS):
        if not frontier:
            break
        rows = await transfers.hops_touching(session, sorted(frontier), into=upstream)
        hops.extend(_hop(r) for r in rows)
        nxt = {getattr(r, follow) for r in rows if not (upstream and r.s_kind == "budget")}
        frontier = nxt - seen
        seen |= nxt
    return hops


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
        raise problems.one_trace_subject()
    kind, subject = named[0]
    own: list[dict[str, Any]] = []
    if kind == "allocation":
        own = [_hop(r) for r in await transfers.hops_of_record(session, subject)]
        if not own:
            raise problems.no_allocation(subject, field="allocation_id")
        regions = [own[0]["from"]["region_code"], own[0]["to"]["region_code"]]
        ends = await transfers.accounts_of_record(session, subject)
        up_from = {r.source_account_id for r in ends}
        down_from = {r.destination_account_id for r in ends}
    else:
        found = await accounts.with_ref(session, kind="project" if kind == "project" else "payee", ref=subject)
        if not found:
            raise problems.no_movements(kind, subject)
        regions = sorted({a.region_code for a in found})
        up_from = down_from = {int(a.id) for a in found if a.id is not None}
    # one of the regions the money passed through is the caller's (403 naming the subject otherwise)
    check_covers_any(principal, regions, subject=f"{kind} {subject}")
    upstream = await _walk(session, up_from, upstream=True)
    downstream = await _walk(session, down_from, upstream=False) if kind != "household" else []
    if kind != "allocation":
        own = [h for h in upstream if h["to"]["ref"] == subject]
        upstream = [h for h in upstream if h["to"]["ref"] != subject]
    return {"subject": {"kind": kind, "id": subject}, "upstream": upstream, "movements": own,
            "downstream": downstream}
