"""One route table, checked (issue #12, point 2): `gateway/policy.py` is the table an auditor reads (role × route ×
target), and the services serve their routes from their own routers. The two must name the same routes,
in both directions:

- a policy entry with no route behind it in its target is a 404 for a role the policy allows (GET
  /funds/appropriations, /funds/arrangements and /funds/disbursements were such entries once);
- a public route of a service with no policy entry is one the gateway never reaches (or reaches without a rule).

A service's table is what its app serves, read from its routes (`app.routes`), not from its OpenAPI document: a
route kept out of the document (include_in_schema=False) is served all the same and must not escape the comparison.
What counts as public is `gateway.ops.published` (the internal API and the probe are not). The gateway's table is
its own document plus its operational routes (probes, metrics and the documents themselves), which are served but
kept out of the document they serve. The document the running gateway serves is checked against the policy too,
with who may call each operation.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from gateway import ops
from gateway.policy import FINANCE, GATEWAY, INSPECTOR, ROUTES, Route
from services.kernel.topology import SERVICES
from tests.conftest import Api

Entry = tuple[str, str, str]  # (method, path template, the process that serves it)
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch"})
STALE = (  # the entries the policy once held with no service behind them
    *(Route("GET", f"/funds/{things}", frozenset({FINANCE, INSPECTOR}), "funds")
      for things in ("appropriations", "arrangements", "disbursements")),
)


@dataclass(frozen=True)
class Disagreement:
    no_route: list[str]  # in the policy, not served by its target
    no_policy: list[str]  # served publicly, not in the policy

    @property
    def none(self) -> bool:
        return not self.no_route and not self.no_policy


def policy_table(routes: Iterable[Route]) -> set[Entry]:
    return {(r.method, r.template, r.target) for r in routes}


def openapi_table(target: str, document: dict[str, Any]) -> set[Entry]:
    """The public operations of one OpenAPI document."""
    return {
        (method.upper(), path, target)
        for path, operations in document.get("paths", {}).items()
        if ops.published(path)
        for method in operations
        if method in HTTP_METHODS
    }


def routes_table(target: str, app: FastAPI) -> set[Entry]:
    """The public routes one service's app serves, in its document or not. The app's routes hold its included
    routers as branches; `iter_route_contexts` walks them with their prefixes, as FastAPI's own OpenAPI does."""
    served = {
        (context.path_format, method)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute) and context.path_format is not None
        for method in context.methods or ()
    }
    return {(method, path, target) for path, method in served if ops.published(path)}


def _app(module: str) -> FastAPI:
    app = importlib.import_module(module).app
    assert isinstance(app, FastAPI), module
    return app


def served_table() -> set[Entry]:
    """Every route the stack serves publicly: each service's routes, the gateway's document and its operational
    routes."""
    served = set().union(*(routes_table(name, _app(f"services.{name}.app")) for name in SERVICES))
    served |= openapi_table(GATEWAY, _app("gateway.app").openapi())
    served |= {(method, path, GATEWAY) for method, path in operational_routes()}
    return served


def operational_routes() -> set[tuple[str, str]]:
    """The gateway's probes, metrics and documents: served, not in the document."""
    return {(method, r.path) for r in ops.router.routes if isinstance(r, APIRoute) for method in r.methods or ()}


def compare(policy: set[Entry], served: set[Entry]) -> Disagreement:
    def lines(entries: set[Entry]) -> list[str]:
        return [f"{method} {path} -> {target}" for method, path, target in sorted(entries)]

    return Disagreement(no_route=lines(policy - served), no_policy=lines(served - policy))


def test_the_policy_and_the_served_routes_agree() -> None:
    found = compare(policy_table(ROUTES), served_table())
    assert found.no_route == [], "policy entries with no route behind them (a 404 for an allowed role)"
    assert found.no_policy == [], "public routes without a policy entry (never reached through the gateway)"


def test_every_service_and_the_gateway_publish_routes() -> None:
    """The comparison means something only if every table is read: an app that published nothing would pass."""
    targets = {target for _, _, target in served_table()}
    assert targets == {*SERVICES, GATEWAY}


def test_a_policy_entry_with_no_route_is_reported() -> None:
    """The three list routes the policy once allowed, though no service had them, are reported, and only they."""
    found = compare(policy_table((*ROUTES, *STALE)), served_table())
    assert found.no_route == [
        "GET /funds/appropriations -> funds",
        "GET /funds/arrangements -> funds",
        "GET /funds/disbursements -> funds",
    ]
    assert found.no_policy == []


def test_a_public_route_with_no_policy_entry_is_reported() -> None:
    dropped = ("GET", "/loans/{loan_id}/subsidy")
    policy = policy_table(r for r in ROUTES if (r.method, r.template) != dropped)
    found = compare(policy, served_table())
    assert (found.no_route, found.no_policy) == ([], ["GET /loans/{loan_id}/subsidy -> loans"])


def test_a_route_sent_to_the_wrong_service_is_reported_both_ways() -> None:
    policy = policy_table(ROUTES) - {("GET", "/funds/trace", "funds")} | {("GET", "/funds/trace", "projects")}
    found = compare(policy, served_table())
    assert (found.no_route, found.no_policy) == (["GET /funds/trace -> projects"], ["GET /funds/trace -> funds"])


def test_internal_routes_and_probes_are_not_public() -> None:
    document = {"paths": {
        "/internal/audit-outbox": {"get": {}},
        "/healthz": {"get": {}},
        "/readyz": {"get": {}},
        "/loans": {"get": {}, "post": {}, "parameters": []},
    }}
    assert openapi_table("loans", document) == {("GET", "/loans", "loans"), ("POST", "/loans", "loans")}


def test_a_route_kept_out_of_the_document_is_still_read() -> None:
    """A public route with include_in_schema=False is absent from the OpenAPI document yet served: the services'
    side is read from the routes, so it is in the table (and, with no policy entry, reported)."""
    app = FastAPI()

    @app.get("/loans/{loan_id}/hidden", include_in_schema=False)
    async def hidden(loan_id: str) -> str:
        return loan_id

    @app.get("/internal/loans", include_in_schema=False)
    async def internal() -> str:
        return "internal"

    assert openapi_table("loans", app.openapi()) == set()
    assert routes_table("loans", app) == {("GET", "/loans/{loan_id}/hidden", "loans")}
    found = compare(policy_table(ROUTES), served_table() | routes_table("loans", app))
    assert found.no_policy == ["GET /loans/{loan_id}/hidden -> loans"]


async def test_the_document_the_gateway_serves_is_the_policy(anonymous: Api) -> None:
    """GET /openapi.json through the running gateway (the services' documents merged, as an integrator reads it)
    names every policy route but the operational ones, and each operation says who may call it, as the policy does."""
    response = await anonymous.get("/openapi.json")
    assert response.status_code == 200, response.text
    document = response.json()
    operational = operational_routes()
    published = {(method, path) for method, path, _ in openapi_table("any", document)}
    assert published == {(r.method, r.template) for r in ROUTES} - operational
    for route in ROUTES:
        if (route.method, route.template) in operational:
            continue
        who = "public, no key" if route.public else "roles: " + ", ".join(sorted(route.roles))
        operation = document["paths"][route.template][route.method.lower()]
        assert operation.get("description", "").endswith(f"**Who:** {who}"), (route.method, route.template)
