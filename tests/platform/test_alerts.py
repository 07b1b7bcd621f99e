"""Alerts plumbing: stored by each service (one open alert per subject and type), merged by the gateway with
filters and keyset pagination, scoped to the caller's jurisdiction; acknowledge and resolve reach the owner."""

import asyncio
import itertools
import json
import random
import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx
import pytest

from gateway.scan_jobs import QUEUED_AT_MOST, ScanJobs
from services.kernel import clock
from services.kernel.alerts import AlertDraft
from services.kernel.alerts_store import raise_alerts
from services.kernel.db import create_engine, session_factory
from services.kernel.errors import Conflict, NotFound
from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.kernel.topology import SERVICES
from services.loans.codes import ALERT_LOAN_OVERDUE as LOAN_OVERDUE
from tests.conftest import Api, MakePrincipal, scan_alerts
from tests.loans.conftest import Household, import_households
from tests.loans.helpers import household_id, id_number, loan_body
from tests.stack import TestDatabase


async def _store_alert(
    db: asyncpg.Pool,
    service: str,
    region: str,
    *,
    type_: str = "TEST_ALERT",
    at: datetime | None = None,
    severity: str = "high",
) -> str:
    alert_id = new_id(f"alert-{service}")
    await db.execute(
        f"INSERT INTO {service}.alerts (id, type, severity, region_code, subject_kind, subject_id, raised_at, as_of,"
        " status, facts) VALUES ($1, $2, $3, $4, 'test', $5, $6, '2026-01-01', 'open', $7)",
        alert_id,
        type_,
        severity,
        region,
        uuid.uuid4().hex,
        at or datetime.now(UTC),
        json.dumps({"k": 1}),
    )
    return alert_id


@pytest.fixture(scope="module")
async def planted(db: asyncpg.Pool) -> dict[str, str]:
    """One alert per level of the hierarchy, in different services, with a unique type for this module."""
    kind = "JURIS_" + uuid.uuid4().hex[:8].upper()
    base = datetime.now(UTC) - timedelta(hours=1)
    regions = {
        "province": ("funds", "450000"),
        "county": ("loans", "450521"),
        "village": ("projects", "450521101001"),
        "other_county": ("registry", "450522"),
        "other_province": ("funds", "460100"),
    }
    ids = {"type": kind}
    for i, (name, (service, region)) in enumerate(regions.items()):
        ids[name] = await _store_alert(db, service, region, type_=kind, at=base + timedelta(minutes=i))
    return ids


async def _visible(api: Api, kind: str) -> set[str]:
    response = await api.get("/alerts", params={"type": kind, "limit": 500})
    assert response.status_code == 200, response.text
    return {a["id"] for a in response.json()["items"]}


@pytest.mark.parametrize(
    ("jurisdiction", "expected"),
    [
        ("000000", {"province", "county", "village", "other_county", "other_province"}),
        ("450000", {"province", "county", "village", "other_county"}),
        ("450500", {"county", "village", "other_county"}),
        ("450521", {"county", "village"}),
        ("450521101001", {"village"}),
    ],
)
async def test_jurisdiction_prefixes(jurisdiction, expected, planted, make_principal: MakePrincipal) -> None:
    inspector = await make_principal("inspector", jurisdiction)
    assert await _visible(inspector, planted["type"]) == {planted[n] for n in expected}


async def test_role_sees_its_own_domain(planted, make_principal: MakePrincipal) -> None:
    finance = await make_principal("finance", "000000")
    lender = await make_principal("lender", "000000")
    assert await _visible(finance, planted["type"]) == {planted["province"], planted["other_province"]}
    assert await _visible(lender, planted["type"]) == {planted["county"], planted["other_county"]}


async def test_merged_list_is_newest_first_with_keyset_pages(planted, admin: Api) -> None:
    seen: list[dict] = []
    cursor = None
    while True:
        params = {"type": planted["type"], "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await admin.get("/alerts", params=params)).json()
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and len({a["id"] for a in seen}) == 5
    assert [a["raised_at"] for a in seen] == sorted((a["raised_at"] for a in seen), reverse=True)
    assert seen[0]["id"] == planted["other_province"]
    first = seen[0]
    assert set(first) >= {"id", "type", "severity", "region_code", "subject", "raised_at", "status", "facts", "notes"}


async def test_filters(planted, admin: Api) -> None:
    by_region = (await admin.get("/alerts", params={"type": planted["type"], "region": "450521"})).json()
    assert {a["id"] for a in by_region["items"]} == {planted["county"], planted["village"]}
    none_resolved = (await admin.get("/alerts", params={"type": planted["type"], "status": "resolved"})).json()
    assert none_resolved["items"] == []
    bad = await admin.get("/alerts", params={"status": "sleeping"})
    assert bad.status_code == 422 and bad.json()["field"] == "status"
    bad_cursor = await admin.get("/alerts", params={"cursor": "not-a-cursor"})
    assert bad_cursor.status_code == 422 and bad_cursor.json()["field"] == "cursor"


async def test_acknowledge_and_resolve(db: asyncpg.Pool, make_principal: MakePrincipal) -> None:
    alert_id = await _store_alert(db, "loans", "450523")
    inspector = await make_principal("inspector", "450500")
    outsider = await make_principal("inspector", "450600")
    refused = await outsider.post(f"/alerts/{alert_id}/acknowledge", json={"note": "看一下"})
    assert refused.status_code == 403 and refused.json()["code"] == "NOT_IN_JURISDICTION"
    ack = await inspector.post(f"/alerts/{alert_id}/acknowledge", json={"note": "已核实，正在调查"})
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    no_note = await inspector.post(f"/alerts/{alert_id}/resolve", json={"note": "  "})
    assert no_note.status_code == 422 and no_note.json()["field"] == "note"
    done = await inspector.post(f"/alerts/{alert_id}/resolve", json={"note": "款项已追回 / recovered"})
    assert done.status_code == 200
    body = done.json()
    assert body["status"] == "resolved"
    assert [n["action"] for n in body["notes"]] == ["acknowledged", "resolved"]
    assert body["notes"][1]["principal_id"] == inspector.principal_id
    again = await inspector.post(f"/alerts/{alert_id}/resolve", json={"note": "again"})
    assert again.status_code == 409
    finance = await make_principal("finance", "450000")
    assert (await finance.post(f"/alerts/{alert_id}/acknowledge", json={"note": "x"})).status_code == 403
    unknown = await inspector.post("/alerts/alert-nowhere_00000000000000000000000000/acknowledge", json={})
    assert unknown.status_code == 404


async def test_scan_reaches_every_service(admin: Api) -> None:
    job = await scan_alerts(admin, "2026-06-30")
    assert isinstance(job["raised"], dict) and set(job["services"]) == set(SERVICES)
    assert {part["status"] for part in job["services"].values()} == {"done"}
    seconds = job["seconds"]  # each service's detectors timed, and its raise_alerts
    assert set(seconds) == set(SERVICES) and all("raise_alerts" in timed for timed in seconds.values())
    assert "INELIGIBLE_BORROWER" in seconds["loans"] and "LOAN_OVERDUE" in seconds["loans"]
    bad = await admin.post("/alerts/scan", json={"as_of": "2026-02-30"})
    assert bad.status_code == 422 and bad.json()["field"] == "as_of"


async def test_no_duplicate_open_alert_and_facts_update(database: TestDatabase, stack: object) -> None:
    engine = create_engine("funds", url=database.url)
    sessions = session_factory(engine)
    subject = uuid.uuid4().hex
    draft = AlertDraft("DEDUPE_TEST", "medium", "430523", "account", subject, {"days": 91})
    try:
        async with sessions() as session:
            first = await raise_alerts(session, [draft], service="funds", as_of=date(2026, 1, 1))
            second = await raise_alerts(session, [draft], service="funds", as_of=date(2026, 1, 2))
            aged = AlertDraft("DEDUPE_TEST", "medium", "430523", "account", subject, {"days": 120})
            third = await raise_alerts(session, [aged], service="funds", as_of=date(2026, 1, 30))
            await session.commit()
        assert first.raised == {"DEDUPE_TEST": 1}
        assert second.raised == {} and second.updated == {}
        assert third.raised == {} and third.updated == {"DEDUPE_TEST": 1}
    finally:
        await engine.dispose()


async def test_an_open_alert_is_updated_only_by_a_scan_as_of_the_same_day_or_later(
    database: TestDatabase, stack: object
) -> None:
    """S2: the facts of an open alert move forward in time only (the scan's as_of is kept with them)."""
    engine = create_engine("loans", url=database.url)
    sessions = session_factory(engine)
    subject = uuid.uuid4().hex

    def draft(days: int) -> AlertDraft:
        return AlertDraft("FORWARD_TEST", "low", "430523", "loan", subject, {"days_past_due": days})

    try:
        async with sessions() as session:
            await raise_alerts(session, [draft(687)], service="loans", as_of=date(2026, 1, 30))
            earlier = await raise_alerts(session, [draft(27)], service="loans", as_of=date(2024, 1, 1))
            same_day = await raise_alerts(session, [draft(688)], service="loans", as_of=date(2026, 1, 30))
            later = await raise_alerts(session, [draft(689)], service="loans", as_of=date(2026, 1, 31))
            await session.commit()
        assert earlier.updated == {} and earlier.raised == {}
        assert same_day.updated == {"FORWARD_TEST": 1} and later.updated == {"FORWARD_TEST": 1}
    finally:
        await engine.dispose()


async def test_many_scans_in_one_transaction_keep_matching_the_partial_index(
    database: TestDatabase, stack: object
) -> None:
    """Regression: a bound predicate stopped matching the partial unique index once PostgreSQL went generic."""
    engine = create_engine("loans", url=database.url)
    sessions = session_factory(engine)
    subject = uuid.uuid4().hex
    try:
        async with sessions() as session:
            for day in range(1, 12):
                draft = AlertDraft("PLAN_TEST", "low", "430523", "loan", subject, {"day": day})
                await raise_alerts(session, [draft], service="loans", as_of=date(2026, 1, day))
            await session.commit()
    finally:
        await engine.dispose()


# S2 (A5 least privilege): a scan asked for by a principal is as of a day not after today in China, touches only the
# alerts its jurisdiction covers, and never moves an open alert's facts back in time.

_scan_counties = itertools.count(random.randrange(1000, 8000))


def _fresh_county(province: str) -> str:
    while (n := next(_scan_counties)) % 100 == 0:
        pass
    return f"{province}{n:04d}"


async def _overdue_loan(admin: Api, make_principal: MakePrincipal, county: str) -> str:
    """A loan of `county` maturing 2018-02-15 and never repaid: LOAN_OVERDUE from 2018-02-16 on."""
    household = Household(household_id(), id_number(county, date(1980, 5, 17)), county)
    await import_households(admin, household)
    lender = await make_principal("lender", county)
    body = loan_body(household.household_id, household.head_id_number, term_months=1, issued_on="2018-01-15")
    response = await lender.post("/loans", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _overdue_alerts(admin: Api, county: str) -> dict[str, dict]:
    response = await admin.get("/alerts", params={"type": LOAN_OVERDUE, "region": county, "limit": 500})
    assert response.status_code == 200, response.text
    return {a["subject"]["id"]: a for a in response.json()["items"]}


async def _scan(api: Api, as_of: str) -> None:
    await scan_alerts(api, as_of)


async def test_a_scan_is_not_as_of_a_day_after_today(make_principal: MakePrincipal) -> None:
    inspector = await make_principal("inspector", _fresh_county("47"))
    for later in ((clock.today() + timedelta(days=1)).isoformat(), "2099-12-31"):
        response = await inspector.post("/alerts/scan", json={"as_of": later})
        assert response.status_code == 422, response.text
        assert (response.json()["code"], response.json()["field"]) == ("VALIDATION_ERROR", "as_of")
    await _scan(inspector, clock.today().isoformat())


async def test_a_date_is_text_never_a_number(make_principal: MakePrincipal) -> None:
    """`{"as_of": 0}` was read as 1970-01-01 and ran every detector as of then (issue #14, schemathesis)."""
    inspector = await make_principal("inspector", _fresh_county("47"))
    for number in (0, 1_700_000_000, 1.5, True):
        response = await inspector.post("/alerts/scan", json={"as_of": number})
        assert response.status_code == 422, response.text
        assert (response.json()["code"], response.json()["field"]) == ("VALIDATION_ERROR", "as_of")
    await _scan(inspector, "2018-04-01")


async def test_a_scan_touches_only_the_callers_jurisdiction(admin: Api, make_principal: MakePrincipal) -> None:
    own, other = _fresh_county("47"), _fresh_county("48")
    own_loan = await _overdue_loan(admin, make_principal, own)
    other_loan = await _overdue_loan(admin, make_principal, other)
    await _scan(await make_principal("inspector", own), "2018-04-01")
    assert set(await _overdue_alerts(admin, own)) == {own_loan}
    assert await _overdue_alerts(admin, other) == {}, "a county inspector's scan raised an alert in another province"
    await _scan(await make_principal("inspector", other), "2018-04-01")
    assert set(await _overdue_alerts(admin, other)) == {other_loan}


async def test_a_scan_as_of_an_earlier_day_leaves_a_newer_alert_as_it_is(
    admin: Api, make_principal: MakePrincipal
) -> None:
    county = _fresh_county("47")
    loan = await _overdue_loan(admin, make_principal, county)
    province_inspector = await make_principal("inspector", county[:2] + "0000")
    county_inspector = await make_principal("inspector", county)
    await _scan(province_inspector, "2018-06-01")  # 106 days past due
    assert (await _overdue_alerts(admin, county))[loan]["facts"]["bucket"] == "91-180"
    await _scan(county_inspector, "2018-04-01")  # 45 days: older than what the alert says
    assert (await _overdue_alerts(admin, county))[loan]["facts"]["bucket"] == "91-180"
    await _scan(county_inspector, "2018-06-01")  # the same day again: may refresh
    await _scan(county_inspector, "2018-08-20")  # later: ages (181 days and more)
    assert (await _overdue_alerts(admin, county))[loan]["facts"]["bucket"] == "180+"


async def test_a_scan_is_a_job_seen_by_its_caller_and_above_not_by_others(make_principal: MakePrincipal) -> None:
    """Issue #20: POST /alerts/scan answers 202 at once with the job's id (and Location); asked again while it waits
    or runs, the same caller's scan of the same day is the same job; the job is shown to its caller and to a
    principal whose jurisdiction covers the caller's, and is not found by anyone else."""
    county = await make_principal("inspector", "430523")
    province = await make_principal("inspector", "430000")
    other = await make_principal("inspector", "450000")
    started = await county.post("/alerts/scan", json={"as_of": "2026-01-05"})
    assert started.status_code == 202, started.text
    job = started.json()
    assert started.headers["location"] == f"/alerts/scans/{job['id']}"
    assert job["status"] in ("queued", "running", "done") and set(job["services"]) == set(SERVICES)
    for _ in range(600):
        followed = (await county.get(f"/alerts/scans/{job['id']}")).json()
        if followed["status"] == "done":
            break
        await asyncio.sleep(0.05)
    assert followed["status"] == "done" and followed["finished_at"] is not None, followed
    assert (await province.get(f"/alerts/scans/{job['id']}")).status_code == 200
    hidden = await other.get(f"/alerts/scans/{job['id']}")
    assert hidden.status_code == 404 and hidden.json()["code"] == "NOT_FOUND"


async def test_scans_run_one_at_a_time_and_the_same_scan_is_not_asked_twice() -> None:
    """gateway/scan_jobs.py with services that answer when told to: the second caller's scan waits (queued) while
    the first runs; the first caller asking again for the same day gets the same job; a service that fails makes
    its job `failed`, naming it, and the others' parts are kept."""
    release = asyncio.Event()
    calls: list[str] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url.host))
        await release.wait()
        if request.url.host == "loans":
            return httpx.Response(500, json={"detail": "the loans scan failed"})
        return httpx.Response(200, json={"raised": {"X": 1}, "updated": {}, "seconds": {"X": 0.1}})

    clients = {name: httpx.AsyncClient(base_url=f"http://{name}", transport=httpx.MockTransport(answer))
               for name in SERVICES}
    jobs = ScanJobs(clients)
    first_caller, second_caller = Principal("p1", "inspector", "430523"), Principal("p2", "inspector", "430000")
    first, started = jobs.start(first_caller, "r1", date(2026, 1, 5))
    assert started
    await asyncio.sleep(0.05)
    assert first.status == "running" and sorted(calls) == sorted(SERVICES)
    same, started_again = jobs.start(first_caller, "r2", date(2026, 1, 5))
    assert same is first and not started_again
    second, _ = jobs.start(second_caller, "r3", date(2026, 1, 5))
    await asyncio.sleep(0.05)
    assert second is not first and second.status == "queued" and len(calls) == len(SERVICES)  # waits its turn
    assert jobs.get(second_caller, first.id) is first  # the province covers the county's caller
    with pytest.raises(NotFound):
        jobs.get(Principal("p3", "inspector", "450000"), first.id)
    queued = [jobs.start(Principal(f"q{i}", "inspector", "430000"), f"q{i}", date(2026, 1, 5))[0]
              for i in range(QUEUED_AT_MOST - 1)]  # with the first two: QUEUED_AT_MOST + 1 waiting or running
    with pytest.raises(Conflict) as full:
        jobs.start(Principal("late", "inspector", "430000"), "late", date(2026, 1, 5))
    assert full.value.body("/alerts/scan")["code"] == "SCAN_QUEUE_FULL"
    release.set()
    assert first.task is not None and second.task is not None
    await asyncio.gather(first.task, second.task, *(j.task for j in queued if j.task is not None))
    answer_ = first.answer()
    assert answer_["status"] == "failed" and answer_["services"]["loans"]["status"] == "failed"
    assert answer_["services"]["loans"]["problem"] == "the loans scan failed"
    assert answer_["raised"] == {"X": len(SERVICES) - 1}
    assert len(calls) == (2 + len(queued)) * len(SERVICES)
    for client in clients.values():
        await client.aclose()
