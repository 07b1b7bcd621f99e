"""One part of verifying the trail (A7): read entries first + 1 … top and the tree hashes their records stored,
recompute the chain links and the tree from the stored right edge at `first`, and compare. A part needs nothing from
the parts before it but that edge, which it reads and returns with the edge it ends on, so gateway/tree_verify.py
runs the parts in other processes (each with its own connection: the gateway's event loop neither reads nor hashes
the entries) and chains them: each part's starting edge must be the edge the part before computed, each part's
first `prev_hash` the part before's last `hash`. By induction from the verified point, every stored hash and link
is then the one the entries give; the first part with a finding names the first bad entry.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import asyncpg

from gateway import tlog, tree_store
from gateway.audit_chain import link_and_leaf
from gateway.models import AUDIT_FIELDS
from services.kernel.orphans import die_with_parent

_ROWS = f"SELECT {', '.join(('seq', 'prev_hash', 'hash', *AUDIT_FIELDS))} FROM audit_log " \
    "WHERE seq > $1 AND seq <= $2 ORDER BY seq"
_STORED = "SELECT record, hashes FROM audit_tree_records WHERE record >= $1 AND record < $2 ORDER BY record"


@dataclass(frozen=True)
class Finding:
    seq: int
    problem: str
    head: str | None = None  # the chain's head before `seq`, when the part holds entry seq - 1


@dataclass(frozen=True)
class Part:
    """What a part found, and what the next part is chained to."""

    first: int
    top: int
    start_edge: list[bytes]  # the stored right edge it started from
    first_prev: str | None  # its first entry's prev_hash
    end_edge: list[bytes] = field(default_factory=list)
    last_hash: str | None = None
    roots: dict[int, bytes] = field(default_factory=dict)  # the tree's root at the sizes asked, within the part
    finding: Finding | None = None


async def check_part(raw: asyncpg.Connection, first: int, top: int, sizes: Sequence[int] = ()) -> Part:
    """Read and check entries first + 1 … top; `sizes` (within them) are those whose roots to return."""
    rows = await raw.fetch(_ROWS, first, top)
    edge_at = tlog.indexes_for_tree_hash(first)
    known = await tree_store.read_hashes(raw, edge_at)
    stored = {int(r["record"]): bytes(r["hashes"]) for r in await raw.fetch(_STORED, first, top)}
    edge = [known[i] for i in edge_at if i in known]
    part = Part(first, top, edge, rows[0]["prev_hash"] if rows else None)
    if len(edge) != len(edge_at):
        return _found(part, Finding(first + 1, f"the stored tree lacks the hashes entry {first + 1} is added to"))
    builder = tlog.RootBuilder(first, edge)
    roots, prev_hash, wanted = {}, None, set(sizes)
    for seq, row in enumerate(rows, first + 1):
        link, leaf = link_and_leaf(row["prev_hash"], seq, row)
        if row["seq"] != seq or row["hash"] != link or (prev_hash is not None and row["prev_hash"] != prev_hash):
            return _found(part, Finding(seq, f"entry {seq} does not carry the chain's link", prev_hash))
        if b"".join(builder.add(tlog.record_hash(leaf))) != stored.get(seq - 1):
            return _found(part, Finding(seq, f"entry {seq} is not the entry the tree holds", prev_hash))
        if seq in wanted:
            roots[seq] = builder.root()
        prev_hash = row["hash"]
    if len(rows) != top - first:
        missing = first + len(rows) + 1
        return _found(part, Finding(missing, f"the trail has no entry {missing}", prev_hash))
    return Part(first, top, edge, part.first_prev, builder.edge(), prev_hash, roots)


def _found(part: Part, finding: Finding) -> Part:
    return Part(part.first, part.top, part.start_edge, part.first_prev, finding=finding)


# A worker process of the gateway's verifier pool (gateway/verification.py verify_pool): its own event loop and
# connection, made once when the process starts, so that a part costs its reads and its hashes only.
_worker: tuple[asyncio.AbstractEventLoop, str, dict[str, str]] | None = None
_connection: asyncpg.Connection | None = None
T = TypeVar("T")
# issue #20 point 3: a verification or an export page is background work; at a lower priority than the processes
# answering requests, the kernel gives them the cores first (on 2 cores an export had GET /funds/sources at 21 ms p95)
WORKER_NICENESS = 10


def start_worker(url: str, server_settings: dict[str, str], gateway: int) -> None:
    global _worker
    die_with_parent(gateway)
    os.nice(WORKER_NICENESS)
    _worker = (asyncio.new_event_loop(), url, server_settings)


def on_worker_connection(work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """`work` in a worker process, on its connection (made again if it was lost): a part of a verification, or a
    page of an export (gateway/export_pages.py)."""
    global _connection
    if _worker is None:
        raise RuntimeError("not a verifier worker: start_worker was not called")
    loop, url, settings = _worker
    if _connection is None or _connection.is_closed():
        _connection = loop.run_until_complete(asyncpg.connect(url, server_settings=settings))
    return loop.run_until_complete(work(_connection))


def run_part(first: int, top: int, sizes: Sequence[int]) -> Part:
    """check_part in a worker process."""
    return on_worker_connection(lambda conn: check_part(conn, first, top, sizes))
