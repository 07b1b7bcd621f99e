"""Recompute the trail's tree (and chain) from a verified point on (issue #13, A7): read the entries after it, recompute
their leaves, chain links and every stored hash they add, compare each with what the database holds, and the roots
at the signed checkpoints in the range with the checkpoints' roots. The cost is that of the entries after the point
(the point's own root is checked with O(log n) stored hashes); from the genesis it is the full check.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import asyncpg

from gateway import note, tlog, tree_store
from gateway.models import GENESIS_HASH
from gateway.tree_check import Part, check_part, run_part

_HEAD = "SELECT hash FROM audit_log WHERE seq = $1"
PART = 5_000  # entries a part reads and checks
PARALLEL = 8  # parts given to the pool at a time (its processes take them as they are free)


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
    an entry AND the tree's hashes after it is found here): their O(log n) stored hashes each, read in one query."""
    before = [cp for cp in published if 0 < cp.size <= base.size]
    indexes = sorted({i for cp in before for i in tlog.indexes_for_tree_hash(cp.size)})
    known = await tree_store.read_hashes(raw, indexes)  # one query for them all

    def stored_root(size: int) -> bytes | None:
        at = tlog.indexes_for_tree_hash(size)
        return tlog.tree_hash(size, lambda ix: [known[i] for i in ix]) if all(i in known for i in at) else None

    for cp in before:
        if stored_root(cp.size) != cp.root:
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
    pool: Executor | None = None,
) -> TreeVerification:
    """Verify the entries after `base` (whose root is checked against the stored tree first), and the roots of the
    signed checkpoints `published` (their signatures checked by the caller). The entries are read and checked in
    PART-entry parts (gateway/tree_check.py): in `pool`'s processes, several at once, or here one after another."""
    size = await tree_store.tree_size(raw)
    if size < base.size:
        return _bad(base, size, "", size + 1, f"the tree holds {size} entries, fewer than the {base.size} verified")
    edge_at = tlog.indexes_for_tree_hash(base.size)
    known = await tree_store.read_hashes(raw, edge_at)
    try:
        edge = [known[i] for i in edge_at]
        if tlog.RootBuilder(base.size, edge).root() != base.root:
            raise tlog.ProofError("another root")
    except (KeyError, tlog.ProofError):
        lost = f"the stored tree no longer has the root verified at {base.size}"
        return _bad(base, base.size, base.head_hash, None, lost)
    signed: dict[int, bytes] = {}
    for cp in published:
        if signed.setdefault(cp.size, cp.root) != cp.root:
            forked = f"two different roots were signed for size {cp.size}: the log forked"
            return _bad(base, base.size, base.head_hash, None, forked)
    if beyond := [cp.size for cp in published if cp.size > size]:
        gone = (f"the tree holds {size} entries, fewer than the signed checkpoint {max(beyond)}: entries "
                f"{size + 1}..{max(beyond)} the log signed are gone")
        return _bad(base, base.size, base.head_hash, size + 1, gone)
    if (problem := await _published_roots(raw, base, published)) is not None:
        return _bad(base, base.size, base.head_hash, None, problem)
    roots = {cp.size: cp.root for cp in published if base.size < cp.size <= size}
    n, prev = base.size, base.head_hash
    async for part in _parts(raw, pool, base.size, size, sorted(roots)):
        if part.first_prev not in (None, prev):
            return _bad(base, n, prev, n + 1, f"entry {n + 1} does not carry the chain's link")
        if part.finding is not None and (part.start_edge == edge or part.finding.seq == n + 1):
            head = part.finding.head or prev
            return _bad(base, part.finding.seq - 1, head, part.finding.seq, part.finding.problem)
        if part.start_edge != edge:
            problem = f"the stored tree before entry {n + 1} changed while it was verified (verify again)"
            return _bad(base, n, prev, n + 1, problem)
        for at, root in part.roots.items():
            if root != roots[at]:
                return _bad(base, at, "", None, f"the trail's root at {at} is not that of the signed checkpoint {at}")
        n, prev, edge = part.top, part.last_hash or prev, part.end_edge
        if progress is not None:
            progress(n, size)
    return TreeVerification(True, base.size, n, prev, tlog.RootBuilder(n, edge).root(), None, None)


async def _parts(
    raw: asyncpg.Connection, pool: Executor | None, first: int, size: int, sizes: list[int]
) -> AsyncIterator[Part]:
    """The parts' results in order; with a pool, up to PARALLEL parts in its processes at a time. Parts not yet
    taken when the caller stops are cancelled."""
    spans = [(a, min(a + PART, size)) for a in range(first, size, PART)]
    if pool is None:
        for a, top in spans:
            yield await check_part(raw, a, top, [s for s in sizes if a < s <= top])
        return
    loop = asyncio.get_running_loop()
    running: collections.deque[asyncio.Future[Part]] = collections.deque()
    todo = iter(spans)
    try:
        while True:
            for a, top in itertools.islice(todo, PARALLEL - len(running)):
                running.append(loop.run_in_executor(pool, run_part, a, top, [s for s in sizes if a < s <= top]))
            if not running:
                return
            yield await running.popleft()
    finally:
        for future in running:
            future.cancel()
        await asyncio.gather(*running, return_exceptions=True)
