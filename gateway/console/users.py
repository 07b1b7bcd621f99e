"""Users (issue #19): an admin lists the people of its jurisdiction and makes new ones (S1, S17, S18), through the
public API as the admin (`GET /admin/users`, `POST /admin/users`): the API's refusal is shown next to its field."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from gateway.console.account import shown
from gateway.console.api import ApiError, ConsoleApi
from gateway.console.guard import page
from gateway.console.render import render
from gateway.sessions import Signed
from services.kernel.identity import ROLES

PAGE_SIZE = 50
FIELDS = ("login", "name", "role", "region_code", "organisation_id")


async def _page(
    request: Request, api: ConsoleApi, *, status: int = 200, problem: dict[str, Any] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    cursor = request.query_params.get("cursor")
    listed = await api.get("/admin/users", limit=PAGE_SIZE, cursor=cursor)
    return render(
        request, "users/users.html", status=status, users=listed["items"], next_cursor=listed["next_cursor"],
        problem=shown(problem), values={**dict.fromkeys(FIELDS, ""), **(values or {})}, roles=ROLES,
        idem=str(uuid.uuid4()),
        created=request.query_params.get("created", "")[:64],
    )


@page("admin")
async def users(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    return await _page(request, api)


@page("admin")
async def create_user(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in FIELDS}
    body: dict[str, Any] = {k: v for k, v in values.items() if v or k != "organisation_id"}
    body["password"] = str(form.get("password", ""))
    try:
        made = await api.post("/admin/users", body, idempotency_key=str(form.get("idempotency_key", "")) or None)
    except ApiError as error:
        status = error.status if 400 <= error.status < 500 else 503
        return await _page(request, api, status=status, problem=error.problem, values=values)
    return RedirectResponse(f"/console/users?created={made['login']}", status_code=303)


ROUTES = [
    Route("/users", users, methods=["GET"]),
    Route("/users", create_user, methods=["POST"]),
]
