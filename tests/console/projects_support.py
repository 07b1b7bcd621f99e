"""The county office's desk in the tests: a county with registered households and its project manager signed in,
and the console's forms filled as a browser fills them (the CSRF token and an idempotency key with each)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import Api
from tests.console.people import Person, make_person
from tests.projects.factory import import_households, new_county, village_of


@dataclass
class Office:
    county: str
    poor: list[str]
    pm: Person


async def county_office(admin: Api, gateway_url: str) -> Office:
    county = new_county()
    rows = await import_households(admin, county, ["poor", "exited"])
    pm = await make_person(admin, gateway_url, "project_manager", county)
    return Office(county, [r["household_id"] for r in rows], pm)


def registration(office: Office, **overrides: str) -> dict[str, str]:
    form = {
        "county_code": office.county,
        "village_code": village_of(office.county),
        "name": f"村级光伏电站-{uuid.uuid4().hex[:8]}",
        "category": "industry",
        "budget_yuan": "1,234,567.89",
        "start_on": "2026-03-01",
        "end_on": "2026-12-31",
        "beneficiary_household_ids": "\n".join(office.poor),
        "benefit_mechanism": "光伏收益分红到户",
        "indicator_0": "受益贫困户年增收",
        "target_0": "≥3000元/户",
    }
    form.update(overrides)
    return form


async def post_form(person: Person, path: str, data: dict[str, Any]) -> httpx.Response:
    """A console form sent: its fields, the page's CSRF token and a fresh idempotency key."""
    return await person.client.post(path, data={**data, "csrf_token": person.csrf, "idem": str(uuid.uuid4())})


async def register(office: Office, **overrides: str) -> str:
    answer = await post_form(office.pm, "/console/projects/new", registration(office, **overrides))
    assert answer.status_code == 303, answer.text[:2000]
    location = answer.headers["location"]
    assert location.startswith("/console/projects/"), location
    return location.rsplit("/", 1)[1]


async def move(office: Office, project_id: str, action: str, data: dict[str, Any] | None = None) -> httpx.Response:
    return await post_form(office.pm, f"/console/projects/{project_id}/{action}", data or {})


async def announced(office: Office, *, days: str = "10", start_on: str = "") -> str:
    """A project registered and moved through the console's forms to `announced` (starting today in China)."""
    from gateway.console.fmt import today_in_china

    project_id = await register(office)
    for action, data in (
        ("submit", {}),
        ("review", {"passed": "true", "opinion": "论证通过"}),
        ("announce", {"start_on": start_on or today_in_china().isoformat(), "days": days, "scope": "village"}),
    ):
        answer = await move(office, project_id, action, data)
        assert answer.status_code == 303, (action, answer.text[:3000])
    return project_id
