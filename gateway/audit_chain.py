"""The hash chain of the audit trail (A2): how an entry is hashed, and the reads that verify the chain (GET
/audit/verify through gateway/verification.py) and that every acknowledged outbox entry is in it (`fundtrack
doctor`, S4).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.models import AUDIT_FIELDS, GENESIS_HASH, audit_log, utc


def _canonical(seq: int, entry: dict[str, Any]) -> dict[str, Any]:
    canonical = {k: entry[k] for k in AUDIT_FIELDS}
    canonical["at"] = utc(entry["at"])
    canonical["entity_ids"] = list(entry["entity_ids"])
    canonical["seq"] = seq
    return canonical


def _encode(canonical: dict[str, Any]) -> bytes:
    return json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(prev_hash: str, seq: int, entry: dict[str, Any]) -> str:
    """The chain's link: SHA-256 of the entry's canonical JSON with its seq and the previous entry's hash."""
    return hashlib.sha256(_encode({**_canonical(seq, entry), "prev_hash": prev_hash})).hexdigest()


def leaf_data(seq: int, entry: dict[str, Any]) -> bytes:
    """The bytes the Merkle tree's leaf of this entry is the RFC 6962 hash of (SHA-256(0x00 ‖ data)): the entry's
    canonical JSON with its seq (sorted keys, no spaces, UTF-8, `at` in UTC with microseconds), without the chain's
    link, so that the tree and the chain are two independent checks of the same entries."""
    return _encode(_canonical(seq, entry))


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
