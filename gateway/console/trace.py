"""The inspector's fund-flow picture (issue #19 point 2): for an allocation, a project or a household, the movements
GET /funds/trace gives (upstream to the appropriations, downstream to the payees), drawn as a Sankey (ECharts, read
by static/trace.js from a JSON block) and listed as tables, so the chart is never the only way to read it.

Bounded: at most PAGES pages of PAGE_LIMIT hops from the API and NODE_LIMIT accounts in the chart; what is left out is
counted on the page, and the API's next cursor is offered as a link to go on."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.console.api import ApiError, ConsoleApi
from gateway.console.fmt import yuan
from gateway.console.guard import Handler, page
from gateway.console.messages import MESSAGES, translate
from gateway.console.render import language, render
from gateway.sessions import Signed

SUBJECTS = ("allocation_id", "project_id", "household_id")
PAGE_LIMIT = 100  # hops a call asks for
PAGES = 3  # calls a page makes at most
NODE_LIMIT = 40  # accounts the chart draws at most
DIRECTIONS = ("upstream", "movements", "downstream")


@dataclass
class Flow:
    """What the page shows: the hops read (each with its direction), the chart's nodes and links, and what was left
    out (hops over the node limit; the API's cursor when pages were left unread)."""

    hops: list[dict[str, Any]] = field(default_factory=list)
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    links: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    not_drawn: int = 0
    next_cursor: str | None = None


def shown(problem: dict[str, Any]) -> dict[str, Any]:
    """A problem with every key the templates read (the API leaves out `field` or `rule` when there is none)."""
    return {"field": None, "rule": None, "code": "", "detail": "", **problem}


def problems_shown(handler: Handler) -> Handler:
    """An ApiError the handler lets through, with its problem completed for the guard's problem page (whose macro
    reads `field`, which the API leaves out when it names none)."""

    @functools.wraps(handler)
    async def wrapped(request: Request, api: ConsoleApi, signed: Signed) -> Response:
        try:
            return await handler(request, api, signed)
        except ApiError as error:
            raise ApiError(error.status, shown(error.problem)) from error

    return wrapped


def _word(key: str, raw: str, lang: str) -> str:
    return translate(key, lang) if key in MESSAGES else raw


def _account_key(end: dict[str, Any]) -> str:
    return f"{end.get('region_code')}|{end.get('account')}|{end.get('ref') or ''}"


def _account_label(end: dict[str, Any], fund_source: str, lang: str) -> str:
    account = str(end.get("account") or "")
    label = f"{end.get('region_code')} {_word(f'trace.account.{account}', account, lang)}"
    ref = str(end.get("ref") or "")
    if ref and ref != fund_source:
        label += f" {ref if len(ref) <= 14 else ref[:13] + '…'}"
    return label


def _reaches(links: dict[tuple[str, str], dict[str, Any]], start: str, goal: str) -> bool:
    """Whether the links already lead from `start` to `goal` (a link goal → start would close a cycle, which a
    Sankey cannot draw)."""
    seen, stack = {start}, [start]
    while stack:
        at = stack.pop()
        if at == goal:
            return True
        for (source, target) in links:
            if source == at and target not in seen:
                seen.add(target)
                stack.append(target)
    return False


def build(hops: list[dict[str, Any]], lang: str) -> Flow:
    """The chart's nodes (accounts) and links (money between two accounts, summed) of the hops still standing (a
    reversed hop is listed, not drawn), at most NODE_LIMIT accounts."""
    flow = Flow(hops=hops)
    for hop in hops:
        hop["amount_yuan"] = yuan(hop.get("amount_fen"))
        source_ref, target_ref = hop.get("from") or {}, hop.get("to") or {}
        fund = str(hop.get("fund_source") or "")
        hop["from_label"] = _account_label(source_ref, fund, lang)
        hop["to_label"] = _account_label(target_ref, fund, lang)
        kind = str(hop.get("kind") or "")
        hop["kind_label"] = _word(f"trace.kind.{kind}", kind, lang)
        if hop.get("reversed_by"):
            continue
        source, target = _account_key(source_ref), _account_key(target_ref)
        new = [key for key in (source, target) if key not in flow.nodes]
        if source == target or len(flow.nodes) + len(new) > NODE_LIMIT or (
            (source, target) not in flow.links and _reaches(flow.links, target, source)
        ):
            flow.not_drawn += 1
            continue
        for key, label in ((source, hop["from_label"]), (target, hop["to_label"])):
            flow.nodes.setdefault(key, {"name": key, "label": label})
        link = flow.links.setdefault((source, target), {
            "source": source, "target": target, "value": 0, "hops": 0,
            "from_label": hop["from_label"], "to_label": hop["to_label"],
        })
        link["value"] += int(hop.get("amount_fen") or 0)
        link["hops"] += 1
    for link in flow.links.values():
        link["yuan"] = yuan(link["value"])
    return flow


def chart_data(flow: Flow) -> dict[str, Any]:
    """What static/trace.js draws: node names (account keys) with their labels, links with fen and 元."""
    return {
        "nodes": list(flow.nodes.values()),
        "links": [{"source": link["source"], "target": link["target"], "value": link["value"], "yuan": link["yuan"]}
                  for link in flow.links.values()],
    }


async def read_trace(api: ConsoleApi, subject: dict[str, str], cursor: str | None) -> tuple[list[dict[str, Any]],
                                                                                             str | None]:
    """Up to PAGES pages of the API's trace from `cursor`: the hops, each with its direction, and the cursor of the
    first page not read (None: the walk is done)."""
    hops: list[dict[str, Any]] = []
    for _ in range(PAGES):
        answer = await api.get("/funds/trace", **subject, limit=PAGE_LIMIT, cursor=cursor)
        for direction in DIRECTIONS:
            hops.extend({**hop, "direction": direction} for hop in answer.get(direction) or [])
        cursor = answer.get("next_cursor")
        if cursor is None or len(hops) >= PAGE_LIMIT * PAGES:
            break
    return hops, cursor


@page("inspector")
@problems_shown
async def trace_page(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    subject = {name: value.strip() for name in SUBJECTS if (value := request.query_params.get(name, "")).strip()}
    cursor = request.query_params.get("cursor") or None
    context: dict[str, Any] = {"subject": subject, "problem": None, "flow": None, "data": None, "cursor": cursor}
    if not subject:
        return render(request, "trace/trace.html", **context)
    try:
        hops, next_cursor = await read_trace(api, subject, cursor)
    except ApiError as error:
        if error.status not in (403, 404, 422):
            raise
        problem = shown(error.problem)
        return render(request, "trace/trace.html", status=error.status, **{**context, "problem": problem})
    flow = build(hops, language(request))
    flow.next_cursor = next_cursor
    return render(request, "trace/trace.html", **{**context, "flow": flow, "data": chart_data(flow)})


ROUTES = [Route("/trace", trace_page, methods=["GET"])]
