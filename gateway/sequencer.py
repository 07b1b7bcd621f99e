"""The sequencer: one at a time (by advisory lock), it moves the door's inbox entries and the services' outbox
entries into `audit_log` in batches, giving each the next `seq` and `hash = sha256(prev_hash + canonical entry)`
(audit_chain.link_and_leaf). No request waits on the chain's head. In the same transaction it appends the entries to
the Merkle tree (gateway/tree_store.py: leaf = audit_chain.leaf_data), so the tree always holds exactly the chain; a
trail chained before the tree existed is put into the tree first, in batches (`backfill_tree`). And in the same
transaction it takes the entries out of the inbox, refusing to commit unless it took every one it chained
(`take_from_inbox`): an entry is chained once, even by two sequencers that do not share the lock.

Once an outbox entry is chained, the sequencer acknowledges it with its seq; the outbox keeps it for good (S4:
nothing deletes an audit entry before it is chained, and the outbox not even then; audit_chain's
`unchained_acknowledgements` checks). An entry counts as staged or chained only where the row carries the same
entry: a forged row that claims an outbox id does not.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway import tree_store
from gateway.audit import BATCH, INSERT_INBOX, entry_rows, insert_sql
from gateway.audit_chain import leaf_data, link_and_leaf
from gateway.models import AUDIT_FIELDS, GENESIS_HASH, audit_inbox, audit_log
from services.kernel import outbox, rawsql
from services.kernel.http import ServiceClient

log = logging.getLogger("fundtrack.audit")
SEQUENCER_LOCK = 0x46_54_41_55_44_49_54  # "FTAUDIT"
INTERVAL_SECONDS = 0.2
# A service the door sent no change to is still read this often (its scheduled jobs write entries too).
SWEEP_SECONDS = 0.8
MAX_DELAY_MS = 1000
# A turn waits this long for the services' outboxes, read all at once; a service slower than that (stopped, hung)
# is not waited for: its read goes on and is taken at a later turn, so it delays its own entries only.
FETCH_WAIT_SECONDS = 0.3
# A read of a service's outbox that takes longer than this is given up and asked again.
FETCH_TIMEOUT_SECONDS = 10.0

_LOG_FIELDS = (*AUDIT_FIELDS, "seq", "prev_hash", "hash", "inbox_id", "sequenced_at")
INSERT_LOG = insert_sql("audit_log", _LOG_FIELDS)
# The chained entries out of the inbox: one statement whatever the batch. An IN list of their ids was a statement of
# a new text for each batch size (1 to BATCH ids), prepared and cached on every pooled connection, whose caches
# filled with them and churned under load (issue #14; tests/platform/test_memory.py). RETURNING: what this
# transaction took out of the inbox, which must be every entry it chained (`take_from_inbox`).
_DELETE_CHAINED = "DELETE FROM audit_inbox WHERE id = ANY($1::bigint[]) RETURNING id"
# Entries of an origin's outbox already staged (in the inbox) or chained, with their content.
_ENTRY = ", ".join(AUDIT_FIELDS)
_STAGED = (
    f"SELECT {_ENTRY} FROM audit_log WHERE origin = $1 AND origin_id = ANY($2::bigint[]) "
    f"UNION ALL SELECT {_ENTRY} FROM audit_inbox WHERE origin = $1 AND origin_id = ANY($2::bigint[])"
)
_BACKFILL = f"SELECT seq, {_ENTRY} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"
_CHAINED = f"SELECT seq, {_ENTRY} FROM audit_log WHERE origin = $1 AND origin_id = ANY($2::bigint[]) ORDER BY seq"


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
        self._tree_ready = False  # the tree holds every chained entry (checked once per process: backfill_tree)
        self._reads: dict[str, asyncio.Task[list[dict[str, Any]]]] = {}  # outbox reads in flight, per service

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for read in self._reads.values():
            read.cancel()

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
        if not self._tree_ready:
            await backfill_tree(self.engine)
            self._tree_ready = True
        fetched = await self._fetch_due()
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
        acks = [self._acknowledge(name, pairs) for name, pairs in chained.items() if pairs]
        await asyncio.gather(*acks)  # what is not acknowledged stays pending there, and is at a later turn
        return moved

    async def _fetch_due(self) -> dict[str, list[dict[str, Any]]]:
        """The outboxes of the services due, read all at once; those not read within FETCH_WAIT_SECONDS are taken
        at a later turn (their reads go on meanwhile, one per service at a time)."""
        for name in self._due():
            if name not in self._reads:
                self._reads[name] = asyncio.create_task(self._fetch_outbox(self.services[name]))
        if not self._reads:
            return {}
        await asyncio.wait(list(self._reads.values()), timeout=FETCH_WAIT_SECONDS)
        fetched: dict[str, list[dict[str, Any]]] = {}
        for name, read in list(self._reads.items()):
            if not read.done():
                continue
            del self._reads[name]
            if (exc := read.exception()) is not None:  # a service that is down delays its entries, never loses them
                log.warning("could not read the %s audit outbox: %s", name, exc)
                continue
            fetched[name] = read.result()
            if len(fetched[name]) >= BATCH:
                self._dirty.add(name)  # more waiting there
        return fetched

    async def _fetch_outbox(self, client: ServiceClient) -> list[dict[str, Any]]:
        async with asyncio.timeout(FETCH_TIMEOUT_SECONDS):
            response = await client.request("GET", "/internal/audit-outbox", params={"limit": BATCH})
        response.raise_for_status()
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def _acknowledge(self, name: str, pairs: list[tuple[int, int]]) -> None:
        try:
            async with asyncio.timeout(FETCH_TIMEOUT_SECONDS):
                response = await self.services[name].request(
                    "POST", "/internal/audit-outbox/ack", json={"items": [{"id": i, "seq": s} for i, s in pairs]}
                )
            response.raise_for_status()
        except Exception as exc:  # acknowledged at a later turn: the entries are in the chain already
            log.warning("could not acknowledge %d %s audit outbox entries: %s", len(pairs), name, exc)

    async def _chain(self, conn: AsyncConnection) -> int:
        # `sequenced_at` never goes below the head's (a clock set back): it is monotone in seq, which the time
        # window of GET /audit relies on (gateway/audit_scan.py).
        stamp = func.greatest(func.now(), audit_log.c.sequenced_at).label("stamp")
        head = (
            await conn.execute(
                select(audit_log.c.seq, audit_log.c.hash, stamp).order_by(audit_log.c.seq.desc()).limit(1)
            )
        ).first()
        seq, prev = (head.seq, head.hash) if head else (0, GENESIS_HASH)
        sequenced_at = head.stamp if head else (await conn.execute(select(func.now()))).scalar_one()
        rows = (await conn.execute(select(audit_inbox).order_by(audit_inbox.c.id).limit(BATCH))).mappings().all()
        if not rows:
            return 0
        raw = await rawsql.connection(conn)
        if (size := await tree_store.tree_size(raw)) != seq:
            raise tree_store.TreeError(f"the tree holds {size} entries, the chain {seq}: not chaining past it")
        return await chain_rows(raw, rows, seq=seq, prev=prev, size=size, sequenced_at=sequenced_at)

    async def status(self) -> SequencerStatus:
        """What waits to be chained here: the door's inbox and the gateway's own change outbox. (Services' outboxes
        are pulled every INTERVAL_SECONDS; their backlog is theirs to report.)"""
        async with self.engine.connect() as conn:
            inbox = (await conn.execute(select(func.count(), func.min(audit_inbox.c.at)))).one()
            own = await self._own.backlog(await rawsql.connection(conn))
        oldest = min((t for t in (inbox[1], own[1]) if t is not None), default=None)
        age = 0 if oldest is None else int((datetime.now(UTC) - oldest).total_seconds() * 1000)
        return SequencerStatus(pending=int(inbox[0]) + int(own[0]), oldest_pending_age_ms=max(age, 0))


async def backfill_tree(engine: AsyncEngine) -> int:
    """Put the entries chained before the tree existed (or any the tree lacks) into it, BATCH at a time, each batch
    its own short transaction holding the sequencer's lock. Returns how many were added."""
    added = 0
    while True:
        async with engine.begin() as conn:
            await conn.execute(select(func.pg_advisory_xact_lock(SEQUENCER_LOCK)))
            raw = await rawsql.connection(conn)
            size = await tree_store.tree_size(raw)
            rows = await raw.fetch(_BACKFILL, size, BATCH)
            if not rows:
                return added
            if int(rows[0]["seq"]) != size + 1:
                raise tree_store.TreeError(f"the trail has no entry {size + 1}: the tree cannot be built past it")
            await tree_store.append(raw, size, [leaf_data(int(r["seq"]), dict(r)) for r in rows])
            added += len(rows)
            log.info("audit tree: %d entries of the existing trail added (up to seq %d)", added, rows[-1]["seq"])


async def chain_rows(raw: asyncpg.Connection, rows: Sequence[Any], *, seq: int, prev: str, size: int,
                     sequenced_at: Any) -> int:
    """In the caller's transaction: link each inbox row on the head (`seq`, `prev`), one after the other, write them
    to the trail and their leaves to the tree (which holds `size` entries, as many as the chain), and take them out of
    the inbox (`take_from_inbox`); how many."""
    chained, leaves = [], []
    for row in rows:
        seq += 1
        entry = {k: row[k] for k in AUDIT_FIELDS}
        digest, leaf = link_and_leaf(prev, seq, entry)
        chained.append({**entry, "seq": seq, "prev_hash": prev, "hash": digest, "inbox_id": row["id"],
                        "sequenced_at": sequenced_at})
        leaves.append(leaf)
        prev = digest
    await raw.executemany(INSERT_LOG, entry_rows(chained, _LOG_FIELDS))
    await tree_store.append(raw, size, leaves)
    await take_from_inbox(raw, [int(r["id"]) for r in rows])
    return len(rows)


class ChainedElsewhere(Exception):
    """Another transaction took entries out of the inbox that this one has chained: it must roll back."""


async def take_from_inbox(raw: asyncpg.Connection, ids: list[int]) -> None:
    """Delete the entries just chained from the inbox, in the transaction that chained them, and refuse (roll it
    back) unless this statement deleted every one of them. This is what keeps an entry from being chained twice, even
    by two sequencers that did not share the lock: PostgreSQL lets one transaction only delete a row (a second DELETE
    waits for the first to end, then finds the row gone), so of two transactions that chained the same entry, one
    commits and the other rolls back here. (It was a unique index on `audit_log.inbox_id`, which a table partitioned
    by `seq` cannot have: deploy/SCALING.md.)"""
    taken = {int(r["id"]) for r in await raw.fetch(_DELETE_CHAINED, ids)}
    if missing := sorted(set(ids) - taken):
        raise ChainedElsewhere(
            f"inbox entries {missing[:5]} (of {len(missing)}) were taken out of the inbox by another transaction "
            "while this one chained them: not chaining them twice"
        )


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
    fresh = [e for i, e in entries.items() if i not in done]
    if fresh:
        await raw.executemany(INSERT_INBOX, entry_rows(fresh))


async def _chained(raw: asyncpg.Connection, origin: str, items: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """(outbox id, seq) of those of `items` that are in the chain, as they are."""
    if not items:
        return []
    entries = {int(i["id"]): _from_outbox(origin, i) for i in items}
    found = await raw.fetch(_CHAINED, origin, list(entries))
    return [(int(r["origin_id"]), int(r["seq"])) for r in _matching(found, entries, origin)]


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
