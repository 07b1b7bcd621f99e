"""Recompute the trail's tree (and chain) from a verified point on (issue #13, A7): read the entries after it, recompute
their leaves, chain links and every stored hash they add, compare each with what the database holds, and the roots
at the signed checkpoints in the range with the checkpoints' roots. The cost is that of the entries after the point
(the point's own root is checked with O(log n) stored hashes); from the genesis it is the full check.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import asyncpg

from gateway import note, tlog, tree_store
from gateway.models import GENESIS_HASH
from gateway.tree_check import COLUMNS, Finding, Row, check_span

_ROWS = f"SELECT {', '.join(COLUMNS)} FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq"
_STORED = "SELECT idx, hash FROM audit_tree_hashes WHERE idx >= $1 AND idx < $2 ORDER BY idx"
_HEAD = "SELECT hash FROM audit_log WHERE seq = $1"
CHUNK = 20_000  # entries read at a time (the next span is read while this one is checked)
PART = 2_500  # entries one process checks at a time


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
    pool: Executor | None = None,
) -> TreeVerification:
    """Verify the entries after `base` (whose root is checked against the stored tree first), and the roots of the
    signed checkpoints `published` (their signatures checked by the caller). The recomputation (gateway/tree_check.py)
    runs in `pool`'s processes, in parts, while the next span is read; without a pool, here."""
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
    top = min(n + CHUNK, size)
    span = await _read(raw, n, top) if n < size else None
    while span is not None:
        checks = [_check(pool, part) for part in span.parts(known)]
        next_top = min(top + CHUNK, size)
        following = asyncio.ensure_future(_read(raw, top, next_top)) if top < size else None
        try:
            found = [f for f in await asyncio.gather(*checks) if f is not None]
        except BaseException:
            await _drop(following)
            raise
        if (order := span.order(prev)) is not None:
            found.append(order)
        hashes = span.hashes(known)
        if found or span.missing():
            await _drop(following)
            first = min(found, key=lambda f: f.seq) if found else Finding(n + len(span.rows) + 1, "")
            good = first.seq - 1
            problem = first.problem or f"the trail has no entry {first.seq}"
            return _bad(base, good, span.hash_at(good, prev), first.seq, problem)
        for cp_size in sorted(s for s in roots if n < s <= top):
            if tlog.tree_hash(cp_size, _reader(hashes)) != roots[cp_size]:
                last = span.hash_at(cp_size, prev)
                return _bad(base, cp_size, last, None,
                            f"the trail's root at {cp_size} is not that of the signed checkpoint {cp_size}")
        n, prev, top = top, span.rows[-1][2], next_top
        known = {i: hashes[i] for i in tlog.indexes_for_tree_hash(n)}
        if progress is not None:
            progress(n, size)
        span = await following if following is not None else None
    read = _reader(known)
    return TreeVerification(True, base.size, n, prev, tlog.tree_hash(n, read), None, None)


async def _drop(read: asyncio.Future[_Span] | None) -> None:
    if read is not None:
        read.cancel()
        await asyncio.gather(read, return_exceptions=True)


def _reader(known: dict[int, bytes]) -> tlog.HashReader:
    return lambda indexes: [known[i] for i in indexes]


@dataclass(frozen=True)
class _Span:
    """Entries first + 1 … top as read, and the stored hashes their records add (ordered by index)."""

    first: int
    top: int
    rows: list[Row]
    indexes: list[int]
    stored: list[bytes]

    def missing(self) -> bool:
        return len(self.rows) != self.top - self.first

    def order(self, prev: str) -> Finding | None:
        """The chain's order: each entry names the one before it (its own link is tree_check's)."""
        for seq, row in enumerate(self.rows, self.first + 1):
            if row[1] != prev:
                return Finding(seq, f"entry {seq} does not carry the chain's link")
            prev = row[2]
        return None

    def hash_at(self, n: int, prev: str) -> str:
        """The chain's head after n entries (n in first … top; `prev` is the head at first)."""
        return prev if n == self.first else str(self.rows[n - self.first - 1][2])

    def hashes(self, known: dict[int, bytes]) -> dict[int, bytes]:
        return {**known, **dict(zip(self.indexes, self.stored, strict=True))}

    def parts(self, known: dict[int, bytes]) -> list[tuple[int, list[Row], dict[int, bytes]]]:
        """The span cut in PART-entry parts, each with the stored hashes it reads: those of its own records and the
        complete subtrees before it (all a record reads of what comes before it, in tlog's dense order)."""
        hashes, cut = self.hashes(known), []
        for lo in range(0, len(self.rows), PART):
            a, b = self.first + lo, self.first + min(lo + PART, len(self.rows))
            i = bisect.bisect_left(self.indexes, tlog.stored_hash_index(0, a))
            j = bisect.bisect_left(self.indexes, tlog.stored_hash_count(b))
            part = {x: hashes[x] for x in tlog.indexes_for_tree_hash(a) if x in hashes}
            part.update(zip(self.indexes[i:j], self.stored[i:j], strict=True))
            cut.append((a, self.rows[lo : lo + PART], part))
        return cut


async def _read(raw: asyncpg.Connection, first: int, top: int) -> _Span:
    rows = [tuple(r) for r in await raw.fetch(_ROWS, first, top)]
    stored = await raw.fetch(_STORED, tlog.stored_hash_index(0, first), tlog.stored_hash_count(top))
    return _Span(first, top, rows, [int(r[0]) for r in stored], [bytes(r[1]) for r in stored])


async def _check(pool: Executor | None, part: tuple[int, list[Row], dict[int, bytes]]) -> Finding | None:
    if pool is None:
        return check_span(*part)
    return await asyncio.get_running_loop().run_in_executor(pool, check_span, *part)
