"""The audit trail for inspectors and admins (issue #19 point 2): the entries with GET /audit's filters, a page at a
time; an entry with its hash and inclusion proof (GET /audit/entries/{seq}); the verification (GET /audit/verify)
and the latest signed checkpoint (GET /audit/checkpoints/latest) on the page; and the export, a plain link to
GET /audit/export with the same filters, which the browser downloads with the session cookie."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.console.api import ApiError, ConsoleApi
from gateway.console.fmt import CHINA
from gateway.console.guard import page
from gateway.console.render import render
from gateway.console.trace import problems_shown, shown
from gateway.sessions import Signed
from services.kernel.types import EARLIEST_DAY, LATEST_DAY

PAGE_LIMIT = 50
# The filters of GET /audit the form offers as they are (text); the days are turned into since/until below.
FILTERS = ("actor", "role", "region", "method", "path_prefix", "status", "code", "entity_id", "request_id")
DAYS = ("since_day", "until_day")
ROLES = ("admin", "finance", "project_manager", "lender", "inspector")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class DayProblem(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.problem = {"status": 422, "code": "VALIDATION_ERROR", "field": name, "rule": None,
                        "detail": "日期须写作 2026-01-31 / a day is written as 2026-01-31"}


def _day_start(text: str, name: str) -> str:
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise DayProblem(name) from exc
    if not EARLIEST_DAY <= day < LATEST_DAY:  # the API's years; and the day after it must exist (until_day)
        raise DayProblem(name)
    return datetime(day.year, day.month, day.day, tzinfo=CHINA).isoformat()


def api_filters(form: dict[str, str]) -> dict[str, str]:
    """The form's filters as GET /audit takes them: a China day range [since_day, until_day] as since/until."""
    params = {name: form[name] for name in FILTERS if form.get(name)}
    if form.get("since_day"):
        params["since"] = _day_start(form["since_day"], "since_day")
    if form.get("until_day"):
        start = date.fromisoformat(_day_start(form["until_day"], "until_day")[:10])
        params["until"] = _day_start((start + timedelta(days=1)).isoformat(), "until_day")
    return params


@dataclass(frozen=True)
class Checkpoint:
    size: int | None
    time: datetime | None
    root: str


def parse_checkpoint(note: str) -> Checkpoint:
    """The C2SP signed note: origin, size, base64 root, then extension lines (`time <unix seconds>`), a blank line
    and the signatures."""
    body = note.split("\n\n", 1)[0].splitlines()
    size = int(body[1]) if len(body) > 1 and body[1].isdigit() else None
    root = body[2] if len(body) > 2 else ""
    when = None
    for line in body[3:]:
        if line.startswith("time ") and line[5:].strip().isdigit():
            when = datetime.fromtimestamp(int(line[5:].strip()), UTC)
    return Checkpoint(size, when, root)


async def trail_state(api: ConsoleApi) -> tuple[dict[str, Any], Checkpoint | None]:
    """The verification's answer and the latest signed checkpoint (None before the first)."""
    verified = await api.get("/audit/verify")
    try:
        checkpoint: Checkpoint | None = parse_checkpoint(str(await api.get("/audit/checkpoints/latest")))
    except ApiError as error:
        if error.status != 404:
            raise
        checkpoint = None
    return verified, checkpoint


@page("inspector", "admin")
@problems_shown
async def audit_list(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    form = {name: request.query_params.get(name, "").strip() for name in (*FILTERS, *DAYS)}
    cursor = request.query_params.get("cursor") or None
    context: dict[str, Any] = {
        "form": form, "roles": ROLES, "methods": METHODS, "problem": None, "items": [], "next_cursor": None,
        "scanned_to_seq": None, "export": "", "export_jsonl": "", "here": "", "cursor": cursor,
    }
    status = 200
    try:
        params = api_filters(form)
        answer = await api.get("/audit", **params, limit=PAGE_LIMIT, cursor=cursor)
        context.update(items=answer["items"], next_cursor=answer.get("next_cursor"),
                       scanned_to_seq=answer.get("scanned_to_seq"), export=urlencode(params),
                       export_jsonl=urlencode({**params, "format": "jsonl"}),
                       here=urlencode({k: v for k, v in form.items() if v}))
    except DayProblem as error:
        context["problem"], status = shown(error.problem), 422
    except ApiError as error:
        if error.status != 422:
            raise
        context["problem"], status = shown(error.problem), 422
    verified, checkpoint = await trail_state(api)
    return render(request, "audit/list.html", status=status, verified=verified, checkpoint=checkpoint, **context)


async def _entry_without_proof(api: ConsoleApi, seq: int, request_id: str) -> dict[str, Any] | None:
    """An entry no signed checkpoint holds yet, found by its request (the list links with it): GET /audit by
    `request_id` finds all of that request's entries through their own index."""
    if not request_id:
        return None
    answer = await api.get("/audit", request_id=request_id, limit=PAGE_LIMIT)
    found: dict[str, Any] | None = next((item for item in answer["items"] if item.get("seq") == seq), None)
    return found


@page("inspector", "admin")
@problems_shown
async def audit_entry(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    seq = int(request.path_params["seq"])
    request_id = request.query_params.get("request_id", "")
    proved: dict[str, Any] | None
    try:
        proved = await api.get(f"/audit/entries/{seq}")
        entry = proved["entry"] if proved else None
    except ApiError as error:
        if error.status != 404 or error.field != "checkpoint_size":
            raise  # not in the person's jurisdiction, or no such entry: the problem page (404)
        proved, entry = None, await _entry_without_proof(api, seq, request_id)
        if entry is None:
            raise
    verified, checkpoint = await trail_state(api)
    latest = checkpoint.size if checkpoint is not None and checkpoint.size else None
    return render(request, "audit/entry.html", seq=seq, entry=entry, proved=proved, verified=verified,
                  checkpoint=checkpoint, latest=latest)


ROUTES = [
    Route("/audit", audit_list, methods=["GET"]),
    Route("/audit/{seq:int}", audit_entry, methods=["GET"]),
]
