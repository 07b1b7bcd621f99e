"""S5 without the outbox's unique nonce (issue #15): every state-changing request claims its signed nonce in
`signed_nonces`, within a window counted from its signature's timestamp, and the nonces are forgotten in bounded
turns that no claim waits for (services/kernel/nonces.py). The replay of a captured change is refused end to end in
tests/loans/test_signed_replay.py; here the claim itself, on the loans schema of the suite's database, and the
migration that moved the guard (migrations/nonce_claims.py) with a process of the version before still writing."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from alembic import command

from deploy.drift import differences
from deploy.migrate import alembic_config
from services.kernel import nonces
from services.kernel.db import create_engine, plain_url, session_factory
from services.kernel.errors import REQUEST_OUTLIVED_SIGNATURE, ReplayedRequest, ServiceUnavailable
from tests.county_keys import upgrade_again
from tests.platform import before_baseline
from tests.stack import Stack, TestDatabase

SCHEMA = "loans"
FORGET_KEY = f"hashtext('{SCHEMA}' || '.signed_nonces forgetting')"


@pytest.fixture
async def sessions(database: TestDatabase, stack: Stack) -> AsyncIterator[object]:
    engine = create_engine(SCHEMA, url=database.url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def _claim(sessions: object, nonce: str, signed_at: float) -> None:
    async with sessions() as session:  # type: ignore[operator]
        await nonces.claim(session, nonce, signed_at=int(signed_at))
        await session.commit()


def _nonce() -> str:
    return "test-" + uuid.uuid4().hex


async def test_a_nonce_is_claimed_once(sessions: object, db: asyncpg.Pool) -> None:
    nonce = _nonce()
    await _claim(sessions, nonce, time.time())
    with pytest.raises(ReplayedRequest):
        await _claim(sessions, nonce, time.time())
    assert await db.fetchval(f"SELECT count(*) FROM {SCHEMA}.signed_nonces WHERE nonce = $1", nonce) == 1


async def test_a_claim_within_the_window_is_taken_and_one_past_it_is_refused_with_nothing_kept(
    sessions: object, db: asyncpg.Pool
) -> None:
    window = nonces.window_seconds()
    inside, outside = _nonce(), _nonce()
    await _claim(sessions, inside, time.time() - window + 60)
    with pytest.raises(ServiceUnavailable) as refused:
        await _claim(sessions, outside, time.time() - window - 1)
    assert refused.value.code == REQUEST_OUTLIVED_SIGNATURE
    kept = await db.fetch(f"SELECT nonce FROM {SCHEMA}.signed_nonces WHERE nonce = ANY($1::text[])", [inside, outside])
    assert [r["nonce"] for r in kept] == [inside]


async def _old_nonces(db: asyncpg.Pool, count: int, *, age: float) -> list[str]:
    nonces = [_nonce() for _ in range(count)]
    await db.execute(
        f"INSERT INTO {SCHEMA}.signed_nonces (nonce, signed_at) "
        "SELECT n, now() - make_interval(secs => $2) FROM unnest($1::text[]) AS n", nonces, age)
    return nonces


async def _left(db: asyncpg.Pool, nonces: list[str]) -> int:
    return int(await db.fetchval(f"SELECT count(*) FROM {SCHEMA}.signed_nonces WHERE nonce = ANY($1::text[])",
                                 nonces))


async def test_a_claim_forgets_a_bounded_number_of_forgotten_nonces_and_keeps_those_still_remembered(
    sessions: object, db: asyncpg.Pool
) -> None:
    memory = nonces.memory_seconds()
    await db.execute(f"DELETE FROM {SCHEMA}.signed_nonces WHERE signed_at < now() - make_interval(secs => $1)",
                     memory)
    forgotten = await _old_nonces(db, nonces.FORGET_AT_ONCE + 10, age=memory + 60)
    remembered = await _old_nonces(db, 5, age=memory - 60)  # past the window, not yet forgotten: a replay refused
    await _claim(sessions, _nonce(), time.time())
    assert await _left(db, forgotten) == 10  # one turn, FORGET_AT_ONCE of them
    assert await _left(db, remembered) == 5
    await _claim(sessions, _nonce(), time.time())
    assert await _left(db, forgotten) == 0
    assert await _left(db, remembered) == 5


async def test_a_claim_does_not_wait_for_another_transactions_forgetting(sessions: object, db: asyncpg.Pool) -> None:
    """While another transaction holds the forgetting turn (its claim's deletes uncommitted), a claim goes on
    without forgetting anything rather than queueing behind it; the next turn forgets."""
    forgotten = await _old_nonces(db, 3, age=nonces.memory_seconds() + 60)
    async with db.acquire() as holder:
        async with holder.transaction():
            assert await holder.fetchval(f"SELECT pg_try_advisory_xact_lock({FORGET_KEY})")
            await asyncio.wait_for(_claim(sessions, _nonce(), time.time()), timeout=5)
            assert await _left(db, forgotten) == 3
    await _claim(sessions, _nonce(), time.time())
    assert await _left(db, forgotten) == 0


# What a process of the version before writes: an outbox entry carrying its request's nonce, and an unaudited
# request's claim without the signature's time.
_OLD_ENTRY = (
    "INSERT INTO audit_outbox (request_id, principal_id, role, region_code, method, path, entity_ids, body_sha256, "
    "status, nonce) VALUES ('r', 'p', 'lender', '430523', 'POST', '/loans', '{}', 'x', 201, $1)"
)
_OLD_CLAIM = "INSERT INTO signed_nonces (nonce) VALUES ($1)"


async def test_the_revision_moves_the_guard_and_a_process_of_the_version_before_is_still_refused_a_replay(
    scratch: str,
) -> None:
    url = plain_url(scratch)
    conn = await asyncpg.connect(url)
    try:
        await before_baseline.restore_at(conn, scratch, "registry", "registry_0013_county_keys")
        await conn.execute("SET search_path = registry")
        await conn.execute(_OLD_ENTRY, "before-1")
        await conn.execute(_OLD_CLAIM, "before-2")
        long_ago = _OLD_ENTRY.replace("status, nonce)", "status, nonce, at)").replace(
            "201, $1)", "201, $1, now() - make_interval(secs => $2))")
        await conn.execute(long_ago, "before-0", nonces.memory_seconds() + 60)
        await asyncio.to_thread(command.upgrade, alembic_config("registry", scratch), "heads")

        indexes = {r["indexname"] for r in await conn.fetch(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'registry' "
            "AND tablename IN ('audit_outbox', 'signed_nonces')")}
        assert "uq_audit_outbox_nonce" not in indexes and "ix_signed_nonces_seen_at" not in indexes
        assert "ix_signed_nonces_signed_at" in indexes
        # the unaudited claim of before, and the nonce of the entry written within the memory, claimed; not the
        # one written before it (a replay of it claims past the window, and is refused for that)
        assert {r["nonce"] for r in await conn.fetch("SELECT nonce FROM signed_nonces")} == {"before-1", "before-2"}

        # the version before: an entry with a new nonce is taken (and its nonce claimed); its replay, and an entry
        # with a nonce claimed by an unaudited request, are refused with the old index's error, which it answers
        # as a replay (outbox.NONCE_INDEX of that version)
        await conn.execute(_OLD_ENTRY, "after-1")
        assert await conn.fetchval("SELECT count(*) FROM signed_nonces WHERE nonce = 'after-1'") == 1
        for nonce in ("after-1", "before-2", "before-1"):
            with pytest.raises(asyncpg.UniqueViolationError) as replayed:
                await conn.execute(_OLD_ENTRY, nonce)
            assert replayed.value.constraint_name == "uq_audit_outbox_nonce"
        # the new version's claim refuses a nonce the version before wrote, and the version before refuses one the
        # new version claimed; an entry without a nonce (the new version's) claims nothing
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(_OLD_CLAIM, "after-1")
        await conn.execute("INSERT INTO signed_nonces (nonce, signed_at) VALUES ('new-1', now())")
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(_OLD_ENTRY, "new-1")
        claimed = await conn.fetchval("SELECT count(*) FROM signed_nonces")
        await conn.execute(_OLD_ENTRY, None)
        assert await conn.fetchval("SELECT count(*) FROM signed_nonces") == claimed

        await upgrade_again(scratch, "registry", "registry_0013_county_keys")
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(_OLD_ENTRY, "after-1")
    finally:
        await conn.close()
    assert await asyncio.to_thread(differences, scratch, ("registry",)) == []
