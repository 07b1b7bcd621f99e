"""API keys: issued once, stored only as a hash, revoked at once; 401 for no or unknown key."""

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
