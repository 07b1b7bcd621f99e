"""The lifecycle through the gateway: every allowed move, every refused move, the history, concurrency."""

from __future__ import annotations

import asyncio
import itertools

import asyncpg
import pytest

from services.projects import codes, rules
from tests.projects.conftest import County
from tests.projects.factory import act, action_body, create, project_body, project_in

# rejected is reached at review; every other status along the happy path
ALLOWED = [(s, a, t) for s, moves in rules.TRANSITIONS.items() for a, t in moves.items()]


@pytest.mark.parametrize(("status", "action", "target"), ALLOWED)
async def test_every_allowed_move(county: County, status: str, action: str, target: str) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, status)
    response = await act(county.pm, project_id, action)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == target
    last = body["history"][-1]
    assert (last["action"], last["from_status"], last["to_status"]) == (action, status, target)
    assert last["principal_id"] == county.pm.principal_id and last["at"]


async def test_every_refused_move(county: County) -> None:
    """Each status × each action not in the table → 409 INVALID_TRANSITION naming the status and allowed actions."""
    projects = {s: await project_in(county.pm, county.code, county.poor, s) for s in rules.STATUSES}
    refused = [(s, a) for s, a in itertools.product(rules.STATUSES, rules.ACTIONS) if a not in rules.TRANSITIONS[s]]
    assert len(refused) > 60
    for status, action in refused:
        response = await act(county.pm, projects[status], action)
        assert response.status_code == 409, (status, action, response.text)
        problem = response.json()
        assert problem["code"] == codes.INVALID_TRANSITION
        assert problem["status_now"] == status
        assert problem["allowed_actions"] == rules.allowed_actions(status)
        assert status in problem["detail"]
    for status, project_id in projects.items():  # nothing moved
        assert (await county.pm.get(f"/projects/{project_id}")).json()["status"] == status


async def test_review_not_passed_rejects(county: County) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "submitted")
    response = await act(county.pm, project_id, "review", {"passed": False, "opinion": "效益不明 / unclear benefit"})
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert response.json()["history"][-1]["note"] == "效益不明 / unclear benefit"


async def test_full_path_history_is_recorded_in_order(county: County, db: asyncpg.Pool) -> None:
    created = await create(county.pm, project_body(county.code, county.poor))
    assert created["status"] == "draft" and created["allowed_actions"] == ["submit", "withdraw"]
    project_id = created["id"]
    for action in ("submit", "review", "announce", "approve", "start", "complete", "accept"):
        assert (await act(county.pm, project_id, action)).status_code == 200
    body = (await county.pm.get(f"/projects/{project_id}")).json()
    assert body["status"] == "accepted"
    assert [(e["from_status"], e["to_status"]) for e in body["history"]] == [
        (None, "draft"), ("draft", "submitted"), ("submitted", "reviewed"), ("reviewed", "announced"),
        ("announced", "approved"), ("approved", "in_progress"), ("in_progress", "completed"),
        ("completed", "accepted"),
    ]
    assert body["history"][-1]["note"] == "验收合格 / accepted"
    assert body["announcement"]["days"] == 10
    # the events are immutable: the database refuses to edit them
    with pytest.raises(asyncpg.PostgresError):
        await db.execute("UPDATE projects.project_events SET note = 'x' WHERE project_id = $1", project_id)
    with pytest.raises(asyncpg.PostgresError):
        await db.execute("DELETE FROM projects.project_events WHERE project_id = $1", project_id)


async def test_parallel_submits_move_once(county: County, db: asyncpg.Pool) -> None:
    project_id = (await create(county.pm, project_body(county.code, county.poor)))["id"]
    responses = await asyncio.gather(*(act(county.pm, project_id, "submit") for _ in range(8)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 7
    events = await db.fetchval(
        "SELECT count(*) FROM projects.project_events WHERE project_id = $1 AND action = 'submit'", project_id
    )
    assert events == 1


async def test_list_filters(county: County) -> None:
    draft = await project_in(county.pm, county.code, county.poor, "draft", category="education")
    submitted = await project_in(county.pm, county.code, county.poor, "submitted")
    listed = (await county.pm.get("/projects", params={"county": county.code, "status": "draft"})).json()
    ids = {p["id"] for p in listed["items"]}
    assert draft in ids and submitted not in ids
    listed = (await county.pm.get("/projects", params={"county": county.code, "category": "industry"})).json()
    assert draft not in {p["id"] for p in listed["items"]}
    page = (await county.pm.get("/projects", params={"county": county.code, "limit": 1})).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    second = (await county.pm.get("/projects", params={"county": county.code, "limit": 1,
                                                         "cursor": page["next_cursor"]})).json()
    assert second["items"][0]["id"] != page["items"][0]["id"]


async def test_list_filter_by_the_year_a_project_starts(county: County) -> None:
    """`year` (issue #19, the console's library): the projects whose start_on lies in that calendar year, boundary
    days included; a year outside 2000–2100 is refused naming the field."""
    first_day = await project_in(county.pm, county.code, county.poor, "draft", start_on="2019-01-01",
                                 end_on="2019-06-30")
    last_day = await project_in(county.pm, county.code, county.poor, "draft", start_on="2019-12-31",
                                end_on="2020-06-30")
    next_year = await project_in(county.pm, county.code, county.poor, "draft", start_on="2020-01-01",
                                 end_on="2020-06-30")
    listed = (await county.pm.get("/projects", params={"county": county.code, "year": 2019})).json()
    assert {p["id"] for p in listed["items"]} == {first_day, last_day}
    listed = (await county.pm.get("/projects", params={"county": county.code, "year": 2020})).json()
    assert {p["id"] for p in listed["items"]} == {next_year}
    for year in (1999, 2101, "last"):
        refused = await county.pm.get("/projects", params={"county": county.code, "year": year})
        assert refused.status_code == 422 and refused.json()["field"] == "year", refused.text


async def test_action_bodies_are_validated(county: County) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "submitted")
    response = await act(county.pm, project_id, "review", {"passed": "yes", "opinion": "ok"})
    assert response.status_code == 422 and response.json()["field"] == "passed"
    response = await act(county.pm, project_id, "reject", {"reason": "  "})
    assert response.status_code == 422 and response.json()["field"] == "reason"
    assert action_body("reject") is not None
    assert (await county.pm.get(f"/projects/{project_id}")).json()["status"] == "submitted"
