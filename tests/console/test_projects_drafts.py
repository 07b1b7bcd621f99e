"""Editing a draft in the console (issue #19 point 3, P14), over httpx as people: the county's project manager finds
the draft's form filled in (元), changes it and sees the new values, the version before kept; the edit of a project
that was submitted meanwhile is refused with P14 and changes nothing; another county's manager cannot edit it."""

from __future__ import annotations

import re

from tests.conftest import Api
from tests.console.projects_support import county_office, move, post_form, register, registration
from tests.stack import Stack


def _edit_form(record_html: str) -> str:
    found = re.search(r'<form[^>]*id="edit-draft".*?</form>', record_html, re.S)
    assert found is not None, record_html[:3000]
    return found.group(0)


async def test_a_county_manager_edits_a_draft_and_sees_the_new_values(admin: Api, stack: Stack) -> None:
    office = await county_office(admin, stack.gateway_url)
    other = await county_office(admin, stack.gateway_url)
    try:
        project_id = await register(office, name="旧的名称")
        record = await office.pm.client.get(f"/console/projects/{project_id}")
        assert record.status_code == 200 and "撤回本草稿后重新登记" not in record.text
        form = _edit_form(record.text)  # filled with the draft as it is, the budget in 元
        assert 'value="旧的名称"' in form and 'value="1234567.89"' in form and 'name="csrf_token"' in form
        assert 'name="idem"' in form and 'name="county_code"' not in form  # the county is not edited
        edited = registration(office, name="新的名称", budget_yuan="2,000,000.50", target_0="≥3500元/户")
        del edited["county_code"]
        answer = await post_form(office.pm, f"/console/projects/{project_id}/edit", edited)
        assert answer.status_code == 303, answer.text[:3000]
        assert answer.headers["location"] == f"/console/projects/{project_id}"
        shown = await office.pm.client.get(f"/console/projects/{project_id}")
        assert "新的名称" in shown.text and "2,000,000.50" in shown.text and "≥3500元/户" in shown.text
        assert "旧的名称" not in shown.text and "草稿" in shown.text
        revisions = await office.pm.api("GET", f"/projects/{project_id}/revisions")
        assert [r["previous"]["name"] for r in revisions.json()] == ["旧的名称"]
        assert revisions.json()[0]["previous"]["budget_fen"] == 123_456_789
        # 元 with three decimals: refused beside the budget before the API is asked; nothing changes
        three = await post_form(office.pm, f"/console/projects/{project_id}/edit",
                                {**edited, "budget_yuan": "1.234"})
        assert three.status_code == 422
        assert re.search(r'id="edit-budget_yuan"[^>]*aria-invalid="true"', three.text), three.text[:3000]
        # another county's manager cannot edit it, and sees nothing of it
        theirs = await post_form(other.pm, f"/console/projects/{project_id}/edit", {**edited, "name": "外县改"})
        assert theirs.status_code in (403, 404) and "新的名称" not in theirs.text
        after = await office.pm.api("GET", f"/projects/{project_id}")
        assert after.json()["name"] == "新的名称" and after.json()["budget_fen"] == 200_000_050
        assert len((await office.pm.api("GET", f"/projects/{project_id}/revisions")).json()) == 1
    finally:
        await office.pm.aclose()
        await other.pm.aclose()


async def test_the_edit_of_a_submitted_project_shows_p14(admin: Api, stack: Stack) -> None:
    office = await county_office(admin, stack.gateway_url)
    try:
        project_id = await register(office, name="已提交的项目")
        draft_page = await office.pm.client.get(f"/console/projects/{project_id}")
        edited = registration(office, name="提交后再改")
        del edited["county_code"]
        assert (await move(office, project_id, "submit")).status_code == 303
        # the form the person still has open is sent after the project was submitted
        assert 'id="edit-draft"' in draft_page.text
        refused = await post_form(office.pm, f"/console/projects/{project_id}/edit", edited)
        assert refused.status_code == 409, refused.text[:3000]
        assert "P14" in refused.text and "NOT_A_DRAFT" in refused.text and "只有草稿可以修改" in refused.text
        assert 'id="edit-draft"' not in refused.text  # a submitted project has no edit form
        project = (await office.pm.api("GET", f"/projects/{project_id}")).json()
        assert project["name"] == "已提交的项目" and project["status"] == "submitted"
        assert (await office.pm.api("GET", f"/projects/{project_id}/revisions")).json() == []
    finally:
        await office.pm.aclose()
