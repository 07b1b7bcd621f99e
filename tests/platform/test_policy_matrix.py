"""The authorisation matrix (A5 least privilege; S1): every route of gateway.policy.ROUTES, called by a key of every
role of one county (430523), on real objects of that county, of another county of its province (431023) and of
another province (520121), with the exact outcome expected for each.

The expected roles of each route are written here (the auditor's matrix, from API.md), not read from policy.py: a
role wrongly added to or dropped from a route in the policy fails this test. A caller without a key gets 401 on every
guarded route and the same as everyone on a public one. For a role the route does not take the gateway answers 403
FORBIDDEN; for a role it takes, the own county's object gives the route's success (or the one
business refusal expected for that body) and the other county's and province's objects the service's jurisdiction
refusal: 403 NOT_IN_JURISDICTION, or, for lists filtered by region, a list without the other region's objects
(that is the convention of the allocations, households, principals, alerts and audit lists).

For a role the policy allows, a 404 that means "no such route" (FastAPI's {"detail": "Not Found"}, or the problem
our handlers make of it, "no such resource") fails whatever was expected: the route the policy allows is not there.
That the policy and the services' OpenAPI name the same routes is tests/platform/test_route_table.py.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from gateway.policy import ROUTES, Route
from services.kernel import clock
from services.kernel.ids import new_id
from services.kernel.topology import SERVICES
from services.kernel.types import id_number_check_char
from services.loans.codes import CREDIT_LINES_HEADER, PRODUCT_NAME
from tests.conftest import Api, MakePrincipal, wait_for_audit
from tests.projects.factory import action_body, edit_body, project_body, project_in

ADMIN, FINANCE, PM, LENDER, INSPECTOR = "admin", "finance", "project_manager", "lender", "inspector"
EVERY_ROLE = frozenset({ADMIN, FINANCE, PM, LENDER, INSPECTOR})
ANONYMOUS = "anonymous"  # no key: 401 on every guarded route, the public routes' outcome on theirs
ANYONE = EVERY_ROLE | {ANONYMOUS}
OWN, OTHER_COUNTY, OTHER_PROVINCE = "430523", "431023", "520121"
REGIONS = (OWN, OTHER_COUNTY, OTHER_PROVINCE)
HEADER = "household_id,head_id_number,head_name,county_code,village_code,status,members,village_cadre,card_account"


# ---------------------------------------------------------------------------------------------------------- world


@dataclass
class Place:
    """The real objects of one county."""

    county: str
    household_id: str = ""
    head_id_number: str = ""
    project: str = ""  # a draft
    announced: str = ""  # a project being announced, with `objection` on it
    objection: str = ""
    accepted: str = ""  # a project at the end of its lifecycle, with `asset`
    asset: str = ""
    loan: str = ""
    subsidy_claim: str = ""  # the lender's subsidy claim of the county's loans, 2018-03-01..06-01 (issue #18)
    risk_fund: str = ""  # the county's risk-compensation fund with RISK_BANK (issue #18)
    claim: str = ""  # an approved compensation claim on it, for a loan of RISK_BANK
    allocation: str = ""  # from the province to the county
    appropriation: str = ""  # the county's own budget
    principal: str = ""  # a key of the county (listed, revoked)
    user: str = ""  # a person of the county (listed, issue #19)
    organisation: str = ""  # an organisation of the county (listed)
    case: str = ""  # an oversight case of the county: closed in OWN (answered by OWN's finance caller), else open
    document: str = ""  # sha256 of an evidence document: cited by OWN's case's answer, elsewhere by none (E1)
    complaint: str = ""  # a public complaint about the county (O12)
    audit_seq: int = 0  # an entry of the trail in the county, in a signed checkpoint
    alerts: dict[str, str] = field(default_factory=dict)  # service -> an open alert of the county
    plan: str = ""  # the county's integration plan of PLAN_YEAR (issue #17), reported

    @property
    def province(self) -> str:
        return self.county[:2] + "0000"

    @property
    def village(self) -> str:
        return self.county + "101001"


@dataclass
class World:
    places: dict[str, Place]
    source: str  # an integrable fund source
    callers: dict[str, Api]  # a key of each role in OWN, and a caller without a key

    def __getitem__(self, region: str) -> Place:
        return self.places[region]


def _id_number(county: str) -> str:
    first17 = f"{county}19800517{random.randrange(100, 1000)}"
    return first17 + id_number_check_char(first17)


async def _ok(response: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def _import(admin: Api, place: Place) -> None:
    place.household_id, place.head_id_number = f"hh-{uuid.uuid4().hex[:16]}", _id_number(place.county)
    line = (f"{place.household_id},{place.head_id_number},王五,{place.county},{place.village},poor,4,0,"
            f"6217{random.randrange(10**11, 10**12)}")
    response = await admin.post("/registry/households/import", content=f"{HEADER}\n{line}\n".encode(),
                                params={"effective_on": "2014-01-01"}, headers={"content-type": "text/csv"})
    assert (await _ok(response, 200))["rejected"] == [], response.text


def _loan_body(place: Place, amount_fen: int = 1_000_000) -> dict[str, Any]:
    return {
        "household_id": place.household_id, "borrower_id_number": place.head_id_number, "lender_name": "县农商银行",
        "product_name": PRODUCT_NAME, "amount_fen": amount_fen, "term_months": 36, "annual_rate_bp": 475,
        "benchmark_rate_bp": 475, "fees_fen": 0, "collateral_required": False, "guarantee_required": False,
        "mode": "self", "purpose": "breeding",
        "disbursement_account": {"holder_id_number": place.head_id_number, "account_no": "6230001234"},
        "issued_on": "2018-03-01",
    }


async def _projects(place: Place, pm: Api) -> None:
    beneficiaries = [place.household_id]
    place.project = (await _ok(await pm.post("/projects", json=project_body(place.county, beneficiaries))))["id"]
    place.announced = await project_in(pm, place.county, beneficiaries, "announced")
    objection = await pm.post(f"/projects/{place.announced}/objections", json={"text": "公示内容有误"})
    place.objection = (await _ok(objection))["id"]
    place.accepted = await project_in(pm, place.county, beneficiaries, "accepted")
    asset = {"kind": "income_generating", "value_fen": 100_000, "description": "光伏电站",
             "shares": [{"household_id": place.household_id, "shares": 1}]}
    place.asset = (await _ok(await pm.post(f"/projects/{place.accepted}/assets", json=asset)))["id"]


async def _money(place: Place, source: str, make_principal: MakePrincipal) -> None:
    province = await make_principal(FINANCE, place.province)
    county = await make_principal(FINANCE, place.county)
    budget = {"fund_source": source, "fiscal_year": 2018, "amount_fen": 1_000_000, "appropriated_on": "2018-01-10"}
    await _ok(await province.post("/funds/appropriations", json={
        **budget, "region_code": place.province, "doc_no": f"财-{uuid.uuid4().hex[:8]}"}))
    allocation = await province.post("/funds/allocations", json={
        "fund_source": source, "fiscal_year": 2018, "from_region": place.province, "to_region": place.county,
        "amount_fen": 100_000, "doc_no": f"下达-{uuid.uuid4().hex[:8]}", "issued_on": "2018-02-01"})
    place.allocation = (await _ok(allocation))["id"]
    own_budget = await county.post("/funds/appropriations", json={
        **budget, "region_code": place.county, "doc_no": f"县-{uuid.uuid4().hex[:8]}"})
    place.appropriation = (await _ok(own_budget))["id"]


PLAN_YEAR = random.randrange(2030, 2100)  # a year no other test plans for these counties


async def _plan(place: Place, source: str, make_principal: MakePrincipal) -> None:
    county = await make_principal(FINANCE, place.county)
    filed = await _ok(await county.post("/funds/plans", json={
        "county_code": place.county, "fiscal_year": PLAN_YEAR, "sources": [{"fund_source": source,
                                                                            "amount_fen": 100}], "projects": []}))
    place.plan = filed["id"]
    await _ok(await county.post(f"/funds/plans/{place.plan}/report", json={"version": 1}), 200)


async def _subsidy(place: Place, source: str, make_principal: MakePrincipal, lender: Api) -> None:
    """The county's subsidy rate for 2018 (L11), and its lender's claim of a quarter of it (L12)."""
    finance = await make_principal(FINANCE, place.county)
    await _ok(await finance.post("/loans/subsidy-rates", json={
        "county_code": place.county, "period_from": "2018-01-01", "period_to": "2019-01-01", "rate_bp": 475,
        "paid_to": "bank", "fund_source": source}))
    place.subsidy_claim = (await _ok(await lender.post("/loans/subsidy-claims", json={
        "county_code": place.county, "lender_name": "县农商银行", "bank_account_no": "6230009999",
        "period_from": "2018-03-01", "period_to": "2018-06-01"})))["id"]


def _claim_path(verb: str) -> Callable[[Place], str]:
    return lambda p: f"/loans/compensation-claims/{p.claim}/{verb}"


RISK_BANK = "矩阵村镇银行"  # the place's loan is of 县农商银行, which has no fund: L7 does not limit the matrix's loans


async def _risk_fund(place: Place, source: str, lender: Api, make_principal: MakePrincipal) -> None:
    """Issue #18: a fund of the county with RISK_BANK (from its pool), a loan of that bank overdue, a claim on it
    approved by a second person."""
    finance, second = await make_principal(FINANCE, place.county), await make_principal(FINANCE, place.county)
    place.risk_fund = (await _ok(await finance.post("/loans/risk-funds", json={
        "county_code": place.county, "bank_name": RISK_BANK, "fund_source": source, "deposit_fen": 50_000,
        "leverage": 20, "fund_share_bp": 7000, "agreement_no": f"协议-{uuid.uuid4().hex[:8]}",
        "established_on": "2018-02-15"})))["id"]
    loan = (await _ok(await lender.post("/loans", json={
        **_loan_body(place), "lender_name": RISK_BANK, "term_months": 12, "annual_rate_bp": 435,
        "benchmark_rate_bp": 435})))["id"]
    place.claim = (await _ok(await lender.post(f"/loans/{loan}/compensation-claims", json={
        "principal_lost_fen": 10_000, "claimed_on": "2019-06-30", "reason": "失联"})))["id"]
    await _ok(await second.post(f"/loans/compensation-claims/{place.claim}/approve",
                                json={"decided_on": "2019-07-01", "note": "同意"}))


async def _alert(db: asyncpg.Pool, service: str, region: str) -> str:
    alert_id = new_id(f"alert-{service}")
    await db.execute(
        f"INSERT INTO {service}.alerts (id, type, severity, region_code, subject_kind, subject_id, raised_at, as_of,"
        " status, facts) VALUES ($1, 'MATRIX_TEST', 'low', $2, 'test', $3, $4, '2018-01-01', 'open', $5)",
        alert_id, region, uuid.uuid4().hex, datetime.now(UTC), json.dumps({"matrix": True}))
    return alert_id


async def _place(county: str, source: str, admin: Api, make_principal: MakePrincipal, db: asyncpg.Pool) -> Place:
    place = Place(county)
    await _ok(await admin.put(f"/funds/counties/{county}",
                              json={"name": f"县{county}", "poor": True, "integration_pilot": True}), 200)
    await _import(admin, place)
    pm = await make_principal(PM, county)
    lender = await make_principal(LENDER, county)
    place.principal = pm.principal_id
    place.user = (await _ok(await admin.post("/admin/users", json={
        "login": f"mx-{uuid.uuid4().hex[:10]}", "password": "matrix password 1", "name": "矩阵用户", "role": PM,
        "region_code": county})))["principal_id"]
    place.organisation = (await _ok(await admin.post("/admin/organisations", json={
        "name": f"县{county}财政局", "kind": "finance_bureau", "region_code": county})))["id"]
    await _projects(place, pm)
    place.loan = (await _ok(await lender.post("/loans", json=_loan_body(place))))["id"]
    await _money(place, source, make_principal)
    await _plan(place, source, make_principal)
    await _subsidy(place, source, make_principal, lender)
    await _risk_fund(place, source, lender, make_principal)
    place.complaint = (await _ok(await admin.client.post("/public/complaints", json={
        "region_code": county, "text": "矩阵举报", "contact": "matrix@example.org"})))["id"]
    for service in ("funds", "projects", "loans", "registry", "ack", "resolve"):
        owner = service if service in SERVICES else "loans"
        place.alerts[service] = await _alert(db, owner, place.village if owner == "projects" else county)
    return place


async def _bureau_member(admin: Api, http: httpx.AsyncClient) -> tuple[Api, str]:
    """OWN's finance caller, a member of OWN's finance bureau (the organisation OWN's case is assigned to), and
    the bureau."""
    bureau = await _ok(await admin.post("/admin/organisations", json={
        "name": f"县{OWN}财政局", "kind": "finance_bureau", "region_code": OWN}))
    body = await _ok(await admin.post("/admin/principals", json={
        "name": "矩阵财政", "role": FINANCE, "region_code": OWN, "organisation_id": bureau["id"]}))
    return Api(http, body["api_key"], body["id"], FINANCE, OWN), str(bureau["id"])


def _pdf() -> bytes:
    return b"%PDF-1.7\n" + uuid.uuid4().hex.encode() + b"\n%%EOF\n"


async def _case(place: Place, make_principal: MakePrincipal, finance: Api, organisation: str) -> None:
    """A complaint case of the place; OWN's is taken to its end: assigned to `finance`'s bureau, answered,
    accepted, closed (so every move on it is refused by the state machine, O4)."""
    inspector = await make_principal(INSPECTOR, place.county)
    if place.county != OWN:
        place.document = (await _ok(await inspector.post(
            "/oversight/evidence", params={"name": "线索.pdf"}, content=_pdf(),
            headers={"content-type": "application/pdf"})))["sha256"]
    place.case = (await _ok(await inspector.post("/oversight/cases", json={
        "region_code": place.county, "title": "矩阵线索", "complaint_ref": "MX-1"})))["id"]
    if place.county != OWN:
        return
    path = f"/oversight/cases/{place.case}"
    await _ok(await inspector.post(f"{path}/assign", json={"organisation_id": organisation}), 200)
    document = await _ok(await finance.post("/oversight/evidence", params={"name": "整改报告.pdf"},
                                            content=_pdf(), headers={"content-type": "application/pdf"}))
    document.pop("created")
    place.document = document["sha256"]
    await _ok(await finance.post(f"{path}/rectifications", json={"note": "已整改", "documents": [document]}), 200)
    await _ok(await inspector.post(f"{path}/accept", json={"note": "整改到位"}), 200)
    await _ok(await inspector.post(f"{path}/close", json={"note": "结案"}), 200)


@pytest.fixture(scope="module")
async def world(admin: Api, anonymous: Api, make_principal: MakePrincipal, db: asyncpg.Pool) -> World:
    source = f"MX{uuid.uuid4().hex[:6].upper()}"
    await _ok(await admin.put(f"/funds/sources/{source}",
                              json={"name": "矩阵测试资金", "level": "central", "integrable": True}), 200)
    places = await asyncio.gather(*(_place(r, source, admin, make_principal, db) for r in REGIONS))
    keyed = sorted(EVERY_ROLE - {FINANCE})
    callers = dict(zip(keyed, await asyncio.gather(*(make_principal(role, OWN) for role in keyed)), strict=True))
    callers[FINANCE], bureau = await _bureau_member(admin, callers[ADMIN].client)
    await asyncio.gather(*(_case(place, make_principal, callers[FINANCE], bureau) for place in places))
    await wait_for_audit(admin)  # the county's own requests are in the trail GET /audit reads
    await _ok(await admin.post("/audit/checkpoints"), 201)  # ... and in a checkpoint GET /audit/entries proves
    for place in places:
        place.audit_seq = await db.fetchval(
            "SELECT max(seq) FROM gateway.audit_log WHERE region_code = $1", place.county)
    return World({p.county: p for p in places}, source, {**callers, ANONYMOUS: anonymous})


# ------------------------------------------------------------------------------------------------ expectations


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: dict[str, Any] | None = None
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] | None = None


Check = Callable[[httpx.Response, World, Place, str], None]


@dataclass(frozen=True)
class Expect:
    status: int
    code: str | None = None
    check: Check | None = None


OK, CREATED = Expect(200), Expect(201)
OUTSIDE = Expect(403, "NOT_IN_JURISDICTION")
INVALID_TRANSITION = Expect(409, "INVALID_TRANSITION")


def listing(key: str, what: Callable[[Place], str], *, listed: bool) -> Expect:
    """200, with the place's object among the items (listed) or not among them (a list filtered by jurisdiction)."""

    def check(response: httpx.Response, world: World, place: Place, role: str) -> None:
        body = response.json()
        items = body if isinstance(body, list) else body["items"]
        found = what(place) in {str(item[key]) for item in items}
        assert found == listed, (what(place), "listed" if found else "missing")

    return Expect(200, check=check)


def alerts_seen(*, listed: bool) -> Expect:
    """GET /alerts: a role sees its own domain (finance: funds; project managers: projects and registry...)."""
    domain = {FINANCE: "funds", PM: "projects", LENDER: "loans"}

    def check(response: httpx.Response, world: World, place: Place, role: str) -> None:
        alert = place.alerts[domain.get(role, "registry")]
        found = alert in {a["id"] for a in response.json()["items"]}
        assert found == listed, (role, place.county, found)

    return Expect(200, check=check)


def alerts_counted(*, counted: bool) -> Expect:
    """GET /alerts/summary of the place's region: its MATRIX_TEST alerts counted, or none (a region out of reach)."""

    def check(response: httpx.Response, world: World, place: Place, role: str) -> None:
        body = response.json()
        found = body["by_type"].get("MATRIX_TEST", 0)
        assert (found > 0) == counted and body["total"] >= found, (role, place.county, body)

    return Expect(200, check=check)


def audit_rows(*, empty: bool) -> Expect:
    def check(response: httpx.Response, world: World, place: Place, role: str) -> None:
        if response.headers["content-type"].startswith("text/csv"):
            rows = list(csv.DictReader(io.StringIO(response.text)))
        else:
            rows = response.json()["items"]
        assert all(r["region_code"].startswith(OWN) for r in rows), {r["region_code"] for r in rows}
        assert (rows == []) == empty, len(rows)

    return Expect(200, check=check)


def import_outcome(*, imported: bool) -> Expect:
    def check(response: httpx.Response, world: World, place: Place, role: str) -> None:
        body = response.json()
        if imported:
            assert (body["imported"], body["rejected"]) == (1, []), body
        else:
            assert body["imported"] == 0 and [r["code"] for r in body["rejected"]] == ["NOT_IN_JURISDICTION"], body

    return Expect(200, check=check)


Build = Callable[[World, Place], Call]


@dataclass(frozen=True)
class Spec:
    roles: frozenset[str]
    build: Build
    own: Expect
    other: Expect  # for the other county and the other province
    anonymous: bool = True  # call it without a key too
    own_by_role: dict[str, Expect] = field(default_factory=dict)  # where a role's outcome in OWN differs
    other_by_role: dict[str, Expect] = field(default_factory=dict)  # ... and elsewhere


def spec(roles: frozenset[str] | set[str], build: Build, own: Expect = OK, other: Expect = OUTSIDE,
         own_by_role: dict[str, Expect] | None = None) -> Spec:
    return Spec(frozenset(roles), build, own, other, own_by_role=own_by_role or {})


def same(roles: frozenset[str] | set[str], build: Build, outcome: Expect = OK) -> Spec:
    """A route that names no object of a region: the same outcome for the three."""
    return Spec(frozenset(roles), build, outcome, outcome)


def get(path: Callable[[Place], str], params: Callable[[Place], dict[str, Any]] | None = None) -> Build:
    return lambda w, p: Call("GET", path(p), params(p) if params else None)


def post(path: Callable[[Place], str], body: Callable[[World, Place], Any]) -> Build:
    return lambda w, p: Call("POST", path(p), json=body(w, p))


def _fixed(path: str) -> Callable[[Place], str]:
    """A path that names no object of a place."""
    return lambda p: path


def _csv(w: World, p: Place) -> Call:
    line = (f"hh-{uuid.uuid4().hex[:16]},{_id_number(p.county)},赵六,{p.county},{p.village},poor,3,0,"
            f"6217{random.randrange(10**11, 10**12)}")
    return Call("POST", "/registry/households/import", content=f"{HEADER}\n{line}\n".encode(),
                headers={"content-type": "text/csv"}, params={"effective_on": "2014-01-01"})


def _allocation(p: Place) -> dict[str, Any]:
    # A county passes nothing further down: its own county's allocation is refused by direction, after jurisdiction.
    return {"fund_source": "MXNONE", "fiscal_year": 2018, "from_region": p.county, "to_region": "439999",
            "amount_fen": 100, "doc_no": f"矩阵-{uuid.uuid4().hex[:8]}", "issued_on": "2018-02-01"}


def _transition(action: str) -> Spec:
    """Every transition of an accepted project: reached, and refused by the state machine (nothing changes)."""
    return spec({PM}, post(lambda p: f"/projects/{p.accepted}/{action}", lambda w, p: action_body(action)),
                own=INVALID_TRANSITION)


TRANSITIONS = ("submit", "review", "announce", "approve", "start", "complete", "accept", "reject", "withdraw")
SUBSIDY = {"from": "2018-03-01", "to": "2018-06-01", "rate_bp": 475}
RATE_YEAR = random.randrange(2100, 2900)  # a subsidy rate's year no other run of the matrix declared (L11)
DIVIDEND = {"amount_fen": 10_000, "paid_on": "2019-01-01"}
CONTRACT = {"contract_no": "矩阵合同", "contractor_uscc": "91430523MA4L00000E", "contractor_name": "矩阵公司",
            "amount_fen": 100, "tender_method": "public_tender", "signed_on": "2018-03-01"}
HANDOVER = {"owner_kind": "households", "owner_name": "受益户", "manager": "村委会", "value_fen": 100_000,
            "handed_over_on": "2019-01-01"}
REPAYMENT = {"principal_fen": 1_000, "interest_fen": 0, "paid_on": "2018-04-01"}
EXTENSION = {"new_maturity_on": "2021-09-01", "reason": "受灾延期"}
SOURCE_BODY = {"name": "矩阵", "level": "central", "integrable": True}
COUNTY_BODY = {"name": "矩阵县", "poor": True, "integration_pilot": True}

def _cases_seen(response: httpx.Response, place: Place, role: str) -> None:
    """GET /oversight/cases: OWN's inspector sees OWN's case (not the others'); OWN's finance caller sees OWN's case,
    its bureau answering it; a project manager or lender, of no responsible organisation, sees none (O6)."""
    seen = place.case in {c["id"] for c in response.json()["items"]}
    assert seen == (place.county == OWN and role in (INSPECTOR, FINANCE)), (role, place.county, seen)


def _move_body(world: World, move: str) -> dict[str, Any]:
    organisation = world[OWN].organisation
    return {
        "assign": {"organisation_id": organisation},
        "refer": {"organisation_id": organisation, "note": "矩阵"},
        "accountability": {"person_name": "某", "person_post": "股长", "measure": "other", "decided_on": "2020-01-01",
                           "decision_number": "矩阵1号"},
    }.get(move, {"note": "矩阵"})


def _case_move(move: str) -> Spec:
    """An inspector's move of OWN's closed case: reached, and refused by the state machine (O4, O8)."""
    refusal = Expect(409, "ACCOUNTABILITY_TOO_EARLY" if move == "accountability" else "INVALID_CASE_TRANSITION")
    return spec({INSPECTOR}, post(lambda p: f"/oversight/cases/{p.case}/{move}", lambda w, p: _move_body(w, move)),
                own=refusal)


NOT_A_PERSON = Expect(409, "NOT_A_PERSON")


def _a_key_is_no_person(response: httpx.Response, world: World, place: Place, role: str) -> None:
    body = response.json()
    assert (body["role"], body["region_code"], body["login"]) == (role, OWN, None), body


SPECS: dict[tuple[str, str], Spec] = {
    # Public: no key needed, and a key changes nothing
    **{("GET", path): same(ANYONE, get(_fixed(path))) for path in (
        "/healthz", "/readyz", "/metrics", "/docs", "/openapi.json")},
    ("GET", "/public/announcements"): same(ANYONE, get(lambda p: "/public/announcements",
                                                       lambda p: {"county": p.county}),
                                           listing("project_id", lambda p: p.announced, listed=True)),
    ("GET", "/public/announcements/{project_id}"): same(ANYONE, get(lambda p: f"/public/announcements/{p.announced}")),
    # Anonymous posts are limited per address (tests/projects/test_public.py): only keyed callers here.
    ("POST", "/public/announcements/{project_id}/objections"): Spec(ANYONE, post(
        lambda p: f"/public/announcements/{p.announced}/objections", lambda w, p: {"text": "公众异议"}),
        CREATED, CREATED, anonymous=False),
    # U1, U2: the money is public, in every county, with a key or without
    ("GET", "/public/allocations"): same(ANYONE, get(lambda p: "/public/allocations", lambda p: {"county": p.county})),
    ("GET", "/public/projects/{project_id}"): same(ANYONE, get(lambda p: f"/public/projects/{p.announced}")),
    # O12: a complaint names a region its inspectors see it in; anyone may make one, for any region
    ("POST", "/public/complaints"): same(ANYONE, post(lambda p: "/public/complaints", lambda w, p: {
        "region_code": p.county, "text": "矩阵举报"}), CREATED),
    ("GET", "/oversight/complaints/{complaint_id}"): spec({INSPECTOR}, get(
        lambda p: f"/oversight/complaints/{p.complaint}")),
    # Gateway: principals (S1), the trail, alerts (S2)
    ("POST", "/admin/principals"): spec({ADMIN}, post(lambda p: "/admin/principals", lambda w, p: {
        "name": "矩阵", "role": INSPECTOR, "region_code": p.county}), own=CREATED),
    ("GET", "/admin/principals"): spec({ADMIN}, get(lambda p: "/admin/principals", lambda p: {"limit": 500}),
                                       own=listing("id", lambda p: p.principal, listed=True),
                                       other=listing("id", lambda p: p.principal, listed=False)),
    ("POST", "/admin/organisations"): spec({ADMIN}, post(lambda p: "/admin/organisations", lambda w, p: {
        "name": "矩阵单位", "kind": "other", "region_code": p.county}), own=CREATED),
    ("GET", "/admin/organisations"): spec({ADMIN}, get(lambda p: "/admin/organisations", lambda p: {"limit": 500}),
                                          own=listing("id", lambda p: p.organisation, listed=True),
                                          other=listing("id", lambda p: p.organisation, listed=False)),
    # People (issue #19): an admin makes users inside its jurisdiction (S1), as it issues keys
    ("POST", "/admin/users"): spec({ADMIN}, post(lambda p: "/admin/users", lambda w, p: {
        "login": f"mx-{uuid.uuid4().hex[:10]}", "password": "matrix password 1", "name": "矩阵用户",
        "role": INSPECTOR, "region_code": p.county}), own=CREATED),
    ("GET", "/admin/users"): spec({ADMIN}, get(lambda p: "/admin/users", lambda p: {"limit": 500}),
                                  own=listing("principal_id", lambda p: p.user, listed=True),
                                  other=listing("principal_id", lambda p: p.user, listed=False)),
    # A person's own account (S21, S22): anyone asks who they are; a key has no password nor second factor to change
    ("GET", "/me"): same(EVERY_ROLE, get(_fixed("/me")), Expect(200, check=_a_key_is_no_person)),
    ("POST", "/me/password"): same(EVERY_ROLE, post(_fixed("/me/password"), lambda w, p: {
        "current_password": "matrix password 1", "new_password": "matrix password 2"}), NOT_A_PERSON),
    ("POST", "/me/totp"): same(EVERY_ROLE, lambda w, p: Call("POST", "/me/totp", json={"current_password": "x"}),
                               NOT_A_PERSON),
    **{("POST", f"/me/totp/{verb}"): same(EVERY_ROLE, post(_fixed(f"/me/totp/{verb}"), lambda w, p: {
        "code": "123456"}), NOT_A_PERSON) for verb in ("confirm", "disable")},
    # Oversight (issue #16): an inspector's cases, answered by the responsible organisation (O6)
    ("POST", "/oversight/cases"): spec({INSPECTOR}, post(lambda p: "/oversight/cases", lambda w, p: {
        "region_code": p.county, "title": "矩阵", "complaint_ref": "MX-2"}), own=CREATED),
    ("GET", "/oversight/cases"): same({INSPECTOR, FINANCE, PM, LENDER}, get(
        _fixed("/oversight/cases"), lambda p: {"limit": 200}), Expect(200, check=lambda r, w, p, role: _cases_seen(
            r, p, role))),
    ("GET", "/oversight/cases/{case_id}"): spec(
        {INSPECTOR, FINANCE, PM, LENDER}, get(lambda p: f"/oversight/cases/{p.case}"),
        own_by_role={PM: OUTSIDE, LENDER: OUTSIDE}),
    **{("POST", f"/oversight/cases/{{case_id}}/{move}"): _case_move(move)
       for move in ("assign", "return", "accept", "refer", "accountability", "close")},
    ("POST", "/oversight/cases/{case_id}/rectifications"): spec(
        {FINANCE, PM, LENDER}, post(lambda p: f"/oversight/cases/{p.case}/rectifications",
                                    lambda w, p: {"note": "矩阵整改"}),
        own=Expect(409, "INVALID_CASE_TRANSITION"), own_by_role={PM: OUTSIDE, LENDER: OUTSIDE}),
    # O11: a region the caller covers (its inspector's every case there, another role's its organisation's)
    ("GET", "/oversight/report"): spec({INSPECTOR, FINANCE, PM, LENDER}, get(_fixed("/oversight/report"), lambda p: {
        "region": p.county, "from": clock.today().isoformat(), "to": clock.today().isoformat()})),
    # E1 with O6: an inspector or a member of an organisation with a case uploads (no place in it: the same
    # everywhere); a document is read by whom sees a case citing it (OWN's, by its inspector and bureau)
    ("POST", "/oversight/evidence"): Spec(
        frozenset({INSPECTOR, FINANCE, PM, LENDER}),
        lambda w, p: Call("POST", "/oversight/evidence", params={"name": "矩阵.pdf"}, content=_pdf(),
                          headers={"content-type": "application/pdf"}),
        CREATED, CREATED, own_by_role={PM: OUTSIDE, LENDER: OUTSIDE}, other_by_role={PM: OUTSIDE, LENDER: OUTSIDE}),
    ("GET", "/oversight/evidence/{sha256}"): spec(
        {INSPECTOR, FINANCE, PM, LENDER}, get(lambda p: f"/oversight/evidence/{p.document}"),
        other=Expect(404, "NOT_FOUND"), own_by_role={PM: Expect(404, "NOT_FOUND"), LENDER: Expect(404, "NOT_FOUND")}),
    ("DELETE", "/admin/principals/{principal_id}"): spec(
        {ADMIN}, lambda w, p: Call("DELETE", f"/admin/principals/{p.principal}")),
    ("GET", "/audit"): spec({INSPECTOR, ADMIN}, get(lambda p: "/audit", lambda p: {"region": p.county}),
                            own=audit_rows(empty=False), other=audit_rows(empty=True)),
    ("GET", "/audit/verify"): same({INSPECTOR, ADMIN}, get(lambda p: "/audit/verify")),
    ("GET", "/audit/export"): spec({INSPECTOR, ADMIN}, get(lambda p: "/audit/export", lambda p: {"region": p.county}),
                                   own=audit_rows(empty=False), other=audit_rows(empty=True)),
    **{("GET", path): same({INSPECTOR, ADMIN}, get(_fixed(path))) for path in (
        "/audit/public-key", "/audit/checkpoints/latest", "/audit/checkpoints")},
    # the full check reads every jurisdiction's entries: a national admin's (S1; tests/platform/test_audit.py)
    ("POST", "/audit/verify/full"): same({ADMIN}, lambda w, p: Call("POST", "/audit/verify/full"), OUTSIDE),
    ("GET", "/audit/verify/full/{check_id}"): same({ADMIN}, get(_fixed("/audit/verify/full/none")), OUTSIDE),
    ("POST", "/audit/checkpoints"): same({ADMIN}, lambda w, p: Call("POST", "/audit/checkpoints"), CREATED),
    ("GET", "/audit/entries/{seq}"): spec({INSPECTOR, ADMIN}, get(lambda p: f"/audit/entries/{p.audit_seq}"),
                                          other=Expect(404, "NOT_FOUND")),
    ("GET", "/audit/consistency"): same({INSPECTOR, ADMIN}, get(_fixed("/audit/consistency"),
                                                                lambda p: {"from": 1, "to": 2})),
    ("GET", "/alerts"): spec(EVERY_ROLE, get(lambda p: "/alerts", lambda p: {"type": "MATRIX_TEST", "limit": 500}),
                             own=alerts_seen(listed=True), other=alerts_seen(listed=False)),
    # issue #19: the counts of the same filter (the place's alerts counted in OWN, none asked of another region)
    ("GET", "/alerts/summary"): spec(EVERY_ROLE, get(lambda p: "/alerts/summary",
                                                     lambda p: {"type": "MATRIX_TEST", "region": p.county}),
                                     own=alerts_counted(counted=True), other=alerts_counted(counted=False)),
    # one alert: a registry alert is the project managers' and lenders' domain, not finance's (their list's rule)
    ("GET", "/alerts/{alert_id}"): spec(EVERY_ROLE, get(lambda p: f"/alerts/{p.alerts['registry']}"),
                                        other=Expect(404, "NOT_FOUND"),
                                        own_by_role={FINANCE: Expect(404, "NOT_FOUND")}),
    ("POST", "/alerts/scan"): same({ADMIN, INSPECTOR}, post(lambda p: "/alerts/scan", lambda w, p: {
        "as_of": "2015-01-01"}), Expect(202)),  # a job (issue #20): followed in tests/platform/test_alerts.py
    ("GET", "/alerts/scans/{scan_id}"): same({ADMIN, INSPECTOR}, get(_fixed("/alerts/scans/none")),
                                             Expect(404, "NOT_FOUND")),
    ("POST", "/alerts/{alert_id}/acknowledge"): spec({INSPECTOR}, post(
        lambda p: f"/alerts/{p.alerts['ack']}/acknowledge", lambda w, p: {"note": "已阅"})),
    ("POST", "/alerts/{alert_id}/resolve"): spec({INSPECTOR}, post(
        lambda p: f"/alerts/{p.alerts['resolve']}/resolve", lambda w, p: {"note": "已核实"})),
    # Funds: national reference data is a national admin's (S1); a county's status is set from above it
    ("PUT", "/funds/sources/{code}"): same({ADMIN}, lambda w, p: Call(
        "PUT", f"/funds/sources/MX{uuid.uuid4().hex[:6]}", json=SOURCE_BODY), OUTSIDE),
    ("GET", "/funds/sources"): same(EVERY_ROLE, get(lambda p: "/funds/sources")),
    ("GET", "/funds/sources/{code}"): same(EVERY_ROLE, lambda w, p: Call("GET", f"/funds/sources/{w.source}")),
    # F7 by year: national reference data, as the sources (a county's admin is refused, S1)
    ("PUT", "/funds/sources/{code}/scopes/{year}"): same({ADMIN}, lambda w, p: Call(
        "PUT", f"/funds/sources/{w.source}/scopes/2016", json={"integrable": False}), OUTSIDE),
    ("GET", "/funds/sources/{code}/scopes"): same(EVERY_ROLE, lambda w, p: Call(
        "GET", f"/funds/sources/{w.source}/scopes")),
    ("PUT", "/funds/counties/{code}"): same({ADMIN, FINANCE}, lambda w, p: Call(
        "PUT", f"/funds/counties/{p.county}", json=COUNTY_BODY), OUTSIDE),
    ("GET", "/funds/counties"): spec(EVERY_ROLE, get(lambda p: "/funds/counties"),
                                     own=listing("code", lambda p: p.county, listed=True),
                                     other=listing("code", lambda p: p.county, listed=False)),
    ("POST", "/funds/appropriations"): spec({FINANCE}, post(lambda p: "/funds/appropriations", lambda w, p: {
        "fund_source": w.source, "fiscal_year": 2018, "region_code": p.county, "amount_fen": 100,
        "doc_no": f"矩阵-{uuid.uuid4().hex[:8]}", "appropriated_on": "2018-01-10"}), own=CREATED),
    ("POST", "/funds/allocations"): spec({FINANCE}, post(lambda p: "/funds/allocations", lambda w, p: _allocation(p)),
                                         own=Expect(422, "ALLOCATION_DIRECTION")),
    ("POST", "/funds/allocations:batch"): spec({FINANCE}, post(lambda p: "/funds/allocations:batch", lambda w, p: {
        "items": [_allocation(p)]}), own=Expect(422, "ALLOCATION_DIRECTION")),
    ("GET", "/funds/allocations"): spec({FINANCE, INSPECTOR}, get(lambda p: "/funds/allocations",
                                                                  lambda p: {"to_region": p.county}),
                                        own=listing("id", lambda p: p.allocation, listed=True),
                                        other=listing("id", lambda p: p.allocation, listed=False)),
    ("GET", "/funds/allocations/{allocation_id}"): spec({FINANCE, INSPECTOR},
                                                        get(lambda p: f"/funds/allocations/{p.allocation}")),
    ("POST", "/funds/reversals"): spec({FINANCE}, post(lambda p: "/funds/reversals", lambda w, p: {
        "target_id": p.appropriation, "reason": "矩阵冲正"}), own=CREATED),
    ("GET", "/funds/balances"): spec({FINANCE, INSPECTOR}, get(lambda p: "/funds/balances",
                                                               lambda p: {"region": p.county})),
    ("POST", "/funds/arrangements"): spec({FINANCE}, post(lambda p: "/funds/arrangements", lambda w, p: {
        "county_code": p.county, "project_id": p.project, "amount_fen": 100}),
        own=Expect(422, "PROJECT_NOT_IN_LIBRARY")),
    ("POST", "/funds/disbursements"): spec({FINANCE}, post(lambda p: "/funds/disbursements", lambda w, p: {
        "project_id": p.project, "amount_fen": 100, "voucher_no": f"凭-{uuid.uuid4().hex[:8]}",
        "payee": {"kind": "household", "id": p.household_id, "name": "王五", "account_no": "1"}}),
        own=Expect(422, "PROJECT_NOT_IN_PROGRESS")),
    # F13: a county's subsidy standards (a version effective far ahead: it changes no payment of the matrix)
    ("POST", "/funds/subsidy-standards"): spec({FINANCE}, post(lambda p: "/funds/subsidy-standards", lambda w, p: {
        "county_code": p.county, "category": "矩阵", "amount_fen": 100, "effective_on": "2099-01-01",
        "doc_no": "矩阵"}), own=CREATED),
    ("GET", "/funds/subsidy-standards"): spec({FINANCE, INSPECTOR}, get(lambda p: "/funds/subsidy-standards",
                                                                        lambda p: {"county": p.county})),
    # A county principal reads no province's growth, its own included.
    ("GET", "/funds/reports/growth"): same({FINANCE, INSPECTOR}, get(
        lambda p: "/funds/reports/growth", lambda p: {"province": p.province, "fiscal_year": 2018}), OUTSIDE),
    ("GET", "/funds/reports/progress"): spec({FINANCE, INSPECTOR}, get(lambda p: "/funds/reports/progress",
                                                                       lambda p: {"region": p.county})),
    ("GET", "/funds/trace"): spec({INSPECTOR}, get(lambda p: "/funds/trace",
                                                   lambda p: {"allocation_id": p.allocation})),
    # The county's integration plan (issue #17): the county's own finance office files it
    ("POST", "/funds/plans"): spec({FINANCE}, post(lambda p: "/funds/plans", lambda w, p: {
        "county_code": p.county, "fiscal_year": PLAN_YEAR + 1 if PLAN_YEAR < 2100 else 2029,
        "sources": [{"fund_source": w.source, "amount_fen": 100}], "projects": []}), own=CREATED),
    ("POST", "/funds/plans/{plan_id}/adjustments"): spec({FINANCE}, post(
        lambda p: f"/funds/plans/{p.plan}/adjustments", lambda w, p: {
            "sources": [{"fund_source": w.source, "amount_fen": 200}], "projects": [], "reason": "矩阵调整"}),
        own=CREATED),
    # a version that does not exist is not the latest: the one business refusal of the body
    ("POST", "/funds/plans/{plan_id}/report"): spec({FINANCE}, post(lambda p: f"/funds/plans/{p.plan}/report",
                                                                    lambda w, p: {"version": 999}),
                                                    own=Expect(409, "PLAN_VERSION_SUPERSEDED")),
    ("GET", "/funds/plans"): spec({FINANCE, INSPECTOR}, get(lambda p: "/funds/plans", lambda p: {
        "county": p.county, "year": PLAN_YEAR}), own=listing("id", lambda p: p.plan, listed=True)),
    ("GET", "/funds/plans/{plan_id}"): spec({FINANCE, INSPECTOR}, get(lambda p: f"/funds/plans/{p.plan}")),
    ("GET", "/funds/reports/plan-execution"): spec({FINANCE, INSPECTOR}, get(
        lambda p: "/funds/reports/plan-execution", lambda p: {"county": p.county, "year": PLAN_YEAR})),
    # Obligations are declared from above the regions they bind: no county principal declares one
    ("PUT", "/funds/obligations/{code}"): same({ADMIN, FINANCE}, lambda w, p: Call(
        "PUT", f"/funds/obligations/mx-{uuid.uuid4().hex[:6]}", json={
            "region_code": p.county, "kind": "county_plan", "from_year": PLAN_YEAR, "doc_no": "矩阵"}), OUTSIDE),
    ("GET", "/funds/obligations/{code}"): same(EVERY_ROLE, get(_fixed("/funds/obligations/mx-none")),
                                               Expect(404, "NOT_FOUND")),
    ("POST", "/funds/revenues"): spec({FINANCE}, post(lambda p: "/funds/revenues", lambda w, p: {
        "region_code": p.county, "fiscal_year": PLAN_YEAR, "revenue_fen": 1_000, "doc_no": "矩阵决算"}),
        own=CREATED),
    ("POST", "/funds/recoveries"): spec({FINANCE}, post(lambda p: "/funds/recoveries", lambda w, p: {
        "region_code": p.county, "fiscal_year": PLAN_YEAR, "amount_fen": 1_000, "to_poverty_fen": 500,
        "doc_no": "矩阵回收"}), own=CREATED),
    ("GET", "/funds/reports/input"): spec({FINANCE, INSPECTOR}, get(lambda p: "/funds/reports/input", lambda p: {
        "region": p.county, "year": PLAN_YEAR})),
    # Projects
    ("POST", "/projects"): spec({PM}, post(lambda p: "/projects", lambda w, p: project_body(
        p.county, [p.household_id])), own=CREATED),
    ("GET", "/projects"): spec({PM, FINANCE, INSPECTOR}, get(lambda p: "/projects", lambda p: {"county": p.county})),
    ("GET", "/projects/{project_id}"): spec({PM, FINANCE, INSPECTOR}, get(lambda p: f"/projects/{p.project}")),
    # P14: the county's project manager edits a draft (it stays a draft); its revisions are read like the project
    ("POST", "/projects/{project_id}/revisions"): spec({PM}, post(lambda p: f"/projects/{p.project}/revisions",
                                                                  lambda w, p: edit_body(p.county, [p.household_id]))),
    ("GET", "/projects/{project_id}/revisions"): spec({PM, FINANCE, INSPECTOR}, get(
        lambda p: f"/projects/{p.project}/revisions")),
    **{("POST", f"/projects/{{project_id}}/{action}"): _transition(action) for action in TRANSITIONS},
    # P1: anyone with a key may object to an announced project, wherever it is (the public page too).
    ("POST", "/projects/{project_id}/objections"): spec(EVERY_ROLE, post(
        lambda p: f"/projects/{p.announced}/objections", lambda w, p: {"text": "矩阵异议"}), own=CREATED,
        other=CREATED),
    ("GET", "/projects/{project_id}/objections"): spec({PM, FINANCE, INSPECTOR}, get(
        lambda p: f"/projects/{p.announced}/objections"), own=listing("id", lambda p: p.objection, listed=True)),
    ("POST", "/projects/{project_id}/objections/{objection_id}/resolve"): spec({PM}, post(
        lambda p: f"/projects/{p.announced}/objections/{p.objection}/resolve", lambda w, p: {"resolution": "已答复"})),
    ("POST", "/projects/{project_id}/assets"): spec({PM}, post(lambda p: f"/projects/{p.accepted}/assets",
                                                               lambda w, p: {
        "kind": "household", "value_fen": 1_000, "description": "农具"}), own=CREATED),
    ("GET", "/projects/{project_id}/assets"): spec({PM, FINANCE, INSPECTOR}, get(
        lambda p: f"/projects/{p.accepted}/assets"), own=listing("id", lambda p: p.asset, listed=True)),
    ("POST", "/projects/{project_id}/assets/{asset_id}/dividends"): spec({PM}, post(
        lambda p: f"/projects/{p.accepted}/assets/{p.asset}/dividends", lambda w, p: DIVIDEND), own=CREATED),
    # P8, P9: an accepted project signs no more contracts (refused after jurisdiction); its contracts are read
    ("POST", "/projects/{project_id}/contracts"): spec({PM}, post(lambda p: f"/projects/{p.accepted}/contracts",
                                                                  lambda w, p: CONTRACT), own=Expect(
        422, "PROJECT_NOT_CONTRACTING")),
    ("GET", "/projects/{project_id}/contracts"): spec({PM, FINANCE, INSPECTOR}, get(
        lambda p: f"/projects/{p.accepted}/contracts")),
    ("POST", "/projects/tender-thresholds"): spec({ADMIN, PM}, post(
        lambda p: "/projects/tender-thresholds", lambda w, p: {
            "county_code": p.county, "amount_fen": 10**12, "effective_on": "2099-01-01", "doc_no": "矩阵"}),
        own=CREATED),
    ("GET", "/projects/tender-thresholds/{county_code}"): spec({ADMIN, PM, FINANCE, INSPECTOR}, get(
        lambda p: f"/projects/tender-thresholds/{p.county}")),
    # Close-out (issue #17 point 3): the register lists the county's assets; a handover of the asset of a project
    # funds paid nothing to is refused by P11 (nothing is recorded)
    ("GET", "/projects/assets"): spec({PM, FINANCE, INSPECTOR}, get(lambda p: "/projects/assets",
                                                                   lambda p: {"county": p.county}),
                                      own=listing("id", lambda p: p.asset, listed=True)),
    ("POST", "/projects/{project_id}/assets/{asset_id}/handover"): spec({PM}, post(
        lambda p: f"/projects/{p.accepted}/assets/{p.asset}/handover", lambda w, p: HANDOVER),
        own=Expect(422, "HANDOVER_VALUE_MISMATCH")),
    # Registry: an import reports the lines outside the importer's jurisdiction and keeps none of them
    ("POST", "/registry/households/import"): spec({ADMIN, PM}, _csv, own=import_outcome(imported=True),
                                                  other=import_outcome(imported=False)),
    # issue #19: an import's progress is its importer's alone; a key the caller sent no import with is 404
    ("GET", "/registry/imports/{key}/progress"): same({ADMIN, PM}, get(_fixed("/registry/imports/none/progress")),
                                                     Expect(404, "NOT_FOUND")),
    ("GET", "/registry/households"): spec(EVERY_ROLE, get(lambda p: "/registry/households",
                                                          lambda p: {"county": p.county, "limit": 500}),
                                          own=listing("household_id", lambda p: p.household_id, listed=True),
                                          other=listing("household_id", lambda p: p.household_id, listed=False)),
    ("GET", "/registry/households/{household_id}"): spec(EVERY_ROLE, get(
        lambda p: f"/registry/households/{p.household_id}")),
    # R1: the place's household has no village cadre: reached, and refused by the rule (nothing recorded)
    ("POST", "/registry/households/{household_id}/cadre-exceptions"): spec({ADMIN, PM}, post(
        lambda p: f"/registry/households/{p.household_id}/cadre-exceptions",
        lambda w, p: {"approved_by": "县领导小组", "approved_on": "2018-02-01", "doc_no": "矩阵〔2018〕1号"}),
        own=Expect(422, "NOT_A_CADRE_HOUSEHOLD")),
    ("GET", "/registry/cadre-exceptions"): same(EVERY_ROLE, get(_fixed("/registry/cadre-exceptions"),
                                                                lambda p: {"county": p.county})),
    # Loans
    ("POST", "/loans"): spec({LENDER}, post(lambda p: "/loans", lambda w, p: _loan_body(p)), own=CREATED),
    ("GET", "/loans"): spec({LENDER, INSPECTOR}, get(lambda p: "/loans", lambda p: {"county": p.county}),
                            own=listing("id", lambda p: p.loan, listed=True)),
    ("GET", "/loans/reports/overdue"): spec({LENDER, INSPECTOR}, get(lambda p: "/loans/reports/overdue",
                                                                     lambda p: {"county": p.county})),
    ("GET", "/loans/reports/outstanding"): spec({LENDER, INSPECTOR, FINANCE}, get(
        lambda p: "/loans/reports/outstanding", lambda p: {"county": p.county})),
    ("GET", "/loans/reports/subsidy"): spec({LENDER, FINANCE, INSPECTOR}, get(
        lambda p: "/loans/reports/subsidy", lambda p: {"county": p.county, **SUBSIDY})),
    # Subsidy settlement (issue #18 point 3): a rate of a far year (unique to the run), the next quarter's claim, and
    # an approval of a claim not checked yet (refused: nothing is paid)
    ("POST", "/loans/subsidy-rates"): spec({FINANCE}, post(lambda p: "/loans/subsidy-rates", lambda w, p: {
        "county_code": p.county, "period_from": f"{RATE_YEAR}-01-01", "period_to": f"{RATE_YEAR}-04-01",
        "rate_bp": 475, "paid_to": "household", "fund_source": w.source}), own=CREATED),
    ("GET", "/loans/subsidy-rates"): spec({LENDER, FINANCE, INSPECTOR}, get(lambda p: "/loans/subsidy-rates",
                                                                            lambda p: {"county": p.county})),
    ("POST", "/loans/subsidy-claims"): spec({LENDER}, post(lambda p: "/loans/subsidy-claims", lambda w, p: {
        "county_code": p.county, "lender_name": "县农商银行", "bank_account_no": "6230009999",
        "period_from": "2018-06-01", "period_to": "2018-09-01"}), own=CREATED),
    ("GET", "/loans/subsidy-claims/{claim_id}"): spec({LENDER, FINANCE, INSPECTOR}, get(
        lambda p: f"/loans/subsidy-claims/{p.subsidy_claim}")),
    ("POST", "/loans/subsidy-claims/{claim_id}/decisions"): spec({FINANCE}, post(
        lambda p: f"/loans/subsidy-claims/{p.subsidy_claim}/decisions",
        lambda w, p: {"decision": "approved", "note": "矩阵"}), own=Expect(409, "SUBSIDY_NOT_CHECKED")),
    ("GET", "/loans/{loan_id}"): spec({LENDER, INSPECTOR}, get(lambda p: f"/loans/{p.loan}")),
    ("GET", "/loans/{loan_id}/subsidy"): spec({LENDER, FINANCE, INSPECTOR}, get(
        lambda p: f"/loans/{p.loan}/subsidy", lambda p: SUBSIDY)),
    ("POST", "/loans/{loan_id}/repayments"): spec({LENDER}, post(lambda p: f"/loans/{p.loan}/repayments",
                                                                 lambda w, p: REPAYMENT), own=CREATED),
    ("POST", "/loans/{loan_id}/usage-reports"): spec({LENDER}, post(lambda p: f"/loans/{p.loan}/usage-reports",
                                                                    lambda w, p: {
        "recipient": {"kind": "household", "id": p.household_id, "name": "王五"}, "amount_fen": 1_000,
        "purpose": "breeding", "reported_on": "2018-04-01"}), own=CREATED),
    ("POST", "/loans/{loan_id}/extensions"): spec({LENDER}, post(lambda p: f"/loans/{p.loan}/extensions",
                                                                 lambda w, p: EXTENSION), own=CREATED),
    # Issue #18: the risk-compensation fund (L7–L10); the writes reach the rule that refuses them, changing nothing
    ("POST", "/loans/risk-funds"): spec({FINANCE}, post(lambda p: "/loans/risk-funds", lambda w, p: {
        "county_code": p.county, "bank_name": "矩阵另一银行", "fund_source": w.source, "deposit_fen": 900_000_000,
        "leverage": 5, "fund_share_bp": 7000, "agreement_no": "矩阵协议", "established_on": "2018-02-15"}),
        own=Expect(409, "INSUFFICIENT_FUNDS")),
    ("GET", "/loans/risk-funds/{fund_id}"): spec({LENDER, FINANCE, INSPECTOR},
                                                 get(lambda p: f"/loans/risk-funds/{p.risk_fund}")),
    ("POST", "/loans/{loan_id}/compensation-claims"): spec({LENDER, FINANCE}, post(
        lambda p: f"/loans/{p.loan}/compensation-claims",
        lambda w, p: {"principal_lost_fen": 100, "claimed_on": "2019-06-30", "reason": "矩阵"}),
        own=Expect(422, "NO_RISK_FUND"),
        # L8 with O13: the matrix's lender is of another organisation than the branch that lent the place's loans
        own_by_role={LENDER: Expect(403, "LOAN_OF_ANOTHER_BRANCH")}),
    ("GET", "/loans/compensation-claims/{claim_id}"): spec({LENDER, FINANCE, INSPECTOR},
                                                           get(lambda p: f"/loans/compensation-claims/{p.claim}")),
    **{("POST", f"/loans/compensation-claims/{{claim_id}}/{verb}"): spec({FINANCE}, post(
        _claim_path(verb),
        lambda w, p: {"decided_on": "2019-07-02", "note": "矩阵"}), own=Expect(409, "CLAIM_DECIDED"))
       for verb in ("approve", "reject")},
    ("POST", "/loans/compensation-claims/{claim_id}/recoveries"): spec({LENDER, FINANCE}, post(
        lambda p: f"/loans/compensation-claims/{p.claim}/recoveries",
        lambda w, p: {"amount_fen": 10_001, "recovered_on": "2019-08-01"}), own=Expect(422, "RECOVERY_OVER_LOST"),
        own_by_role={LENDER: Expect(403, "LOAN_OF_ANOTHER_BRANCH")}),
    # Issue #18: a renewal issued the old loan's day is reached and refused (L14); a return on a self-mode loan too
    # (L17); a county's admin registers no name for its province (L18); a lender's credit lines of its county (L19)
    ("POST", "/loans/{loan_id}/renewals"): spec({LENDER}, post(lambda p: f"/loans/{p.loan}/renewals",
                                                               lambda w, p: _loan_body(p, amount_fen=100)),
                                                own=Expect(422, "RENEWAL_NOT_LATER")),
    ("POST", "/loans/{loan_id}/returns"): spec({LENDER}, post(lambda p: f"/loans/{p.loan}/returns", lambda w, p: {
        "amount_fen": 100, "paid_on": "2019-01-01"}), own=Expect(422, "LOAN_NOT_COOPERATIVE")),
    ("GET", "/loans/{loan_id}/records"): spec({LENDER, INSPECTOR}, get(lambda p: f"/loans/{p.loan}/records")),
    ("GET", "/loans/product-names"): same(EVERY_ROLE, get(lambda p: "/loans/product-names",
                                                          lambda p: {"province": p.county[:2] + "0000"})),
    ("POST", "/loans/product-names"): same({ADMIN}, post(lambda p: "/loans/product-names", lambda w, p: {
        "province_code": p.county[:2] + "0000", "name": f"矩阵贷{uuid.uuid4().hex[:6]}"}), OUTSIDE),
    ("POST", "/loans/credit-lines/import"): spec({LENDER}, lambda w, p: Call(
        "POST", "/loans/credit-lines/import", headers={"content-type": "text/csv"},
        content=f"{','.join(CREDIT_LINES_HEADER)}\n{p.household_id},{p.county},县农商银行,3000000,2018-01-01,AA\n"
        .encode()), own=import_outcome(imported=True), other=import_outcome(imported=False)),
}


# -------------------------------------------------------------------------------------------------------- tests


def _expected(route_spec: Spec, role: str, region: str) -> Expect:
    if role not in route_spec.roles:
        return Expect(401, "UNAUTHORIZED") if role == ANONYMOUS else Expect(403, "FORBIDDEN")
    if region == OWN:
        return route_spec.own_by_role.get(role, route_spec.own)
    return route_spec.other_by_role.get(role, route_spec.other)


async def _send(api: Api, call: Call) -> httpx.Response:
    return await api.request(call.method, call.path, params=call.params, json=call.json, content=call.content,
                             headers=call.headers)


NO_SUCH_ROUTE = "no such resource:"  # the detail our handlers (door, services) give a path nothing serves


def no_such_route(response: httpx.Response) -> bool:
    """A 404 for a path or method no handler serves, as opposed to our problem+json NOT_FOUND for a missing entity
    (title "Not found", a detail naming the entity)."""
    if response.status_code != 404 or "json" not in response.headers.get("content-type", ""):
        return False
    body = response.json()
    if not isinstance(body, dict):
        return False
    return body == {"detail": "Not Found"} or NO_SUCH_ROUTE in str(body.get("detail", ""))


def _verdict(response: httpx.Response, expect: Expect, world: World, place: Place, role: str) -> str | None:
    """None when the answer is the expected one, else what was wrong."""
    if no_such_route(response):  # every call here is to a route of the policy, which the gateway let through
        return f"no such route behind a route of the policy: {response.text[:300]}"
    body: Any = None
    if "json" in response.headers.get("content-type", ""):
        body = response.json()
    code = body.get("code") if isinstance(body, dict) else None
    if response.status_code != expect.status or (expect.code is not None and code != expect.code):
        return f"expected {expect.status} {expect.code or ''}, got {response.status_code} {response.text[:300]}"
    if expect.check is not None:
        try:
            expect.check(response, world, place, role)
        except AssertionError as exc:
            return f"{response.status_code} but {exc}"
    return None


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.template}")
async def test_every_role_on_every_route_in_three_places(route: Route, world: World) -> None:
    route_spec = SPECS.get((route.method, route.template))
    assert route_spec is not None, f"no expectation written for {route.method} {route.template}: add it to SPECS"
    assert (ANONYMOUS in route_spec.roles) == route.public, "a public route is one a caller without a key may use"
    callers = sorted(world.callers) if route_spec.anonymous else sorted(EVERY_ROLE)
    cases = [(role, region) for role in callers for region in REGIONS]
    calls = [route_spec.build(world, world[region]) for _, region in cases]
    responses = await asyncio.gather(*(_send(world.callers[role], call) for (role, _), call in zip(cases, calls,
                                                                                                   strict=True)))
    wrong = {
        f"{role} on {region}": problem
        for (role, region), response in zip(cases, responses, strict=True)
        if (problem := _verdict(response, _expected(route_spec, role, region), world, world[region], role))
    }
    assert not wrong, json.dumps(wrong, ensure_ascii=False, indent=1)


def test_every_route_with_an_expectation_is_in_the_policy() -> None:
    """A route dropped from the policy (or renamed) leaves its expectation behind: that is a change to look at."""
    policy = {(r.method, r.template) for r in ROUTES}
    assert set(SPECS) - policy == set()


def _answer(status: int, body: dict[str, Any], content_type: str = "application/problem+json") -> httpx.Response:
    return httpx.Response(status, json=body, headers={"content-type": content_type})


@pytest.mark.parametrize("response", [
    _answer(404, {"detail": "Not Found"}, "application/json"),  # FastAPI's default: no such route
    _answer(404, {"status": 404, "code": "NOT_FOUND", "title": "没有这个地址 / no such resource: GET /funds/x",
                  "detail": "没有这个地址 / no such resource: GET /funds/x"}),  # the same, as our handlers say it
], ids=["fastapi-default", "problem"])
def test_a_missing_route_fails_even_where_a_404_is_expected(response: httpx.Response) -> None:
    """An allowed role answered "no such route" is the defect the old matrix let through (it took anything but
    401/403/500 as a pass): it fails here whatever the expectation, a 404 included."""
    world, place = World({}, "", {}), Place(OWN)
    for expect in (Expect(404), Expect(404, "NOT_FOUND"), OK):
        assert _verdict(response, expect, world, place, FINANCE) is not None


def test_a_missing_entity_is_not_a_missing_route() -> None:
    missing = _answer(404, {"status": 404, "code": "NOT_FOUND", "title": "Not found",
                            "detail": "没有这条预警 / no alert alert-funds_x"})
    assert not no_such_route(missing)
    assert _verdict(missing, Expect(404, "NOT_FOUND"), World({}, "", {}), Place(OWN), INSPECTOR) is None
