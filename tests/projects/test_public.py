"""Objections (key holders and the public page) and the public announcements, which leak no personal data."""

from __future__ import annotations

import json

import asyncpg
import httpx

from services.projects import codes
from tests.conftest import Api, MakePrincipal
from tests.projects.conftest import County
from tests.projects.factory import project_in
from tests.stack import Stack, extra_gateway


async def test_public_objection_without_a_key(county: County, anonymous: Api, db: asyncpg.Pool) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "announced")
    response = await anonymous.post(f"/public/announcements/{project_id}/objections", json={"text": "该项目选址不当"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"] and body["status"] == "open" and body["text"] == "该项目选址不当"
    assert set(body) == {"id", "project_id", "text", "raised_at", "status"}
    listed = (await county.pm.get(f"/projects/{project_id}/objections")).json()
    assert [(o["id"], o["channel"]) for o in listed] == [(body["id"], "public")]
    assert await db.fetchval("SELECT role FROM projects.objections WHERE id = $1", body["id"]) == "public"


async def test_objections_only_while_announced(county: County, anonymous: Api, make_principal: MakePrincipal) -> None:
    draft = await project_in(county.pm, county.code, county.poor, "draft")
    approved = await project_in(county.pm, county.code, county.poor, "approved")
    lender = await make_principal("lender", county.code)
    for project_id, public_status in ((draft, 404), (approved, 409)):  # the public never learns of a draft
        response = await anonymous.post(f"/public/announcements/{project_id}/objections", json={"text": "异议"})
        assert response.status_code == public_status, response.text
        response = await lender.post(f"/projects/{project_id}/objections", json={"text": "异议"})
        assert response.status_code == 409 and response.json()["code"] == codes.NOT_ANNOUNCED
    missing = await anonymous.post("/public/announcements/prj_missing/objections", json={"text": "异议"})
    assert missing.status_code == 404


async def test_public_objection_input_is_text_only(county: County, anonymous: Api) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "announced")
    for body, field in (
        ({"text": "x" * 2001}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "ok", "name": "张三"}, "name"),
        ({}, "text"),
    ):
        response = await anonymous.post(f"/public/announcements/{project_id}/objections", json=body)
        assert response.status_code == 422 and response.json()["field"] == field, response.text
    response = await anonymous.post(f"/public/announcements/{project_id}/objections", json={"text": "x" * 2000})
    assert response.status_code == 201


async def test_keyless_callers_keep_their_idempotency_keys_apart(county: County, stack: Stack) -> None:
    """S11: two members of the public who happen to use the same Idempotency-Key each get their own objection (the
    key is namespaced by the client the gateway determined, signed into the request); one who sends it again gets
    its own answer replayed."""
    project_id = await project_in(county.pm, county.code, county.poor, "announced")
    url = f"/public/announcements/{project_id}/objections"
    key = {"idempotency-key": "objection-1"}
    with extra_gateway(stack, FUNDTRACK_TRUSTED_PROXIES="127.0.0.1") as base:
        async with httpx.AsyncClient(base_url=base) as client:
            one = await client.post(url, json={"text": "甲"}, headers={**key, "x-forwarded-for": "198.51.100.1"})
            two = await client.post(url, json={"text": "乙"}, headers={**key, "x-forwarded-for": "198.51.100.2"})
            again = await client.post(url, json={"text": "甲"}, headers={**key, "x-forwarded-for": "198.51.100.1"})
    assert (one.status_code, two.status_code) == (201, 201), two.text
    assert one.json()["id"] != two.json()["id"] and two.json()["text"] == "乙"
    assert again.status_code == 201 and again.json()["id"] == one.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"


async def test_resolving_needs_a_written_resolution_once(county: County, make_principal: MakePrincipal) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "announced")
    objection = (await county.pm.post(f"/projects/{project_id}/objections", json={"text": "预算偏高"})).json()
    url = f"/projects/{project_id}/objections/{objection['id']}/resolve"
    for body in ({"resolution": ""}, {"resolution": "  "}, {}):
        response = await county.pm.post(url, json=body)
        assert response.status_code == 422 and response.json()["field"] == "resolution"
    other = await make_principal("project_manager", "659911")
    assert (await other.post(url, json={"resolution": "ok"})).status_code == 403
    assert (await county.pm.post(url, json={"resolution": "已复核，预算合理"})).status_code == 200
    again = await county.pm.post(url, json={"resolution": "再次"})
    assert again.status_code == 409 and again.json()["code"] == codes.OBJECTION_RESOLVED
    detail = (await county.pm.get(f"/projects/{project_id}")).json()
    assert detail["objections"][0]["resolution"] == "已复核，预算合理"


async def test_public_announcements_show_what_a_gongshi_must_and_no_personal_data(
    county: County, anonymous: Api
) -> None:
    project_id = await project_in(
        county.pm, county.code, county.poor, "announced",
        description="建设 100 千瓦村级光伏电站", responsible_unit="某县扶贫开发办公室",
        fund_sources=[{"source": "中央财政专项扶贫资金", "amount_fen": 30_000_000}],
    )
    draft = await project_in(county.pm, county.code, county.poor, "draft")
    response = await anonymous.get("/public/announcements", params={"county": county.code})
    assert response.status_code == 200, response.text
    items = {a["project_id"]: a for a in response.json()["items"]}
    assert project_id in items and draft not in items
    item = items[project_id]
    assert item["beneficiary_households"] == 3
    assert item["content"] == "建设 100 千瓦村级光伏电站" and item["responsible_unit"] == "某县扶贫开发办公室"
    assert item["fund_sources"][0]["amount_fen"] == 30_000_000 and item["budget_fen"] == 50_000_000
    assert item["announcement"]["days"] == 10 and item["announcement"]["current"] is False
    assert item["performance_targets"] and item["benefit_mechanism"]
    assert f"/public/announcements/{project_id}/objections" in item["how_to_object"]
    one = await anonymous.get(f"/public/announcements/{project_id}")
    assert one.status_code == 200 and one.json() == item
    assert (await anonymous.get(f"/public/announcements/{draft}")).status_code == 404
    text = json.dumps(response.json(), ensure_ascii=False) + one.text
    for row in county.rows:
        for personal in (row["household_id"], row["head_id_number"], row["head_name"], row["card_account"]):
            assert personal not in text


async def test_public_announcements_pages_and_filters(county: County, anonymous: Api) -> None:
    ids = [await project_in(county.pm, county.code, county.poor, "announced") for _ in range(3)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"county": county.code, "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await anonymous.get("/public/announcements", params=params)).json()
        seen.extend(a["project_id"] for a in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))  # newest first, each once
    other = (await anonymous.get("/public/announcements", params={"county": "659912"})).json()
    assert not set(ids) & {a["project_id"] for a in other["items"]}
    bad = await anonymous.get("/public/announcements", params={"county": "43"})
    assert bad.status_code == 422 and bad.json()["field"] == "county"
    bad = await anonymous.get("/public/announcements", params={"cursor": "bm90LWEtY3Vyc29y"})
    assert bad.status_code == 422 and bad.json()["field"] == "cursor"
