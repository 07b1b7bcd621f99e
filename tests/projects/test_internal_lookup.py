"""POST /internal/projects/lookup (issue #20): funds asks a page of up to 1,000 projects in one call (plan filing,
the input report and its detector), not one call per project. Ids unknown or of another region are answered as
absent; more than a page is 422 naming the field; the internal API answers services only."""

from __future__ import annotations

import json
from typing import Any

import httpx

from services.kernel.identity import Principal
from services.projects.schemas import LOOKUP_LIMIT
from tests.conftest import signed
from tests.projects.conftest import County
from tests.projects.factory import project_in, village_of
from tests.registry.factory import new_county
from tests.stack import Stack

FUNDS = Principal(id="service:funds", role="service", region_code="000000", name="funds")
PATH = "/internal/projects/lookup"


async def lookup(stack: Stack, body: object, principal: Principal = FUNDS) -> httpx.Response:
    url = f"{stack.service_urls['projects']}{PATH}"
    content = json.dumps(body).encode()
    headers = {**signed(stack, "POST", url, principal, body=content), "content-type": "application/json"}
    async with httpx.AsyncClient() as client:
        return await client.post(url, content=content, headers=headers)


async def test_the_projects_of_the_region_are_answered_in_order_the_others_missing(
    county: County, stack: Stack
) -> None:
    approved = await project_in(county.pm, county.code, county.poor, "approved")
    draft = await project_in(county.pm, county.code, county.poor, "draft", category="infrastructure")
    ids = [draft, "prj_nothing", approved, draft]
    answered = await lookup(stack, {"region_code": county.code, "project_ids": ids})
    assert answered.status_code == 200, answered.text
    assert [p["id"] for p in answered.json()["items"]] == [draft, approved]  # asked twice, answered once
    assert answered.json()["missing"] == ["prj_nothing"]
    first = answered.json()["items"][1]
    assert first == {"id": approved, "county_code": county.code, "village_code": village_of(county.code),
                     "name": first["name"], "category": "industry", "status": "approved", "budget_fen": 50_000_000,
                     "negative_list": False}
    assert answered.json()["items"][0]["status"] == "draft"
    # the same answer the one-project route gives
    url = f"{stack.service_urls['projects']}/internal/projects/{approved}"
    async with httpx.AsyncClient() as client:
        one = await client.get(url, headers=signed(stack, "GET", url, FUNDS))
    assert one.status_code == 200 and one.json() == first
    # the region is a jurisdiction: its city, its province and the country hold the county's projects
    for region in (county.code[:4] + "00", county.code[:2] + "0000", "000000"):
        wide = await lookup(stack, {"region_code": region, "project_ids": [approved]})
        assert [p["id"] for p in wide.json()["items"]] == [approved], region


async def test_a_project_outside_the_region_is_answered_as_none(county: County, stack: Stack) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "approved")
    other = new_county()
    while other[:4] == county.code[:4]:
        other = new_county()
    for region in (other, other[:4] + "00"):
        answered = await lookup(stack, {"region_code": region, "project_ids": [project_id]})
        assert answered.status_code == 200, answered.text
        assert answered.json() == {"items": [], "missing": [project_id]}
    assert (await lookup(stack, {"region_code": county.code, "project_ids": []})).json() == {"items": [],
                                                                                             "missing": []}


async def test_a_page_at_most_and_a_well_formed_question(stack: Stack) -> None:
    page = [f"prj_{i}" for i in range(LOOKUP_LIMIT)]
    full = await lookup(stack, {"region_code": "000000", "project_ids": page})
    assert full.status_code == 200 and len(full.json()["missing"]) == LOOKUP_LIMIT
    body: dict[str, Any]
    for body, field in (
        ({"region_code": "000000", "project_ids": [*page, "prj_one_more"]}, "project_ids"),
        ({"region_code": "43", "project_ids": ["prj_1"]}, "region_code"),
        ({"project_ids": ["prj_1"]}, "region_code"),
        ({"region_code": "000000", "project_ids": [""]}, "project_ids.0"),
    ):
        refused = await lookup(stack, body)
        assert refused.status_code == 422, body
        assert (refused.json()["code"], refused.json()["field"]) == ("VALIDATION_ERROR", field), refused.text


async def test_the_lookup_answers_services_only(county: County, stack: Stack) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "approved")
    manager = Principal(id="pm", role="project_manager", region_code=county.code)
    refused = await lookup(stack, {"region_code": county.code, "project_ids": [project_id]}, principal=manager)
    assert refused.status_code == 404 and project_id not in refused.text
    async with httpx.AsyncClient() as client:
        unsigned = await client.post(f"{stack.service_urls['projects']}{PATH}",
                                     json={"region_code": county.code, "project_ids": [project_id]})
    assert unsigned.status_code == 401


async def test_every_internal_route_of_projects_answers_services_only(county: County, stack: Stack) -> None:
    """S1: each route of projects' internal API (a project, the lookup, the villages, a contract) is there for a
    service's signed identity and not for anyone else's, a national admin's included (404, as no route)."""
    project_id = await project_in(county.pm, county.code, county.poor, "approved")
    base = stack.service_urls["projects"]
    asks = [("GET", f"/internal/projects/{project_id}", None),
            ("POST", PATH, {"region_code": county.code, "project_ids": [project_id]}),
            ("POST", "/internal/projects/villages", {"items": [{"project_id": project_id}]}),
            ("GET", f"/internal/projects/{project_id}/contracts/ctr_nothing", None)]
    admin = Principal(id="admin", role="admin", region_code="000000")
    manager = Principal(id="pm", role="project_manager", region_code=county.code)
    async with httpx.AsyncClient() as client:
        for method, path, body in asks:
            content = json.dumps(body).encode() if body is not None else b""
            answers = {}
            for who in (FUNDS, admin, manager):
                headers = {**signed(stack, method, base + path, who, body=content),
                           "content-type": "application/json"}
                answers[who.role] = await client.request(method, base + path, content=content or None,
                                                         headers=headers)
            # the service is answered (a contract it does not know is its own 404, naming the contract)
            served = answers["service"]
            assert served.status_code == (404 if "contracts" in path else 200), (path, served.text)
            for role in ("admin", "project_manager"):
                refused = answers[role]
                assert refused.status_code == 404, (path, role, refused.text)
                assert "internal API answers FundTrack services only" in refused.json()["detail"], refused.text
                assert project_id not in refused.json()["detail"]  # (the instance is the path asked)
