"""Typed calls to the projects and registry services' internal APIs (the brief's contracts) and to the gateway's
(organisations, issue #16), offered to routes as typed dependencies (`ProjectsDep`, `RegistryDep`, `GatewayDep`)
made by the kernel's `service_dependency`.

A service that is down or failing answers 503 through `ServiceClient`; the request then changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any, TypedDict, cast
from urllib.parse import quote

from fastapi import Depends

from services.funds import problems
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


class Contract(TypedDict):
    """A project's contract as funds pays against it (F11): its contractor and amount."""

    id: str
    project_id: str
    county_code: str
    contractor_uscc: str
    amount_fen: int


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


LOOKUP_PAGE = 1000  # ids a batch lookup asks at once (the projects service's limit)


class Projects:
    """The projects service, as funds asks it: a project of the library (F4, F5)."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def get_project(self, project_id: str) -> Project | None:
        found = await self.client.get_json(f"/internal/projects/{quote(project_id, safe='')}")
        return cast(Project | None, found)

    async def get_contract(self, project_id: str, contract_id: str) -> Contract | None:
        """F11: a contract of the project, or None."""
        path = f"/internal/projects/{quote(project_id, safe='')}/contracts/{quote(contract_id, safe='')}"
        return cast(Contract | None, await self.client.get_json(path))

    async def projects_in(self, region_code: str, project_ids: Sequence[str]) -> dict[str, Project]:
        """The projects among these that lie in `region_code` (one unknown or of another region is absent): one call
        per LOOKUP_PAGE ids, whatever their number (F15-F18); 503 if it fails."""
        found: dict[str, Project] = {}
        wanted = list(dict.fromkeys(project_ids))
        for start in range(0, len(wanted), LOOKUP_PAGE):
            page = wanted[start:start + LOOKUP_PAGE]
            response = await self.client.request("POST", "/internal/projects/lookup",
                                                 json={"region_code": region_code, "project_ids": page})
            if response.status_code != 200:
                raise problems.projects_failed(response.status_code)
            found.update({str(p["id"]): cast(Project, p) for p in response.json()["items"]})
        return found

    async def villages(self, project_ids: Sequence[str]) -> dict[str, str | None]:
        """The village of each project (None: the projects service knows no such project), for F20; 503 if it
        fails."""
        answers = await self.client.post_items("/internal/projects/villages", [{"project_id": p} for p in project_ids])
        return {str(a["project_id"]): a["village_code"] for a in answers}


CHANGED_PAGE = 10_000  # household ids a page of the registry's changes answers
ELIGIBILITY_CONCURRENCY = 4  # batches of 1,000 in flight when a scan asks about a year of household payments


class Registry:
    """The registry service, as funds asks it: a household on the roster (F6, S9) and its eligibility (F10)."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def get_household(self, household_id: str) -> Household | None:
        found = await self.client.get_json(f"/internal/households/{quote(household_id, safe='')}")
        return cast(Household | None, found)

    async def households(self, household_ids: Sequence[str]) -> dict[str, Household]:
        """The households of the roster among these (one not on it is absent), a thousand a call; 503 if it fails."""
        found: dict[str, Household] = {}
        for start in range(0, len(household_ids), 1000):
            batch = list(household_ids[start:start + 1000])
            response = await self.client.request("POST", "/internal/households/lookup", json={"household_ids": batch})
            if response.status_code != 200:
                raise problems.registry_failed(response.status_code)
            found.update({str(h["household_id"]): cast(Household, h) for h in response.json()["items"]})
        return found

    async def household_eligibility(self, queries: Sequence[tuple[str, date]]) -> list[Eligibility]:
        """The registry's eligibility of each (household, date), in order (in batches, a few in flight; 503 if it
        fails)."""
        answers = await self.client.post_items(
            "/internal/households/eligibility", [{"household_id": h, "on": on.isoformat()} for h, on in queries],
            concurrency=ELIGIBILITY_CONCURRENCY,
        )
        return cast(list[Eligibility], answers)


    async def changed_households(self, since: int, most: int | None = None) -> tuple[list[str], int]:
        """The households whose standing on some day may have changed since the registry's transaction `since`,
        a page of CHANGED_PAGE at a time (no more pages once more than `most` are found), and the transaction to ask
        from next (its first page's, the earliest: kernel/marks); 503 if it fails."""
        found: list[str] = []
        read_from: int | None = None
        after: str | None = ""
        while after is not None and (most is None or len(found) <= most):
            response = await self.client.request("POST", "/internal/households/changed",
                                                 json={"since": since, "after": after, "limit": CHANGED_PAGE})
            if response.status_code != 200:
                raise problems.registry_failed(response.status_code)
            page = response.json()
            found.extend(str(h) for h in page["items"])
            read_from = int(page["read_from"]) if read_from is None else min(read_from, int(page["read_from"]))
            after = page["next_after"]
        assert read_from is not None
        return found, read_from


FINANCE_BUREAU = "finance_bureau"
FOUND_SECONDS = 300.0  # a region's first registered bureau stays its first (organisations are never deleted)
NONE_SECONDS = 5.0  # a region without one is asked again soon: a bureau registered now is used within seconds
_bureaus: dict[str, tuple[float, str | None]] = {}  # region → (until, the bureau's id or None), per process
_clock = time.monotonic  # what the keeping is timed by (a test moves it on)


class Gateway:
    """The gateway, as funds asks it: the finance bureau (财政局) of a region, for rule O13."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def finance_bureau(self, region_code: str) -> str | None:
        """The id of the first finance bureau registered for exactly this region, or None; kept briefly."""
        now = _clock()
        kept = _bureaus.get(region_code)
        if kept is not None and kept[0] > now:
            return kept[1]
        found = await self.client.get_json("/internal/organisations",
                                           params={"region_code": region_code, "kind": FINANCE_BUREAU})
        items = cast(list[dict[str, Any]], (found or {}).get("items", []))
        bureau = str(items[0]["id"]) if items else None
        _bureaus[region_code] = (now + (FOUND_SECONDS if bureau else NONE_SECONDS), bureau)
        return bureau

    async def finance_bureaus(self, region_codes: Sequence[str]) -> dict[str, str | None]:
        """The finance bureau of each region (None where there is none): those not kept asked of the gateway one
        page of a thousand regions a call, not one call per region (issue #20); 503 if it fails."""
        now = _clock()
        codes = list(dict.fromkeys(region_codes))
        known = {c: kept[1] for c in codes if (kept := _bureaus.get(c)) is not None and kept[0] > now}
        asking = [c for c in codes if c not in known]
        for start in range(0, len(asking), LOOKUP_PAGE):
            page = asking[start:start + LOOKUP_PAGE]
            response = await self.client.request("POST", "/internal/organisations/first-of-regions",
                                                 json={"kind": FINANCE_BUREAU, "region_codes": page})
            if response.status_code != 200:
                raise problems.gateway_failed(response.status_code)
            found = {str(i["region_code"]): str(i["organisation"]["id"]) for i in response.json()["items"]}
            for code in page:
                bureau = known[code] = found.get(code)
                _bureaus[code] = (now + (FOUND_SECONDS if bureau else NONE_SECONDS), bureau)
        return {c: known[c] for c in codes}


def gateway_of(state: Any) -> Gateway:
    """The gateway as a detector reaches it: through the app's state its run is given (kernel alerts)."""
    return Gateway(client_in(state, "gateway"))


def projects_of(state: Any) -> Projects:
    """The projects service as a detector reaches it (F20)."""
    return Projects(client_in(state, "projects"))


def registry_of(state: Any) -> Registry:
    """The registry as a detector reaches it: through the app's state its run is given (kernel alerts)."""
    return Registry(client_in(state, "registry"))


ProjectsDep = Annotated[Projects, Depends(service_dependency("projects", Projects))]
RegistryDep = Annotated[Registry, Depends(service_dependency("registry", Registry))]
GatewayDep = Annotated[Gateway, Depends(service_dependency("gateway", Gateway))]
