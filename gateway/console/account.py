"""My account (issue #19): change my password (S22), turn the second factor on and off (S21). Everything through
the public API as the person (`/me`, `/me/password`, `/me/totp...`): the page only shows and forwards."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from gateway.console.api import ApiError, ConsoleApi
from gateway.console.guard import page
from gateway.console.render import render
from gateway.sessions import Signed


def shown(problem: dict[str, Any] | None) -> dict[str, Any] | None:
    """A problem as the shared macros read it: every key they name present (the API leaves out a null `rule` or
    `field`, and the templates' undefined is strict)."""
    return None if problem is None else {"field": None, "rule": None, "code": "", "detail": "", **problem}


DONE = {"password": "account.done_password", "totp_on": "account.done_totp_on", "totp_off": "account.done_totp_off"}


async def _page(
    request: Request, api: ConsoleApi, *, status: int = 200, problem: dict[str, Any] | None = None,
    enrolment: dict[str, Any] | None = None,
) -> Response:
    me = await api.get("/me")
    return render(
        request, "account/account.html", status=status, account=me, problem=shown(problem), enrolment=enrolment,
        done_key=DONE.get(request.query_params.get("done", "")), idem=lambda: str(uuid.uuid4()),
    )


async def _refused(request: Request, api: ConsoleApi, error: ApiError) -> Response:
    """The API's refusal shown next to the field it names (or above the forms), with the API's status."""
    return await _page(request, api, status=error.status if 400 <= error.status < 500 else 503, problem=error.problem)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@page()
async def account(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    return await _page(request, api)


@page()
async def change_password(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    form = await _form(request)
    if form.get("new_password", "") != form.get("new_password_again", ""):
        mismatch = {"field": "new_password_again", "detail": "两次输入的新密码不一致 / the two new passwords differ"}
        return await _page(request, api, status=422, problem=mismatch)
    body = {"current_password": form.get("current_password", ""), "new_password": form.get("new_password", "")}
    try:
        await api.post("/me/password", body, idempotency_key=form.get("idempotency_key"))
    except ApiError as error:
        return await _refused(request, api, error)
    return RedirectResponse("/console/account?done=password", status_code=303)


@page()
async def enrol_totp(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    """The secret is the API's answer, shown in this answer only (a reload asks for a new one)."""
    form = await _form(request)
    try:
        enrolment = await api.post("/me/totp", {"current_password": form.get("password_for_totp", "")},
                                   idempotency_key=form.get("idempotency_key"))
    except ApiError as error:
        if error.field == "current_password":  # the enrolment form's own password field, not the change form's
            error = ApiError(error.status, {**error.problem, "field": "password_for_totp"})
        return await _refused(request, api, error)
    return await _page(request, api, enrolment=enrolment)


async def _code(request: Request, api: ConsoleApi, path: str, done: str) -> Response:
    form = await _form(request)
    try:
        await api.post(path, {"code": form.get("code", "").strip()}, idempotency_key=form.get("idempotency_key"))
    except ApiError as error:
        return await _refused(request, api, error)
    return RedirectResponse(f"/console/account?done={done}", status_code=303)


@page()
async def confirm_totp(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    return await _code(request, api, "/me/totp/confirm", "totp_on")


@page()
async def disable_totp(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    return await _code(request, api, "/me/totp/disable", "totp_off")


ROUTES = [
    Route("/account", account, methods=["GET"]),
    Route("/account/password", change_password, methods=["POST"]),
    Route("/account/totp", enrol_totp, methods=["POST"]),
    Route("/account/totp/confirm", confirm_totp, methods=["POST"]),
    Route("/account/totp/disable", disable_totp, methods=["POST"]),
]
