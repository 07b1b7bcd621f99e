"""P14: a draft is edited by its county's project manager, each edit keeping the version before it; nothing else is
edited. Through the gateway, on the real database."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from services.kernel.errors import NOT_IN_JURISDICTION
from services.projects import codes
from tests.conftest import Api, MakePrincipal
from tests.projects.conftest import County
from tests.projects.factory import act, create, edit_body, new_county, project_body, project_in, village_of


async def _edit(pm: Api, project_id: str, body: dict[str, Any], **kw: Any) -> httpx.Response:
    return await pm.post(f"/projects/{project_id}/revisions", json=body, **kw)


async def _revisions(db: asyncpg.Pool, project_id: str) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT revision, previous, principal_id FROM projects.project_revisions WHERE project_id = $1 "
        "ORDER BY revision", project_id,
    )
    return [{**row, "previous": json.loads(row["previous"])} for row in rows]


async def test_a_draft_is_edited_and_keeps_the_version_before(county: County, db: asyncpg.Pool) -> None:
    original = project_body(county.code, county.poor[:2], name="旧名称 / old name")
    created = await create(county.pm, original)
    project_id = created["id"]
    body = edit_body(county.code, county.poor, name="新名称 / new name", budget_fen=60_000_000,
                     category="education", description="改后 / edited", responsible_unit="县教育局",
                     fund_sources=[{"source": "中央衔接资金", "amount_fen": 60_000_000}])
    response = await _edit(county.pm, project_id, body)
    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["status"] == "draft" and edited["id"] == project_id
    assert (edited["name"], edited["budget_fen"], edited["category"]) == ("新名称 / new name", 60_000_000, "education")
    assert edited["beneficiary_household_ids"] == county.poor and edited["responsible_unit"] == "县教育局"
    assert edited["county_code"] == county.code
    assert (await county.pm.get(f"/projects/{project_id}")).json() == edited  # the answer is the project as GET shows
    second = await _edit(county.pm, project_id, edit_body(county.code, county.poor, name="第三版 / third"))
    assert second.status_code == 200, second.text
    rows = await _revisions(db, project_id)
    assert [r["revision"] for r in rows] == [1, 2]
    first_previous = rows[0]["previous"]
    assert first_previous["name"] == "旧名称 / old name" and first_previous["budget_fen"] == 50_000_000
    assert first_previous["beneficiary_household_ids"] == county.poor[:2] and first_previous["category"] == "industry"
    assert rows[1]["previous"]["name"] == "新名称 / new name" and rows[1]["principal_id"] == county.pm.principal_id
    listed = (await county.pm.get(f"/projects/{project_id}/revisions")).json()
    assert [(r["revision"], r["previous"]["name"]) for r in listed] == [(1, "旧名称 / old name"),
                                                                         (2, "新名称 / new name")]
    assert all(r["at"] and r["principal_id"] == county.pm.principal_id for r in listed)
    # still a draft that is submitted as edited
    submitted = await act(county.pm, project_id, "submit")
    assert submitted.status_code == 200 and submitted.json()["name"] == "第三版 / third", submitted.text


async def test_the_same_idempotency_key_edits_once(county: County, db: asyncpg.Pool) -> None:
    project_id = (await create(county.pm, project_body(county.code, county.poor)))["id"]
    headers = {"Idempotency-Key": f"edit-{uuid.uuid4().hex}"}
    body = edit_body(county.code, county.poor, name="一次 / once")
    first = await _edit(county.pm, project_id, body, headers=headers)
    again = await _edit(county.pm, project_id, body, headers=headers)
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert again.json()["name"] == "一次 / once"
    assert len(await _revisions(db, project_id)) == 1


@pytest.mark.parametrize("status", ["submitted", "reviewed", "announced", "approved", "rejected", "withdrawn"])
async def test_a_project_that_is_not_a_draft_is_refused(county: County, db: asyncpg.Pool, status: str) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, status)
    before = (await county.pm.get(f"/projects/{project_id}")).json()
    response = await _edit(county.pm, project_id, edit_body(county.code, county.poor, name="晚了 / too late"))
    assert response.status_code == 409, response.text
    problem = response.json()
    assert (problem["code"], problem["rule"], problem["status_now"]) == (codes.NOT_A_DRAFT, codes.P14, status)
    assert "P14" in problem["detail"] and "/" in problem["detail"]  # bilingual
    assert (await county.pm.get(f"/projects/{project_id}")).json() == before
    assert await _revisions(db, project_id) == []


async def test_another_countys_manager_and_other_roles_are_refused(
    county: County, make_principal: MakePrincipal, db: asyncpg.Pool
) -> None:
    project_id = (await create(county.pm, project_body(county.code, county.poor, name="本县 / own")))["id"]
    body = edit_body(county.code, county.poor, name="外县改 / edited elsewhere")
    stranger = await make_principal("project_manager", new_county())
    response = await _edit(stranger, project_id, body)
    assert response.status_code == 403 and response.json()["code"] == NOT_IN_JURISDICTION, response.text
    assert county.code not in response.json()["detail"]
    for role in ("finance", "inspector"):
        other = await make_principal(role, county.code)
        refused = await _edit(other, project_id, body)
        assert refused.status_code == 403, (role, refused.text)
    assert (await county.pm.get(f"/projects/{project_id}")).json()["name"] == "本县 / own"
    assert await _revisions(db, project_id) == []
    # the county's own manager may (the same who may submit it)
    assert (await _edit(county.pm, project_id, body)).status_code == 200


@pytest.mark.parametrize(("change", "field"), [
    ({"budget_fen": 0}, "budget_fen"),
    ({"end_on": "2018-01-01"}, "end_on"),
    ({"category": "casino"}, "category"),
    ({"county_code": "__county__"}, "county_code"),
    ({"owner_org": "org-x"}, "owner_org"),
    ({"village_code": "__other_village__"}, "village_code"),
    ({"beneficiary_household_ids": ["hh-1", "hh-1"]}, "beneficiary_household_ids"),
])
async def test_a_bad_field_is_refused_naming_it(
    county: County, db: asyncpg.Pool, change: dict[str, Any], field: str
) -> None:
    project_id = (await create(county.pm, project_body(county.code, county.poor)))["id"]
    before = (await county.pm.get(f"/projects/{project_id}")).json()
    values = {k: (county.code if v == "__county__" else village_of(new_county()) if v == "__other_village__" else v)
              for k, v in change.items()}
    response = await _edit(county.pm, project_id, {**edit_body(county.code, county.poor), **values})
    assert response.status_code == 422, response.text
    assert response.json()["field"].split(".")[0] == field, response.json()
    assert (await county.pm.get(f"/projects/{project_id}")).json() == before
    assert await _revisions(db, project_id) == []


async def test_an_edit_racing_a_submit_never_lands_on_a_submitted_project_unrecorded(
    county: County, db: asyncpg.Pool
) -> None:
    """Submits and edits at once (the edits spread over the submit's time): whichever comes first, every edit
    answered 200 was made while the project was a draft and has its revision; every other edit is refused
    NOT_A_DRAFT and left no trace; the submit is never refused for them."""
    for round_ in range(3):
        original = project_body(county.code, county.poor, name=f"原 {round_}")
        project_id = (await create(county.pm, original))["id"]

        async def later(i: int, pid: str = project_id, r: int = round_) -> httpx.Response:
            await asyncio.sleep(0.02 * i)
            return await _edit(county.pm, pid, edit_body(county.code, county.poor, name=f"改 {r}-{i}"))

        submit, *answers = await asyncio.gather(act(county.pm, project_id, "submit"), *(later(i) for i in range(6)))
        assert submit.status_code == 200, submit.text
        made = [a for a in answers if a.status_code == 200]
        for answer in answers:
            if answer.status_code == 200:
                assert answer.json()["status"] == "draft"
            else:
                assert answer.status_code == 409 and answer.json()["code"] == codes.NOT_A_DRAFT, answer.text
        rows = await _revisions(db, project_id)
        assert len(rows) == len(made)
        final = (await county.pm.get(f"/projects/{project_id}")).json()
        assert final["status"] == "submitted"
        made_names = {a.json()["name"] for a in made}
        if made:  # a chain: the original, then each edit made, the last of which the project carries
            previous = [r["previous"]["name"] for r in rows]
            assert previous[0] == original["name"] and set(previous[1:]) <= made_names
            assert final["name"] in made_names and final["name"] not in previous
        else:
            assert final["name"] == original["name"]


async def test_an_edit_waiting_behind_a_submit_is_refused(county: County, db: asyncpg.Pool) -> None:
    """The edit locks the row first: held by a submit under way (here: a transaction that locks the row and moves
    it, as `submit` does), the edit waits, then reads the row as the submit left it and is refused P14."""
    project_id = (await create(county.pm, project_body(county.code, county.poor, name="提交中")))["id"]
    async with db.acquire() as connection:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute("SELECT id FROM projects.projects WHERE id = $1 FOR UPDATE", project_id)
        await connection.execute("UPDATE projects.projects SET status = 'submitted' WHERE id = $1", project_id)
        editing = asyncio.create_task(_edit(county.pm, project_id, edit_body(county.code, county.poor, name="抢改")))
        await asyncio.sleep(1.0)
        assert not editing.done()  # it waits for the row
        await transaction.commit()
    response = await editing
    assert response.status_code == 409 and response.json()["code"] == codes.NOT_A_DRAFT, response.text
    assert response.json()["status_now"] == "submitted"
    assert (await county.pm.get(f"/projects/{project_id}")).json()["name"] == "提交中"
    assert await _revisions(db, project_id) == []
