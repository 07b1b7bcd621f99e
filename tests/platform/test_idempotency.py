"""Idempotency-Key on POST: the same key and body give the first answer again and change nothing, even when 20
identical requests race; the same key with another body is 409 IDEMPOTENCY_CONFLICT."""

import asyncio
import uuid

import asyncpg

from tests.conftest import Api, MakePrincipal
from tests.platform.test_alerts import _store_alert


async def test_twenty_concurrent_identical_posts_have_one_effect(admin: Api, db: asyncpg.Pool) -> None:
    name = f"concurrent-{uuid.uuid4().hex}"
    body = {"name": name, "role": "lender", "region_code": "430523"}
    key = {"idempotency-key": uuid.uuid4().hex}
    responses = await asyncio.gather(*(admin.post("/admin/principals", json=body, headers=key) for _ in range(20)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert await db.fetchval("SELECT count(*) FROM gateway.principals WHERE name = $1", name) == 1
    # The key is shown once: replays carry the record without it.
    keys = [r.json()["api_key"] for r in responses]
    assert sum(k is not None for k in keys) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 19


async def test_same_key_other_body_is_a_conflict(admin: Api, db: asyncpg.Pool) -> None:
    key = {"idempotency-key": uuid.uuid4().hex}
    first = await admin.post(
        "/admin/principals",
        json={"name": "a-" + key["idempotency-key"], "role": "lender", "region_code": "430523"},
        headers=key,
    )
    assert first.status_code == 201
    other = await admin.post(
        "/admin/principals",
        json={"name": "b-" + key["idempotency-key"], "role": "lender", "region_code": "430523"},
        headers=key,
    )
    assert other.status_code == 409 and other.json()["code"] == "IDEMPOTENCY_CONFLICT"
    assert (
        await db.fetchval("SELECT count(*) FROM gateway.principals WHERE name = $1", "b-" + key["idempotency-key"]) == 0
    )


async def test_refused_request_keeps_no_key(admin: Api) -> None:
    key = {"idempotency-key": uuid.uuid4().hex}
    bad = await admin.post(
        "/admin/principals", json={"name": "x", "role": "emperor", "region_code": "430523"}, headers=key
    )
    assert bad.status_code == 422
    fixed = await admin.post(
        "/admin/principals",
        json={"name": "x-" + key["idempotency-key"], "role": "lender", "region_code": "430523"},
        headers=key,
    )
    assert fixed.status_code == 201


async def test_idempotency_reaches_services(make_principal: MakePrincipal, db: asyncpg.Pool) -> None:
    """The alert acknowledge goes through a service: its key is kept in that service's schema."""
    inspector = await make_principal("inspector", "430000")
    alert_id = await _store_alert(db, "projects", "430523")
    key = {"idempotency-key": uuid.uuid4().hex}
    calls = await asyncio.gather(
        *(inspector.post(f"/alerts/{alert_id}/acknowledge", json={"note": "n"}, headers=key) for _ in range(5))
    )
    assert [c.status_code for c in calls] == [200] * 5
    events = await db.fetchval("SELECT count(*) FROM projects.alert_events WHERE alert_id = $1", alert_id)
    assert events == 1


async def test_a_money_or_loan_post_without_a_key_is_warned(make_principal: MakePrincipal) -> None:
    """Issue #14: without an Idempotency-Key a lost answer cannot be retried safely; the money and loan services'
    POSTs say so in a Warning header, with a key they do not, and the other services' POSTs are not money."""
    finance = await make_principal("finance", "430000")
    lender = await make_principal("lender", "430000")
    manager = await make_principal("project_manager", "430000")
    for api, path in ((finance, "/funds/allocations"), (lender, "/loans")):
        keyless = await api.post(path, json={})
        assert keyless.status_code == 422 and "no Idempotency-Key" in keyless.headers.get("warning", ""), path
        keyed = await api.post(path, json={}, headers={"idempotency-key": uuid.uuid4().hex})
        assert keyed.status_code == 422 and "warning" not in keyed.headers, path
    other = await manager.post("/projects", json={})
    assert other.status_code == 422 and "warning" not in other.headers
