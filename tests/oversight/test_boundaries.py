"""Issue #12's structure holds for the oversight service: queries in its repository, problems in problems.py,
jurisdiction through the kernel, other processes through typed clients."""

from __future__ import annotations

from tests.boundaries import violations


def test_the_oversight_service_keeps_its_queries_in_its_repository() -> None:
    assert violations("oversight") == []


def test_the_routes_that_ask_others_are_known_to_ask_and_the_others_not() -> None:
    """A case move that asks funds, the gateway or an alert's service takes Lookups: the unit of work must know it
    (a replay of its Idempotency-Key is then answered before anyone is asked); a route that asks nobody is not
    marked."""
    from fastapi.routing import APIRoute

    from services.kernel.uow import _asks_others
    from services.oversight.api import report_router, router

    asking = {(next(iter(r.methods or ())), r.path): _asks_others(r.dependant)
              for r in [*router.routes, *report_router.routes] if isinstance(r, APIRoute)}
    assert asking[("POST", "/oversight/cases")] and asking[("POST", "/oversight/cases/{case_id}/assign")]
    assert asking[("POST", "/oversight/cases/{case_id}/rectifications")]
    assert not asking[("GET", "/oversight/cases")] and not asking[("GET", "/oversight/report")]
