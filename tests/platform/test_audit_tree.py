"""The trail's Merkle tree, its signed checkpoints and the witness (issue #13, A7), checked the way an inspector
checks them: with the served public key and the proofs the gateway gives, never trusting the database; and attacked
as the database superuser would attack them."""

import asyncio
import base64
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway import note, tlog
from gateway.audit_chain import entry_hash, leaf_data
from gateway.models import AUDIT_FIELDS, GENESIS_HASH
from gateway.sequencer import SEQUENCER_LOCK
from tests.conftest import Api, wait_for_audit
from tests.platform.test_audit import chained_without_verifying
from tests.stack import Stack, extra_gateway


async def _public_key(admin: Api) -> str:
    response = await admin.get("/audit/public-key")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain"), response.text
    return response.text.strip()


async def _checkpoint(admin: Api) -> tuple[note.Checkpoint, str]:
    """A checkpoint signed now (after the trail caught up), opened with the served key as an inspector does."""
    await admin.get("/audit", params={"limit": 1})
    await wait_for_audit(admin)
    response = await admin.post("/audit/checkpoints")
    assert response.status_code == 201, response.text
    signed = response.json()["note"]
    return note.open_checkpoint(signed, [await _public_key(admin)]), signed


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


async def _leaves(db: asyncpg.Pool, size: int) -> list[bytes]:
    rows = await db.fetch(f"SELECT seq, {', '.join(AUDIT_FIELDS)} FROM gateway.audit_log WHERE seq <= $1 "
                          "ORDER BY seq", size)
    return [leaf_data(r["seq"], dict(r)) for r in rows]


def _naive_root(leaves: list[bytes]) -> bytes:
    """RFC 6962's MTH, written from the RFC (split at the largest power of two below n), not from tlog."""
    if not leaves:
        return tlog.EMPTY_HASH
    if len(leaves) == 1:
        return tlog.record_hash(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return tlog.node_hash(_naive_root(leaves[:k]), _naive_root(leaves[k:]))


async def test_the_tree_is_the_trail_and_every_entry_is_proved_in_a_signed_checkpoint(
    admin: Api, db: asyncpg.Pool
) -> None:
    for _ in range(20):
        await admin.get("/audit", params={"limit": 1})
    cp, _ = await _checkpoint(admin)
    assert cp.origin == "fundtrack.example/audit" and cp.time is not None
    leaves = await _leaves(db, cp.size)
    assert len(leaves) == cp.size and _naive_root(leaves) == cp.root
    sample = {*range(1, 31), *range(max(1, cp.size - 100), cp.size + 1), *range(1, cp.size, max(1, cp.size // 200))}
    for seq in sorted(s for s in sample if s <= cp.size):
        response = await admin.get(f"/audit/entries/{seq}", params={"checkpoint_size": cp.size})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["leaf_data"].encode() == leaves[seq - 1]
        leaf = tlog.record_hash(body["leaf_data"].encode())
        assert _b64(body["leaf_hash"]) == leaf and body["checkpoint_size"] == cp.size
        tlog.check_record([_b64(h) for h in body["proof"]], cp.size, cp.root, seq - 1, leaf)


async def test_a_later_checkpoint_is_proved_to_extend_an_earlier_one(admin: Api) -> None:
    older, _ = await _checkpoint(admin)
    for _ in range(7):
        await admin.get("/audit", params={"limit": 1})
    newer, _ = await _checkpoint(admin)
    assert newer.size > older.size
    body = (await admin.get("/audit/consistency", params={"from": older.size, "to": newer.size})).json()
    tlog.check_tree([_b64(h) for h in body["proof"]], newer.size, newer.root, older.size, older.root)
    listed = (await admin.get("/audit/checkpoints", params={"after_size": older.size - 1, "limit": 1000})).json()
    assert [c["size"] for c in listed["items"]][0] == older.size
    assert (await admin.get("/audit/checkpoints/latest")).text.startswith(f"{newer.origin}\n")
    with pytest.raises(tlog.ProofError):  # the same proof does not prove another root
        tlog.check_tree([_b64(h) for h in body["proof"]], newer.size, older.root, older.size, older.root)


async def test_a_checkpoint_signed_by_another_key_is_refused(admin: Api) -> None:
    cp, signed = await _checkpoint(admin)
    forged = note.sign(note.format_checkpoint(cp), cp.origin, Ed25519PrivateKey.generate())
    with pytest.raises(note.NoteError):
        note.open_checkpoint(forged, [await _public_key(admin)])
    assert note.open_checkpoint(signed, [await _public_key(admin)]) == cp


def _witness(stack: Stack) -> Path:
    return Path(stack.env["FUNDTRACK_DATA_DIR"]) / "witness"


async def test_every_checkpoint_is_published_to_the_witness(admin: Api, stack: Stack) -> None:
    cp, signed = await _checkpoint(admin)
    assert (_witness(stack) / f"checkpoint-{cp.size}.txt").read_text() == signed
    assert (_witness(stack) / "latest").read_text() == signed


async def test_honest_growth_across_a_gateway_restart_keeps_every_old_checkpoint_consistent(
    admin: Api, stack: Stack
) -> None:
    await _checkpoint(admin)
    with extra_gateway(stack) as url:  # a new process: same key, same witness, a state of its own
        async with httpx.AsyncClient(base_url=url, headers=admin.headers()) as gateway:
            for _ in range(5):
                await gateway.get("/audit", params={"limit": 1})
            await wait_for_audit(admin)
            response = await gateway.post("/audit/checkpoints")
            assert response.status_code == 201, response.text
            newest = note.open_checkpoint(response.json()["note"], [await _public_key(admin)])
            assert (await gateway.get("/audit/verify")).json()["ok"] is True
    listed = (await admin.get("/audit/checkpoints", params={"limit": 1000})).json()["items"]
    assert len(listed) >= 2
    for old in listed:
        if old["size"] < newest.size:
            body = (await admin.get("/audit/consistency", params={"from": old["size"], "to": newest.size})).json()
            proof = [_b64(h) for h in body["proof"]]
            tlog.check_tree(proof, newest.size, newest.root, old["size"], _b64(old["root"]))


def test_production_refuses_to_start_without_an_explicit_signing_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDTRACK_")}
    env.update(FUNDTRACK_ENV="production", FUNDTRACK_SERVICE_SECRET=uuid.uuid4().hex * 2,
               FUNDTRACK_DATA_DIR=str(tmp_path))
    started = subprocess.run([sys.executable, "-c", "import gateway.app"], env=env, capture_output=True, text=True,
                             timeout=60)
    assert started.returncode != 0 and "FUNDTRACK_AUDIT_SIGNING_KEY_FILE" in started.stderr, started.stderr[-2000:]
    assert not (tmp_path / "audit-signing.key").exists()
    key = tmp_path / "kept.key"
    key.write_text(note.signer_key("fundtrack.example/audit", Ed25519PrivateKey.generate()))
    key.chmod(0o600)  # as `fundtrack audit new-key` makes it (production refuses a key others can read)
    env["FUNDTRACK_AUDIT_SIGNING_KEY_FILE"] = str(key)
    started = subprocess.run([sys.executable, "-c", "import gateway.app"], env=env, capture_output=True, text=True,
                             timeout=60)
    assert started.returncode == 0, started.stderr[-2000:]


def test_production_refuses_a_signing_key_others_can_read(tmp_path: Path) -> None:
    """Attack (issue #13 review): the key that makes checkpoints trustworthy, in a file any local user (or any
    process of another account on the host) can read, is taken in production without a word; whoever reads it signs
    checkpoints of a rewritten trail. Production must refuse a key file with group or other permissions."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDTRACK_")}
    key = tmp_path / "kept.key"
    key.write_text(note.signer_key("fundtrack.example/audit", Ed25519PrivateKey.generate()))
    key.chmod(0o644)
    env.update(FUNDTRACK_ENV="production", FUNDTRACK_SERVICE_SECRET=uuid.uuid4().hex * 2,
               FUNDTRACK_DATA_DIR=str(tmp_path), FUNDTRACK_AUDIT_SIGNING_KEY_FILE=str(key))
    started = subprocess.run([sys.executable, "-c", "import gateway.app"], env=env, capture_output=True, text=True,
                             timeout=60)
    assert started.returncode != 0 and "chmod 600" in started.stderr, started.stderr[-2000:]
    key.chmod(0o600)
    started = subprocess.run([sys.executable, "-c", "import gateway.app"], env=env, capture_output=True, text=True,
                             timeout=60)
    assert started.returncode == 0, started.stderr[-2000:]


# ----------------------------------------------------------------------------------------- as the superuser


@asynccontextmanager
async def superuser(db: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection with the append-only triggers off, holding the sequencer's lock (nothing is chained
    meanwhile: the attack and its undoing see the same trail)."""
    async with db.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", SEQUENCER_LOCK)
        await conn.execute("SET session_replication_role = replica")
        try:
            yield conn
        finally:
            await conn.execute("SET session_replication_role = origin")
            await conn.execute("SELECT pg_advisory_unlock($1)", SEQUENCER_LOCK)


async def _rewrite(conn: asyncpg.Connection, target: int, *, tree: bool) -> None:
    """Change entry `target` and recompute every chain link after it (and, with `tree`, every tree hash after it):
    what the chain alone cannot see."""
    await conn.execute("UPDATE gateway.audit_log SET status = status + 1 WHERE seq = $1", target)
    rows = await conn.fetch(f"SELECT seq, {', '.join(AUDIT_FIELDS)} FROM gateway.audit_log ORDER BY seq")
    prev = GENESIS_HASH
    for row in rows:
        if row["seq"] >= target:
            digest = entry_hash(prev, row["seq"], dict(row))
            await conn.execute("UPDATE gateway.audit_log SET prev_hash = $2, hash = $3 WHERE seq = $1",
                               row["seq"], prev, digest)
            prev = digest
        else:
            prev = await conn.fetchval("SELECT hash FROM gateway.audit_log WHERE seq = $1", row["seq"])
    if tree:
        records = await conn.fetch("SELECT record, hashes FROM gateway.audit_tree_records ORDER BY record")
        stored = [bytes(r["hashes"])[i : i + 32] for r in records for i in range(0, len(r["hashes"]), 32)]
        for row in rows[target - 1:]:
            n = row["seq"] - 1
            at = tlog.stored_hash_index(0, n)
            hashes = tlog.stored_hashes(n, leaf_data(row["seq"], dict(row)), lambda i: [stored[x] for x in i])
            stored[at : at + len(hashes)] = hashes
            await conn.execute("UPDATE gateway.audit_tree_records SET hashes = $2 WHERE record = $1", n,
                               b"".join(hashes))


@asynccontextmanager
async def _undone(conn: asyncpg.Connection) -> AsyncIterator[None]:
    """Puts the trail and the tree back as they were when the block ends. The sequencer waits meanwhile (its lock,
    held by this session): what it would chain during the attack would be built on the rewritten hashes, and then
    lost when the block puts the trail back; it chains it afterwards instead."""
    await conn.execute("SELECT pg_advisory_lock($1)", SEQUENCER_LOCK)
    log = await conn.fetch("SELECT * FROM gateway.audit_log ORDER BY seq")
    tree = await conn.fetch("SELECT record, hashes FROM gateway.audit_tree_records")
    try:
        yield
    finally:
        await conn.execute("DELETE FROM gateway.audit_tree_records")
        await conn.execute("DELETE FROM gateway.audit_log")
        columns = list(log[0].keys())
        await conn.copy_records_to_table("audit_log", schema_name="gateway", columns=columns,
                                         records=[tuple(r) for r in log])
        await conn.copy_records_to_table("audit_tree_records", schema_name="gateway", records=[tuple(r) for r in tree])
        await conn.execute("SELECT pg_advisory_unlock($1)", SEQUENCER_LOCK)


@pytest.mark.destructive
async def test_an_entry_rewritten_with_the_chain_after_it_is_named(admin: Api, db: asyncpg.Pool) -> None:
    """The chain alone says ok; the tree does not: /audit/verify names the entry, and its inclusion proof in the
    checkpoint the inspector kept fails."""
    await chained_without_verifying(admin, db, 4)  # entries before the checkpoint kept, whatever ran before
    kept, _ = await _checkpoint(admin)  # signed by the gateway, kept by the inspector
    verified = (await admin.get("/audit/verify")).json()["entries"]
    target = await chained_without_verifying(admin, db, 5) - 2  # after the point /audit/verify verified
    assert target > verified
    async with superuser(db) as conn, _undone(conn):
        await _rewrite(conn, target, tree=False)
        answer = (await admin.get("/audit/verify")).json()
        assert (answer["ok"], answer["first_bad_seq"]) == (False, target), answer
        old = kept.size - 3
        await _rewrite(conn, old, tree=False)
        body = (await admin.get(f"/audit/entries/{old}", params={"checkpoint_size": kept.size})).json()
        assert "proof" in body, body
        with pytest.raises(tlog.ProofError):
            tlog.check_record([_b64(h) for h in body["proof"]], kept.size, kept.root, old - 1,
                              tlog.record_hash(body["leaf_data"].encode()))
    assert (await admin.get("/audit/verify")).json()["ok"] is True


@pytest.mark.destructive
async def test_an_entry_rewritten_with_the_tree_after_it_breaks_consistency_with_the_witness(
    admin: Api, db: asyncpg.Pool
) -> None:
    """A superuser who also recomputes the tree: the consistency proof to the checkpoint the inspector (and the
    witness) kept fails, the gateway refuses to sign over it, and /audit/verify says the roots differ."""
    kept, _ = await _checkpoint(admin)
    await chained_without_verifying(admin, db, 3)
    async with superuser(db) as conn, _undone(conn):
        await _rewrite(conn, kept.size - 2, tree=True)
        size = await conn.fetchval("SELECT max(seq) FROM gateway.audit_log")
        body = (await admin.get("/audit/consistency", params={"from": kept.size, "to": size})).json()
        stored_root = _naive_root(await _leaves(db, size))
        with pytest.raises(tlog.ProofError):
            tlog.check_tree([_b64(h) for h in body["proof"]], size, stored_root, kept.size, kept.root)
        refused = await admin.post("/audit/checkpoints")
        assert (refused.status_code, refused.json()["code"]) == (409, "AUDIT_TREE_INCONSISTENT"), refused.text
        answer = (await admin.get("/audit/verify")).json()
        assert answer["ok"] is False and "root" in answer["problem"], answer
    await asyncio.sleep(0.5)
    assert (await admin.post("/audit/checkpoints")).status_code == 201


@pytest.mark.destructive
async def test_a_deleted_tail_is_detected(admin: Api, db: asyncpg.Pool) -> None:
    kept, _ = await _checkpoint(admin)
    await admin.get("/audit/verify")
    async with superuser(db) as conn, _undone(conn):
        await conn.execute("DELETE FROM gateway.audit_log WHERE seq > $1", kept.size - 3)
        await conn.execute("DELETE FROM gateway.audit_tree_records WHERE record >= $1", kept.size - 3)
        answer = (await admin.get("/audit/verify")).json()
        assert answer["ok"] is False and answer["first_bad_seq"] == kept.size - 2, answer
        refused = await admin.post("/audit/checkpoints")
        assert refused.status_code == 409 and "entries are gone" in refused.json()["detail"], refused.text
    assert (await admin.post("/audit/checkpoints")).status_code == 201


@pytest.mark.destructive
async def test_a_truncated_or_forged_witness_is_said(admin: Api, stack: Stack) -> None:
    await _checkpoint(admin)
    witness = _witness(stack)
    kept = {p.name: p.read_text() for p in witness.iterdir()}
    try:
        for p in witness.iterdir():
            p.unlink()
        await admin.get("/audit", params={"limit": 1})
        await wait_for_audit(admin)
        refused = await admin.post("/audit/checkpoints")
        assert refused.status_code == 409 and "holds no checkpoint" in refused.json()["detail"], refused.text
        assert "holds no checkpoint" in (await admin.get("/audit/verify")).json()["checkpoint_problem"]
        cp = note.parse_checkpoint(note.open_note(kept["latest"], [await _public_key(admin)]))
        (witness / "latest").write_text(note.sign(note.format_checkpoint(cp), cp.origin, Ed25519PrivateKey.generate()))
        refused = await admin.post("/audit/checkpoints")
        assert refused.status_code == 409 and "not signed by this log's key" in refused.json()["detail"], refused.text
    finally:
        for name, text in kept.items():
            (witness / name).write_text(text)
    assert (await admin.post("/audit/checkpoints")).status_code == 201


@pytest.mark.destructive
async def test_a_trail_chained_before_the_tree_is_put_into_it(admin: Api, db: asyncpg.Pool, stack: Stack) -> None:
    """An existing trail with no tree (a database upgraded to revision gateway_0004, or to gateway_0006 which stores
    the tree anew): a starting gateway's sequencer builds the tree from it, in batches, before it chains anything;
    the tree then extends the old checkpoints."""
    kept, _ = await _checkpoint(admin)
    async with superuser(db) as conn:
        await conn.execute("DELETE FROM gateway.audit_tree_records")
    with extra_gateway(stack):
        for _ in range(200):
            head = await db.fetchval("SELECT max(seq) FROM gateway.audit_log")
            stored = await db.fetchval("SELECT count(*) FROM gateway.audit_tree_records")
            if stored == head:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the tree was never rebuilt")
        cp, _ = await _checkpoint(admin)
    assert cp.size >= kept.size and _naive_root(await _leaves(db, cp.size)) == cp.root
    body = (await admin.get("/audit/consistency", params={"from": kept.size, "to": cp.size})).json()
    tlog.check_tree([_b64(h) for h in body["proof"]], cp.size, cp.root, kept.size, kept.root)


async def test_the_command_prints_the_key_the_gateway_serves(admin: Api, stack: Stack) -> None:
    env = {k: v for k, v in stack.env.items() if k != "DATABASE_URL"}
    printed = subprocess.run([sys.executable, "-m", "deploy.cli", "audit", "public-key"], env={**os.environ, **env},
                             capture_output=True, text=True, timeout=60)
    assert printed.returncode == 0, printed.stderr[-2000:]
    assert printed.stdout.strip() == await _public_key(admin)


async def test_proof_endpoints_answer_out_of_range_numbers_with_a_problem_not_a_500(admin: Api) -> None:
    """Attack (issue #13 review): numbers beyond PostgreSQL's bigint reach the database unchecked (an entry's seq,
    a checkpoint size): each must be an RFC 9457 problem naming its field, never a 500."""
    await _checkpoint(admin)
    huge = str(2**63)
    for path, params, field in (
        (f"/audit/entries/{huge}", {}, "seq"),
        ("/audit/entries/1", {"checkpoint_size": huge}, "checkpoint_size"),
        ("/audit/checkpoints", {"after_size": huge}, "after_size"),
        ("/audit/consistency", {"from": "1", "to": huge}, "to"),
    ):
        response = await admin.get(path, params=params)
        assert 400 <= response.status_code < 500, (path, params, response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/problem+json"), response.text
        body = response.json()
        assert body.get("code") and field in response.text, body


@pytest.mark.destructive
async def test_a_wiped_trail_is_said_as_tampering_not_as_an_empty_trail(admin: Api, db: asyncpg.Pool) -> None:
    """Attack (issue #13 review): the superuser deletes the whole trail, its tree and the stored checkpoints. The
    witness still holds the latest signed checkpoint, yet the checkpointer skips its check when the tree is empty:
    no `checkpoint_problem`, and POST /audit/checkpoints answers "the trail is empty" instead of refusing loudly; the
    full check (from the genesis) says ok over 0 entries."""
    kept, _ = await _checkpoint(admin)
    async with superuser(db) as conn, _undone(conn):
        checkpoints = await conn.fetch("SELECT * FROM gateway.audit_checkpoints")
        try:
            await conn.execute("DELETE FROM gateway.audit_checkpoints")
            await conn.execute("DELETE FROM gateway.audit_tree_records")
            await conn.execute("DELETE FROM gateway.audit_log")
            refused = await admin.post("/audit/checkpoints")
            assert refused.status_code == 409 and refused.json()["code"] == "AUDIT_TREE_INCONSISTENT", refused.text
            assert "entries are gone" in refused.json()["detail"], refused.text
            started = (await admin.post("/audit/verify/full")).json()
            for _ in range(100):
                check = (await admin.get(f"/audit/verify/full/{started['id']}")).json()
                if check["status"] != "running":
                    break
                await asyncio.sleep(0.05)
            assert check["status"] == "bad", check
        finally:  # the checkpointer may have stored one again meanwhile (the witness's): the others come back
            await conn.executemany("INSERT INTO gateway.audit_checkpoints (size, root, at, note) "
                                   "VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING",
                                   [(r["size"], r["root"], r["at"], r["note"]) for r in checkpoints])
    assert (await admin.post("/audit/checkpoints")).status_code == 201


@pytest.mark.destructive
async def test_a_proof_over_a_tree_that_lost_hashes_is_a_problem_not_a_500(admin: Api, db: asyncpg.Pool) -> None:
    """Attack (issue #13 review): the superuser deletes a row of the stored tree that proofs read. GET
    /audit/entries/{seq} and /audit/consistency then raise tree_store.TreeError, which nothing answers: a 500
    "internal error" where the gateway knows exactly what is wrong (the stored tree is inconsistent, A6)."""
    kept, _ = await _checkpoint(admin)
    assert kept.size >= 2
    async with superuser(db) as conn, _undone(conn):
        await conn.execute("DELETE FROM gateway.audit_tree_records WHERE record = 1")  # leaf 2: in 1's proof
        for path, params in (
            ("/audit/entries/1", {"checkpoint_size": kept.size}),
            ("/audit/consistency", {"from": 1, "to": kept.size}),
        ):
            response = await admin.get(path, params=params)
            assert response.status_code == 409, (path, response.status_code, response.text)
            assert response.json()["code"] == "AUDIT_TREE_INCONSISTENT", response.text


@pytest.mark.destructive
async def test_the_latest_checkpoint_served_is_never_older_than_the_witnesss(admin: Api, db: asyncpg.Pool) -> None:
    """Attack (issue #13 review): the superuser rewrites an entry after checkpoint X (its tree too) and deletes the
    stored checkpoints after X. The gateway refuses to sign (the witness holds Y), but GET /audit/checkpoints/latest
    serves X from the database: an inspector who did not keep Y verifies an export against X and is told every
    entry X signed is unchanged and the rewritten ones are "newer than it". The witness, outside the database, holds
    Y: what is served as latest is never older than it."""
    older, _ = await _checkpoint(admin)
    await chained_without_verifying(admin, db, 3)
    newer, newer_note = await _checkpoint(admin)
    assert newer.size > older.size
    async with superuser(db) as conn, _undone(conn):
        removed = await conn.fetch("SELECT * FROM gateway.audit_checkpoints WHERE size > $1", older.size)
        try:
            await conn.execute("DELETE FROM gateway.audit_checkpoints WHERE size > $1", older.size)
            await _rewrite(conn, newer.size - 1, tree=True)
            served = (await admin.get("/audit/checkpoints/latest")).text
            assert note.open_checkpoint(served, [await _public_key(admin)]).size >= newer.size, served
        finally:
            await conn.execute("DELETE FROM gateway.audit_checkpoints WHERE size > $1", older.size)
            await conn.copy_records_to_table("audit_checkpoints", schema_name="gateway",
                                             records=[tuple(r) for r in removed])
    assert (await admin.post("/audit/checkpoints")).status_code == 201


@pytest.mark.destructive
async def test_an_entry_is_proved_in_a_kept_checkpoint_the_database_lost(admin: Api, db: asyncpg.Pool) -> None:
    """Attack (issue #13 review): the superuser deletes the stored checkpoint row an inspector kept (the tree and the
    witness keep it): GET /audit/entries/{seq}?checkpoint_size=KEPT answers 404 "no signed checkpoint of size",
    so the inspector cannot check an entry against the checkpoint they hold. The proof needs the tree only; the
    checkpoint is the witness's."""
    kept, kept_note = await _checkpoint(admin)
    await chained_without_verifying(admin, db, 3)
    assert (await _checkpoint(admin))[0].size > kept.size  # a newer one stays: the gateway signs nothing again
    async with superuser(db) as conn:
        removed = await conn.fetch("SELECT * FROM gateway.audit_checkpoints WHERE size = $1", kept.size)
        try:
            await conn.execute("DELETE FROM gateway.audit_checkpoints WHERE size = $1", kept.size)
            response = await admin.get("/audit/entries/1", params={"checkpoint_size": kept.size})
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["checkpoint"] == kept_note and body["checkpoint_size"] == kept.size
            tlog.check_record([_b64(h) for h in body["proof"]], kept.size, kept.root, 0,
                              tlog.record_hash(body["leaf_data"].encode()))
        finally:
            await conn.execute("DELETE FROM gateway.audit_checkpoints WHERE size = $1", kept.size)
            await conn.copy_records_to_table("audit_checkpoints", schema_name="gateway",
                                             records=[tuple(r) for r in removed])
