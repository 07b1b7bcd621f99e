"""The county office's roster import (issue #19 point 3), through the gateway as people: the page for those who may
import; the import itself is the public route called with the person's cookie and CSRF header (as static/roster.js
calls it), its progress the person's own, and lines outside the person's jurisdiction are refused and not kept."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from gateway.console.roster import HEADER
from services.registry import rules
from tests.conftest import Api
from tests.console.people import Person, make_person
from tests.registry.factory import csv_body, new_county, row
from tests.stack import Stack

IMPORT = "/registry/households/import"


def _progress(key: str) -> str:
    return f"/registry/imports/{key}/progress"


async def _import(person: Person, body: bytes, key: str, *, csrf: bool = True) -> httpx.Response:
    return await person.api("POST", IMPORT, csrf=csrf, content=body,
                            headers={"content-type": "text/csv", "idempotency-key": key})


def test_the_page_shows_the_header_the_registry_reads() -> None:
    assert HEADER == rules.HEADER


async def test_the_page_is_a_county_offices_with_its_county_and_not_a_finance_officers(
    admin: Api, stack: Stack
) -> None:
    county = new_county()
    office = await make_person(admin, stack.gateway_url, "project_manager", county)
    finance = await make_person(admin, stack.gateway_url, "finance", county)
    try:
        shown = await office.client.get("/console/roster")
        assert shown.status_code == 200
        assert 'id="f-county" name="county" type="text"' in shown.text and f'value="{county}"' in shown.text
        assert ",".join(HEADER) in shown.text and "农户名册导入" in shown.text
        assert 'src="/console/static/roster.js"' in shown.text and "<script>" not in shown.text  # no inline script
        assert (await finance.client.get("/console/roster")).status_code == 403
        anonymous = await httpx.AsyncClient(base_url=stack.gateway_url).get("/console/roster")
        assert anonymous.status_code == 303 and "/console/login" in anonymous.headers["location"]
    finally:
        await office.aclose()
        await finance.aclose()


async def test_a_person_imports_with_their_cookie_sees_their_progress_and_not_anothers(
    admin: Api, stack: Stack
) -> None:
    county, elsewhere = new_county(), new_county()
    office = await make_person(admin, stack.gateway_url, "project_manager", county)
    colleague = await make_person(admin, stack.gateway_url, "project_manager", county)
    try:
        kept, outside = row(county), row(elsewhere)
        body = csv_body(kept, row(county, status="rich"), outside)
        key = f"console-{uuid.uuid4().hex}"
        answer = await _import(office, body, key)
        assert answer.status_code == 200, answer.text
        assert answer.json()["imported"] == 1
        assert [(r["line"], r["code"]) for r in answer.json()["rejected"]] == [
            (3, "INVALID_STATUS"), (4, "NOT_IN_JURISDICTION")]
        await asyncio.sleep(0.3)  # the last progress write is not waited for by the import
        seen = await office.api("GET", _progress(key))
        assert seen.status_code == 200 and seen.json()["done"] and seen.json()["percent"] == 100
        assert seen.json()["lines"] == 4
        assert (await colleague.api("GET", _progress(key))).status_code == 404
        # the page's poll, through the console: the API's answer, and "not known" for its 404 (no 404 in a browser)
        polled = await office.client.get(f"/console/roster/progress/{key}")
        assert polled.status_code == 200 and polled.json()["known"] and polled.json()["lines"] == 4
        assert (await colleague.client.get(f"/console/roster/progress/{key}")).json() == {"known": False, "key": key}
        # the other county's household was refused, not registered: nobody sees it
        assert (await admin.get(f"/registry/households/{outside.household_id}")).status_code == 404
        mine = await office.api("GET", f"/registry/households/{kept.household_id}")
        assert mine.status_code == 200 and mine.json()["county_code"] == county
    finally:
        await office.aclose()
        await colleague.aclose()


async def test_an_import_without_the_csrf_header_is_refused_and_keeps_nothing(admin: Api, stack: Stack) -> None:
    county = new_county()
    office = await make_person(admin, stack.gateway_url, "project_manager", county)
    try:
        household = row(county)
        key = f"console-{uuid.uuid4().hex}"
        refused = await _import(office, csv_body(household), key, csrf=False)
        assert refused.status_code == 403 and refused.json()["code"] == "CSRF_REJECTED"
        assert (await office.api("GET", _progress(key))).status_code == 404
        assert (await admin.get(f"/registry/households/{household.household_id}")).status_code == 404
    finally:
        await office.aclose()


async def test_a_wrong_header_refuses_the_whole_file_with_its_code(admin: Api, stack: Stack) -> None:
    county = new_county()
    office = await make_person(admin, stack.gateway_url, "project_manager", county)
    try:
        household = row(county)
        refused = await _import(office, csv_body(household, header="id,name"), f"console-{uuid.uuid4().hex}")
        assert refused.status_code == 422
        assert (refused.json()["code"], refused.json()["field"]) == ("INVALID_HEADER", "body")
        assert (await admin.get(f"/registry/households/{household.household_id}")).status_code == 404
    finally:
        await office.aclose()
