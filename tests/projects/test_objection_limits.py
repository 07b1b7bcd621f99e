"""S8 through the gateway: objections (P1) that no single source can use to lock the public out or to keep a project
from approval for ever; and the public page, which names the project's owner unit, never the key that posted it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from services.kernel.errors import RATE_LIMITED
from services.projects import codes
from tests.conftest import Api, MakePrincipal
from tests.projects.conftest import County
from tests.projects.factory import act, project_in

BLOCKING = codes.PUBLIC_BLOCKING
PER_PRINCIPAL = codes.OPEN_OBJECTIONS_PER_PRINCIPAL


async def objections(pm: Api, project_id: str) -> list[dict[str, Any]]:
    response = await pm.get(f"/projects/{project_id}/objections")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def resolve(pm: Api, project_id: str, objection_id: str) -> None:
    response = await pm.post(f"/projects/{project_id}/objections/{objection_id}/resolve",
                             json={"resolution": "已书面答复 / answered in writing"})
    assert response.status_code == 200, response.text


async def test_a_public_flood_neither_locks_the_public_out_nor_blocks_approval_for_ever(
    county: County, anonymous: Api
) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "announced")
    url = f"/public/announcements/{project_id}/objections"
    flood = await asyncio.gather(*(anonymous.post(url, json={"text": f"异议 {i}"}) for i in range(BLOCKING + 5)))
    assert sorted(r.status_code for r in flood) == [201] * (BLOCKING + 5), [r.text for r in flood]
    late = await anonymous.post(url, json={"text": "真实的异议 / a genuine objection after the flood"})
    assert late.status_code == 201, late.text  # the public is never refused by the project
    listed = await objections(county.pm, project_id)
    assert len(listed) == BLOCKING + 6 and listed[-1]["id"] == late.json()["id"]
    assert [o["blocks_approval"] for o in listed] == [True] * BLOCKING + [False] * 6  # recorded, published
    refused = await act(county.pm, project_id, "approve", {})
    assert refused.status_code == 422 and refused.json()["code"] == codes.OPEN_OBJECTIONS
    assert len(refused.json()["objections"]) == BLOCKING  # the first ones block, each until answered in writing
    for objection in listed[:BLOCKING - 1]:
        await resolve(county.pm, project_id, objection["id"])
    still = await act(county.pm, project_id, "approve", {})
    assert still.status_code == 422 and still.json()["objections"] == [listed[BLOCKING - 1]["id"]]
    await resolve(county.pm, project_id, listed[BLOCKING - 1]["id"])
    approved = await act(county.pm, project_id, "approve", {})
    assert approved.status_code == 200, approved.text
    public = (await anonymous.get(f"/public/announcements/{project_id}")).json()
    assert public["objections_open"] == 6  # the later ones stay published, and may still be answered


async def test_a_key_holder_has_few_open_objections_to_one_project(
    county: County, make_principal: MakePrincipal
) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "announced")
    other_project = await project_in(county.pm, county.code, county.poor, "announced")
    stranger = await make_principal("lender", "659912")  # any key may object, from any county
    url = f"/projects/{project_id}/objections"
    for i in range(PER_PRINCIPAL):
        assert (await stranger.post(url, json={"text": f"异议 {i}"})).status_code == 201
    refused = await stranger.post(url, json={"text": "再一条"})
    assert refused.status_code == 429 and refused.json()["code"] == codes.OBJECTION_LIMIT, refused.text
    assert refused.json()["code"] != RATE_LIMITED and refused.json()["rule"] == codes.S8
    assert len(await objections(county.pm, project_id)) == PER_PRINCIPAL  # the refused one changed nothing
    # per principal and per project: another key, and another project, are not limited
    assert (await (await make_principal("lender", "659912")).post(url, json={"text": "另一把钥匙"})).status_code == 201
    assert (await stranger.post(f"/projects/{other_project}/objections", json={"text": "x"})).status_code == 201
    # answered in writing, the key may object again
    await resolve(county.pm, project_id, (await objections(county.pm, project_id))[0]["id"])
    assert (await stranger.post(url, json={"text": "答复后再提"})).status_code == 201


async def test_a_key_on_the_public_page_objects_as_its_principal(
    county: County, make_principal: MakePrincipal
) -> None:
    """A key sent to the public route was counted as the public: no per-key limit, and its objections took the
    public's blocking places (an outside probe: 100 objections in 1.9 s from another province's key)."""
    project_id = await project_in(county.pm, county.code, county.poor, "announced")
    stranger = await make_principal("inspector", "520121")
    public_url = f"/public/announcements/{project_id}/objections"
    for i in range(PER_PRINCIPAL):
        assert (await stranger.post(public_url, json={"text": f"异议 {i}"})).status_code == 201
    refused = await stranger.post(public_url, json={"text": "再一条"})
    assert refused.status_code == 429 and refused.json()["code"] == codes.OBJECTION_LIMIT, refused.text
    # the same limit whichever route the key takes: it is one principal's
    again = await stranger.post(f"/projects/{project_id}/objections", json={"text": "换个入口"})
    assert again.status_code == 429 and again.json()["code"] == codes.OBJECTION_LIMIT
    listed = await objections(county.pm, project_id)
    assert {o["channel"] for o in listed} == {"principal"}, "a key's objection took a public place"


async def test_the_public_page_names_the_owner_unit_never_the_key(
    county: County, anonymous: Api, make_principal: MakePrincipal
) -> None:
    named = await make_principal("project_manager", county.code, name="县扶贫办-张三的密钥")
    without = await project_in(named, county.code, county.poor, "announced")
    with_unit = await project_in(named, county.code, county.poor, "announced", responsible_unit="某县扶贫开发办公室")
    page = await anonymous.get("/public/announcements", params={"county": county.code})
    items = {a["project_id"]: a for a in page.json()["items"]}
    assert items[without]["responsible_unit"] is None
    assert items[with_unit]["responsible_unit"] == "某县扶贫开发办公室"
    one = await anonymous.get(f"/public/announcements/{without}")
    text = json.dumps(page.json(), ensure_ascii=False) + one.text
    assert "张三" not in text and named.principal_id not in text
