"""A7's verification cut in parts (gateway/tree_verify.py, gateway/tree_check.py): each part read and checked on
its own, in the gateway's verifier processes, and chained to the part before by its starting edge and first link.
These tests make the parts small (100 entries, 8 at a time in 2 processes) over a trail of 3,001 entries written
into a database of their own, and check that the pool's answer is the one-process answer, entry for entry: an
honest trail verifies to the tree's root from any point; a changed entry, two entries swapped, a changed tree hash,
a lost tail are each named at their first bad entry, wherever they fall against the cuts, and when several parts
are bad the first one wins."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest

from deploy.migrate import migrate
from gateway import note, tlog, tree_store, tree_verify
from gateway.audit_chain import entry_hash, leaf_data
from gateway.audit_settings import AuditSettings
from gateway.models import AUDIT_FIELDS
from gateway.tree_verify import GENESIS, TreeState, TreeVerification, verify_from
from gateway.verification import SharedVerification, verify_pool
from services.kernel.db import create_engine
from services.kernel.errors import ServiceUnavailable
from tests.platform.test_audit_offline import Trail, entry
from tests.stack import create_test_database, plain_url, workdir

SIZE = 3001
TRAIL = Trail([entry(i) for i in range(1, SIZE + 1)])


@pytest.fixture(scope="module")
async def trail_db() -> AsyncIterator[str]:
    directory = workdir()
    database = await create_test_database(directory)
    try:
        await asyncio.to_thread(migrate, database.url)
        yield plain_url(database.url)
    finally:
        await database.drop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def pool(trail_db: str) -> Iterator[Executor]:
    """The gateway's verifier pool: two processes, each with its own connection (here a superuser's)."""
    executor = verify_pool(AuditSettings(verify_workers=2), trail_db, {"search_path": "gateway"})
    assert executor is not None
    yield executor
    executor.shutdown()


@pytest.fixture
async def conn(trail_db: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[asyncpg.Connection]:
    """A superuser with the append-only triggers off, on the honest trail written afresh: what a test changes is
    committed (the pool's processes read on their own connections) and gone for the next test."""
    monkeypatch.setattr(tree_verify, "PART", 100)
    connection = await asyncpg.connect(trail_db, server_settings={"search_path": "gateway"})
    await connection.execute("SET session_replication_role = replica")
    try:
        await connection.execute("DELETE FROM audit_log; DELETE FROM audit_tree_records")
        records = TRAIL.records()
        columns = ["seq", *AUDIT_FIELDS, "prev_hash", "hash"]
        await connection.copy_records_to_table(
            "audit_log", columns=columns,
            records=[tuple(r[c] if c != "at" else e["at"] for c in columns)
                     for r, e in zip(records, TRAIL.entries, strict=True)])
        builder = tlog.RootBuilder()
        tree = [(n, b"".join(builder.add(tlog.record_hash(leaf_data(n + 1, e))))) for n, e in enumerate(TRAIL.entries)]
        await connection.copy_records_to_table("audit_tree_records", records=tree)
        yield connection
    finally:
        await connection.close()


async def both(conn: asyncpg.Connection, pool: Executor, base: TreeState = GENESIS) -> TreeVerification:
    """The verification with the pool, after checking it is the one without."""
    pooled = await verify_from(conn, base, pool=pool)
    assert pooled == await verify_from(conn, base), "the pool's answer is not the one-process answer"
    return pooled


def hash_of(seq: int) -> str:
    return str(TRAIL.records()[seq - 1]["hash"])


async def test_an_honest_trail_verifies_to_its_root_from_the_genesis_and_from_any_point(
    conn: asyncpg.Connection, pool: Executor
) -> None:
    whole = await both(conn, pool)
    assert (whole.ok, whole.entries, whole.first_bad_seq) == (True, SIZE, None), whole
    assert whole.root == TRAIL.root(SIZE) and whole.head_hash == hash_of(SIZE)
    for point in (1, 699, 700, 701, 2999):
        base = TreeState(point, TRAIL.root(point), hash_of(point))
        part = await both(conn, pool, base)
        assert (part.ok, part.verified_from, part.entries, part.root) == (True, point, SIZE, whole.root), part


@pytest.mark.parametrize("seq", [1, 100, 101, 700, 701, 1450, SIZE])
async def test_a_changed_entry_is_named_wherever_it_falls_against_the_cuts(
    conn: asyncpg.Connection, pool: Executor, seq: int
) -> None:
    await conn.execute("UPDATE audit_log SET status = status + 1 WHERE seq = $1", seq)
    found = await both(conn, pool)
    assert (found.ok, found.first_bad_seq, found.entries) == (False, seq, seq - 1), found
    assert found.head_hash == (hash_of(seq - 1) if seq > 1 else GENESIS.head_hash)
    assert found.problem == f"entry {seq} does not carry the chain's link"


async def test_of_several_bad_parts_the_first_bad_entry_is_named(conn: asyncpg.Connection, pool: Executor) -> None:
    for seq in (2500, 1350, 1001, 820):  # four parts, the later ones given to the pool with it
        await conn.execute("UPDATE audit_log SET path = path || '-x' WHERE seq = $1", seq)
    found = await both(conn, pool)
    assert (found.ok, found.first_bad_seq) == (False, 820), found


async def test_two_entries_swapped_are_named_at_the_first(conn: asyncpg.Connection, pool: Executor) -> None:
    await conn.execute("UPDATE audit_log SET seq = -seq WHERE seq IN (650, 750)")
    await conn.execute("UPDATE audit_log SET seq = CASE seq WHEN -650 THEN 750 ELSE 650 END WHERE seq < 0")
    found = await both(conn, pool)
    assert (found.ok, found.first_bad_seq) == (False, 650), found


async def test_a_changed_tree_hash_is_named_at_the_entry_that_adds_it(
    conn: asyncpg.Connection, pool: Executor
) -> None:
    seq = 1600  # record 1599 (odd) stores its leaf hash and the level-1 node it closes: the node is changed
    await conn.execute("UPDATE audit_tree_records SET hashes = substr(hashes, 1, 32) || sha256(substr(hashes, 33)) "
                       "WHERE record = $1", seq - 1)
    found = await both(conn, pool)
    assert (found.ok, found.first_bad_seq) == (False, seq), found
    assert found.problem == f"entry {seq} is not the entry the tree holds"


async def test_a_lost_tail_is_named(conn: asyncpg.Connection, pool: Executor) -> None:
    await conn.execute("DELETE FROM audit_log WHERE seq > 2990")
    found = await both(conn, pool)
    assert (found.ok, found.first_bad_seq, found.entries) == (False, 2991, 2990), found
    assert found.problem == "the trail has no entry 2991"


async def test_an_entry_relinked_at_a_cut_is_named(conn: asyncpg.Connection, pool: Executor) -> None:
    """Entry 201 begins a part: its prev_hash rewritten and its own hash recomputed to match, it checks on its own;
    the part before ends on another hash, and that is what names it."""
    seq, forged = 201, "f" * 64
    row = await conn.fetchrow(f"SELECT {', '.join(AUDIT_FIELDS)} FROM audit_log WHERE seq = $1", seq)
    assert row is not None
    relinked = entry_hash(forged, seq, dict(row))
    await conn.execute("UPDATE audit_log SET prev_hash = $2, hash = $3 WHERE seq = $1", seq, forged, relinked)
    found = await both(conn, pool)
    assert (found.ok, found.first_bad_seq, found.head_hash) == (False, seq, hash_of(seq - 1)), found
    assert found.problem == f"entry {seq} does not carry the chain's link"


async def test_a_trail_cut_below_a_signed_checkpoint_is_not_ok(conn: asyncpg.Connection, pool: Executor) -> None:
    """Attack (issue #13 review): the superuser deletes the tail of the trail AND of the tree, below the size of the
    witness's latest signed checkpoint. The full check (from the genesis) and /audit/verify (from a point verified
    before the cut) are given that checkpoint, yet skip it because it is larger than the stored tree, and say ok
    over a trail that lost entries the log signed (or over a shorter fork written in their place)."""
    signed = note.Checkpoint("fundtrack.example/audit", SIZE, TRAIL.root(SIZE))
    await conn.execute("DELETE FROM audit_log WHERE seq > 2990")
    await conn.execute("DELETE FROM audit_tree_records WHERE record >= 2990")
    whole = await verify_from(conn, GENESIS, [signed], pool=pool)
    assert whole.ok is False, whole
    point = TreeState(2000, TRAIL.root(2000), hash_of(2000))
    incremental = await verify_from(conn, point, [signed], pool=pool)
    assert incremental.ok is False, incremental


async def test_a_verifier_process_that_dies_does_not_end_verification_for_good(
    conn: asyncpg.Connection, trail_db: str
) -> None:
    """Attack (issue #13 review): a verifier worker killed once (the OOM killer, an operator's kill, a crash in a
    driver) breaks the gateway's ProcessPoolExecutor for good: every later GET /audit/verify and full check fails
    (BrokenProcessPool, a 500) until the gateway is restarted. The verification running then may fail; the next one
    must run."""
    import os
    import signal

    pool = verify_pool(AuditSettings(verify_workers=1), trail_db, {"search_path": "gateway"})
    assert pool is not None
    try:
        assert (await verify_from(conn, GENESIS, pool=pool)).ok
        executor: Any = getattr(pool, "_pool", pool)  # the ProcessPoolExecutor (inside a wrapper, if any)
        processes: dict[int, Any] = executor._processes  # its worker processes, by pid
        for pid in list(processes):
            os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.5)
        try:
            await verify_from(conn, GENESIS, pool=pool)
        except Exception:  # noqa: BLE001 - the one running when its process died may fail
            pass
        again = await verify_from(conn, GENESIS, pool=pool)
        assert (again.ok, again.entries) == (True, SIZE), again
    finally:
        pool.shutdown()


async def test_two_signed_roots_for_one_size_are_a_fork_not_ok(conn: asyncpg.Connection) -> None:
    """Attack (issue #13 review): two checkpoints signed for one size with different roots (the database's and the
    witness's: a log that forked, e.g. a database restored from a backup and grown again while the key signed on)
    are put in a dict by size for the sizes after the verified point: one root is dropped unchecked, and the
    verification says ok over a forked log. The offline verifier refuses the same pair."""
    forked = note.Checkpoint("fundtrack.example/audit", 2000, TRAIL.root(1999))
    honest = note.Checkpoint("fundtrack.example/audit", 2000, TRAIL.root(2000))
    found = await verify_from(conn, GENESIS, [forked, honest])
    assert found.ok is False, found


async def test_the_signed_roots_before_the_point_cost_one_read_not_one_per_checkpoint(
    conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review (issue #13, DoS): every GET /audit/verify compares the stored tree with the roots of up to 1000 signed
    checkpoints before its point, one query each (1000 queries, ~0.3 s of database time on a local database, per
    call, whatever the trail's growth): an inspector polling /audit/verify keeps the database busy. The roots'
    stored hashes are read in one query."""
    stored = TRAIL.hashes()
    signed = [note.Checkpoint("fundtrack.example/audit", s, tlog.tree_hash(s, lambda ix: [stored[i] for i in ix]))
              for s in range(2001, SIZE + 1)]
    reads = 0
    real = tree_store.read_hashes

    async def counted(raw: asyncpg.Connection, indexes: Any) -> dict[int, bytes]:
        nonlocal reads
        reads += 1
        return await real(raw, indexes)

    monkeypatch.setattr(tree_store, "read_hashes", counted)
    found = await verify_from(conn, TreeState(SIZE, TRAIL.root(SIZE), hash_of(SIZE)), signed)
    assert found.ok, found
    assert reads <= 2, reads


async def test_the_signed_checkpoints_are_not_opened_again_at_every_verification(
    conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """Review (issue #13, DoS): every GET /audit/verify opens up to 1000 stored checkpoints again (an Ed25519
    verification each, ~0.25 s for 1000, on the gateway's event loop: every request waits meanwhile). A note once
    opened with the log's key is the same checkpoint the next time: it is opened once."""
    from datetime import UTC, datetime

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from gateway import verification
    from gateway.checkpoints import Checkpointer
    from gateway.signing import Signer
    from gateway.witness import Witness

    signer = Signer("fundtrack.example/audit", Ed25519PrivateKey.generate())
    checkpointer = Checkpointer(None, signer, Witness(tmp_path), interval=1)  # type: ignore[arg-type]
    stored = TRAIL.hashes()
    roots = {s: tlog.tree_hash(s, lambda ix: [stored[i] for i in ix]) for s in range(2901, SIZE + 1)}
    rows = [(s, root, datetime.now(UTC), signer.sign(note.format_checkpoint(note.Checkpoint(signer.name, s, root))))
            for s, root in roots.items()]
    await conn.copy_records_to_table("audit_checkpoints", records=rows)
    try:
        first = await verification.signed_checkpoints(conn, checkpointer)
        opened = 0
        real = note.open_checkpoint

        def counted(text: str, keys: Any) -> note.Checkpoint:
            nonlocal opened
            opened += 1
            return real(text, keys)

        monkeypatch.setattr(note, "open_checkpoint", counted)
        assert await verification.signed_checkpoints(conn, checkpointer) == first and len(first) == len(rows)
        assert opened == 0, opened
    finally:
        await conn.execute("DELETE FROM audit_checkpoints")


async def test_the_opened_checkpoints_kept_are_the_last_window_only(conn: asyncpg.Connection, tmp_path: Any) -> None:
    """Issue #14 (memory): the opened notes a gateway keeps are those of the last verification's window, not every
    note ever opened (an LRU of 4 × PUBLISHED grew for hours, one checkpoint every 5 s). A note that left the window
    is dropped; one still in it is not opened again."""
    from datetime import UTC, datetime

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from gateway import verification
    from gateway.checkpoints import Checkpointer
    from gateway.signing import Signer
    from gateway.witness import Witness

    signer = Signer("fundtrack.example/audit", Ed25519PrivateKey.generate())
    checkpointer = Checkpointer(None, signer, Witness(tmp_path), interval=1)  # type: ignore[arg-type]
    stored = TRAIL.hashes()

    def row(s: int) -> tuple[int, bytes, datetime, str]:
        root = tlog.tree_hash(s, lambda ix: [stored[i] for i in ix])
        return s, root, datetime.now(UTC), signer.sign(note.format_checkpoint(note.Checkpoint(signer.name, s, root)))

    window = verification.PUBLISHED
    first, later = SIZE - window - 5, SIZE - window + 1
    await conn.copy_records_to_table("audit_checkpoints", records=[row(s) for s in range(first, later)])
    try:
        await verification.signed_checkpoints(conn, checkpointer)
        assert len(verification.OPENED) == later - first
        await conn.copy_records_to_table("audit_checkpoints", records=[row(s) for s in range(later, SIZE + 1)])
        opened = await verification.signed_checkpoints(conn, checkpointer)
        assert [cp.size for cp in opened][:2] == [SIZE, SIZE - 1] and len(opened) == window
        assert len(verification.OPENED) == window  # the oldest six left the window and the keeping
    finally:
        await conn.execute("DELETE FROM audit_checkpoints")


class _DeadPool(Executor):
    """A pool whose processes died under the part it was given (what the OOM killer does mid-verification)."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_exception(BrokenProcessPool("a child process terminated abruptly"))
        return future


async def test_a_verifier_dying_mid_way_is_a_503_to_ask_again_not_a_500(
    conn: asyncpg.Connection, trail_db: str
) -> None:
    engine = create_engine("gateway", url=trail_db, pool_size=1)
    witness = SimpleNamespace(latest=lambda: None)
    checkpointer: Any = SimpleNamespace(witness=witness, signer=SimpleNamespace(verifier_key="unused"))
    try:
        with pytest.raises(ServiceUnavailable) as failed:
            await SharedVerification(engine, checkpointer, _DeadPool()).result()
        assert failed.value.status == 503 and "ask again" in failed.value.body("/audit/verify")["detail"]
        verified = await SharedVerification(engine, checkpointer).result()  # the same, in one process: fine
        assert verified.result.ok and verified.result.entries == SIZE
    finally:
        await engine.dispose()
