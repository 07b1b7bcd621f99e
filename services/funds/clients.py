"""Typed calls to the projects and registry services' internal APIs (the brief's contracts), offered to routes as
typed dependencies (`ProjectsDep`, `RegistryDep`) made by the kernel's `service_dependency`.

A service that is down or failing answers 503 through `ServiceClient`; the request then changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any, TypedDict, cast
from urllib.parse import quote

from fastapi import Depends

from services.kernel.http import ServiceClient, client_in, service_dependency


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


class Projects:
    """The projects service, as funds asks it: a project of the library (F4, F5)."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def get_project(self, project_id: str) -> Project | None:
        found = await self.client.get_json(f"/internal/projects/{quote(project_id, safe='')}")
        return cast(Project | None, found)


ELIGIBILITY_CONCURRENCY = 4  # batches of 1,000 in flight when a scan asks about a year of household payments


class Registry:
    """The registry service, as funds asks it: a household on the roster (F6, S9) and its eligibility (F10)."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def get_household(self, household_id: str) -> Household | None:
        found = await self.client.get_json(f"/internal/households/{quote(household_id, safe='')}")
        return cast(Household | None, found)

    async def household_eligibility(self, queries: Sequence[tuple[str, date]]) -> list[Eligibility]:
        """The registry's eligibility of each (household, date), in order (in batches, a few in flight; 503 if it
        fails)."""
        answers = await self.client.post_items(
            "/internal/households/eligibility", [{"household_id": h, "on": on.isoformat()} for h, on in queries],
            concurrency=ELIGIBILITY_CONCURRENCY,
        )
        return cast(list[Eligibility], answers)


def registry_of(state: Any) -> Registry:
    """The registry as a detector reaches it: through the app's state its run is given (kernel alerts)."""
    return Registry(client_in(state, "registry"))


ProjectsDep = Annotated[Projects, Depends(service_dependency("projects", Projects))]
RegistryDep = Annotated[Registry, Depends(service_dependency("registry", Registry))]
