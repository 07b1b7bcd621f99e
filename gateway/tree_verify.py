"""Recompute the trail's tree (and chain) from a verified point on (issue #13, A7): read the entries after it, recompute
their leaves, chain links and every stored hash they add, compare each with what the database holds, and the roots
at the signed checkpoints in the range with the checkpoints' roots. The cost is that of the entries after the point
(the point's own root is checked with O(log n) stored hashes); from the genesis it is the full check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg

from gateway import note, tlog, tree_store
from gateway.audit_chain import entry_hash, leaf_data
from gateway.models import AUDIT_FIELDS, GENESIS_HASH

_ENTRY = ", ".join(AUDIT_FIELDS)
_ROWS = f"SELECT seq, prev_hash, hash, {_ENTRY} FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq"
_STORED = "SELECT idx, hash FROM audit_tree_hashes WHERE idx >= $1 AND idx < $2"
_HEAD = "SELECT hash FROM audit_log WHERE seq = $1"
CHUNK = 5000


@dataclass(frozen=True)
class TreeState:
    """A verified point: the first `size` entries, their tree's root and the chain's head."""

    size: int
    root: bytes
    head_hash: str


GENESIS = TreeState(0, tlog.EMPTY_HASH, GENESIS_HASH)


@dataclass(frozen=True)
class TreeVerification:
    ok: bool
    verified_from: int
    entries: int  # verified up to (the first bad entry's predecessor when not ok)
    head_hash: str
    root: bytes
    first_bad_seq: int | None
    problem: str | None


async def state_at(raw: asyncpg.Connection, checkpoint: note.Checkpoint) -> TreeState:
    """The point a signed checkpoint vouches for (its chain head read from the trail: the links after it are
    checked from there)."""
    head = await raw.fetchval(_HEAD, checkpoint.size) if checkpoint.size else GENESIS_HASH
    return TreeState(checkpoint.size, checkpoint.root, head or "")


def _bad(base: TreeState, n: int, prev: str, seq: int | None, problem: str) -> TreeVerification:
    return TreeVerification(False, base.size, n, prev, b"", seq, problem)


async def _published_roots(
    raw: asyncpg.Connection, base: TreeState, published: Sequence[note.Checkpoint]
) -> str | None:
    """Signed checkpoints at or before the verified point must have the stored tree's roots (a superuser who rewrote
    an entry AND the tree's hashes after it is found here, in O(log n) per checkpoint)."""
    for cp in published:
        if 0 < cp.size <= base.size and await tree_store.root(raw, cp.size) != cp.root:
            return (
                f"the stored tree's root at {cp.size} is not that of the signed checkpoint {cp.size}: an entry up to "
                f"{cp.size} was rewritten with the tree's hashes (the full check and the offline verifier name it)"
            )
    return None


async def verify_from(
    raw: asyncpg.Connection,
    base: TreeState,
    published: Sequence[note.Checkpoint] = (),
    progress: Callable[[int, int], None] | None = None,
) -> TreeVerification:
    """Verify the entries after `base` (whose root is checked against the stored tree first), and the roots of the
    signed checkpoints `published` (their signatures checked by the caller)."""
    size = await tree_store.tree_size(raw)
    if size < base.size:
        return _bad(base, size, "", size + 1, f"the tree holds {size} entries, fewer than the {base.size} verified")
    known = await tree_store.read_hashes(raw, tlog.indexes_for_tree_hash(base.size))
    try:
        if tlog.tree_hash(base.size, lambda i: [known[x] for x in i]) != base.root:
            raise tlog.ProofError("another root")
    except (KeyError, tlog.ProofError):
        lost = f"the stored tree no longer has the root verified at {base.size}"
        return _bad(base, base.size, base.head_hash, None, lost)
    if (problem := await _published_roots(raw, base, published)) is not None:
        return _bad(base, base.size, base.head_hash, None, problem)
    roots = {cp.size: cp.root for cp in published if base.size < cp.size <= size}
    n, prev = base.size, base.head_hash

    def read(indexes: Sequence[int]) -> list[bytes]:
        return [known[i] for i in indexes]

    while n < size:
        top = min(n + CHUNK, size)
        rows = await raw.fetch(_ROWS, n, top)
        stored = {
            int(r["idx"]): bytes(r["hash"])
            for r in await raw.fetch(_STORED, tlog.stored_hash_index(0, n), tlog.stored_hash_count(top))
        }
        for row in rows:
            seq, entry = n + 1, {k: row[k] for k in AUDIT_FIELDS}
            if row["seq"] != seq or row["prev_hash"] != prev or row["hash"] != entry_hash(prev, seq, entry):
                return _bad(base, n, prev, seq, f"entry {seq} does not carry the chain's link")
            at = tlog.stored_hash_index(0, n)
            for k, h in enumerate(tlog.stored_hashes(n, leaf_data(seq, entry), read)):
                if stored.get(at + k) != h:
                    return _bad(base, n, prev, seq, f"entry {seq} is not the entry the tree holds")
                known[at + k] = h
            n, prev = seq, row["hash"]
            if n in roots and tlog.tree_hash(n, read) != roots[n]:
                return _bad(base, n, prev, None, f"the trail's root at {n} is not that of the signed checkpoint {n}")
        if n != top:
            return _bad(base, n, prev, n + 1, f"the trail has no entry {n + 1}")
        known = {i: known[i] for i in tlog.indexes_for_tree_hash(n)}
        if progress is not None:
            progress(n, size)
    return TreeVerification(True, base.size, n, prev, tlog.tree_hash(n, read), None, None)
