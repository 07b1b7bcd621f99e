"""Typed calls to what the oversight service asks others: an alert of the service that owns it, a reversal of the
funds service (O10), an organisation of the gateway (which owns organisations, issue #16). Each is asked before the
case's transaction writes."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request

from services.kernel.http import ASKS_SERVICE, ServiceClient, client_of
from services.oversight import problems

ALERT_SERVICES = ("funds", "projects", "loans", "registry")
GATEWAY = "gateway"
FUNDS = "funds"


async def _get(client: ServiceClient, path: str) -> dict[str, Any] | None:
    response = await client.request("GET", path)
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise problems.lookup_failed(client.name, response.status_code)
    found: dict[str, Any] = response.json()
    return found


class Lookups:
    """Alerts by their service, funds reversals and organisations by id: None when the owner does not know it; 503
    when it fails."""

    def __init__(self, request: Request) -> None:
        self.request = request

    async def alert(self, service: str, alert_id: str) -> dict[str, Any] | None:
        return await _get(client_of(self.request, service), f"/internal/alerts/{alert_id}")

    async def reversal(self, reversal_id: str) -> dict[str, Any] | None:
        """A funds reversal: `{id, target_id, target_kind, region_code, amount_fen, reversed_on}` (O10)."""
        return await _get(client_of(self.request, FUNDS), f"/internal/reversals/{quote(reversal_id, safe='')}")

    async def organisation(self, organisation_id: str) -> dict[str, Any] | None:
        return await _get(client_of(self.request, GATEWAY), f"/internal/organisations/{organisation_id}")


def lookups_of(request: Request) -> Lookups:
    return Lookups(request)


# A route taking Lookups asks other services: the unit of work answers a replay of its Idempotency-Key before anyone
# is asked (kernel.http.service_dependency marks its dependencies the same way).
setattr(lookups_of, ASKS_SERVICE, "funds, gateway, the alerts' services")


LookupsDep = Annotated[Lookups, Depends(lookups_of)]
