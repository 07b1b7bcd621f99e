"""Operations: metrics, the one OpenAPI document, settings that refuse default secrets, the daily detector run."""

import asyncio
import uuid
from datetime import date, datetime
from types import SimpleNamespace

import asyncpg
import httpx
import pytest
from pydantic import ValidationError

from services.kernel.alerts import AlertDraft, DetectorContext, DetectorRegistry
from services.kernel.db import create_engine, session_factory
from services.kernel.scheduler import daily_scan, seconds_until
from services.kernel.settings import Settings
from tests.conftest import Api, MakePrincipal
from tests.stack import Stack, TestDatabase


async def test_metrics_count_requests_by_route_and_status(anonymous: Api, admin: Api) -> None:
    await admin.get("/audit/verify")
    text = (await anonymous.get("/metrics")).text
    assert 'fundtrack_requests_total{method="GET",route="/audit/verify",status="200"}' in text
    assert "fundtrack_request_seconds_bucket" in text


async def test_openapi_describes_the_whole_public_api(anonymous: Api) -> None:
    document = (await anonymous.get("/openapi.json")).json()
    paths = document["paths"]
    assert "/admin/principals" in paths and "/audit" in paths and "/alerts" in paths
    for prefix in ("/funds/", "/projects", "/loans", "/registry/"):
        assert any(p.startswith(prefix) for p in paths), prefix
    assert not any(p.startswith("/internal") for p in paths)
    assert "roles: admin" in paths["/admin/principals"]["post"]["description"]
    assert (await anonymous.get("/docs")).status_code == 200


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValidationError):
        Settings(env="production")
    assert Settings(env="production", service_secret="x" * 40).env == "production"


def test_seconds_until_the_daily_hour() -> None:
    assert seconds_until(2, datetime(2026, 1, 1, 1, 0)) == 3600
    assert seconds_until(2, datetime(2026, 1, 1, 3, 0)) == 23 * 3600


async def test_daily_run_raises_alerts_and_is_audited(database: TestDatabase, db: asyncpg.Pool, stack: object) -> None:
    registry = DetectorRegistry()
    subject = uuid.uuid4().hex

    @registry.register("DAILY_TEST")
    async def detect(ctx: DetectorContext) -> list[AlertDraft]:
        return [AlertDraft("DAILY_TEST", "low", "430523", "thing", subject, {"as_of": ctx.as_of.isoformat()})]

    engine = create_engine("registry", url=database.url)
    try:
        state = SimpleNamespace(sessions=session_factory(engine), clients={})
        await daily_scan(state, registry, service="registry", as_of=date(2026, 3, 1))
    finally:
        await engine.dispose()
    assert await db.fetchval("SELECT count(*) FROM registry.alerts WHERE subject_id = $1", subject) == 1
    audited = await db.fetchval(
        "SELECT count(*) FROM registry.audit_outbox WHERE request_id = 'daily-registry-2026-03-01'"
    ) + await db.fetchval("SELECT count(*) FROM gateway.audit_log WHERE request_id = 'daily-registry-2026-03-01'")
    assert audited == 1


@pytest.mark.destructive
async def test_readiness_goes_red_while_a_service_cannot_reach_its_database(
    anonymous: Api, stack: Stack, db: asyncpg.Pool
) -> None:
    """Issue #14: /readyz (the gateway's, and the service's own) says 503 while the loans service cannot get a
    database connection (its login refused, its sessions cut), and 200 again once it can; /healthz stays 200: the
    process lives."""
    if not stack.db_urls:
        pytest.skip("the server let no per-process roles be made: the loans process logs in as the suite's user")
    loans = stack.service_urls["loans"]
    assert (await anonymous.get("/readyz")).status_code == 200
    await db.execute("ALTER ROLE fundtrack_loans NOLOGIN")
    try:
        await db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'fundtrack_loans'")
        gateway = await anonymous.get("/readyz")
        assert gateway.status_code == 503 and gateway.json()["checks"]["loans"] is False, gateway.text
        assert gateway.json()["checks"]["funds"] is True, gateway.text
        own = await anonymous.get("/readyz", params={"scope": "self"})  # a load balancer's probe: its own database
        assert own.status_code == 200 and own.json()["checks"] == {"database": True}, own.text
        async with httpx.AsyncClient(base_url=loans) as client:
            own = await client.get("/readyz")
            assert own.status_code == 503 and own.json()["ready"] is False, own.text
            assert (await client.get("/healthz")).status_code == 200
    finally:
        await db.execute("ALTER ROLE fundtrack_loans LOGIN")
    for _ in range(100):
        if (await anonymous.get("/readyz")).status_code == 200:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the gateway never said ready again")


@pytest.mark.destructive
async def test_a_service_refused_a_database_connection_answers_503_not_500(
    make_principal: MakePrincipal, stack: Stack, db: asyncpg.Pool
) -> None:
    """Issue #14: no 500 when no connection can be had. The loans service's role at its connection limit (the server
    refuses it: SQLSTATE 53300) and its sessions cut: a request through the gateway is 503 DATABASE_UNAVAILABLE (it
    was a 500); the limit lifted, the service answers again."""
    if not stack.db_urls:
        pytest.skip("the server let no per-process roles be made: the loans process logs in as the suite's user")
    inspector, params = await make_principal("inspector", "430124"), {"county": "430124"}
    assert (await inspector.get("/loans", params=params)).status_code == 200
    await db.execute("ALTER ROLE fundtrack_loans CONNECTION LIMIT 0")
    try:
        await db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'fundtrack_loans'")
        refused = await inspector.get("/loans", params=params)
        assert refused.status_code == 503 and refused.json()["code"] == "DATABASE_UNAVAILABLE", refused.text
    finally:
        await db.execute("ALTER ROLE fundtrack_loans CONNECTION LIMIT -1")
    for _ in range(100):
        answer = await inspector.get("/loans", params=params)
        if answer.status_code == 200:
            break
        assert answer.status_code == 503 and answer.json()["code"] == "DATABASE_UNAVAILABLE", answer.text
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the loans service never answered again")


@pytest.mark.destructive
async def test_the_gateway_refused_its_database_answers_503_not_500(
    make_principal: MakePrincipal, anonymous: Api, stack: Stack, db: asyncpg.Pool
) -> None:
    """Issue #14: the gateway's own role at its connection limit and its sessions cut: a key it has not seen yet
    cannot be looked up nor its answer audited: 503 with `outcome: none` (nothing was done), never a 500, a 401 or a
    200; its connections back, the same key is answered."""
    if not stack.db_urls:
        pytest.skip("the server let no per-process roles be made: the gateway logs in as the suite's user")
    inspector = await make_principal("inspector", "430124")  # not looked up yet: no cached principal
    await db.execute("ALTER ROLE fundtrack_gateway CONNECTION LIMIT 0")
    try:
        await db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'fundtrack_gateway'")
        refused = await inspector.get("/loans", params={"county": "430124"})
        assert refused.status_code == 503 and refused.json()["outcome"] == "none", refused.text
    finally:
        await db.execute("ALTER ROLE fundtrack_gateway CONNECTION LIMIT -1")
    for _ in range(200):  # answered again, and ready (its audit writer and sequencer have their connections back)
        answer = await inspector.get("/loans", params={"county": "430124"})
        assert answer.status_code in (200, 503), answer.text
        if answer.status_code == 200 and (await anonymous.get("/readyz")).status_code == 200:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the gateway never answered again")


async def test_a_daily_detector_that_fails_loses_only_its_own_alerts(
    database: TestDatabase, db: asyncpg.Pool, stack: object
) -> None:
    """Each detector of the daily run writes its alerts in a transaction of its own: the one that fails is logged,
    the others' alerts are kept and the run is still audited."""
    registry = DetectorRegistry()
    subject = uuid.uuid4().hex

    @registry.register("DAILY_FAILS")
    async def fails(ctx: DetectorContext) -> list[AlertDraft]:
        raise RuntimeError("the registry is down")

    @registry.register("DAILY_WORKS")
    async def works(ctx: DetectorContext) -> list[AlertDraft]:
        return [AlertDraft("DAILY_WORKS", "low", "430523", "thing", subject, {"as_of": ctx.as_of.isoformat()})]

    engine = create_engine("registry", url=database.url)
    try:
        state = SimpleNamespace(sessions=session_factory(engine), clients={})
        await daily_scan(state, registry, service="registry", as_of=date(2026, 3, 2))
    finally:
        await engine.dispose()
    assert await db.fetchval("SELECT count(*) FROM registry.alerts WHERE subject_id = $1", subject) == 1
    assert await db.fetchval(
        "SELECT count(*) FROM registry.audit_outbox WHERE request_id = 'daily-registry-2026-03-02'"
    ) + await db.fetchval("SELECT count(*) FROM gateway.audit_log WHERE request_id = 'daily-registry-2026-03-02'") == 1
