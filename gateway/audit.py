"""The audit trail (A1, A2): recorded at the door, sequenced and hash-chained off the request path.

- The door (`gateway.door`) records every request — reads and refusals included — into `audit_inbox`, by group
  commit: a request's response waits for the batch that holds its entry, so no answer leaves without its entry.
- Each service writes an entry for every committed change into its own outbox in the change's transaction; the
  sequencer pulls those, so a change is in the trail even if the gateway died before writing its door entry. Once
  an entry is chained, the sequencer acknowledges it with its seq; the outbox keeps it for good (S4: nothing deletes
  an audit entry before it is chained, and the outbox not even then; `unchained_acknowledgements` checks).
- The sequencer (one at a time, by advisory lock) moves inbox entries into `audit_log` in batches, giving each the
  next `seq` and `hash = sha256(prev_hash + canonical entry)`. No request waits on the chain's head.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.models import AUDIT_FIELDS, GENESIS_HASH, audit_inbox, audit_log, utc
from services.kernel import outbox, rawsql
from services.kernel.http import ServiceClient

log = logging.getLogger("fundtrack.audit")
SEQUENCER_LOCK = 0x46_54_41_55_44_49_54  # "FTAUDIT"
BATCH = 2000
INTERVAL_SECONDS = 0.2
# A service the door sent no change to is still read this often (its scheduled jobs write entries too).
SWEEP_SECONDS = 0.8
MAX_DELAY_MS = 1000


def _insert_sql(table: str, fields: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(fields)}) VALUES ({', '.join(f'${i}' for i in range(1, len(fields) + 1))})"


# Entries are written straight on asyncpg (kernel/rawsql.py): every request through the door waits for the inbox
# insert, and every entry is written twice (inbox, then log); SQLAlchemy's executemany cost more CPU than PostgreSQL.
_INSERT_INBOX = _insert_sql("audit_inbox", AUDIT_FIELDS)
_LOG_FIELDS = (*AUDIT_FIELDS, "seq", "prev_hash", "hash", "inbox_id")
# Entries of an origin's outbox already staged (in the inbox) or chained, with their content: an entry counts as
# staged or chained only where the row carries the same entry (a forged row that claims an outbox id does not).
_ENTRY = ", ".join(AUDIT_FIELDS)
_STAGED = (
    f"SELECT {_ENTRY} FROM audit_log WHERE origin = $1 AND origin_id = ANY($2::bigint[]) "
    f"UNION ALL SELECT {_ENTRY} FROM audit_inbox WHERE origin = $1 AND origin_id = ANY($2::bigint[])"
)
_CHAINED = f"SELECT seq, {_ENTRY} FROM audit_log WHERE origin = $1 AND origin_id = ANY($2::bigint[]) ORDER BY seq"
_INSERT_LOG = _insert_sql("audit_log", _LOG_FIELDS)


def _rows(entries: list[dict[str, Any]], fields: tuple[str, ...] = AUDIT_FIELDS) -> list[list[Any]]:
    return [[e[f] for f in fields] for e in entries]


async def _insert_inbox(conn: AsyncConnection, entries: list[dict[str, Any]]) -> None:
    """Inside the sequencer's transaction."""
    if entries:
        await (await rawsql.connection(conn)).executemany(_INSERT_INBOX, _rows(entries))


class AuditUnavailable(Exception):
    pass


def entry_hash(prev_hash: str, seq: int, entry: dict[str, Any]) -> str:
    canonical = {k: entry[k] for k in AUDIT_FIELDS}
    canonical["at"] = utc(entry["at"])
    canonical["entity_ids"] = list(entry["entity_ids"])
    canonical["seq"] = seq
    canonical["prev_hash"] = prev_hash
    payload = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


class AuditWriter:
    """Group commit of door entries: many concurrent requests, one INSERT."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._wake.set()
            while self._pending:
                await asyncio.sleep(0.01)
            self._task.cancel()

    async def record(self, entry: dict[str, Any]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((entry, future))
        self._wake.set()
        await future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = self._pending[:BATCH], self._pending[BATCH:]
                await self._write(batch)

    async def _write(self, batch: list[tuple[dict[str, Any], asyncio.Future[None]]]) -> None:
        """Write a batch in one round trip (asyncpg's executemany is atomic on its own: one implicit transaction).
        If the database refuses it, each entry is tried alone, so one entry it refuses fails its own request only,
        not every request that shared its batch."""
        try:
            async with self.engine.connect() as conn:
                await (await rawsql.driver(conn)).executemany(_INSERT_INBOX, _rows([e for e, _ in batch]))
        except Exception as exc:
            if len(batch) > 1:
                log.warning("an audit batch of %d entries was refused (%s); writing them one by one", len(batch), exc)
                for one in batch:
                    await self._write([one])
                return
            log.exception("could not record an audit entry")
            for _, future in batch:
                if not future.done():
                    future.set_exception(AuditUnavailable(str(exc)))
            return
        for _, future in batch:
            if not future.done():
                future.set_result(None)


@dataclass
class SequencerStatus:
    pending: int
    oldest_pending_age_ms: int


class Sequencer:
    def __init__(self, engine: AsyncEngine, services: dict[str, ServiceClient]) -> None:
        self.engine = engine
        self.services = services
        self._task: asyncio.Task[None] | None = None
        self._kick = asyncio.Event()
        self._dirty: set[str] = set()
        self._swept = 0.0
        self._own = outbox.Pending()  # the gateway's own change outbox

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def changed(self, service: str) -> None:
        """The door forwarded a change to `service`: read its outbox at the next turn, not at the next sweep."""
        self._dirty.add(service)

    def _due(self) -> list[str]:
        now = time.monotonic()
        if now - self._swept >= SWEEP_SECONDS:
            self._swept = now
            self._dirty.clear()
            return list(self.services)
        due = [name for name in self.services if name in self._dirty]
        self._dirty.difference_update(due)
        return due

    async def _run(self) -> None:
        while True:
            try:
                moved = await self.run_once()
            except Exception:
                log.exception("audit sequencer iteration failed; retrying")
                moved = 0
            if moved < BATCH:
                try:
                    await asyncio.wait_for(self._kick.wait(), INTERVAL_SECONDS)
                except TimeoutError:
                    pass
                self._kick.clear()

    async def run_once(self) -> int:
        fetched: dict[str, list[dict[str, Any]]] = {}
        for name in self._due():
            try:
                fetched[name] = await self._fetch_outbox(self.services[name])
            except Exception as exc:  # a service that is down delays its entries, never loses them
                log.warning("could not read the %s audit outbox: %s", name, exc)
                continue
            if len(fetched[name]) >= BATCH:
                self._dirty.add(name)  # more waiting there
        chained: dict[str, list[tuple[int, int]]] = {}
        async with self.engine.begin() as conn:
            locked = (await conn.execute(select(func.pg_try_advisory_xact_lock(SEQUENCER_LOCK)))).scalar_one()
            if not locked:
                return 0
            raw = await rawsql.connection(conn)
            for name, items in fetched.items():
                await _stage(raw, name, items)
            own = await self._own.read(raw, BATCH)
            await _stage(raw, "gateway", own)
            moved = await self._chain(conn)
            for name, items in fetched.items():
                chained[name] = await _chained(raw, name, items)
            mine = await _chained(raw, "gateway", own)
            if mine:
                await outbox.acknowledge(raw, [i for i, _ in mine], [s for _, s in mine])
        for name, pairs in chained.items():
            if pairs:  # what is not chained yet stays pending there, and is acknowledged at a later turn
                await self.services[name].request(
                    "POST", "/internal/audit-outbox/ack", json={"items": [{"id": i, "seq": s} for i, s in pairs]}
                )
        return moved

    async def _fetch_outbox(self, client: ServiceClient) -> list[dict[str, Any]]:
        response = await client.request("GET", "/internal/audit-outbox", params={"limit": BATCH})
        response.raise_for_status()
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def _chain(self, conn: AsyncConnection) -> int:
        head = (
            await conn.execute(select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1))
        ).first()
        seq, prev = (head.seq, head.hash) if head else (0, GENESIS_HASH)
        rows = (await conn.execute(select(audit_inbox).order_by(audit_inbox.c.id).limit(BATCH))).mappings().all()
        if not rows:
            return 0
        chained = []
        for row in rows:
            seq += 1
            entry = {k: row[k] for k in AUDIT_FIELDS}
            digest = entry_hash(prev, seq, entry)
            chained.append({**entry, "seq": seq, "prev_hash": prev, "hash": digest, "inbox_id": row["id"]})
            prev = digest
        await (await rawsql.connection(conn)).executemany(_INSERT_LOG, _rows(chained, _LOG_FIELDS))
        await conn.execute(delete(audit_inbox).where(audit_inbox.c.id.in_([r["id"] for r in rows])))
        return len(rows)

    async def status(self) -> SequencerStatus:
        """What waits to be chained here: the door's inbox and the gateway's own change outbox. (Services' outboxes
        are pulled every INTERVAL_SECONDS; their backlog is theirs to report.)"""
        async with self.engine.connect() as conn:
            inbox = (await conn.execute(select(func.count(), func.min(audit_inbox.c.at)))).one()
            own = await self._own.backlog(await rawsql.connection(conn))
        oldest = min((t for t in (inbox[1], own[1]) if t is not None), default=None)
        age = 0 if oldest is None else int((datetime.now(UTC) - oldest).total_seconds() * 1000)
        return SequencerStatus(pending=int(inbox[0]) + int(own[0]), oldest_pending_age_ms=max(age, 0))


def same_entry(row: Any, entry: dict[str, Any]) -> bool:
    """A chained (or staged) row carries `entry`: every audited field equal (S4)."""
    return all((list(row[f]) == list(entry[f])) if f == "entity_ids" else row[f] == entry[f] for f in AUDIT_FIELDS)


def _matching(rows: list[Any], entries: dict[int, dict[str, Any]], origin: str) -> list[Any]:
    """Those of `rows` that carry the entry of the outbox id they name; the others are said loudly (a row that
    claims an outbox entry with other content is forged, or the trail was tampered with) and left out."""
    same = [r for r in rows if same_entry(r, entries[int(r["origin_id"])])]
    for row in rows:
        if row not in same:
            log.error(
                "!!! AUDIT TAMPERING: a row in the trail or inbox claims %s outbox entry %s with other content; "
                "it is not taken for that entry, which is chained as it is (S4)",
                origin,
                row["origin_id"],
            )
    return same


async def _stage(raw: asyncpg.Connection, origin: str, items: list[dict[str, Any]]) -> None:
    """Put outbox entries of `origin` into the inbox, but those already there or chained (a poll may return an
    entry again until its acknowledgement is recorded)."""
    if not items:
        return
    entries = {int(i["id"]): _from_outbox(origin, i) for i in items}
    found = await raw.fetch(_STAGED, origin, list(entries))
    done = {int(r["origin_id"]) for r in _matching(found, entries, origin)}
    rows = [e for i, e in entries.items() if i not in done]
    if rows:
        await raw.executemany(_INSERT_INBOX, _rows(rows))


async def _chained(raw: asyncpg.Connection, origin: str, items: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """(outbox id, seq) of those of `items` that are in the chain, as they are."""
    if not items:
        return []
    entries = {int(i["id"]): _from_outbox(origin, i) for i in items}
    found = await raw.fetch(_CHAINED, origin, list(entries))
    return [(int(r["origin_id"]), int(r["seq"])) for r in _matching(found, entries, origin)]


# A chained row carries its outbox entry (what _from_outbox copies), compared in SQL NULL-safely.
_SAME_AS_OUTBOX = " AND ".join(
    [f"l.{c} IS NOT DISTINCT FROM o.{c}" for c in AUDIT_FIELDS if c not in ("code", "origin", "origin_id")]
    + ["l.code = ''"]
)


async def unchained_acknowledgements(conn: asyncpg.Connection, schemas: tuple[str, ...]) -> list[dict[str, Any]]:
    """For `fundtrack doctor` / verification, on a connection that reads every schema (the operator's), per schema
    (S4): outbox entries acknowledged but not in the chain at the seq the acknowledgement names (`missing`), or
    there with other content (`differs`); and chained rows that claim an outbox entry of the schema that does not
    exist or holds other content, and that no acknowledgement names (`forged`). Empty when the trail holds every
    acknowledged change as it was written."""
    found: list[dict[str, Any]] = []
    for schema in schemas:
        acked = await conn.fetch(
            "SELECT a.outbox_id, a.seq, CASE WHEN l.seq IS NULL THEN 'missing' ELSE 'differs' END AS problem "
            f'FROM "{schema}".audit_outbox_acks a JOIN "{schema}".audit_outbox o ON o.id = a.outbox_id '  # noqa: S608
            "LEFT JOIN gateway.audit_log l ON l.origin = $1 AND l.origin_id = a.outbox_id AND l.seq = a.seq "
            f"WHERE l.seq IS NULL OR NOT ({_SAME_AS_OUTBOX}) ORDER BY a.outbox_id",
            schema,
        )
        claims = await conn.fetch(
            "SELECT l.origin_id AS outbox_id, l.seq, 'forged' AS problem FROM gateway.audit_log l "
            f'LEFT JOIN "{schema}".audit_outbox o ON o.id = l.origin_id '  # noqa: S608 - our own schema names
            f"WHERE l.origin = $1 AND l.origin_id IS NOT NULL AND (o.id IS NULL OR NOT ({_SAME_AS_OUTBOX})) "
            f'AND NOT EXISTS (SELECT 1 FROM "{schema}".audit_outbox_acks a '
            "WHERE a.outbox_id = l.origin_id AND a.seq = l.seq) ORDER BY l.seq",
            schema,
        )
        found.extend({"origin": schema, **dict(r)} for r in [*acked, *claims])
    return found


def _from_outbox(origin: str, item: dict[str, Any]) -> dict[str, Any]:
    at = item["at"]
    return {
        "at": datetime.fromisoformat(at) if isinstance(at, str) else at,
        "principal_id": item["principal_id"],
        "role": item["role"],
        "region_code": item["region_code"],
        "method": item["method"],
        "path": item["path"],
        "query": item["query"],
        "entity_ids": list(item["entity_ids"]),
        "body_sha256": item["body_sha256"],
        "status": int(item["status"]),
        "code": "",
        "request_id": item["request_id"],
        "origin": origin,
        "origin_id": int(item["id"]),
    }


@dataclass
class Verification:
    ok: bool
    entries: int
    head_hash: str
    first_bad_seq: int | None


async def verify_chain(engine: AsyncEngine, chunk: int = 10_000, *, since: Verification | None = None) -> Verification:
    """Recompute every hash from the genesis (or, given an ok verification `since`, of the entries chained after
    its head only); name the first entry whose seq, link or hash does not match."""
    prev, expected_seq, count = GENESIS_HASH, 1, 0
    if since is not None:
        prev, expected_seq, count = since.head_hash, since.entries + 1, since.entries
    async with engine.connect() as conn:
        after = expected_seq - 1
        while True:
            rows = (
                (
                    await conn.execute(
                        select(audit_log).where(audit_log.c.seq > after).order_by(audit_log.c.seq).limit(chunk)
                    )
                )
                .mappings()
                .all()
            )
            if not rows:
                break
            for row in rows:
                entry = {k: row[k] for k in AUDIT_FIELDS}
                if (
                    row["seq"] != expected_seq
                    or row["prev_hash"] != prev
                    or row["hash"] != entry_hash(prev, row["seq"], entry)
                ):
                    return Verification(ok=False, entries=count, head_hash=prev, first_bad_seq=expected_seq)
                prev, expected_seq, count = row["hash"], expected_seq + 1, count + 1
            after = rows[-1]["seq"]
    return Verification(ok=True, entries=count, head_hash=prev, first_bad_seq=None)


def audit_filters(
    *,
    scope_prefix: str,
    actor: str | None,
    role: str | None,
    region: str | None,
    method: str | None,
    path_prefix: str | None,
    status: int | None,
    code: str | None,
    entity_id: str | None,
    request_id: str | None,
    since: datetime | None,
    until: datetime | None,
) -> list[Any]:
    c = audit_log.c
    conditions: list[Any] = []
    if scope_prefix:
        conditions.append(c.region_code.startswith(scope_prefix))
    if region:
        conditions.append(c.region_code.startswith(region))
    for column, value in (
        (c.principal_id, actor),
        (c.role, role),
        (c.method, method),
        (c.status, status),
        (c.code, code),
        (c.request_id, request_id),
    ):
        if value is not None:
            conditions.append(column == value)
    if path_prefix:
        conditions.append(c.path.startswith(path_prefix))
    if entity_id:
        conditions.append(c.entity_ids.contains([entity_id]))
    if since:
        conditions.append(c.at >= since)
    if until:
        conditions.append(c.at < until)
    return conditions


def entry_json(row: Any) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "at": utc(row.at),
        "principal_id": row.principal_id,
        "role": row.role,
        "region_code": row.region_code,
        "method": row.method,
        "path": row.path,
        "query": row.query,
        "status": row.status,
        "code": row.code or None,
        "request_id": row.request_id,
        "entity_ids": list(row.entity_ids),
        "body_sha256": row.body_sha256,
        "origin": row.origin,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }
