"""S1 (A5 least privilege): an admin acts only inside its jurisdiction, like every other role. It issues, lists and
revokes principals whose region it covers (never wider than its own); only a national admin (000000) keeps national
reference data (fund sources); a county's status is set from above it (the centre, its province or city)."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest

from services.kernel.errors import NOT_IN_JURISDICTION
from services.kernel.identity import Principal
from tests.conftest import Api, MakePrincipal, signed
from tests.stack import Stack


def _refused(response, field: str) -> None:
    assert response.status_code == 403, response.text
    body = response.json()
    assert (body["code"], body["field"], body["rule"]) == (NOT_IN_JURISDICTION, field, "S1"), body


@pytest.fixture(scope="module")
async def county_admin(make_principal: MakePrincipal) -> Api:
    return await make_principal("admin", "430523")


@pytest.fixture(scope="module")
async def province_admin(make_principal: MakePrincipal) -> Api:
    return await make_principal("admin", "430000")


async def _issue(admin: Api, role: str, region_code: str, name: str | None = None):
    body = {"name": name or f"s1-{uuid.uuid4().hex[:8]}", "role": role, "region_code": region_code}
    return await admin.post("/admin/principals", json=body)


@pytest.mark.parametrize(
    ("role", "region_code"),
    [("admin", "000000"), ("admin", "430000"), ("inspector", "520121"), ("lender", "431023"), ("finance", "430500")],
)
async def test_a_county_admin_issues_no_key_beyond_its_county(
    county_admin: Api, db: asyncpg.Pool, role: str, region_code: str
) -> None:
    name = f"s1-refused-{uuid.uuid4().hex[:8]}"
    _refused(await _issue(county_admin, role, region_code, name), "region_code")
    assert await db.fetchval("SELECT count(*) FROM gateway.principals WHERE name = $1", name) == 0


async def test_a_county_admin_issues_keys_in_its_county_and_villages(county_admin: Api) -> None:
    for role, region_code in (("lender", "430523"), ("admin", "430523"), ("project_manager", "430523101001")):
        response = await _issue(county_admin, role, region_code)
        assert response.status_code == 201, response.text
        assert response.json()["region_code"] == region_code


async def test_a_province_admin_issues_below_not_above_nor_beside(province_admin: Api) -> None:
    assert (await _issue(province_admin, "finance", "430523")).status_code == 201
    assert (await _issue(province_admin, "admin", "430000")).status_code == 201
    _refused(await _issue(province_admin, "admin", "000000"), "region_code")
    _refused(await _issue(province_admin, "inspector", "520121"), "region_code")


async def test_the_built_in_admin_is_national(admin: Api) -> None:
    assert (await _issue(admin, "admin", "000000")).status_code == 201
    assert (await _issue(admin, "inspector", "520121")).status_code == 201


async def _listed(api: Api) -> dict[str, str]:
    seen: dict[str, str] = {}
    cursor = None
    while True:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        response = await api.get("/admin/principals", params=params)
        assert response.status_code == 200, response.text
        seen.update({p["id"]: p["region_code"] for p in response.json()["items"]})
        if (cursor := response.json()["next_cursor"]) is None:
            return seen


async def test_a_county_admin_lists_only_its_county(county_admin: Api, admin: Api) -> None:
    mine = (await _issue(county_admin, "lender", "430523101001")).json()["id"]
    guizhou = (await _issue(admin, "lender", "520121")).json()["id"]
    listed = await _listed(county_admin)
    assert mine in listed and guizhou not in listed
    assert all(region.startswith("430523") for region in listed.values()), set(listed.values())
    assert {mine, guizhou} <= set(await _listed(admin))


async def test_a_county_admin_revokes_only_in_its_county(county_admin: Api, make_principal: MakePrincipal) -> None:
    outsider = await make_principal("inspector", "520121")
    _refused(await county_admin.delete(f"/admin/principals/{outsider.principal_id}"), "principal_id")
    assert (await outsider.get("/audit/verify")).status_code == 200, "the refused revocation changed something"
    insider = await make_principal("inspector", "430523")
    assert (await county_admin.delete(f"/admin/principals/{insider.principal_id}")).status_code == 200
    assert (await insider.get("/audit/verify")).status_code == 401


SOURCE = {"name": "S1 测试资金", "level": "central", "integrable": True}
COUNTY = {"name": "S1 测试县", "poor": True, "integration_pilot": True}


async def test_only_a_national_admin_keeps_fund_sources(
    county_admin: Api, province_admin: Api, admin: Api, db: asyncpg.Pool
) -> None:
    code = f"S1{uuid.uuid4().hex[:6]}"
    for regional in (county_admin, province_admin):
        _refused(await regional.put(f"/funds/sources/{code}", json=SOURCE), "code")
    assert await db.fetchval("SELECT count(*) FROM funds.fund_sources WHERE code = $1", code) == 0
    assert (await admin.put(f"/funds/sources/{code}", json=SOURCE)).status_code == 200


async def test_a_county_is_set_from_above_it_and_inside_the_jurisdiction(
    county_admin: Api, province_admin: Api, admin: Api, make_principal: MakePrincipal, db: asyncpg.Pool
) -> None:
    guizhou_admin = await make_principal("admin", "520000")
    _refused(await county_admin.put("/funds/counties/520121", json=COUNTY), "code")  # another province
    _refused(await county_admin.put("/funds/counties/430523", json=COUNTY), "code")  # its own: set from above
    _refused(await guizhou_admin.put("/funds/counties/439921", json=COUNTY), "code")
    assert await db.fetchval("SELECT count(*) FROM funds.counties WHERE code = '439921'") == 0
    assert (await province_admin.put("/funds/counties/439921", json=COUNTY)).status_code == 200
    assert (await admin.put("/funds/counties/439922", json=COUNTY)).status_code == 200


@pytest.mark.parametrize(
    ("principal", "status"),
    [(Principal("admin", "admin", "000000"), 403), (Principal("service:loans", "service", "000000"), 404)],
    ids=["admin", "service"],
)
async def test_the_registry_internal_api_is_for_services_not_admins(
    stack: Stack, principal: Principal, status: int
) -> None:
    """S1: the internal API answers for every household with the full identity number and no jurisdiction; an
    admin's identity, even a national one, is not a service's (only the services' own calls reach it)."""
    url = stack.service_urls["registry"] + "/internal/households/hh-none"
    async with httpx.AsyncClient() as client:
        response = await client.get(url, headers=signed(stack, "GET", url, principal))
    assert response.status_code == status, response.text
