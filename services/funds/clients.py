"""Typed calls to the projects and registry services' internal APIs (the brief's contracts).

A service that is down or failing answers 503 through `ServiceClient`; the request then changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, TypedDict, cast
from urllib.parse import quote

from services.kernel.http import ServiceClient


class Project(TypedDict):
    id: str
    county_code: str
    village_code: str
    name: str
    category: str
    status: str
    budget_fen: int
    negative_list: bool  # F5: the projects service owns the categories and the list


class Household(TypedDict):
    household_id: str
    county_code: str
    village_code: str
    status: str
    village_cadre: bool
    card_account: str


class HouseholdStatus(TypedDict):
    household_id: str
    status: str
    village_cadre: bool


def _client(clients: Mapping[str, Any], name: str) -> ServiceClient:
    return cast(ServiceClient, clients[name])


async def get_project(clients: Mapping[str, Any], project_id: str) -> Project | None:
    found = await _client(clients, "projects").get_json(f"/internal/projects/{quote(project_id, safe='')}")
    return cast(Project | None, found)


async def get_household(clients: Mapping[str, Any], household_id: str) -> Household | None:
    found = await _client(clients, "registry").get_json(f"/internal/households/{quote(household_id, safe='')}")
    return cast(Household | None, found)


async def household_status_at(clients: Mapping[str, Any], household_id: str, on: date) -> HouseholdStatus | None:
    found = await _client(clients, "registry").get_json(
        f"/internal/households/{quote(household_id, safe='')}/status-at", params={"on": on.isoformat()}
    )
    return cast(HouseholdStatus | None, found)
