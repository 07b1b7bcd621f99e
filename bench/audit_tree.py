"""Benchmark: the trail's Merkle tree (issue #13 point 7), each figure next to its raw-PostgreSQL baseline, in one run:

1. the sequencer's append throughput with the tree, against the chain alone (target: the tree costs <= 10 %);
2. GET /audit/entries/{seq} (the inclusion proof) at `--entries` entries (default 10,000,000; target p95 < 20 ms);
3. the incremental verification of 100,000 entries appended after a verified point (target < 2 s).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.audit_tree [--entries N]

How, on a fresh throwaway database (tests/stack.py, migrated by deploy.migrate, dropped at the end):
- The history: N entries written server-side into `gateway.audit_log` (bench/audit_queries.py's generator; the trail's
  secondary indexes but the inbox-id one, which the inbox's delete guard reads, are dropped first and not rebuilt:
  nothing here reads them), and the complete stored tree of N records COPYed into `audit_tree_records`
  (`stored_hash_count(N)` hashes in tlog's dense order, a row per record, built by tlog.RootBuilder). Its node hashes
  are real RFC 6962 nodes, but its leaves are sha256(0x00 ‖ record number), not the entries' canonical leaves (10
  million of those in Python would take longer than this host has): the history's tree is consistent (its root is
  signed in a checkpoint, a served proof checks against it) but not tied to the entries below N. A proof reads the
  same O(log N) rows whatever they hold.
- Throughput (1) and incremental verification (3): BATCHES x 2,000 new entries (bench/audit_offline.py's synthetic
  entries) are put into the inbox and chained on top of that history by the sequencer's own code
  (`Sequencer._chain`: head, inbox batch, chain links, INSERT, tree append, inbox DELETE), so their chain links and
  tree hashes are real. Per batch, in alternating order, the same inbox batch is chained twice in a transaction that
  is ROLLED BACK: once as it is ("tree"), once with the tree step switched off in this process ("chain alone": the
  sequencer's `tree_store` replaced by a stub whose `tree_size` returns the chain's head and whose `append` does
  nothing, and its `link_and_leaf` by the link alone: a sequencer without a tree would not encode a leaf). Then it
  is chained for good (committed, "tree, committed"). Baseline: the same batch's final rows
  INSERTed again (precomputed, other seqs) by one executemany, rolled back: what PostgreSQL alone takes to write
  them. Then `verify_from` (gateway/tree_verify.py, what GET /audit/verify runs) from the point before the batches,
  with the gateway's pool of verifier processes (FUNDTRACK_AUDIT_VERIFY_WORKERS, started first) and in one process,
  each while a 10 ms timer on the same event loop records how late it wakes (what a request waits meanwhile): its
  baseline is the two queries it reads with (the entries, their stored hashes), fetched and nothing else.
- Proofs (2): `proofs_api.entry_with_proof` (the route's own code, on an engine like the gateway's, a national
  inspector, the signed checkpoint of size N) for PROOFS random seqs of the history; baseline: its three statements
  (the entry by seq, that checkpoint, the O(log N) stored hashes) on a bare asyncpg connection. One proof is checked
  with tlog.check_record against the signed root.
`BENCH_BATCHES=n` chains n batches instead of 50 (a quick try of the bench itself).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import functools
import json
import os
import random
import shutil
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.audit_offline import synthetic_entry
from bench.audit_queries import _insert
from deploy.migrate import migrate
from gateway import note, tlog, tree_store
from gateway.audit import BATCH, INSERT_INBOX, entry_rows
from gateway.audit_chain import entry_hash, link_and_leaf
from gateway.models import AUDIT_FIELDS
from services.kernel.db import plain_url
from tests.stack import TestDatabase, create_test_database, workdir

ORIGIN = "bench.fundtrack/audit"
BATCHES = int(os.environ.get("BENCH_BATCHES", "50"))  # x BATCH (2,000) = 100,000 new entries
PROOFS = 500
CHUNK = 1_000_000
_LOG_COLUMNS = (*AUDIT_FIELDS, "seq", "prev_hash", "hash", "inbox_id")


def tree_records(builder: tlog.RootBuilder, count: int) -> Iterator[tuple[int, bytes]]:
    """The next `count` rows of `audit_tree_records` (each record's stored hashes, as tlog.stored_hashes gives
    them), for leaves sha256(0x00 ‖ the record's number as 8 bytes)."""
    for _ in range(count):
        n = builder.size
        yield n, b"".join(builder.add(tlog.record_hash(n.to_bytes(8, "big"))))


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def percentiles(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"p50_ms": ms(statistics.median(ordered)), "p95_ms": ms(ordered[int(len(ordered) * 0.95)]),
            "max_ms": ms(ordered[-1])}


async def load_history(url: str, entries: int, key: Ed25519PrivateKey) -> dict[str, Any]:
    """N entries and a structurally complete tree of N records, and a checkpoint of it signed with `key`."""
    conn = await asyncpg.connect(plain_url(url), server_settings={"search_path": "gateway"})
    try:
        started = time.perf_counter()
        for row in await conn.fetch(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'gateway' AND tablename = 'audit_log' "
            "AND indexname NOT IN ('audit_log_pkey', 'ix_audit_log_inbox_id')"
        ):
            await conn.execute(f'DROP INDEX gateway."{row["indexname"]}"')
        await conn.execute("SELECT setseed(0.13)")
        for first in range(1, entries + 1, CHUNK):
            await conn.execute(_insert(first, min(entries, first + CHUNK - 1), entries))
            print(json.dumps({"entries": min(entries, first + CHUNK - 1),
                              "s": round(time.perf_counter() - started, 1)}), flush=True)
        hashes, tree = tlog.stored_hash_count(entries), tlog.RootBuilder()
        for first in range(0, entries, CHUNK):
            await conn.copy_records_to_table(
                "audit_tree_records", records=tree_records(tree, min(CHUNK, entries - first)), schema_name="gateway")
            print(json.dumps({"tree_records": tree.size, "s": round(time.perf_counter() - started, 1)}), flush=True)
        await conn.execute("VACUUM ANALYZE gateway.audit_log")
        await conn.execute("VACUUM ANALYZE gateway.audit_tree_records")
        assert await tree_store.tree_size(conn) == entries
        root = await tree_store.root(conn, entries)
        cp = note.Checkpoint(ORIGIN, entries, root, (note.time_extension(int(time.time())),))
        signed = note.sign(note.format_checkpoint(cp), ORIGIN, key)
        await conn.execute("INSERT INTO audit_checkpoints (size, root, at, note) VALUES ($1, $2, $3, $4)",
                           entries, root, datetime.now(UTC), signed)
        sizes = await conn.fetchrow(
            "SELECT pg_size_pretty(pg_total_relation_size('gateway.audit_log')) AS log, "
            "pg_size_pretty(pg_total_relation_size('gateway.audit_tree_records')) AS tree")
        head = await conn.fetchval("SELECT hash FROM audit_log WHERE seq = $1", entries)
    finally:
        await conn.close()
    return {"entries": entries, "tree_hashes": hashes, "load_s": round(time.perf_counter() - started, 1),
            "audit_log_size": sizes["log"], "tree_size": sizes["tree"], "root": root, "head_hash": head}


async def timed(run: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await run()
    return time.perf_counter() - started


class ChainAlone:
    """The sequencer's `tree_store` with the tree step switched off: the size check passes, the append is skipped."""

    TreeError = tree_store.TreeError

    def __init__(self) -> None:
        self.head = 0

    async def tree_size(self, raw: asyncpg.Connection) -> int:
        return self.head

    async def append(self, raw: asyncpg.Connection, first: int, leaves: Any) -> None:
        return None


async def appends(engine: Any, url: str, history: int) -> dict[str, Any]:
    """(1): BATCHES batches chained as they are, with the tree off, committed, and the raw INSERT baseline."""
    import gateway.sequencer as sequencer_module
    from gateway.sequencer import Sequencer

    sequencer = Sequencer(engine, {})
    alone = ChainAlone()
    from gateway import tree_store as real
    raw_conn = await asyncpg.connect(plain_url(url), server_settings={"search_path": "gateway"})
    times: dict[str, list[float]] = {"tree": [], "chain_alone": [], "tree_committed": [], "raw_insert": []}

    def link_only(prev: str, seq: int, entry: Any) -> tuple[str, bytes]:
        return entry_hash(prev, seq, entry), b""  # without a tree, the sequencer would not encode a leaf

    async def chain(tree: bool, commit: bool) -> None:
        with patch.object(sequencer_module, "tree_store", real if tree else alone), \
                patch.object(sequencer_module, "link_and_leaf", link_and_leaf if tree else link_only):
            async with engine.connect() as conn:
                transaction = await conn.begin()
                moved = await sequencer._chain(conn)
                assert moved == BATCH, moved
                await (transaction.commit() if commit else transaction.rollback())

    try:
        for batch in range(BATCHES):
            first = history + batch * BATCH + 1
            entries = [synthetic_entry(i) for i in range(first, first + BATCH)]
            await raw_conn.executemany(INSERT_INBOX, entry_rows(entries))
            alone.head = first - 1
            order = [True, False] if batch % 2 else [False, True]
            for tree in order:
                times["tree" if tree else "chain_alone"].append(await timed(functools.partial(chain, tree, False)))
            times["tree_committed"].append(await timed(lambda: chain(True, True)))
            rows = await raw_conn.fetch(
                f"SELECT {', '.join(_LOG_COLUMNS)} FROM audit_log WHERE seq >= $1 ORDER BY seq", first)
            copies = [[*r[: len(AUDIT_FIELDS)], r["seq"] + 10**12, r["prev_hash"], r["hash"], None] for r in rows]

            async def insert_only(copies: list[list[Any]] = copies) -> None:
                async with raw_conn.transaction():
                    await raw_conn.executemany(sequencer_module.INSERT_LOG, copies)
                    raise _Rollback

            try:
                started = time.perf_counter()
                await insert_only()
            except _Rollback:
                times["raw_insert"].append(time.perf_counter() - started)
    finally:
        await raw_conn.close()
    total = BATCHES * BATCH
    out: dict[str, Any] = {"batches": BATCHES, "batch": BATCH, "on_top_of": history}
    for name, values in times.items():
        out[name] = {"entries_per_s": round(total / sum(values)), "batch_p50_ms": ms(statistics.median(values))}
    out["tree_cost_pct"] = round(100 * (1 - out["tree"]["entries_per_s"] / out["chain_alone"]["entries_per_s"]), 1)
    return out


class _Rollback(Exception):
    pass


async def proofs(engine: Any, url: str, history: int, root: bytes, key: Ed25519PrivateKey) -> dict[str, Any]:
    """(2): the proof route's code for random seqs of the history, and its three statements on a bare connection."""
    from gateway.proofs_api import entry_with_proof
    from services.kernel.identity import Principal

    request: Any = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(engine=engine)))
    inspector = Principal(id="prn_bench", role="inspector", region_code="000000")
    rng = random.Random(13)
    seqs = [rng.randint(1, history) for _ in range(PROOFS + 1)]
    route: list[float] = []
    answer: dict[str, Any] = {}
    for seq in seqs:
        started = time.perf_counter()
        answer = await entry_with_proof(request, inspector, seq, history)
        route.append(time.perf_counter() - started)
    route = route[1:]  # the first pays for the pool's connection
    raw = await asyncpg.connect(plain_url(url), server_settings={"search_path": "gateway"})
    statements: list[float] = []
    try:
        for seq in seqs[1:]:
            started = time.perf_counter()
            await raw.fetchrow("SELECT * FROM audit_log WHERE seq = $1", seq)
            await raw.fetchrow("SELECT size, root, at, note FROM audit_checkpoints WHERE size = $1", history)
            await tree_store.read_hashes(raw, tlog.indexes_for_record_proof(history, seq - 1))
            statements.append(time.perf_counter() - started)
        stored_leaf = (await tree_store.read_hashes(raw, [tlog.stored_hash_index(0, seqs[-1] - 1)]))
    finally:
        await raw.close()
    proof = [base64.b64decode(h) for h in answer["proof"]]
    tlog.check_record(proof, history, root, seqs[-1] - 1, next(iter(stored_leaf.values())))
    note.open_checkpoint(answer["checkpoint"], [note.verifier_key(ORIGIN, key.public_key())])
    return {"proofs": PROOFS, "proof_hashes": len(proof), "route": percentiles(route),
            "raw_statements": percentiles(statements), "checked": "proof against the signed root: ok"}


async def _lateness(stop: asyncio.Event) -> float:
    """The longest the event loop was late to wake a 10 ms sleeper: how long a request waits behind the check."""
    worst = 0.0
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(0.01)
        worst = max(worst, time.perf_counter() - started - 0.01)
    return worst


async def _timed_verify(raw: asyncpg.Connection, base: Any, pool: Any) -> tuple[Any, float, float]:
    from gateway.tree_verify import verify_from

    stop = asyncio.Event()
    watcher = asyncio.create_task(_lateness(stop))
    started = time.perf_counter()
    result = await verify_from(raw, base, pool=pool)
    seconds = time.perf_counter() - started
    stop.set()
    return result, seconds, await watcher


async def incremental(url: str, history: int, root: bytes, head_hash: str) -> dict[str, Any]:
    """(3): verify_from the verified point `history` over the entries appended since, as the gateway runs it (its
    pool of `FUNDTRACK_AUDIT_VERIFY_WORKERS` processes, started before) and in one process; baseline: its reads
    alone. With each, the longest the event loop was kept from a 10 ms timer meanwhile."""
    from gateway.audit_settings import AuditSettings
    from gateway.tree_check import _ROWS, _STORED
    from gateway.tree_verify import PART, TreeState
    from gateway.verification import verify_pool

    settings = AuditSettings()
    pool = verify_pool(settings, plain_url(url), {"search_path": "gateway"})
    raw = await asyncpg.connect(plain_url(url), server_settings={"search_path": "gateway"})
    out: dict[str, Any] = {"verified_from": history, "workers": settings.verify_workers}
    try:
        size = await tree_store.tree_size(raw)
        base = TreeState(history, root, head_hash)
        if pool is not None:
            await asyncio.gather(*[asyncio.get_running_loop().run_in_executor(pool, time.sleep, 0.2)
                                   for _ in range(settings.verify_workers)])  # the workers are up, as in a gateway
        for name, executor in (("pool", pool), ("one_process", None), ("pool_again", pool)):
            result, seconds, late = await _timed_verify(raw, base, executor)
            assert result.ok and result.entries == size, result
            out[name] = {"verify_s": round(seconds, 2), "entries_per_s": round((size - history) / seconds),
                         "loop_late_max_ms": round(late * 1000, 1)}
        started = time.perf_counter()
        for n in range(history, size, PART):
            top = min(n + PART, size)
            await raw.fetch(_ROWS, n, top)
            await raw.fetch(_STORED, n, top)
        out["raw_reads_s"] = round(time.perf_counter() - started, 2)
    finally:
        await raw.close()
        if pool is not None:
            pool.shutdown()
    out["entries"] = size - history
    return out


async def run(url: str, entries: int) -> dict[str, Any]:
    os.environ["DATABASE_URL"] = url
    os.environ["FUNDTRACK_DB_ROLES"] = "0"
    from services.kernel.db import create_engine

    key = Ed25519PrivateKey.generate()
    loaded = await load_history(url, entries, key)
    root, head = loaded.pop("root"), loaded.pop("head_hash")
    print(json.dumps({"loaded": loaded}), flush=True)
    engine = create_engine("gateway", url=url, pool_size=2)
    try:
        proof = await proofs(engine, url, entries, root, key)
        print(json.dumps({"proofs": proof}), flush=True)
        append = await appends(engine, url, entries)
        print(json.dumps({"appends": append}), flush=True)
        verify = await incremental(url, entries, root, head)
        print(json.dumps({"incremental_verify": verify}), flush=True)
    finally:
        await engine.dispose()
    return {"loaded": loaded, "append": append, "proof": proof, "incremental_verify": verify,
            "load_average": os.getloadavg()}


async def create(directory: Path) -> TestDatabase:
    return await create_test_database(directory)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000_000)
    args = parser.parse_args()
    directory = workdir()
    database = asyncio.run(create(directory))
    print(json.dumps({"database": database.url, "load_average": os.getloadavg()}), flush=True)
    try:
        migrate(database.url)
        results = asyncio.run(run(database.url, args.entries))
        print(json.dumps({"summary": results}, indent=1, default=str))
    finally:
        asyncio.run(database.drop())
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
