"""The county office's desk over httpx, as people (issue #19 point 3): a county's project manager registers a project
in the library and moves it to its announcement (公示) with the countdown, sees the public's objections and answers
them; another county's person sees none of it; a move the API refuses shows its rule and message; the public page
is read without signing in."""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx

from gateway.console.fmt import today_in_china
from tests.conftest import Api
from tests.console.people import make_person
from tests.console.projects_support import announced, county_office, move, post_form, register, registration
from tests.stack import Stack


async def test_a_county_office_registers_a_project_and_another_county_does_not_see_its_draft(
    admin: Api, stack: Stack
) -> None:
    office = await county_office(admin, stack.gateway_url)
    other = await county_office(admin, stack.gateway_url)
    try:
        form = await office.pm.client.get("/console/projects/new")
        assert form.status_code == 200 and 'name="idem"' in form.text and 'name="csrf_token"' in form.text
        project_id = await register(office, name="光伏扶贫电站（一期）")
        record = await office.pm.client.get(f"/console/projects/{project_id}")
        assert record.status_code == 200
        assert "光伏扶贫电站（一期）" in record.text and "草稿" in record.text
        assert "1,234,567.89" in record.text  # 元, with thousands separators (the API keeps 123456789 fen)
        assert f'action="/console/projects/{project_id}/edit"' in record.text  # a draft is edited (P14)
        assert f'action="/console/projects/{project_id}/submit"' in record.text
        assert f'action="/console/projects/{project_id}/approve"' not in record.text  # a draft is not approved
        library = await office.pm.client.get("/console/projects", params={"status": "draft", "year": "2026"})
        assert library.status_code == 200 and project_id in library.text
        other_year = await office.pm.client.get("/console/projects", params={"year": "2025"})
        assert other_year.status_code == 200 and project_id not in other_year.text
        bad_year = await office.pm.client.get("/console/projects", params={"year": "1999"})
        assert bad_year.status_code == 422
        assert re.search(r'id="filter-year"[^>]*aria-invalid="true"', bad_year.text), bad_year.text[:3000]
        # another county's project manager: not in their library, and its record is refused
        theirs = await other.pm.client.get("/console/projects")
        assert theirs.status_code == 200 and project_id not in theirs.text
        assert (await other.pm.client.get(f"/console/projects/{project_id}")).status_code in (403, 404)
        asked = await other.pm.client.get("/console/projects", params={"county": office.county})
        assert asked.status_code == 403 and project_id not in asked.text and 'aria-invalid="true"' in asked.text
        # nor can they move it
        refused = await move(other, project_id, "submit")
        assert refused.status_code in (403, 404)
        assert (await office.pm.client.get(f"/console/projects/{project_id}")).text.count("草稿") >= 1
    finally:
        await office.pm.aclose()
        await other.pm.aclose()


async def test_a_registration_refused_shows_the_field_and_records_nothing(admin: Api, stack: Stack) -> None:
    office = await county_office(admin, stack.gateway_url)
    try:
        before = (await office.pm.client.get("/console/projects")).text.count('href="/console/projects/prj')
        # 元 with three decimals: refused by the console before the API is asked, beside the budget
        three = await post_form(office.pm, "/console/projects/new", registration(office, budget_yuan="12.345"))
        assert three.status_code == 422
        assert re.search(r'id="reg-budget_yuan"[^>]*aria-invalid="true"', three.text), three.text[:3000]
        assert "金额最多两位小数" in three.text and 'value="12.345"' in three.text  # the form keeps what was typed
        # the API's refusal: a village outside the county, named beside the village field
        outside = await post_form(office.pm, "/console/projects/new", registration(office, village_code="110101001001"))
        assert outside.status_code == 422
        assert re.search(r'id="reg-village_code"[^>]*aria-invalid="true"', outside.text), outside.text[:3000]
        assert "VALIDATION_ERROR" in outside.text and "village" in outside.text
        after = (await office.pm.client.get("/console/projects")).text.count('href="/console/projects/prj')
        assert after == before
    finally:
        await office.pm.aclose()


async def test_announce_with_countdown_objections_answered_and_approval_refused_by_p1(
    admin: Api, stack: Stack, http: httpx.AsyncClient
) -> None:
    office = await county_office(admin, stack.gateway_url)
    try:
        # the announcement refused below 10 days (P1), beside the field
        project_id = await register(office)
        for action, data in (("submit", {}), ("review", {"passed": "true", "opinion": "论证通过"})):
            assert (await move(office, project_id, action, data)).status_code == 303
        short = await move(office, project_id, "announce",
                           {"start_on": today_in_china().isoformat(), "days": "5", "scope": "village"})
        assert short.status_code == 422
        assert re.search(r'id="announce-days"[^>]*aria-invalid="true"', short.text), short.text[:3000]
        assert "ANNOUNCEMENT_TOO_SHORT" in short.text and 'class="rule">P1<' in short.text
        ok = await move(office, project_id, "announce",
                        {"start_on": today_in_china().isoformat(), "days": "10", "scope": "village"})
        assert ok.status_code == 303
        record = await office.pm.client.get(f"/console/projects/{project_id}")
        ends = (await http.get(f"/public/announcements/{project_id}")).json()["announcement"]["ends_on"]
        # the countdown runs to the end of the period's last day: the day before `ends_on`, when approval opens (P1)
        last = (date.fromisoformat(ends) - timedelta(days=1)).isoformat()
        assert f'data-countdown="{last}"' in record.text and "公示中" in record.text
        assert last == (today_in_china() + timedelta(days=9)).isoformat()  # 10 days from today
        # the public objects through the public route; the office sees it, blocking approval
        objection = await http.post(f"/public/announcements/{project_id}/objections", json={"text": "受益户名单有误"})
        assert objection.status_code == 201, objection.text
        record = await office.pm.client.get(f"/console/projects/{project_id}")
        assert "受益户名单有误" in record.text and "待答复" in record.text
        # approval while the period runs: refused with the rule, shown at the top of the approve form
        approve = await move(office, project_id, "approve", {"note": ""})
        assert approve.status_code == 422
        assert 'class="rule">P1<' in approve.text
        assert "ANNOUNCEMENT_TOO_SHORT" in approve.text or "OPEN_OBJECTIONS" in approve.text
        assert (await http.get(f"/public/announcements/{project_id}")).json()["status"] == "announced"
        # the office answers the objection
        oid = objection.json()["id"]
        empty = await post_form(office.pm, f"/console/projects/{project_id}/objections/{oid}/resolve",
                                {"resolution": ""})
        assert empty.status_code == 422 and f'id="resolve-{oid}-resolution"' in empty.text
        answered = await post_form(office.pm, f"/console/projects/{project_id}/objections/{oid}/resolve",
                                   {"resolution": "已核实，名单无误"})
        assert answered.status_code == 303
        record = await office.pm.client.get(f"/console/projects/{project_id}")
        assert "已核实，名单无误" in record.text and "已办结" in record.text
    finally:
        await office.pm.aclose()


async def test_an_inspector_reads_the_library_but_has_no_register_form_nor_moves(admin: Api, stack: Stack) -> None:
    office = await county_office(admin, stack.gateway_url)
    inspector = await make_person(admin, stack.gateway_url, "inspector", office.county)
    try:
        project_id = await announced(office)
        library = await inspector.client.get("/console/projects")
        assert library.status_code == 200 and project_id in library.text
        assert "/console/projects/new" not in library.text
        record = await inspector.client.get(f"/console/projects/{project_id}")
        assert record.status_code == 200 and f'/console/projects/{project_id}/approve"' not in record.text
        assert (await inspector.client.get("/console/projects/new")).status_code == 403
        assert (await post_form(inspector, f"/console/projects/{project_id}/approve", {})).status_code == 403
    finally:
        await office.pm.aclose()
        await inspector.aclose()


async def test_the_public_page_needs_no_sign_in_and_shows_only_what_was_announced(admin: Api, stack: Stack) -> None:
    office = await county_office(admin, stack.gateway_url)
    try:
        shown = await announced(office)
        draft = await register(office, name="尚未公示的项目")
        async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=60) as public:
            page = await public.get("/console/public/announcements", params={"county": office.county})
            assert page.status_code == 200, page.text[:2000]
            assert shown in page.text and draft not in page.text and "尚未公示的项目" not in page.text
            assert "data-countdown=" in page.text and "/console/logout" not in page.text
            one = await public.get(f"/console/public/announcements/{shown}")
            assert one.status_code == 200 and "1,234,567.89" in one.text
            assert office.poor[0] not in one.text  # beneficiaries as a count, never their ids
            assert (await public.get(f"/console/public/announcements/{draft}")).status_code == 404
            assert (await public.get("/console/projects")).status_code == 303  # the library needs a sign-in
    finally:
        await office.pm.aclose()


async def test_a_registration_sent_twice_is_applied_once(admin: Api, stack: Stack) -> None:
    """The form's idempotency key, made when it was rendered: a double click registers one project."""
    office = await county_office(admin, stack.gateway_url)
    try:
        form = await office.pm.client.get("/console/projects/new")
        key = re.search(r'name="idem" value="([^"]+)"', form.text)
        assert key is not None
        data = {**registration(office, name="重复提交的项目"), "csrf_token": office.pm.csrf, "idem": key.group(1)}
        first = await office.pm.client.post("/console/projects/new", data=data)
        again = await office.pm.client.post("/console/projects/new", data=data)
        assert first.status_code == again.status_code == 303
        assert first.headers["location"] == again.headers["location"]
        library = await office.pm.client.get("/console/projects")
        assert library.text.count("重复提交的项目") == 1
    finally:
        await office.pm.aclose()


async def test_a_late_announcement_asks_for_its_evidence_beside_the_field_and_the_page_speaks_english(
    admin: Api, stack: Stack
) -> None:
    """P13: recorded more than 3 days after it was posted, the announcement names who posted it and the photo's hash;
    without them the refusal shows beside `posted_by`, and nothing moves. The same page in English."""
    office = await county_office(admin, stack.gateway_url)
    try:
        project_id = await register(office)
        for action, data in (("submit", {}), ("review", {"passed": "true", "opinion": "论证通过"})):
            assert (await move(office, project_id, action, data)).status_code == 303
        posted = (today_in_china() - timedelta(days=6)).isoformat()
        bare = await move(office, project_id, "announce", {"start_on": posted, "days": "10", "scope": "township"})
        assert bare.status_code == 422
        assert re.search(r'id="announce-evidence.posted_by"[^>]*aria-invalid="true"', bare.text), bare.text[:3000]
        assert 'class="rule">P13<' in bare.text and "ANNOUNCEMENT_EVIDENCE_REQUIRED" in bare.text
        assert f'value="{posted}"' in bare.text  # what was typed is kept
        with_evidence = await move(office, project_id, "announce", {
            "start_on": posted, "days": "10", "scope": "township",
            "evidence.posted_by": "村委会 张三", "evidence.photo_sha256": "ab" * 32,
        })
        assert with_evidence.status_code == 303, with_evidence.text[:3000]
        office.pm.client.cookies.set("ft_lang", "en")
        english = await office.pm.client.get(f"/console/projects/{project_id}")
        assert english.status_code == 200 and '<html lang="en">' in english.text
        assert "Announced" in english.text and "Township" in english.text and "Approve" in english.text
    finally:
        await office.pm.aclose()
