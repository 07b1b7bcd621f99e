"""The alerts list (filters as a GET form, counts of the filter in force, a page at a time) and an alert's page (its
facts in words, its rule, its subject's record, its history; acknowledge, resolve and open a case). Every read and
write is the public API's, as the person: the API decides who may act, the page shows its refusal."""

from __future__ import annotations

import asyncio
import functools
import re
import uuid
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gateway.console import fmt
from gateway.console.alerts.sentences import RULES, rule_of, sentence, type_label
from gateway.console.amounts import AmountError, fen_of_yuan
from gateway.console.api import ApiError, ConsoleApi
from gateway.console.guard import Handler, page
from gateway.console.messages import translate
from gateway.console.render import language, render
from gateway.sessions import Signed

FILTERS = ("type", "region", "severity", "status")
STATUSES = ("open", "acknowledged", "resolved")
SEVERITIES = ("low", "medium", "high", "critical")
PAGE_SIZE = 50
ALERT_ID = re.compile(r"^alert-(?P<service>[a-z]+)_[0-9a-z]{26}$")
# The subject's record as the API answers it (a role it refuses sees that it may not)
RECORDS = {"project": "/projects/{id}", "loan": "/loans/{id}", "household": "/registry/households/{id}",
           "case": "/oversight/cases/{id}", "complaint": "/oversight/complaints/{id}"}


def whole(problem: dict[str, Any]) -> dict[str, Any]:
    """A problem with every member the templates read (`field`, `rule`, `code`, `detail`), None where it has none:
    the macros read `problem.field`, which a strict template refuses on a problem that names no field."""
    for name in ("field", "rule", "code", "detail"):
        problem.setdefault(name, None)
    return problem


def shown(handler: Handler) -> Handler:
    """The handler, with the problem of an ApiError it lets through made whole for the page that shows it."""

    @functools.wraps(handler)
    async def wrapped(request: Request, api: ConsoleApi, signed: Signed) -> Response:
        try:
            return await handler(request, api, signed)
        except ApiError as error:
            whole(error.problem)
            raise

    return wrapped


def _filters(request: Request) -> dict[str, str]:
    return {name: request.query_params.get(name, "").strip() for name in FILTERS}


@page()
@shown
async def alert_list(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    chosen = _filters(request)
    problem = None
    listed: dict[str, Any] = {"items": [], "next_cursor": None}
    counts: dict[str, Any] = {"total": 0, "by_type": {}, "by_status": {}, "by_severity": {}}
    try:
        counts, listed = await asyncio.gather(  # two calls at once: the page waits for the slower only
            api.get("/alerts/summary", **chosen),
            api.get("/alerts", **chosen, cursor=request.query_params.get("cursor"), limit=PAGE_SIZE),
        )
    except ApiError as error:
        if error.status not in (400, 422):
            raise
        problem = whole(error.problem)
    lang = language(request)
    known = sorted({*RULES, *counts["by_type"], *([chosen["type"]] if chosen["type"] else [])})
    next_link = None
    if listed["next_cursor"]:
        next_link = "?" + urlencode({**{k: v for k, v in chosen.items() if v}, "cursor": listed["next_cursor"]})
    return render(
        request, "alerts/list.html", status=422 if problem else 200,
        chosen=chosen, statuses=STATUSES, severities=SEVERITIES, counts=counts, problem=problem,
        types=[(t, type_label(t, lang)) for t in known],
        by_type=sorted(counts["by_type"].items(), key=lambda kv: (-kv[1], kv[0])),
        label=lambda t: type_label(t, lang),
        items=listed["items"], next_link=next_link,
    )


async def _subject_record(api: ConsoleApi, alert: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    """The subject's record (scalar fields) from the API, and whether the API refused it to this person."""
    template = RECORDS.get(alert["subject"]["kind"])
    if template is None:
        return None, False
    try:
        record = await api.get(template.format(id=alert["subject"]["id"]))
    except ApiError as error:
        if 400 <= error.status < 500:  # refused to this person (403), gone (404), not a record's id (422)
            return None, error.status == 403
        raise
    if not isinstance(record, dict):
        return None, False
    return {k: v for k, v in record.items() if isinstance(v, (str, int, float, bool)) or v is None}, False


def _links(alert: dict[str, Any]) -> list[tuple[str, str]]:
    """Console pages about the alert's subject: (words key, path)."""
    facts, subject = alert.get("facts", {}), alert["subject"]
    links: list[tuple[str, str]] = []
    project = subject["id"] if subject["kind"] == "project" else facts.get("project_id")
    if isinstance(project, str) and project:
        links.append(("alerts.link_project", f"/console/projects/{project}"))
        links.append(("alerts.link_trace", "/console/trace?" + urlencode({"project_id": project})))
    household = subject["id"] if subject["kind"] == "household" else facts.get("household_id")
    if isinstance(household, str) and household:
        links.append(("alerts.link_trace", "/console/trace?" + urlencode({"household_id": household})))
    if subject["kind"] == "case":
        links.append(("alerts.link_case", f"/console/cases/{subject['id']}"))
    return links


def _facts_rows(facts: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for key, value in facts.items():
        if (key.endswith("_fen") or key == "amount") and isinstance(value, int):  # `amount`: fen, as `amount_fen`
            rows.append((key, f"{fmt.yuan(value)} 元"))
        else:
            rows.append((key, "—" if value is None else str(value)))
    return rows


async def _alert_page(
    request: Request, api: ConsoleApi, signed: Signed, alert_id: str, *, status: int = 200,
    problem: dict[str, Any] | None = None, form: dict[str, str] | None = None,
) -> Response:
    alert = await api.get_object(f"/alerts/{alert_id}", alert_id)
    lang = language(request)
    record, refused = await _subject_record(api, alert)
    found = ALERT_ID.match(alert_id)
    return render(
        request, "alerts/detail.html", status=status,
        alert=alert, kind=type_label(alert["type"], lang), rule=rule_of(alert),
        said=sentence(alert, lang), facts=_facts_rows(alert.get("facts", {})),
        record=record, record_refused=refused, links=_links(alert),
        inspector=signed.principal.role == "inspector", service=found["service"] if found else "",
        problem=problem, form=form or {}, key=str(uuid.uuid4()),
    )


@page()
@shown
async def alert_detail(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    return await _alert_page(request, api, signed, request.path_params["alert_id"])


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def _act(request: Request, api: ConsoleApi, signed: Signed, action: str) -> Response:
    alert_id = request.path_params["alert_id"]
    form = await _form(request)
    try:
        await api.post(f"/alerts/{alert_id}/{action}", {"note": form.get("note", "")},
                       idempotency_key=form.get("idempotency_key") or None)
    except ApiError as error:
        return await _alert_page(request, api, signed, alert_id, status=error.status if error.status < 500 else 503,
                                 problem=whole(error.problem), form=form)
    return RedirectResponse(f"/console/alerts/{alert_id}", status_code=303)


@page()
@shown
async def acknowledge(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    return await _act(request, api, signed, "acknowledge")


@page()
@shown
async def resolve(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    return await _act(request, api, signed, "resolve")


@page()
@shown
async def open_case(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    """POST /oversight/cases citing this alert, in the alert's region (O2); the case's page after."""
    alert_id = request.path_params["alert_id"]
    form = await _form(request)
    found = ALERT_ID.match(alert_id)
    body: dict[str, Any] = {
        "region_code": form.get("region_code", ""), "title": form.get("title", "").strip(),
        "alerts": [{"service": found["service"] if found else "", "alert_id": alert_id}],
    }
    money = form.get("money_involved_fen", "").strip()  # the API's field name, so its refusal shows here; in 元
    if money:
        try:
            fen: int | None = fen_of_yuan(money, zero_allowed=True)
        except AmountError:
            fen = None
        if fen is None:
            problem = whole({"field": "money_involved_fen", "code": "VALIDATION_ERROR",
                             "detail": translate("alerts.money_invalid", language(request))})
            return await _alert_page(request, api, signed, alert_id, status=422, problem=problem, form=form)
        body["money_involved_fen"] = fen
    try:
        case = await api.post("/oversight/cases", body, idempotency_key=form.get("idempotency_key") or None)
    except ApiError as error:
        return await _alert_page(request, api, signed, alert_id, status=error.status if error.status < 500 else 503,
                                 problem=whole(error.problem), form=form)
    return RedirectResponse(f"/console/cases/{case['id']}", status_code=303)
