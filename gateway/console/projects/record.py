"""A project's record (issue #19 point 3): its facts, its announcement (公示) with the days left, its objections (and
their answers), its history, and a form for each move its state allows. A move the API refuses comes back on the
same page with the rule (P1…) and its bilingual message beside the field it names, or at the top of its form."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from gateway.console.api import ApiError, ConsoleApi
from gateway.console.fmt import today_in_china
from gateway.console.guard import page
from gateway.console.projects import forms, view
from gateway.console.render import render
from gateway.sessions import Signed


async def render_record(
    request: Request, api: ConsoleApi, signed: Signed, project_id: str, *, failed: str = "",
    problem: dict[str, Any] | None = None, values: dict[str, str] | None = None, status: int = 200,
) -> Response:
    """One GET: the project carries its announcement, objections, history and the moves its state allows."""
    project = await view.fetch_object(api, f"/projects/{project_id}", project_id)
    acting = signed.principal.role == "project_manager"
    shown = set(project["allowed_actions"]) if acting else set()
    if acting and project["status"] == "announced":
        shown |= {f"resolve-{o['id']}" for o in project["objections"] if o["status"] == "open"}
    if project["status"] == "announced":
        shown.add("objection")
    editing = acting and project["status"] == "draft"  # P14: a draft's edit form, filled with the draft as it is
    if editing:
        shown.add("edit")
    rows = max(forms.TARGET_ROWS, len(project["performance_targets"]))
    edit_values = (values or {}) if failed == "edit" else forms.draft_values(project) if editing else {}
    return render(
        request, "projects/detail.html", status=status,
        project=project, acting=acting, failed=failed, problem=problem, values=values or {},
        # a refusal of a form the page no longer shows (the project moved meanwhile) is shown at the top
        problem_at_top=problem is not None and failed not in shown,
        new_key=forms.new_key,  # each form its own idempotency key, made as it is rendered
        today=today_in_china().isoformat(), scope_options=view.options(request, "scope", view.SCOPES),
        name=view.labeller(request), last_day=view.last_day,
        accept_fields=["report", *(f"actual_{i}" for i in range(len(project["performance_targets"])))],
        open_objections=sum(1 for o in project["objections"] if o["status"] == "open"),
        editing=editing, edit_values=edit_values,
        edit_rows=range(rows),
        edit_fields=[*forms.EDIT_FIELDS, *(f"{k}_{i}" for i in range(rows) for k in forms.TARGET)],
        category_options=view.options(request, "category", view.CATEGORIES) if editing else [],
    )


async def refused(
    request: Request, api: ConsoleApi, signed: Signed, project_id: str, failed: str, error: ApiError,
    form: Any,
) -> Response:
    if not 400 <= error.status < 500:
        raise ApiError(error.status, view.for_form(error.problem)) from error
    return await render_record(
        request, api, signed, project_id, failed=failed, problem=view.for_form(error.problem),
        values=forms.values_of(form), status=error.status,
    )


@page(*view.READERS)
async def record(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    return await render_record(request, api, signed, request.path_params["project_id"])


@page("project_manager")
async def move(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    """POST /projects/{id}/{action} with the body that move takes; then back to the record (post/redirect/get)."""
    project_id, action = request.path_params["project_id"], request.path_params["action"]
    if action not in view.ACTIONS:
        return render(request, "error.html", status=404, message_key="error.not_found", problem=None)
    form = await request.form()
    targets: list[dict[str, str]] = []
    if action == "accept":  # P10: a result for each of the project's own targets
        targets = (await view.fetch(api, f"/projects/{project_id}"))["performance_targets"]
    try:
        await api.post(
            f"/projects/{project_id}/{action}", forms.action_body(action, form, targets),
            idempotency_key=forms.text(form, "idem") or None,
        )
    except ApiError as error:
        return await refused(request, api, signed, project_id, action, error, form)
    return RedirectResponse(f"/console/projects/{project_id}", status_code=303)


@page()
async def object_to(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    """POST /projects/{id}/objections: an objection received by the office (by telephone, at the counter)."""
    project_id = request.path_params["project_id"]
    form = await request.form()
    try:
        await api.post(
            f"/projects/{project_id}/objections", {"text": forms.text(form, "text")},
            idempotency_key=forms.text(form, "idem") or None,
        )
    except ApiError as error:
        return await refused(request, api, signed, project_id, "objection", error, form)
    return RedirectResponse(f"/console/projects/{project_id}#objections", status_code=303)


@page("project_manager")
async def resolve(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    """POST /projects/{id}/objections/{oid}/resolve with the office's answer."""
    project_id, objection_id = request.path_params["project_id"], request.path_params["objection_id"]
    form = await request.form()
    try:
        await api.post(
            f"/projects/{project_id}/objections/{objection_id}/resolve", {"resolution": forms.text(form, "resolution")},
            idempotency_key=forms.text(form, "idem") or None,
        )
    except ApiError as error:
        return await refused(request, api, signed, project_id, f"resolve-{objection_id}", error, form)
    return RedirectResponse(f"/console/projects/{project_id}#objections", status_code=303)


ROUTES = [
    Route("/projects/{project_id}", record, methods=["GET"]),
    Route("/projects/{project_id}/objections", object_to, methods=["POST"]),
    Route("/projects/{project_id}/objections/{objection_id}/resolve", resolve, methods=["POST"]),
    Route("/projects/{project_id}/{action}", move, methods=["POST"]),
]
