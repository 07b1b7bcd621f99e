"""The cases (问题线索) a person sees (O6: an inspector their jurisdiction's, another role its organisation's), newest
first a page at a time, and a case's page: its facts, the alerts it cites and its moves."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from gateway.console.alerts.pages import shown
from gateway.console.alerts.sentences import type_label
from gateway.console.api import ConsoleApi
from gateway.console.guard import page
from gateway.console.render import language, render
from gateway.sessions import Signed

CASE_ROLES = ("inspector", "finance", "project_manager", "lender")  # admins have no route to cases (O6)
PAGE_SIZE = 50


@page(*CASE_ROLES)
@shown
async def case_list(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    region = request.query_params.get("region", "").strip()
    listed = await api.get("/oversight/cases", region=region, cursor=request.query_params.get("cursor"),
                           limit=PAGE_SIZE)
    next_link = None
    if listed["next_cursor"]:
        next_link = "?" + urlencode({**({"region": region} if region else {}), "cursor": listed["next_cursor"]})
    return render(request, "alerts/cases.html", items=listed["items"], next_link=next_link, region=region)


@page(*CASE_ROLES)
@shown
async def case_detail(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    case = await api.get_object(f"/oversight/cases/{request.path_params['case_id']}", request.path_params["case_id"])
    lang = language(request)
    return render(request, "alerts/case.html", case=case, label=lambda t: type_label(t, lang))
