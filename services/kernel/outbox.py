"""The audit outbox: a committed change writes its audit entry in its own transaction (A1), and the gateway's
sequencer pulls these entries into the hash-chained trail, then acknowledges each with the chain seq it got.

Nothing here is ever updated or deleted (S4: the database refuses it, and no role has the grant): an entry is
pending while no row of `audit_outbox_acks` names it. A poller does not scan the whole outbox each time (a province
has millions of entries). Each entry carries the id of the transaction that wrote it (`xid`), and `Pending` keeps,
from the snapshot taken before its last poll, what that poll could not see yet: the transactions then in progress
(`pg_snapshot_xip`) and those not begun (xid >= `pg_snapshot_xmax`); and the entries it found pending. Only those
can be pending at the next poll: an index lookup on `xid` and the primary key, anti-joined with the
acknowledgements. A long transaction elsewhere (a 15-minute import) costs one index probe per poll, not a rescan of
everything written since it began. The state lives in the process: its first poll reads the whole outbox once.

A replayed request is refused by this insert's own statement, which first claims the request's nonce in
`signed_nonces` (S5, kernel/nonces.py); the entry's `nonce` column is left empty (rows of the version before issue
#15 hold theirs)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from services.kernel import nonces, rawsql
from services.kernel.identity import Principal

_COLUMNS = "request_id, principal_id, role, region_code, method, path, query, entity_ids, body_sha256, status"
_INSERT = f"INSERT INTO audit_outbox ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text[], $9, $10)"
# The same entry written only if the request's nonce is claimed, in one statement (kernel/nonces.py).
_CLAIMED_INSERT = nonces.claimed_then(
    f"INSERT INTO audit_outbox ({_COLUMNS}) SELECT $6, $7, $8, $9, $10, $11, $12, $13::text[], $14, $15 "
    "WHERE EXISTS (SELECT 1 FROM claimed) RETURNING 1"
)
ENTRY_COLUMNS = (
    "id, at, request_id, principal_id, role, region_code, method, path, query, entity_ids, body_sha256, status"
)
_SNAPSHOT = (
    "SELECT pg_snapshot_xmax(s)::text AS xmax, ARRAY(SELECT x::text FROM pg_snapshot_xip(s) AS x) AS xip "
    "FROM pg_current_snapshot() AS s"
)
_UNSEEN = "(o.xid >= $1::text::xid8 OR o.xid = ANY($2::text[]::xid8[]) OR o.id = ANY($3::bigint[]))"
_NOT_ACKED = "NOT EXISTS (SELECT 1 FROM audit_outbox_acks a WHERE a.outbox_id = o.id)"
_PENDING = f"SELECT {ENTRY_COLUMNS} FROM audit_outbox o WHERE {_UNSEEN} AND {_NOT_ACKED} ORDER BY o.id LIMIT $4"
_BACKLOG = f"SELECT count(*) AS n, min(o.at) AS oldest FROM audit_outbox o WHERE {_UNSEEN} AND {_NOT_ACKED}"
_ACK = (
    "INSERT INTO audit_outbox_acks (outbox_id, seq) SELECT * FROM unnest($1::bigint[], $2::bigint[]) "
    "ON CONFLICT (outbox_id) DO NOTHING"
)


def entity_ids_of(request: Request, response: Response) -> list[str]:
    """The ids a change touched: path parameters, the `id` it answered with, and any the handler named."""
    ids: list[str] = [str(v) for v in request.path_params.values()]
    body = getattr(response, "body", b"")
    if body and (response.media_type or "").endswith("json"):
        try:
            decoded = json.loads(body)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict) and isinstance(decoded.get("id"), str | int):
            ids.append(str(decoded["id"]))
    ids.extend(getattr(request.state, "audit_entities", ()))
    return list(dict.fromkeys(ids))


def name_entities(request: Request, ids: Iterable[str]) -> None:
    """Let a handler add entity ids that are not in the path or the answer (e.g. an allocation's accounts)."""
    existing: list[str] = getattr(request.state, "audit_entities", [])
    request.state.audit_entities = [*existing, *ids]


async def record(
    session: AsyncSession,
    *,
    request: Request,
    response: Response,
    principal: Principal,
    body_sha256: str,
    claim: tuple[str, int] | None = None,
) -> None:
    """Write the change's entry; with `claim` (the signed request's nonce and its signature's timestamp), only once
    the nonce is claimed, in the same statement (S5: a replay is refused, kernel/nonces.py)."""
    # Straight on the connection (kernel/rawsql.py): the ORM, or even a text() statement, cost more CPU than the
    # database spends on this row, on every change of every service.
    entry = (
        str(getattr(request.state, "request_id", "-")),
        principal.id,
        principal.role,
        principal.region_code,
        request.method,
        request.url.path,
        request.url.query,
        entity_ids_of(request, response),
        body_sha256,
        response.status_code,
    )
    if claim is None:
        await rawsql.execute(session, _INSERT, *entry)
    else:
        await nonces.claim(session, claim[0], signed_at=claim[1], then=_CLAIMED_INSERT, args=entry)


@dataclass
class Pending:
    """What one process's next poll must look at (see the module's docstring): entries of transactions from
    `from_xid` on, or in `open_xids`, or the ids found pending last time."""

    from_xid: str = "0"
    open_xids: list[str] = field(default_factory=list)
    known: list[int] = field(default_factory=list)

    async def read(self, conn: asyncpg.Connection, limit: int) -> list[dict[str, Any]]:
        """Entries not acknowledged yet, oldest first, at most `limit`."""
        snapshot = await conn.fetchrow(_SNAPSHOT)  # taken before the read: it sees no more than the read does
        rows = await conn.fetch(_PENDING, self.from_xid, self.open_xids, self.known, limit)
        if len(rows) < limit:  # every pending entry is in `rows`: the next poll starts from this snapshot
            self.from_xid, self.open_xids = snapshot["xmax"], list(snapshot["xip"])
            self.known = [int(r["id"]) for r in rows]
        return [dict(r) for r in rows]

    async def backlog(self, conn: asyncpg.Connection) -> tuple[int, Any]:
        """How many entries wait, and when the oldest was written (None when none), without moving on."""
        row = await conn.fetchrow(_BACKLOG, self.from_xid, self.open_xids, self.known)
        return int(row["n"]), row["oldest"]


async def acknowledge(conn: asyncpg.Connection, ids: Sequence[int], seqs: Sequence[int]) -> int:
    """Record that each entry `ids[i]` is in the chain at `seqs[i]`; an entry acknowledged before keeps its first
    acknowledgement. Returns how many were recorded now."""
    status: str = await conn.execute(_ACK, list(ids), list(seqs))
    return int(status.rsplit(" ", 1)[-1])
