"""The Merkle tree over the trail, kept in `audit_tree_records` (issue #13): what the sequencer appends for a batch of
entries, and the reads proofs are made of. The math is gateway/tlog.py's: its stored hashes, at flat indexes, are
kept one row per record (the hashes that record stores, consecutive from stored_hash_index(0, record)); each tlog
call's hashes are read in ONE indexed query (tlog says which indexes it will read before it reads them), so a proof
costs the same at ten entries and at ten million.

Entry `seq` is the tree's record `seq - 1`; its leaf is the RFC 6962 hash of `audit_chain.leaf_data(seq, entry)`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import asyncpg

from gateway import tlog

_READ = "SELECT record, hashes FROM audit_tree_records WHERE record = ANY($1::bigint[])"
_TABLE = "audit_tree_records"  # COPYed into, on the gateway's search path
_LAST = "SELECT max(record) FROM audit_tree_records"
HASH = tlog.HASH_SIZE
T = TypeVar("T")


class TreeError(RuntimeError):
    """The stored tree lacks a hash a proof or an append needs (the tree is behind the trail, or rows are gone)."""


def locate(index: int) -> tuple[int, int]:
    """The record that stores the hash at `index`, and where among its hashes: the n-th hash of level L is stored by
    the record that completes that subtree, ((n + 1) << L) - 1, as its (L + 1)-th hash."""
    level, n = tlog.split_stored_hash_index(index)
    return ((n + 1) << level) - 1, level


async def read_hashes(raw: asyncpg.Connection, indexes: Sequence[int]) -> dict[int, bytes]:
    """The stored hashes at `indexes` (those the tree lacks are missing from the answer)."""
    if not indexes:
        return {}
    where = {i: locate(i) for i in indexes}
    rows = await raw.fetch(_READ, sorted({record for record, _ in where.values()}))
    stored = {int(r["record"]): bytes(r["hashes"]) for r in rows}
    found = {}
    for i, (record, k) in where.items():
        hashes = stored.get(record, b"")
        if len(hashes) >= (k + 1) * HASH:
            found[i] = hashes[k * HASH : (k + 1) * HASH]
    return found


def _reader(known: dict[int, bytes]) -> tlog.HashReader:
    def read(indexes: Sequence[int]) -> list[bytes]:
        missing = [i for i in indexes if i not in known]
        if missing:
            raise TreeError(f"the stored tree lacks the hashes at {missing[:5]}")
        return [known[i] for i in indexes]

    return read


async def _with_hashes(raw: asyncpg.Connection, indexes: list[int], compute: Callable[[tlog.HashReader], T]) -> T:
    return compute(_reader(await read_hashes(raw, indexes)))


async def tree_size(raw: asyncpg.Connection) -> int:
    """How many records the stored tree holds."""
    last = await raw.fetchval(_LAST)
    return 0 if last is None else int(last) + 1


async def append(raw: asyncpg.Connection, first: int, leaves: Sequence[bytes]) -> None:
    """Store the hashes of records first, first + 1, ... (their leaf data `leaves`), a row per record: the hashes
    of the complete subtrees of the first `first` records (all the older hashes the new ones close) are read in one
    query, the new ones computed on that right edge (tlog.RootBuilder) and COPYed."""
    edge = tlog.indexes_for_tree_hash(first)
    builder = tlog.RootBuilder(first, _reader(await read_hashes(raw, edge))(edge))
    rows = [(first + k, b"".join(builder.add(tlog.record_hash(data)))) for k, data in enumerate(leaves)]
    await raw.copy_records_to_table(_TABLE, records=rows)


async def root(raw: asyncpg.Connection, size: int) -> bytes:
    """The root of the tree of the first `size` records."""
    return await _with_hashes(raw, tlog.indexes_for_tree_hash(size), lambda r: tlog.tree_hash(size, r))


async def record_proof(raw: asyncpg.Connection, size: int, record: int) -> list[bytes]:
    """The inclusion proof of `record` in the tree of `size` records."""
    indexes = tlog.indexes_for_record_proof(size, record)
    return await _with_hashes(raw, indexes, lambda r: tlog.prove_record(size, record, r))


async def tree_proof(raw: asyncpg.Connection, size: int, older: int) -> list[bytes]:
    """The consistency proof that the tree of `size` records extends the tree of `older` records."""
    indexes = tlog.indexes_for_tree_proof(size, older)
    return await _with_hashes(raw, indexes, lambda r: tlog.prove_tree(size, older, r))
