"""Allocations and balances by county (issue #19 point 4): the person's own jurisdiction's, as GET /funds/allocations
and GET /funds/balances answer them, filtered by county, issuing region, fund source and year, a page at a time."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gateway.console.api import ApiError, ConsoleApi
from gateway.console.finance.forms import PAGE_SIZE, href, on_form, side_by_side
from gateway.console.guard import page
from gateway.console.render import render
from gateway.sessions import Signed

FILTERS = ("county", "from_region", "fund_source", "fiscal_year")
# The API's name of a refused query parameter → the filter that set it (the county filters both lists).
API_FIELDS = {"to_region": "county", "region": "county"}
SHOWN_REFUSALS = (403, 422)  # a filter outside the jurisdiction or malformed: shown next to it, not as an error page
EMPTY: dict[str, Any] = {"items": [], "next_cursor": None}


@page("finance", "inspector")
async def list_page(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    query = request.query_params
    chosen = {name: query.get(name, "").strip() for name in FILTERS}
    found, balances = await side_by_side(
        api.get("/funds/allocations", to_region=chosen["county"], from_region=chosen["from_region"],
                fund_source=chosen["fund_source"], fiscal_year=chosen["fiscal_year"], cursor=query.get("cursor"),
                limit=PAGE_SIZE),
        api.get("/funds/balances", region=chosen["county"], cursor=query.get("bcursor"), limit=PAGE_SIZE),
    )
    problem = None
    for outcome in (found, balances):
        if isinstance(outcome, ApiError):
            if outcome.status not in SHOWN_REFUSALS:
                raise outcome
            problem = problem or on_form(outcome.problem, API_FIELDS, frozenset(FILTERS))
    found = EMPTY if isinstance(found, ApiError) else found
    balances = EMPTY if isinstance(balances, ApiError) else balances
    return render(
        request, "finance/allocations.html", status=422 if problem else 200,
        chosen=chosen, problem=problem, allocations=found["items"], balances=balances["items"],
        first_href=href("/console/allocations", chosen),
        next_href=_next(chosen, found["next_cursor"], cursor=found["next_cursor"], bcursor=query.get("bcursor")),
        balances_next_href=_next(chosen, balances["next_cursor"], cursor=query.get("cursor"),
                                 bcursor=balances["next_cursor"]),
        paged=bool(query.get("cursor") or query.get("bcursor")),
    )


def _next(chosen: dict[str, str], following: str | None, *, cursor: str | None, bcursor: str | None) -> str | None:
    """The link to the next page of one list (`following`: its next cursor; the other list stays on its page), None
    on that list's last page."""
    if following is None:
        return None
    return href("/console/allocations", {**chosen, "cursor": cursor, "bcursor": bcursor})


@page("finance", "inspector")
async def detail_page(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    allocation_id = request.path_params["allocation_id"]
    allocation = await api.get_object(f"/funds/allocations/{allocation_id}", allocation_id)
    return render(request, "finance/allocation.html", allocation=allocation,
                  created=request.query_params.get("created") == "1")
