"""The project library (issue #19 point 3): the projects of the person's jurisdiction with filters, a page at a
time, and the form that registers a new project as a draft (POST /projects)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from gateway.console.api import ApiError, ConsoleApi
from gateway.console.fmt import today_in_china
from gateway.console.guard import page
from gateway.console.projects import forms, view
from gateway.console.render import language, render
from gateway.sessions import Signed

FILTERS = ("status", "county", "category", "year")


@page(*view.READERS)
async def library(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    """GET /projects with the page's filters; a filter the API refuses (a county outside the jurisdiction) is shown
    next to that filter, over an empty list."""
    filters = {name: request.query_params.get(name, "").strip() for name in FILTERS}
    cursor = request.query_params.get("cursor", "")
    problem: dict[str, Any] | None = None
    status = 200
    try:
        found = await api.get("/projects", **filters, cursor=cursor, limit=view.PAGE_SIZE)
    except ApiError as error:
        if error.status not in (400, 403, 422):
            raise ApiError(error.status, view.for_form(error.problem)) from error
        found, problem, status = {"items": [], "next_cursor": None}, view.for_form(error.problem), error.status
    chosen = {k: v for k, v in filters.items() if v}
    next_cursor = found.get("next_cursor")
    return render(
        request, "projects/list.html", status=status,
        projects=found["items"], filters=filters, problem=problem, name=view.labeller(request),
        statuses=view.STATUSES, categories=view.CATEGORIES,
        next_query=urlencode({**chosen, "cursor": next_cursor}) if next_cursor else "",
        first_query=urlencode(chosen) if cursor else None,
        can_register=signed.principal.role == "project_manager",
    )


def _register_form(
    request: Request, signed: Signed, *, values: dict[str, str] | None = None,
    problem: dict[str, Any] | None = None, status: int = 200,
) -> Response:
    today = today_in_china().isoformat()
    defaults = {"county_code": signed.principal.region_code, "category": "industry", "start_on": today,
                "end_on": today}
    return render(
        request, "projects/register.html", status=status,
        values={**defaults, **(values or {})}, problem=problem, idem=forms.new_key(),
        category_options=view.options(request, "category", view.CATEGORIES), target_rows=range(forms.TARGET_ROWS),
    )


@page("project_manager")
async def register_form(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    return _register_form(request, signed)


@page("project_manager")
async def register(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    """POST /projects from the form; refused, the form comes back with what was typed and the rule beside its field."""
    form = await request.form()
    try:
        body = forms.project_body(form, language(request))
        created = await api.post("/projects", body, idempotency_key=forms.text(form, "idem") or None)
    except forms.FormProblem as refused:
        return _register_form(request, signed, values=forms.values_of(form), problem=refused.problem, status=422)
    except ApiError as error:
        if not 400 <= error.status < 500:
            raise ApiError(error.status, view.for_form(error.problem)) from error
        return _register_form(
            request, signed, values=forms.values_of(form), problem=view.for_form(error.problem), status=error.status
        )
    return RedirectResponse(f"/console/projects/{created['id']}", status_code=303)


ROUTES = [
    Route("/projects", library, methods=["GET"]),
    Route("/projects/new", register_form, methods=["GET"]),
    Route("/projects/new", register, methods=["POST"]),
]
