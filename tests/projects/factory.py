"""Test data for the projects service: unique counties, registry households, project bodies, lifecycle drivers."""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import date, timedelta
from typing import Any

from services.kernel import clock
from services.kernel.types import id_number_check_char
from tests.conftest import Api

HEADER = "household_id,head_id_number,head_name,county_code,village_code,status,members,village_cadre,card_account"
_counties = itertools.count(random.randrange(100, 900))
HAPPY_PATH = ("submit", "review", "announce", "approve", "start", "complete", "accept")


def new_county() -> str:
    """A county code no other test of this session uses (province 6x, never ending in 00)."""
    n = next(_counties) % 1000  # six digits whatever the start: from 900, a session's hundredth county was 61000xx
    return f"6{n:03d}{random.randrange(1, 10)}{random.randrange(1, 10)}"


def village_of(county: str, n: int = 1) -> str:
    return f"{county}{100 + n:03d}001"


def id_number(county: str, serial: int) -> str:
    first17 = f"{county}19800101{serial % 1000:03d}"
    return first17 + id_number_check_char(first17)


async def import_households(admin: Api, county: str, statuses: list[str]) -> list[dict[str, str]]:
    """Registers households in the registry through its import endpoint; returns their rows."""
    rows = [
        {
            "household_id": f"hh-{uuid.uuid4().hex[:16]}",
            "head_id_number": id_number(county, i),
            "head_name": f"户主{uuid.uuid4().hex[:4]}",
            "county_code": county,
            "village_code": village_of(county),
            "status": status,
            "members": "3",
            "village_cadre": "0",
            "card_account": f"62170{random.randrange(10**13, 10**14)}",
        }
        for i, status in enumerate(statuses)
    ]
    body = "\n".join([HEADER, *(",".join(r.values()) for r in rows)]) + "\n"
    response = await admin.post(
        "/registry/households/import", content=body.encode(), headers={"content-type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["rejected"] == [], response.text
    return rows


def project_body(county: str, beneficiaries: list[str], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "county_code": county,
        "village_code": village_of(county),
        "name": f"光伏扶贫电站-{uuid.uuid4().hex}",
        "category": "industry",
        "budget_fen": 50_000_000,
        "start_on": "2018-03-01",
        "end_on": "2018-12-31",
        "beneficiary_household_ids": beneficiaries,
        "benefit_mechanism": "光伏收益分红到户 / dividends from the solar plant to each household",
        "performance_targets": [{"indicator": "受益贫困户年增收", "target": "≥3000元/户"}],
    }
    body.update(overrides)
    return body


def edit_body(county: str, beneficiaries: list[str], **overrides: Any) -> dict[str, Any]:
    """P14: a draft's editable fields, whole (POST /projects/{id}/revisions): a project body without its county."""
    body = project_body(county, beneficiaries, **overrides)
    del body["county_code"]
    return body


def action_body(action: str, *, announce_start: date | None = None, days: int = 10) -> dict[str, Any] | None:
    if action == "review":
        return {"passed": True, "opinion": "论证通过 / passed"}
    if action == "announce":
        start = announce_start or clock.today() - timedelta(days=days + 5)
        body: dict[str, Any] = {"start_on": start.isoformat(), "days": days, "scope": "village"}
        if (clock.today() - start).days > 3:  # P13: recorded after it was posted, it names its evidence
            body["evidence"] = {"posted_by": "村委会 / village committee", "photo_sha256": "0f" * 32}
        return body
    if action == "accept":  # P10: the actual value of the default target (project_body's), met
        return {"report": "验收合格 / accepted",
                "results": [{"indicator": "受益贫困户年增收", "actual": "3200元/户", "met": True}]}
    if action in ("reject", "withdraw"):
        return {"reason": "不再需要 / no longer needed"}
    return None


async def act(pm: Api, project_id: str, action: str, body: dict[str, Any] | None = None) -> Any:
    return await pm.post(f"/projects/{project_id}/{action}", json=body if body is not None else action_body(action))


async def create(pm: Api, body: dict[str, Any]) -> dict[str, Any]:
    response = await pm.post("/projects", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def project_in(pm: Api, county: str, beneficiaries: list[str], status: str, **overrides: Any) -> str:
    """A new project moved along the lifecycle to `status` (rejected: at review; withdrawn: from draft)."""
    project_id = str((await create(pm, project_body(county, beneficiaries, **overrides)))["id"])
    path: tuple[str, ...]
    if status == "rejected":
        path = ("submit", "reject")
    elif status == "withdrawn":
        path = ("withdraw",)
    else:
        path = HAPPY_PATH[: ["draft", "submitted", "reviewed", "announced", "approved", "in_progress", "completed",
                             "accepted"].index(status)]
    for action in path:
        response = await act(pm, project_id, action)
        assert response.status_code == 200, (action, response.text)
    return project_id
