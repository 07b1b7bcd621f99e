"""The audit trail (A1, A2): every request recorded, chained without forks or gaps under concurrency, filtered
and exported for inspectors, refused by the database for UPDATE and DELETE, and tamper-evident."""

import asyncio
import csv
import io
import os
import signal
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.conftest import Api, MakePrincipal, signed, wait_for_audit
from tests.platform.test_alerts import _store_alert
from tests.stack import Stack, extra_gateway


async def _entries(admin: Api, **params: str) -> list[dict]:
    response = await admin.get("/audit", params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    items: list[dict] = response.json()["items"]
    return items


async def test_two_hundred_concurrent_requests_chain_without_fork_or_gap(
    admin: Api, make_principal: MakePrincipal, db: asyncpg.Pool
) -> None:
    inspector = await make_principal("inspector", "430000")
    before = (await wait_for_audit(admin))["entries"]
    tag = uuid.uuid4().hex[:10]
    ids = [f"{tag}-{i}" for i in range(200)]
    calls = [
        inspector.get("/audit/verify" if i % 2 else "/alerts", headers={"x-request-id": rid})
        for i, rid in enumerate(ids)
    ]
    responses = await asyncio.gather(*calls)
    assert {r.status_code for r in responses} == {200}
    result = await wait_for_audit(admin)
    assert result["ok"] is True and result["first_bad_seq"] is None
    assert result["entries"] >= before + 200
    rows = await db.fetch(
        "SELECT request_id, count(*) AS n FROM gateway.audit_log WHERE request_id LIKE $1 AND origin = 'gateway' "
        "GROUP BY request_id",
        f"{tag}-%",
    )
    assert {r["request_id"] for r in rows} == set(ids)
    assert all(r["n"] == 1 for r in rows)
    gaps = await db.fetchval("SELECT max(seq) - min(seq) + 1 - count(*) FROM gateway.audit_log")
    assert gaps == 0
    forks = await db.fetchval("SELECT count(*) - count(DISTINCT prev_hash) FROM gateway.audit_log")
    assert forks == 0


async def test_refusals_are_recorded_with_their_code(admin: Api, make_principal: MakePrincipal, http) -> None:
    tag = uuid.uuid4().hex
    finance = await make_principal("finance", "430000")
    await http.get("/audit", headers={"x-request-id": f"{tag}-401"})
    await finance.get("/audit", headers={"x-request-id": f"{tag}-403"})
    await finance.get("/nowhere", headers={"x-request-id": f"{tag}-404"})
    await admin.post("/admin/principals", json={"role": "x"}, headers={"x-request-id": f"{tag}-422"})
    await wait_for_audit(admin)
    expected = {
        "401": ("UNAUTHORIZED", "anonymous"),
        "403": ("FORBIDDEN", finance.principal_id),
        "404": ("NOT_FOUND", finance.principal_id),
        "422": ("VALIDATION_ERROR", "admin"),
    }
    for status, (code, actor) in expected.items():
        [entry] = await _entries(admin, request_id=f"{tag}-{status}")
        assert (entry["status"], entry["code"], entry["principal_id"]) == (int(status), code, actor)


async def test_entry_fields_filters_and_pages(admin: Api, make_principal: MakePrincipal) -> None:
    created = await admin.post(
        "/admin/principals",
        json={"name": "filter-test", "role": "lender", "region_code": "430523"},
        headers={"x-request-id": "filters-" + uuid.uuid4().hex},
    )
    new_id = created.json()["id"]
    await wait_for_audit(admin)
    by_entity = await _entries(admin, entity_id=new_id)
    assert len(by_entity) == 2, "the door's entry and the change's own entry both name the created principal"
    door = [e for e in by_entity if e["origin"] == "gateway"][0]
    assert set(door) >= {
        "seq",
        "at",
        "principal_id",
        "role",
        "region_code",
        "method",
        "path",
        "status",
        "code",
        "request_id",
        "entity_ids",
        "body_sha256",
        "prev_hash",
        "hash",
    }
    assert (door["method"], door["path"], door["status"], door["role"]) == ("POST", "/admin/principals", 201, "admin")
    assert len(door["body_sha256"]) == 64
    # the change itself was also recorded by its own transaction (origin: the gateway's outbox)
    assert {e["origin"] for e in by_entity} == {"gateway"}
    posts = await _entries(admin, method="POST", path_prefix="/admin/", status="201")
    assert all(e["method"] == "POST" and e["path"].startswith("/admin/") and e["status"] == 201 for e in posts)
    page1 = (await admin.get("/audit", params={"limit": 3})).json()
    page2 = (await admin.get("/audit", params={"limit": 3, "cursor": page1["next_cursor"]})).json()
    assert page1["items"][-1]["seq"] > page2["items"][0]["seq"]
    until = page1["items"][0]["at"]
    assert all(e["at"] < until for e in await _entries(admin, until=until))


async def test_inspectors_see_only_their_jurisdiction(admin: Api, make_principal: MakePrincipal) -> None:
    county_finance = await make_principal("finance", "450521")
    other_finance = await make_principal("finance", "460100")
    await county_finance.get("/funds/sources")
    await other_finance.get("/funds/sources")
    await wait_for_audit(admin)
    inspector = await make_principal("inspector", "450000")
    seen = {e["principal_id"] for e in (await inspector.get("/audit", params={"limit": 500})).json()["items"]}
    assert county_finance.principal_id in seen
    assert other_finance.principal_id not in seen


async def test_export_is_csv_with_the_entry_fields(admin: Api) -> None:
    tag = "export-" + uuid.uuid4().hex
    await admin.get("/public/announcements", headers={"x-request-id": tag})
    await wait_for_audit(admin)
    response = await admin.get("/audit/export", params={"request_id": tag})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 1 and rows[0]["request_id"] == tag and rows[0]["path"] == "/public/announcements"
    assert {"seq", "at", "principal_id", "hash", "prev_hash", "entity_ids"} <= set(rows[0])


async def test_export_neutralises_formulas_planted_by_a_keyless_caller(anonymous: Api, admin: Api) -> None:
    """S10: a keyless caller's request id and path reach the inspector's spreadsheet as text, never as a formula;
    the numbers the gateway itself holds (seq, status) stay numbers."""
    planted = '=HYPERLINK("http://evil.example/x","open")-' + uuid.uuid4().hex
    response = await anonymous.get("/public/announcements/@SUM(1+1)", headers={"x-request-id": planted})
    assert response.headers["x-request-id"] == planted  # accepted as the request id: it is printable ASCII
    await wait_for_audit(admin)
    export = await admin.get("/audit/export", params={"request_id": planted})
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == 1
    assert rows[0]["request_id"] == "'" + planted
    assert rows[0]["entity_ids"] == "'@SUM(1+1)"
    assert rows[0]["path"] == "/public/announcements/@SUM(1+1)"  # starts with '/': not a formula, left as it is
    assert rows[0]["status"] == str(response.status_code) and rows[0]["seq"].isdigit()


async def test_a_change_made_past_the_gateway_is_still_in_the_trail(stack: Stack, admin: Api, db: asyncpg.Pool) -> None:
    """As if the gateway died after the service committed: the service's outbox entry reaches the chain."""
    alert_id = await _store_alert(db, "loans", "430523")
    url = f"{stack.service_urls['loans']}/internal/alerts/{alert_id}/acknowledge"
    body = b'{"note": "direct"}'
    headers = signed(stack, "POST", url, body=body)
    async with httpx.AsyncClient() as client:
        response = await client.post(url, content=body, headers={**headers, "content-type": "application/json"})
    assert response.status_code == 200
    entries: list[dict] = []
    for _ in range(100):  # the sequencer pulls service outboxes every 0.2 s
        entries = await _entries(admin, request_id=headers["x-request-id"])
        if entries:
            break
        await asyncio.sleep(0.1)
    [entry] = entries
    assert entry["origin"] == "loans" and alert_id in entry["entity_ids"] and entry["status"] == 200
    assert (await admin.get("/audit/verify")).json()["ok"] is True


async def test_the_database_refuses_update_and_delete(db: asyncpg.Pool, stack: Stack) -> None:
    async with db.acquire() as conn:
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            await conn.execute("UPDATE gateway.audit_log SET status = 200 WHERE seq = 1")
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            await conn.execute("DELETE FROM gateway.audit_log WHERE seq = 1")
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            await conn.execute("TRUNCATE gateway.audit_log")
        if stack.env["FUNDTRACK_DB_ROLES"] == "1":
            async with conn.transaction():
                await conn.execute("SET LOCAL ROLE fundtrack_gateway")
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.execute("UPDATE gateway.audit_log SET status = 200 WHERE seq = 1")
            async with conn.transaction():
                await conn.execute("SET LOCAL ROLE fundtrack_funds")
                with pytest.raises(asyncpg.InsufficientPrivilegeError):  # a service cannot read another's schema
                    await conn.execute("SELECT count(*) FROM loans.alerts")


async def chained_without_verifying(admin: Api, db: asyncpg.Pool, count: int) -> int:
    """Make `count` requests and wait until they are chained, without asking /audit/verify (which would verify
    them): the seq of the last."""
    tag = uuid.uuid4().hex
    for i in range(count):
        await admin.get("/audit", params={"limit": 1}, headers={"x-request-id": f"{tag}-{i}"})
    for _ in range(100):
        seq = await db.fetchval("SELECT max(seq) FROM gateway.audit_log WHERE request_id = $1", f"{tag}-{count - 1}")
        if seq is not None:
            return int(seq)
        await asyncio.sleep(0.05)
    raise AssertionError("the requests were never chained")


async def full_check(admin: Api) -> dict:
    started = await admin.post("/audit/verify/full")
    assert started.status_code == 202, started.text
    for _ in range(600):
        check = (await admin.get(f"/audit/verify/full/{started.json()['id']}")).json()
        if check["status"] != "running":
            return check
        await asyncio.sleep(0.05)
    raise AssertionError("the full check never finished")


async def test_only_a_national_admin_runs_the_full_check(admin: Api, make_principal: MakePrincipal) -> None:
    """S1: the full check reads every jurisdiction's entries; a provincial admin neither starts nor reads one."""
    provincial = await make_principal("admin", "430000")
    refused = await provincial.post("/audit/verify/full")
    assert refused.status_code == 403, refused.text
    assert (refused.json()["code"], refused.json()["rule"]) == ("NOT_IN_JURISDICTION", "S1"), refused.text
    started = await admin.post("/audit/verify/full")
    assert started.status_code == 202, started.text
    hidden = await provincial.get(f"/audit/verify/full/{started.json()['id']}")
    assert hidden.status_code == 403 and hidden.json()["code"] == "NOT_IN_JURISDICTION", hidden.text
    assert (await admin.get(f"/audit/verify/full/{started.json()['id']}")).status_code == 200


@pytest.mark.destructive
async def test_tampering_is_detected_at_the_first_bad_entry(admin: Api, db: asyncpg.Pool) -> None:
    """A2, A7: /audit/verify reads the entries chained since the point it last verified, and names the first bad
    one among them; an entry changed before that point is named by the full check (POST /audit/verify/full)."""
    verified = (await wait_for_audit(admin))["entries"]
    target = await chained_without_verifying(admin, db, 5) - 2
    assert target > verified
    async with db.acquire() as conn:  # a superuser who switches the trigger off
        await conn.execute("SET session_replication_role = replica")
        try:
            for seq in (target, verified - 3):
                original = await db.fetchval("SELECT status FROM gateway.audit_log WHERE seq = $1", seq)
                await conn.execute("UPDATE gateway.audit_log SET status = 299 WHERE seq = $1", seq)
                if seq == target:
                    tampered = (await admin.get("/audit/verify")).json()
                    assert tampered["ok"] is False and tampered["first_bad_seq"] == target, tampered
                full = await full_check(admin)
                assert (full["status"], full["first_bad_seq"]) == ("bad", seq), full
                await conn.execute("UPDATE gateway.audit_log SET status = $2 WHERE seq = $1", seq, original)
        finally:
            await conn.execute("SET session_replication_role = origin")
    restored = (await admin.get("/audit/verify")).json()
    assert restored["ok"] is True
    assert restored["sequencer_lag_ms"] <= restored["max_delay_ms"] * 5
    assert (await full_check(admin))["status"] == "ok"


async def test_a_change_no_request_brought_still_reaches_the_trail_within_the_promised_delay(
    admin: Api, db: asyncpg.Pool
) -> None:
    """A scheduled job's entry is written into a service's outbox with no request through the door: the sequencer's
    sweep still reads that service, within the `max_delay_ms` /audit/verify announces."""
    request_id = f"job-{uuid.uuid4().hex[:12]}"
    await db.execute(
        "INSERT INTO loans.audit_outbox (request_id, principal_id, role, region_code, method, path, query, entity_ids,"
        " body_sha256, status) VALUES ($1, 'scheduler', 'service', '000000', 'POST', '/internal/scan', '', '{}',"
        " '', 200)", request_id)
    promised = (await admin.get("/audit/verify")).json()["max_delay_ms"] / 1000
    started = time.monotonic()
    while time.monotonic() - started < promised + 2.0:
        items = (await admin.get("/audit", params={"request_id": request_id})).json()["items"]
        if items:
            assert items[0]["origin"] == "loans"
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the entry never reached the trail")
    assert time.monotonic() - started < promised + 1.0


def _verifications(metrics: str) -> float:
    return next(float(line.split()[-1]) for line in metrics.splitlines()
                if line.startswith("fundtrack_audit_verifications_total "))


async def test_verifications_asked_at_once_share_one_recomputation(admin: Api, stack: Stack) -> None:
    """A2: fifty inspectors asking /audit/verify at once share the running verification instead of running fifty.
    Each answer is a real verification (ok, the chain's head); one asked after they finished runs anew."""
    async with httpx.AsyncClient(base_url=stack.gateway_url) as anyone:
        before = _verifications((await anyone.get("/metrics")).text)
        answers = await asyncio.gather(*(admin.get("/audit/verify") for _ in range(50)))
        during = _verifications((await anyone.get("/metrics")).text)
        assert {a.status_code for a in answers} == {200} and {a.json()["ok"] for a in answers} == {True}
        assert 1 <= during - before < 50
        assert (await admin.get("/audit/verify")).json()["ok"] is True
        assert _verifications((await anyone.get("/metrics")).text) == during + 1


async def test_a_verification_reads_only_what_was_chained_since_the_last(admin: Api, db: asyncpg.Pool) -> None:
    """A7 (issue #13): a verification starts from the point the last one verified (its root checked against the
    stored tree), so its cost is that of the entries chained since, not of the trail's history."""
    first = (await wait_for_audit(admin))["entries"]
    await chained_without_verifying(admin, db, 5)
    answer = (await admin.get("/audit/verify")).json()
    assert answer["ok"] is True and answer["verified_from"] >= first
    assert answer["entries"] >= first + 5 and answer["problem"] is None


def _requests_count(metrics: str, route: str) -> float:
    prefix = f'fundtrack_requests_total{{method="GET",route="{route}",status="200"}} '
    return next((float(line.split()[-1]) for line in metrics.splitlines() if line.startswith(prefix)), 0.0)


async def test_health_checks_are_counted_not_audited(anonymous: Api, admin: Api) -> None:
    """A1 as read with S14: a liveness, readiness or metrics probe is not a business request: no audit entry each,
    a count by route and status on /metrics instead. A business request without a key is still recorded."""
    tags = {path: f"probe-{uuid.uuid4().hex}" for path in ("/healthz", "/readyz", "/metrics", "/public/announcements")}
    counted = {p: _requests_count((await anonymous.get("/metrics")).text, p) for p in ("/healthz", "/readyz")}
    for path, tag in tags.items():
        assert (await anonymous.get(path, headers={"x-request-id": tag})).status_code == 200
    await wait_for_audit(admin)
    recorded = {path: len(await _entries(admin, request_id=tag)) for path, tag in tags.items()}
    assert recorded == {"/healthz": 0, "/readyz": 0, "/metrics": 0, "/public/announcements": 1}
    metrics = (await anonymous.get("/metrics")).text
    assert {p: _requests_count(metrics, p) - n for p, n in counted.items()} == {"/healthz": 1, "/readyz": 1}


async def test_one_full_check_runs_at_a_time(admin: Api, db: asyncpg.Pool) -> None:
    """Asking for a full check while one runs answers that one (no whole-trail reads stacked by repeated or
    concurrent requests); once it has finished, asking again starts a new one. The first is held running by a
    lock on the trail (a test's trail is read in milliseconds)."""
    async with db.acquire() as conn:
        async with conn.transaction():
            await conn.execute("LOCK TABLE gateway.audit_tree_records IN ACCESS EXCLUSIVE MODE")
            answers = [await admin.post("/audit/verify/full") for _ in range(5)]
    assert all(a.status_code == 202 for a in answers), [a.text for a in answers]
    ids = {a.json()["id"] for a in answers}
    assert len(ids) == 1, ids
    (first,) = ids
    for _ in range(600):
        if (await admin.get(f"/audit/verify/full/{first}")).json()["status"] != "running":
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the full check never finished")
    again = await admin.post("/audit/verify/full")
    assert again.status_code == 202 and again.json()["id"] != first, again.text


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _gateway_pid(port: str) -> int:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"gateway.app:app" in args and port.encode() in args:
            return int(cmdline.parent.name)
    raise AssertionError(f"no gateway on port {port}")


def _alive(pids: set[int]) -> set[int]:
    return {p for p in pids if Path(f"/proc/{p}").exists() and "zombie" not in _state(p)}


def _state(pid: int) -> str:
    try:
        return (Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0]).lower()
    except (OSError, IndexError):
        return "zombie"


@pytest.mark.parametrize("how", ["stopped", "killed"])
async def test_the_verifier_processes_end_with_their_gateway(admin: Api, stack: Stack, how: str) -> None:
    """A7's verifier processes (and what multiprocessing starts beside them) hold database connections: a gateway
    that stops, or is killed with -9, takes them with it; nothing is left behind for the next start."""
    with extra_gateway(stack) as url:
        async with httpx.AsyncClient(base_url=url, headers=admin.headers(), timeout=30) as client:
            assert (await client.get("/audit/verify")).json()["ok"] is True
            assert (await client.post("/audit/verify/full")).status_code == 202
            await asyncio.sleep(1)
        gateway = _gateway_pid(url.rsplit(":", 1)[1])
        helpers = _descendants(gateway)
        assert helpers, "no verifier process"  # started on demand: as many as parts ran at once
        if how == "killed":
            os.kill(gateway, signal.SIGKILL)
    for _ in range(100):
        if not _alive(helpers):
            break
        await asyncio.sleep(0.1)
    assert not _alive(helpers), [Path(f"/proc/{p}/cmdline").read_bytes()[:120] for p in _alive(helpers)]


@pytest.mark.destructive
async def test_a_stopped_service_delays_only_its_own_entries(
    admin: Api, make_principal: MakePrincipal, stack: Stack, db: asyncpg.Pool
) -> None:
    """Issue #14 (5): with the loans service stopped (SIGSTOP: it takes connections and never answers), the
    sequencer still chains the other entries within its stated delay; the loans entries wait, and follow once it
    answers again."""
    loans = next(c for c in stack.children if c.name == "loans")
    stopped = {loans.process.pid} | _descendants(loans.process.pid)
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)

    inspector = await make_principal("inspector", "430000")

    async def chained_soon(path: str) -> None:
        tag = uuid.uuid4().hex
        started = time.monotonic()
        assert (await inspector.get(path, headers={"X-Request-ID": tag})).status_code == 200
        while await db.fetchval("SELECT seq FROM gateway.audit_log WHERE request_id = $1", tag) is None:
            assert time.monotonic() - started < 3.0, f"{path}: the chain was held back"
            await asyncio.sleep(0.05)

    try:
        await asyncio.sleep(1.0)  # a sweep has asked the stopped service by now
        for _ in range(3):
            await chained_soon("/funds/sources")
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
    await chained_soon("/loans/reports/overdue")  # answered again, and nothing left stuck behind it
    assert (await wait_for_audit(admin))["ok"] is True
