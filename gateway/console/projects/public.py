"""The public announcement page (公示, issue #19 point 3) as the public sees it: no sign-in, and it reads only the
public routes (GET /public/announcements…), asked without any session, so it shows exactly what anyone may see."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.console.api import ApiError
from gateway.console.guard import loopback_of
from gateway.console.projects import view
from gateway.console.render import render

PUBLIC_PAGE_SIZE = 20


async def _public_get(request: Request, path: str, **params: Any) -> Any:
    request_id = str(request.scope.get("state", {}).get("request_id", "console"))[:100]
    return await loopback_of(request).public_get(path, params, f"{request_id}.1")


def _failed(request: Request, error: ApiError) -> Response:
    if error.status == 404:
        return render(
            request, "error.html", status=404, message_key="error.not_found", problem=view.for_form(error.problem)
        )
    return render(request, "error.html", status=503, message_key="error.unavailable", problem=None)


async def announcements(request: Request) -> Response:
    county = request.query_params.get("county", "").strip()
    cursor = request.query_params.get("cursor", "")
    problem: dict[str, Any] | None = None
    status = 200
    try:
        found = await _public_get(request, "/public/announcements", county=county, cursor=cursor,
                                  limit=PUBLIC_PAGE_SIZE)
    except ApiError as error:
        if error.status != 422:
            return _failed(request, error)
        found, problem, status = {"items": [], "next_cursor": None}, view.for_form(error.problem), 422
    chosen = {"county": county} if county else {}
    next_cursor = found.get("next_cursor")
    return render(
        request, "projects/public_list.html", status=status,
        items=found["items"], county=county, problem=problem, name=view.labeller(request), last_day=view.last_day,
        next_query=urlencode({**chosen, "cursor": next_cursor}) if next_cursor else "",
        first_query=urlencode(chosen) if cursor else None,
    )


async def announcement(request: Request) -> Response:
    try:
        item = await _public_get(request, f"/public/announcements/{request.path_params['project_id']}")
    except ApiError as error:
        return _failed(request, error)
    return render(
        request, "projects/public_detail.html", item=item, name=view.labeller(request), last_day=view.last_day
    )


ROUTES = [
    Route("/public/announcements", announcements, methods=["GET"]),
    Route("/public/announcements/{project_id}", announcement, methods=["GET"]),
]
