"""A1 (a service's rule refusal is recorded with its rule code), A3 (inspectors read, never write business data;
their acknowledgements and resolutions are audited) and A5 (personal data masked by default, every read of it
audited), through the gateway."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg

from tests.conftest import Api, MakePrincipal, wait_for_audit
from tests.platform.test_alerts import _store_alert
from tests.projects.factory import create, import_households, new_county, project_body


async def _entries(admin: Api, **params: str) -> list[dict[str, Any]]:
    response = await admin.get("/audit", params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _entries_until(
    admin: Api, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 5.0, **params: str
) -> list[dict[str, Any]]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        await wait_for_audit(admin)
        found = await _entries(admin, **params)
        if done(found) or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.2)


async def test_a3_acknowledge_and_resolve_are_in_the_trail_with_their_note(
    admin: Api, db: asyncpg.Pool, make_principal: MakePrincipal
) -> None:
    alert_id = await _store_alert(db, "funds", "450523")
    inspector = await make_principal("inspector", "450500")
    assert (await inspector.post(f"/alerts/{alert_id}/acknowledge", json={"note": "正在核查"})).status_code == 200
    assert (await inspector.post(f"/alerts/{alert_id}/resolve", json={"note": "已追回"})).status_code == 200
    # The door's entries, and the owning service's own entries of the change (its outbox, pulled within ~1 s).
    entries = await _entries_until(admin, lambda found: len(found) >= 4, entity_id=alert_id)
    assert sorted((e["origin"], e["path"], e["status"], e["principal_id"]) for e in entries) == [
        ("funds", f"/internal/alerts/{alert_id}/acknowledge", 200, inspector.principal_id),
        ("funds", f"/internal/alerts/{alert_id}/resolve", 200, inspector.principal_id),
        ("gateway", f"/alerts/{alert_id}/acknowledge", 200, inspector.principal_id),
        ("gateway", f"/alerts/{alert_id}/resolve", 200, inspector.principal_id),
    ]
    listed = await inspector.get("/alerts", params={"status": "resolved", "region": "450523", "limit": 500})
    [resolved] = [a for a in listed.json()["items"] if a["id"] == alert_id]
    me = inspector.principal_id
    notes = [(n["action"], n["note"], n["principal_id"]) for n in resolved["notes"]]
    assert notes == [("acknowledged", "正在核查", me), ("resolved", "已追回", me)]


async def test_a3_an_inspector_writing_business_data_is_refused_recorded_and_writes_nothing(
    admin: Api, db: asyncpg.Pool, make_principal: MakePrincipal
) -> None:
    inspector = await make_principal("inspector", "000000")
    county = new_county()
    body = {"fund_source": "ZY01", "fiscal_year": 2018, "region_code": county, "amount_fen": 100,
            "doc_no": f"检查-{county}"}
    refused = await inspector.post("/funds/appropriations", json=body, headers={"x-request-id": f"a3-{county}"})
    assert refused.status_code == 403 and refused.json()["code"] == "FORBIDDEN"
    assert await db.fetchval("SELECT count(*) FROM funds.appropriations WHERE doc_no = $1", body["doc_no"]) == 0
    await wait_for_audit(admin)
    [entry] = await _entries(admin, request_id=f"a3-{county}")
    assert (entry["principal_id"], entry["status"], entry["code"]) == (inspector.principal_id, 403, "FORBIDDEN")


async def test_a5_a_read_of_personal_data_is_masked_and_audited(admin: Api, make_principal: MakePrincipal) -> None:
    county = new_county()
    [row] = await import_households(admin, county, ["poor"])
    household = row["household_id"]
    finance = await make_principal("finance", county)
    read = await finance.get(f"/registry/households/{household}", headers={"x-request-id": f"a5-{household}"})
    assert read.status_code == 200
    number = row["head_id_number"]
    assert read.json()["head_id_number"] == number[:6] + "********" + number[-4:]
    await wait_for_audit(admin)
    [entry] = await _entries(admin, request_id=f"a5-{household}")
    assert (entry["principal_id"], entry["method"], entry["status"]) == (finance.principal_id, "GET", 200)
    assert household in entry["entity_ids"]


async def test_a1_a_rule_refusal_is_recorded_with_its_rule_code(admin: Api, make_principal: MakePrincipal) -> None:
    county = new_county()
    [row] = await import_households(admin, county, ["poor"])
    pm = await make_principal("project_manager", county)
    project = await create(pm, project_body(county, [row["household_id"]], performance_targets=[]))
    request_id = f"a1-{project['id']}"
    refused = await pm.post(f"/projects/{project['id']}/submit", json={}, headers={"x-request-id": request_id})
    assert refused.status_code == 422 and refused.json()["code"] == "NO_PERFORMANCE_TARGETS"
    await wait_for_audit(admin)
    [entry] = await _entries(admin, request_id=request_id)
    assert (entry["principal_id"], entry["status"], entry["code"]) == (pm.principal_id, 422, "NO_PERFORMANCE_TARGETS")
    assert project["id"] in entry["entity_ids"]
