"""API keys: issued once, stored only as a hash, revoked at once; 401 for no or unknown key."""

import asyncio
import hashlib

import asyncpg

from tests.conftest import Api, MakePrincipal


async def test_key_is_shown_once_and_stored_only_as_hash(admin: Api, db: asyncpg.Pool) -> None:
    response = await admin.post(
        "/admin/principals", json={"name": "湘西州财政局", "role": "finance", "region_code": "433100"}
    )
    assert response.status_code == 201
    body = response.json()
    key = body["api_key"]
    assert key.startswith("ft_") and len(key) > 40
    row = await db.fetchrow("SELECT * FROM gateway.principals WHERE id = $1", body["id"])
    assert row["key_sha256"] == hashlib.sha256(key.encode()).hexdigest()
    # the key itself is nowhere in the gateway's tables
    for table in ("principals", "idempotency_keys", "audit_inbox", "audit_log"):
        found = await db.fetchval(f"SELECT count(*) FROM gateway.{table} t WHERE t::text LIKE '%' || $1 || '%'", key)
        assert found == 0, table
    listed = (await admin.get("/admin/principals", params={"limit": 500})).json()["items"]
    assert all("api_key" not in p for p in listed)


async def test_key_works_then_revocation_stops_it_at_once(admin: Api, make_principal: MakePrincipal) -> None:
    inspector = await make_principal("inspector", "430000")
    assert (await inspector.get("/audit/verify")).status_code == 200
    revoked = await admin.delete(f"/admin/principals/{inspector.principal_id}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    response = await inspector.get("/audit/verify")
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED"


async def test_missing_or_unknown_key_is_401(anonymous: Api, http) -> None:
    for headers in (
        {},
        {"authorization": "Bearer ft_not_a_key"},
        {"authorization": "Basic abc"},
        {"authorization": "Bearer " + "x" * 5000},
    ):
        response = await http.get("/audit", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "UNAUTHORIZED"


async def test_revoking_unknown_principal_is_404(admin: Api) -> None:
    response = await admin.delete("/admin/principals/prn_nope")
    assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND"


async def test_only_admin_issues_keys(make_principal: MakePrincipal) -> None:
    finance = await make_principal("finance", "430000")
    response = await finance.post("/admin/principals", json={"name": "x", "role": "admin", "region_code": "000000"})
    assert response.status_code == 403 and response.json()["code"] == "FORBIDDEN"


async def _cache_hits(http) -> float:
    text = (await http.get("/metrics")).text
    return sum(float(line.split()[-1]) for line in text.splitlines()
               if line.startswith("fundtrack_key_cache_hits_total"))


async def test_a_cached_key_is_still_revoked_at_once(admin: Api, make_principal: MakePrincipal, http) -> None:
    inspector = await make_principal("inspector", "430000")
    before = await _cache_hits(http)
    for _ in range(3):
        assert (await inspector.get("/audit/verify")).status_code == 200
    assert await _cache_hits(http) >= before + 2, "the key was not served from the cache"
    assert (await admin.delete(f"/admin/principals/{inspector.principal_id}")).status_code == 200
    assert (await inspector.get("/audit/verify")).status_code == 401


async def _revoke_in_database(db: asyncpg.Pool, principal_id: str, *, notify: bool) -> None:
    async with db.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO gateway.principal_revocations (principal_id, revoked_by) VALUES ($1, 'another-gateway')",
            principal_id)
        if notify:
            await conn.execute("SELECT pg_notify('fundtrack_revocations', $1)", principal_id)


async def _listener_pid(db: asyncpg.Pool) -> int | None:
    return await db.fetchval(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND application_name = 'fundtrack-gateway-revocations'")


async def test_a_revocation_committed_by_another_gateway_reaches_this_cache(
    make_principal: MakePrincipal, db: asyncpg.Pool
) -> None:
    finance = await make_principal("finance", "430000")
    for _ in range(2):
        assert (await finance.get("/funds/sources")).status_code == 200
    await _revoke_in_database(db, finance.principal_id, notify=True)
    for _ in range(50):
        if (await finance.get("/funds/sources")).status_code == 401:
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the notified revocation never took effect")


async def test_the_cache_trusts_nothing_heard_while_deaf(make_principal: MakePrincipal, db: asyncpg.Pool) -> None:
    """The listener's connection dies; a revocation whose notice was lost must still take effect afterwards."""
    finance = await make_principal("finance", "430000")
    assert (await finance.get("/funds/sources")).status_code == 200
    old = await _listener_pid(db)
    assert old is not None
    await db.execute("SELECT pg_terminate_backend($1)", old)
    for _ in range(200):
        new = await _listener_pid(db)
        if new is not None and new != old:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the listener did not come back")
    await _revoke_in_database(db, finance.principal_id, notify=False)  # as if the notice was lost
    assert (await finance.get("/funds/sources")).status_code == 401


def test_revocation_notices_keep_no_state_and_still_revoke() -> None:
    """Any database role may NOTIFY the revocation channel: the cache keeps nothing per notice (a set of every id
    heard grew without bound), ignores what names no principal, and still forgets a revoked principal at once and
    refuses to re-cache a lookup that began before the revocation."""
    from gateway.auth import KeyCache
    from services.kernel.identity import Principal
    from services.kernel.ids import new_id

    cache = KeyCache()
    cache.set_live(True)
    kept, revoked = Principal(new_id("prn"), "finance", "430000"), Principal(new_id("prn"), "lender", "430523")
    cache.put("k1", kept, generation=cache.generation)
    cache.put("k2", revoked, generation=cache.generation)
    in_flight = cache.generation  # a lookup of k2 that began before the revocation
    for _ in range(2_000):
        cache.revoked("x" * 7_900)  # not a principal id: ignored
    assert cache.generation == in_flight and vars(cache).keys() == {
        "ttl_seconds", "max_entries", "_entries", "_live", "generation"
    }
    cache.revoked(revoked.id)
    assert cache.get("k2") is None and cache.get("k1") == kept
    cache.put("k2", revoked, generation=in_flight)
    assert cache.get("k2") is None, "a lookup from before the revocation put the revoked key back"
