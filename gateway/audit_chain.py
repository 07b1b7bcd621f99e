"""How an audit entry is hashed: the chain's link (A2) and the Merkle tree's leaf (A6), from one canonical encoding;
and the read that every acknowledged outbox entry is in the chain (`fundtrack doctor`, S4). Verifying both is
gateway/tree_verify.py's (GET /audit/verify) and deploy/audit_offline.py's (offline).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import asyncpg

from gateway.models import AUDIT_FIELDS, utc

_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_BEFORE_LINK = frozenset(k for k in (*AUDIT_FIELDS, "seq") if k < "prev_hash")
"""The canonical keys that sort before the chain's `prev_hash` (the JSON's keys are sorted)."""


def _halves(seq: int, entry: Mapping[str, Any]) -> tuple[str, str]:
    """The entry's canonical JSON (sorted keys, no spaces, UTF-8, `at` in UTC with microseconds, with its seq), cut
    where the chain's `prev_hash` goes: '{"at":…,"path":…' and '"principal_id":…}'. The leaf's bytes and the link's
    input are both made of these, so an entry is encoded once for both (the sequencer and the verifiers do both)."""
    head: dict[str, Any] = {"at": utc(entry["at"]), "entity_ids": list(entry["entity_ids"])}
    tail: dict[str, Any] = {"seq": seq}
    for k in AUDIT_FIELDS:
        if k not in ("at", "entity_ids"):
            (head if k in _BEFORE_LINK else tail)[k] = entry[k]
    return _ENCODER.encode(head)[:-1], _ENCODER.encode(tail)[1:]


def _link(prev_hash: str, head: str, tail: str) -> str:
    return hashlib.sha256(f"{head},\"prev_hash\":{_ENCODER.encode(prev_hash)},{tail}".encode()).hexdigest()


def entry_hash(prev_hash: str, seq: int, entry: Mapping[str, Any]) -> str:
    """The chain's link: SHA-256 of the entry's canonical JSON with its seq and the previous entry's hash."""
    return _link(prev_hash, *_halves(seq, entry))


def leaf_data(seq: int, entry: Mapping[str, Any]) -> bytes:
    """The bytes the Merkle tree's leaf of this entry is the RFC 6962 hash of (SHA-256(0x00 ‖ data)): the entry's
    canonical JSON with its seq, without the chain's link, so that the tree and the chain are two independent checks
    of the same entries."""
    head, tail = _halves(seq, entry)
    return f"{head},{tail}".encode()


def link_and_leaf(prev_hash: str, seq: int, entry: Mapping[str, Any]) -> tuple[str, bytes]:
    """entry_hash and leaf_data of one entry from one encoding of it."""
    head, tail = _halves(seq, entry)
    return _link(prev_hash, head, tail), f"{head},{tail}".encode()


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
