"""Typed calls to the projects and registry services' internal APIs (the brief's contracts).

A service that is down or failing answers 503 through `ServiceClient`; the request then changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


class Eligibility(TypedDict):
    """The registry's judgement of a household on a date (F10): `reasons` empty when it may receive."""

    household_id: str
    on: str | None
    eligible: bool
    reasons: list[str]
    status: str | None
    village_cadre: bool | None


def _client(clients: Mapping[str, Any], name: str) -> ServiceClient:
    return cast(ServiceClient, clients[name])


async def get_project(clients: Mapping[str, Any], project_id: str) -> Project | None:
    found = await _client(clients, "projects").get_json(f"/internal/projects/{quote(project_id, safe='')}")
    return cast(Project | None, found)


async def get_household(clients: Mapping[str, Any], household_id: str) -> Household | None:
    found = await _client(clients, "registry").get_json(f"/internal/households/{quote(household_id, safe='')}")
    return cast(Household | None, found)


async def household_eligibility(
    clients: Mapping[str, Any], queries: Sequence[tuple[str, date]]
) -> list[Eligibility]:
    """The registry's eligibility of each (household, date), in order (in batches; 503 if it fails)."""
    answers = await _client(clients, "registry").post_items(
        "/internal/households/eligibility", [{"household_id": h, "on": on.isoformat()} for h, on in queries]
    )
    return cast(list[Eligibility], answers)
