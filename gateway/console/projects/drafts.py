"""Editing a draft (issue #19 point 3, rule P14): the record page of a draft carries the form, filled with the draft
as it is (amounts in 元); it is sent whole to POST /projects/{id}/revisions, which keeps the version before. A refusal
(a submitted project: P14; a bad field) comes back on the record page beside its field, or at the top."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from gateway.console.api import ApiError, ConsoleApi
from gateway.console.guard import page
from gateway.console.projects import forms, record, view
from gateway.console.render import language
from gateway.sessions import Signed

FORM = "edit"  # the record page's name for this form (its refusals are shown there)


def edit_body(form: Any, lang: str, fund_sources: list[dict[str, Any]]) -> dict[str, Any]:
    """The editable fields whole, as the registration form reads them, without the county (P14); the fund sources,
    which the form does not show, as the draft has them."""
    body = forms.project_body(form, lang)
    del body["county_code"]
    body["fund_sources"] = fund_sources
    return body


@page("project_manager")
async def edit(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    """POST /projects/{id}/revisions from the form; then back to the record (post/redirect/get)."""
    project_id = request.path_params["project_id"]
    form = await request.form()
    project = await view.fetch(api, f"/projects/{project_id}")
    try:
        body = edit_body(form, language(request), project["fund_sources"])
        await api.post(f"/projects/{project_id}/revisions", body, idempotency_key=forms.text(form, "idem") or None)
    except forms.FormProblem as refused:
        return await record.render_record(
            request, api, signed, project_id, failed=FORM, problem=refused.problem, values=forms.values_of(form),
            status=422,
        )
    except ApiError as error:
        return await record.refused(request, api, signed, project_id, FORM, error, form)
    return RedirectResponse(f"/console/projects/{project_id}", status_code=303)


ROUTES = [Route("/projects/{project_id}/edit", edit, methods=["POST"])]
