"""An admin's people (issue #19, S1, S17): GET /admin/users lists those of the admin's jurisdiction only, by pages;
the console's users page lists and makes them, showing the API's refusal next to its field."""

from __future__ import annotations

import re
import uuid

from tests.conftest import Api, MakePrincipal
from tests.console.people import PASSWORD, make_person
from tests.stack import Stack

IDEMPOTENCY = re.compile(r'name="idempotency_key" value="([^"]+)"')


async def test_an_admin_lists_the_people_of_its_jurisdiction_only(
    admin: Api, stack: Stack, make_principal: MakePrincipal
) -> None:
    hunan_admin = await make_principal("admin", "430000")
    hunan = await make_person(admin, stack.gateway_url, "finance", "430100", sign_in=False)
    hunan_too = await make_person(admin, stack.gateway_url, "inspector", "430000", sign_in=False)
    guizhou = await make_person(admin, stack.gateway_url, "finance", "520000", sign_in=False)
    for person in (hunan, hunan_too, guizhou):
        await person.aclose()
    listed, cursor = [], None
    while True:
        page = await hunan_admin.get("/admin/users", params={"limit": 100, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        listed += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    ids = {u["principal_id"] for u in listed}
    assert {hunan.principal_id, hunan_too.principal_id} <= ids and guizhou.principal_id not in ids
    assert all(u["region_code"].startswith("43") for u in listed)
    mine = next(u for u in listed if u["principal_id"] == hunan.principal_id)
    assert mine["login"] == hunan.login and mine["totp_enabled"] is False and mine["revoked_at"] is None
    first = await hunan_admin.get("/admin/users", params={"limit": 1})
    assert len(first.json()["items"]) == 1 and first.json()["next_cursor"]  # by pages
    finance = await make_principal("finance", "430000")
    assert (await finance.get("/admin/users")).status_code == 403


async def test_the_users_page_lists_and_makes_users_of_the_admins_jurisdiction(admin: Api, stack: Stack) -> None:
    county_admin = await make_person(admin, stack.gateway_url, "admin", "430100")
    guizhou = await make_person(admin, stack.gateway_url, "inspector", "520000", sign_in=False)
    inside = await make_person(admin, stack.gateway_url, "inspector", "430100", sign_in=False)
    try:
        shown = await county_admin.client.get("/console/users")
        assert shown.status_code == 200
        assert inside.login in shown.text and guizhou.login not in shown.text
        key = IDEMPOTENCY.search(shown.text)
        assert key is not None
        login = f"new-{uuid.uuid4().hex[:8]}"
        form = {"csrf_token": county_admin.csrf, "idempotency_key": key.group(1), "login": login, "name": "新用户",
                "password": PASSWORD, "role": "finance", "region_code": "430100", "organisation_id": ""}
        made = await county_admin.client.post("/console/users", data=form)
        assert made.status_code == 303, made.text[:500]
        again = await county_admin.client.post("/console/users", data=form)
        assert again.status_code == 303  # a double submit: the same key, applied once
        listed = await county_admin.client.get(made.headers["location"])
        assert listed.text.count(f">{login}<") == 2  # the notice and one row
        outside = await county_admin.client.post("/console/users", data={
            **form, "idempotency_key": str(uuid.uuid4()), "login": f"gz-{uuid.uuid4().hex[:8]}",
            "region_code": "520000"})
        assert outside.status_code == 403
        assert 'id="e-region_code"' in outside.text and "S1" in outside.text
        short = await county_admin.client.post("/console/users", data={
            **form, "idempotency_key": str(uuid.uuid4()), "login": f"s-{uuid.uuid4().hex[:8]}", "password": "short"})
        assert short.status_code == 422 and 'id="e-password"' in short.text
        assert 'value="新用户"' in short.text  # what was typed is kept, the password not
    finally:
        await county_admin.aclose()
        await guizhou.aclose()
        await inside.aclose()


async def test_the_users_page_is_an_admins(admin: Api, stack: Stack) -> None:
    person = await make_person(admin, stack.gateway_url, "finance", "430000")
    try:
        assert (await person.client.get("/console/users")).status_code == 403
        refused = await person.client.post("/console/users", data={
            "csrf_token": person.csrf, "login": "x-finance", "name": "x", "password": PASSWORD, "role": "admin",
            "region_code": "430000"})
        assert refused.status_code == 403
    finally:
        await person.aclose()
