"""Issue #16 point 1: organisations (单位). Admins create and list them inside their jurisdiction (S1); a principal
belongs to one whose region covers its own (O1); principals made before organisations are each given one by the
migration, losing nothing; the services look organisations up over the gateway's signed internal API."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from pathlib import Path

import asyncpg
import httpx

from deploy.migrate import migrate
from services.kernel.db import plain_url
from services.kernel.identity import Principal, sign
from tests.conftest import Api, MakePrincipal
from tests.platform import before_baseline
from tests.platform.test_schema import _data_dir
from tests.stack import Stack


async def _organisation(api: Api, kind: str, region_code: str, name: str | None = None) -> httpx.Response:
    return await api.post(
        "/admin/organisations",
        json={"name": name or f"{kind}-{region_code}-{uuid.uuid4().hex[:6]}", "kind": kind, "region_code": region_code},
    )


async def test_an_admin_creates_and_lists_organisations_of_its_jurisdiction(
    admin: Api, make_principal: MakePrincipal
) -> None:
    bureau = await _organisation(admin, "finance_bureau", "450521", "合浦县财政局")
    assert bureau.status_code == 201, bureau.text
    assert bureau.json()["kind"] == "finance_bureau" and bureau.json()["region_code"] == "450521"
    assert bureau.json()["id"].startswith("org_")
    elsewhere = await _organisation(admin, "poverty_office", "520121")
    assert elsewhere.status_code == 201
    county_admin = await make_principal("admin", "450521")
    listed = await county_admin.get("/admin/organisations", params={"limit": 500})
    assert listed.status_code == 200
    ids = {o["id"] for o in listed.json()["items"]}
    assert bureau.json()["id"] in ids and elsewhere.json()["id"] not in ids  # S1: its jurisdiction only
    assert all(o["region_code"].startswith("450521") for o in listed.json()["items"])
    own = await _organisation(county_admin, "bank_branch", "450521")
    assert own.status_code == 201
    outside = await _organisation(county_admin, "bank_branch", "520121")
    assert outside.status_code == 403 and outside.json()["code"] == "NOT_IN_JURISDICTION"
    assert outside.json()["field"] == "region_code"


async def test_an_organisation_of_an_unknown_kind_or_region_is_refused(admin: Api) -> None:
    bad_kind = await _organisation(admin, "church", "450521")
    assert bad_kind.status_code == 422 and bad_kind.json()["field"] == "kind"
    bad_region = await _organisation(admin, "other", "45052X")
    assert bad_region.status_code == 422 and bad_region.json()["field"] == "region_code"
    inspector = await admin.get("/admin/principals", params={"limit": 1})
    assert inspector.status_code == 200


async def test_a_principal_is_issued_in_an_organisation_that_covers_its_region(
    admin: Api, make_principal: MakePrincipal, http: httpx.AsyncClient
) -> None:
    bureau = (await _organisation(admin, "finance_bureau", "450521")).json()
    issued = await admin.post(
        "/admin/principals",
        json={"name": "出纳", "role": "finance", "region_code": "450521", "organisation_id": bureau["id"]},
    )
    assert issued.status_code == 201, issued.text
    assert issued.json()["organisation_id"] == bureau["id"]
    village = await admin.post(
        "/admin/principals",
        json={"name": "村", "role": "finance", "region_code": "450521100200", "organisation_id": bureau["id"]},
    )
    assert village.status_code == 201, village.text
    other_county = await admin.post(
        "/admin/principals",
        json={"name": "外县", "role": "finance", "region_code": "450522", "organisation_id": bureau["id"]},
    )
    assert other_county.status_code == 422, other_county.text
    assert other_county.json()["code"] == "ORGANISATION_REGION" and other_county.json()["rule"] == "O1"
    assert other_county.json()["field"] == "organisation_id"
    unknown = await admin.post(
        "/admin/principals",
        json={"name": "x", "role": "finance", "region_code": "450521", "organisation_id": "org_nothing"},
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "UNKNOWN_ORGANISATION"
    # S1: a county admin cannot put a key into an organisation of another county's
    other_admin = await make_principal("admin", "450522")
    foreign = await other_admin.post(
        "/admin/principals",
        json={"name": "x", "role": "finance", "region_code": "450522", "organisation_id": bureau["id"]},
    )
    assert foreign.status_code == 403 and foreign.json()["field"] == "organisation_id"
    county_admin = await make_principal("admin", "450521")
    listed = {p["id"]: p for p in (await county_admin.get("/admin/principals", params={"limit": 500})).json()["items"]}
    assert listed[issued.json()["id"]]["organisation_id"] == bureau["id"]


async def test_a_principal_issued_without_an_organisation_gets_one_of_its_own(admin: Api, stack: Stack) -> None:
    issued = await admin.post("/admin/principals", json={"name": "独立", "role": "lender", "region_code": "450521"})
    assert issued.status_code == 201
    organisation_id = issued.json()["organisation_id"]
    found = await _internal(stack, f"/internal/organisations/{organisation_id}")
    assert found.status_code == 200, found.text
    assert found.json()["kind"] == "other" and found.json()["name"] == "独立"
    assert found.json()["region_code"] == "450521"


async def _internal(stack: Stack, path: str, principal: Principal | None = None, query: str = "") -> httpx.Response:
    who = principal or Principal(id="service:oversight", role="service", region_code="000000", name="oversight")
    headers = sign(
        stack.secret, method="GET", path=path, query=query, request_id=uuid.uuid4().hex, principal=who,
        body_sha256=hashlib.sha256(b"").hexdigest(), audience="gateway",
    )
    async with httpx.AsyncClient(base_url=stack.gateway_url) as client:
        return await client.get(path + (f"?{query}" if query else ""), headers=headers)


async def test_the_internal_api_finds_the_organisations_of_a_region_and_kind(admin: Api, stack: Stack) -> None:
    """O13: how funds finds a county's finance bureau: exactly that region and kind, the first registered first."""
    region = f"45{uuid.uuid4().int % 90 + 10:02d}{uuid.uuid4().int % 89 + 11:02d}"
    assert (await _internal(stack, "/internal/organisations", query=f"region_code={region}&kind=finance_bureau")
            ).json() == {"items": []}
    first = (await _organisation(admin, "finance_bureau", region)).json()
    second = (await _organisation(admin, "finance_bureau", region)).json()
    await _organisation(admin, "poverty_office", region)
    await _organisation(admin, "finance_bureau", region[:4] + "00")  # the city's: not the county's
    found = await _internal(stack, "/internal/organisations", query=f"region_code={region}&kind=finance_bureau")
    assert found.status_code == 200, found.text
    assert [o["id"] for o in found.json()["items"]] == [first["id"], second["id"]]
    bad = await _internal(stack, "/internal/organisations", query=f"region_code={region}&kind=bureau")
    assert bad.status_code == 422
    as_admin = await _internal(stack, "/internal/organisations", Principal(id="admin", role="admin",
                                                                           region_code="000000"),
                               query=f"region_code={region}&kind=finance_bureau")
    assert as_admin.status_code == 401


async def _internal_post(stack: Stack, path: str, body: object, principal: Principal | None = None,
                         signed_body: bytes | None = None) -> httpx.Response:
    """A POST to the gateway's internal API, signed for `signed_body` (default: the body sent)."""
    who = principal or Principal(id="service:funds", role="service", region_code="000000", name="funds")
    content = json.dumps(body).encode()
    headers = sign(
        stack.secret, method="POST", path=path, query="", request_id=uuid.uuid4().hex, principal=who,
        body_sha256=hashlib.sha256(content if signed_body is None else signed_body).hexdigest(), audience="gateway",
    )
    async with httpx.AsyncClient(base_url=stack.gateway_url) as client:
        return await client.post(path, content=content, headers={**headers, "content-type": "application/json"})


FIRST_OF_REGIONS = "/internal/organisations/first-of-regions"


async def test_the_first_finance_bureau_of_many_regions_in_one_call(admin: Api, stack: Stack) -> None:
    """O13 at a province's size (issue #20): the first registered bureau of each region asked, in one call; a region
    without one (or only with one of another kind, or only its city's) is answered missing."""
    city = f"46{uuid.uuid4().int % 90 + 10:02d}00"
    with_two, with_none, other_kind = city[:4] + "21", city[:4] + "22", city[:4] + "23"
    first = (await _organisation(admin, "finance_bureau", with_two)).json()
    await _organisation(admin, "finance_bureau", with_two)
    await _organisation(admin, "poverty_office", other_kind)
    city_bureau = (await _organisation(admin, "finance_bureau", city)).json()
    asked = [with_none, with_two, other_kind, city, with_two]
    found = await _internal_post(stack, FIRST_OF_REGIONS, {"kind": "finance_bureau", "region_codes": asked})
    assert found.status_code == 200, found.text
    assert [(i["region_code"], i["organisation"]["id"]) for i in found.json()["items"]] == [
        (with_two, first["id"]), (city, city_bureau["id"])]  # in the order asked, each once
    assert found.json()["items"][0]["organisation"] == first
    assert found.json()["missing"] == [with_none, other_kind]
    empty = await _internal_post(stack, FIRST_OF_REGIONS, {"kind": "finance_bureau", "region_codes": []})
    assert empty.json() == {"items": [], "missing": []}


async def test_first_of_regions_takes_a_page_at_most_and_signed_services_only(admin: Api, stack: Stack) -> None:
    page = [f"47{i // 100:02d}{i % 100:02d}" for i in range(1_000)]
    full = await _internal_post(stack, FIRST_OF_REGIONS, {"kind": "finance_bureau", "region_codes": page})
    assert full.status_code == 200 and len(full.json()["missing"]) == 1_000
    cases: list[tuple[dict[str, object], str]] = [
        ({"kind": "finance_bureau", "region_codes": [*page, "480101"]}, "region_codes"),
        ({"kind": "bureau", "region_codes": ["450521"]}, "kind"),
        ({"kind": "finance_bureau", "region_codes": ["4505"]}, "region_codes.0"),
    ]
    for body, field in cases:
        refused = await _internal_post(stack, FIRST_OF_REGIONS, body)
        assert refused.status_code == 422, refused.text
        assert (refused.json()["code"], refused.json()["field"]) == ("VALIDATION_ERROR", field), refused.text
    asking = {"kind": "finance_bureau", "region_codes": ["450521"]}
    as_admin = await _internal_post(stack, FIRST_OF_REGIONS, asking,
                                    Principal(id="admin", role="admin", region_code="000000"))
    assert as_admin.status_code == 401
    other_body = await _internal_post(stack, FIRST_OF_REGIONS, asking, signed_body=b'{"kind": "other"}')
    assert other_body.status_code == 401, other_body.text  # the body is the one signed (S5)
    async with httpx.AsyncClient(base_url=stack.gateway_url) as client:
        unsigned = await client.post(FIRST_OF_REGIONS, json=asking, headers=admin.headers())
    assert unsigned.status_code == 401


async def test_the_internal_organisation_lookup_answers_signed_services_only(admin: Api, stack: Stack) -> None:
    bureau = (await _organisation(admin, "discipline_commission", "450500")).json()
    found = await _internal(stack, f"/internal/organisations/{bureau['id']}")
    assert found.status_code == 200 and found.json() == bureau
    missing = await _internal(stack, "/internal/organisations/org_nothing")
    assert missing.status_code == 404
    as_admin = await _internal(
        stack, f"/internal/organisations/{bureau['id']}", Principal(id="admin", role="admin", region_code="000000")
    )
    assert as_admin.status_code == 401
    async with httpx.AsyncClient(base_url=stack.gateway_url) as client:
        unsigned = await client.get(f"/internal/organisations/{bureau['id']}", headers=admin.headers())
    assert unsigned.status_code == 401


def _gateway_head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    root = Path(__file__).resolve().parents[2]
    head = ScriptDirectory.from_config(Config(str(root / "alembic.ini"), ini_section="gateway")).get_current_head()
    assert head is not None
    return head


async def test_principals_made_before_organisations_each_get_one_and_lose_nothing(
    scratch: str, stack: Stack  # noqa: F811
) -> None:
    conn = await asyncpg.connect(plain_url(scratch))
    try:
        await before_baseline.restore(conn)
        await conn.execute(
            "INSERT INTO gateway.principals (id, name, role, region_code, key_sha256, key_prefix, created_by) VALUES "
            "('prn_a', '县财政', 'finance', '450521', 'aa', 'ft_a', 'admin'), "
            "('prn_b', '村级', 'project_manager', '450521100200', 'bb', 'ft_b', 'admin'), "
            "('prn_c', '省行', 'lender', '450000', 'cc', 'ft_c', 'admin')"
        )
        await conn.execute(
            "INSERT INTO gateway.principal_revocations (principal_id, revoked_by) VALUES ('prn_c', 'admin')"
        )
    finally:
        await conn.close()
    await asyncio.to_thread(migrate, scratch, _data_dir(stack))
    conn = await asyncpg.connect(plain_url(scratch))
    try:
        rows = await conn.fetch(
            "SELECT p.id, p.name, p.role, p.region_code, p.key_sha256, o.id AS org, o.name AS org_name, o.kind, "
            "o.region_code AS org_region FROM gateway.principals p JOIN gateway.organisations o "
            "ON o.id = p.organisation_id ORDER BY p.id"
        )
        revoked = await conn.fetchval("SELECT count(*) FROM gateway.principal_revocations")
        organisations = await conn.fetchval("SELECT count(*) FROM gateway.organisations")
        version = await conn.fetchval("SELECT version_num FROM gateway.alembic_version")
        with_trigger = await conn.fetchval(
            "SELECT count(*) FROM pg_trigger WHERE tgname = 'organisations_append_only'"
        )
    finally:
        await conn.close()
    assert version == _gateway_head()  # the head: gateway_0008_organisations and what followed it
    assert [(r["id"], r["role"], r["region_code"], r["key_sha256"]) for r in rows] == [
        ("prn_a", "finance", "450521", "aa"),
        ("prn_b", "project_manager", "450521100200", "bb"),
        ("prn_c", "lender", "450000", "cc"),
    ]
    assert organisations == 3 and len({r["org"] for r in rows}) == 3  # one each
    assert [(r["org_name"], r["kind"], r["org_region"]) for r in rows] == [
        ("县财政", "other", "450521"), ("村级", "other", "450521"), ("省行", "other", "450000"),
    ]
    assert revoked == 1 and with_trigger == 1
