"""A4 fund-flow tracing: from an allocation, a project or a household, every movement back to the appropriations
and forward to the payees, with document numbers and dates.

Money in one account is fungible: upstream lists every movement that fed the accounts on the path (of the same
fund source, since accounts are per source), downstream every movement that left them. Reversed movements are
shown with `reversed_by`, and compensating entries are not followed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.funds import problems
from services.funds.repository import accounts, transfers
from services.kernel.identity import Principal
from services.kernel.pagination import MAX_LIMIT, decode_cursor, encode_cursor
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


# A page's position: (direction, level, account, date, transfer id): the walk upstream (0) then downstream (1),
# the level of the breadth-first walk, and the last hop given, as the (account, date, id) order of a level's hops.
Position = tuple[int, int, int, date, str]
UP, DOWN = 0, 1
Key = tuple[int, date, str]  # a hop's place in its level: (account, date, transfer id)
LEVEL_START: Key = (0, date.min, "")


class _Walk:
    """Breadth-first over the transfer graph, up to MAX_HOPS levels, never visiting an account twice: only the
    accounts of the walk are kept (a level's are found again from the accounts before it, never from the hops), so a
    page holds its own hops and no more of the tree."""

    def __init__(self, session: AsyncSession, start: set[int], *, upstream: bool) -> None:
        self.session, self.upstream = session, upstream
        self.level, self.frontier, self.seen = 0, set(start), set(start)

    async def to_level(self, level: int) -> None:
        while self.level < level and self.frontier:
            found = set(await transfers.next_accounts(self.session, sorted(self.frontier), upstream=self.upstream))
            self.frontier = found - self.seen
            self.seen |= found
            self.level += 1

    async def page(self, after: Key, room: int) -> tuple[list[dict[str, Any]], tuple[int, Key] | None]:
        """Up to `room` hops from the current level on, after `after` in it; and where the next page starts (None:
        the walk is done)."""
        hops: list[dict[str, Any]] = []
        key = "destination_account_id" if self.upstream else "source_account_id"
        while self.level < MAX_HOPS and self.frontier:
            left = room - len(hops)
            rows = await transfers.hops_page(self.session, sorted(self.frontier), into=self.upstream, after=after,
                                             limit=left + 1)
            hops.extend(_hop(r) for r in rows[:left])
            if len(rows) > left:
                if left == 0:
                    return hops, (self.level, after)
                last = rows[left - 1]
                return hops, (self.level, (int(getattr(last, key)), last.occurred_on, str(last.transfer_id)))
            after = LEVEL_START
            await self.to_level(self.level + 1)
        return hops, None


def _position(cursor: str | None) -> Position:
    key = decode_cursor(cursor, 5)
    if key is None:
        return (UP, 0, *LEVEL_START)
    direction, level, account, on, after = key
    try:
        day = date.fromisoformat(str(on))
    except ValueError:
        day = None
    if direction not in (UP, DOWN) or not isinstance(level, int) or not 0 <= level < MAX_HOPS \
            or not isinstance(account, int) or day is None or not isinstance(after, str):
        raise problems.bad_trace_cursor()
    return (direction, level, account, day, after)


async def trace(
    session: AsyncSession,
    *,
    principal: Principal,
    allocation_id: str | None,
    project_id: str | None,
    household_id: str | None,
    cursor: str | None = None,
    limit: int = MAX_LIMIT,
) -> dict[str, Any]:
    """One page of the trace: up to `limit` hops, upstream first, then downstream; `next_cursor` the next page's.
    The record's own movements (an allocation's) come on the first page."""
    named = [(k, v) for k, v in (("allocation", allocation_id), ("project", project_id),
                                 ("household", household_id)) if v]
    if len(named) != 1:
        raise problems.one_trace_subject()
    kind, subject = named[0]
    direction, level, account, day, after_id = _position(cursor)
    own: list[dict[str, Any]] = []
    if kind == "allocation":
        own = [_hop(r) for r in await transfers.hops_of_record(session, subject)]
        if not own:
            raise problems.no_allocation(subject, field="allocation_id")
        regions = [own[0]["from"]["region_code"], own[0]["to"]["region_code"]]
        ends = await transfers.accounts_of_record(session, subject)
        up_from = {r.source_account_id for r in ends}
        down_from = {r.destination_account_id for r in ends}
        if cursor is not None:
            own = []
    else:
        found = await accounts.with_ref(session, kind="project" if kind == "project" else "payee", ref=subject)
        if not found:
            raise problems.no_movements(kind, subject)
        regions = sorted({a.region_code for a in found})
        up_from = down_from = {int(a.id) for a in found if a.id is not None}
    # one of the regions the money passed through is the caller's (403 naming the subject otherwise)
    check_covers_any(principal, regions, subject=f"{kind} {subject}")
    walks = [(UP, up_from), (DOWN, down_from)] if kind != "household" else [(UP, up_from)]
    hops: dict[int, list[dict[str, Any]]] = {UP: [], DOWN: []}
    room, at_level, at_key = limit, level, (account, day, after_id)
    next_position: Position | None = None
    for way, start in walks:
        if way < direction:
            continue
        if way > direction:
            at_level, at_key = 0, LEVEL_START
        if room == 0:
            next_position = (way, at_level, *at_key)
            break
        walk = _Walk(session, start, upstream=way == UP)
        await walk.to_level(at_level)
        hops[way], resume = await walk.page(at_key, room)
        room -= len(hops[way])
        if resume is not None:
            next_position = (way, resume[0], *resume[1])
            break
    upstream, downstream = hops[UP], hops[DOWN]
    if kind != "allocation":
        own = [h for h in upstream if h["to"]["ref"] == subject]
        upstream = [h for h in upstream if h["to"]["ref"] != subject]
    return {"subject": {"kind": kind, "id": subject}, "upstream": upstream, "movements": own,
            "downstream": downstream,
            "next_cursor": _cursor(next_position)}


def _cursor(position: Position | None) -> str | None:
    if position is None:
        return None
    direction, level, account, day, after = position
    return encode_cursor([direction, level, account, day.isoformat(), after])
