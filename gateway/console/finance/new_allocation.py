"""A new allocation (POST /funds/allocations) as a person fills it in: the amount typed in 元 and converted to fen
exactly; a refusal (F1 block grants, the jurisdiction, a malformed field…) shown with its rule and bilingual message
next to the field it names; a form posted twice applied once (its idempotency key is made when it is rendered)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gateway.console.amounts import AmountError, fen_of_yuan
from gateway.console.api import ApiError, ConsoleApi
from gateway.console.finance.forms import on_form
from gateway.console.fmt import today_in_china
from gateway.console.guard import page
from gateway.console.render import render
from gateway.sessions import Signed

FIELDS = ("fund_source", "fiscal_year", "from_region", "to_region", "amount_yuan", "doc_no", "issued_on",
          "designated_project_id")
TASK_ROWS = 3  # rows the form offers; the empty ones are not sent
TASK_FIELD = re.compile(r"^tasks\.(\d+)\.(text|poverty_related)$")
KEY_FIELD = "idempotency_key"
SHOWN_REFUSALS = frozenset({403, 404, 409, 422})  # the API's answers about what was asked: shown on the form


@dataclass(frozen=True)
class TaskRow:
    text: str = ""
    poverty_related: bool = False  # a person ticks it: whether a task serves poverty alleviation is theirs to say


def _known_fields() -> frozenset[str]:
    rows = {f"tasks.{i}.{part}" for i in range(TASK_ROWS) for part in ("text", "poverty_related")}
    return frozenset(FIELDS) | rows


KNOWN = _known_fields()


def _form(request: Request, values: dict[str, str], tasks: list[TaskRow], *, problem: dict[str, Any] | None = None,
          status: int = 200) -> Response:
    # A fresh key each time the form is shown: a refused post applied nothing, and its correction is a new request.
    return render(request, "finance/new.html", status=status, values=values, tasks=tasks, problem=problem,
                  idempotency_key=str(uuid.uuid4()))


@page("finance")
async def form_page(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    today = today_in_china()
    values = dict.fromkeys(FIELDS, "") | {
        "fiscal_year": str(today.year), "from_region": signed.principal.region_code, "issued_on": today.isoformat(),
    }
    return _form(request, values, [TaskRow() for _ in range(TASK_ROWS)])


@page("finance")
async def create(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in FIELDS}
    tasks = _task_rows(form)
    try:
        body, sent_rows = _body(values, tasks)
    except AmountError as error:
        problem = {"status": 422, "code": "VALIDATION_ERROR", "rule": None, "field": "amount_yuan",
                   "detail": str(error)}
        return _form(request, values, tasks, problem=problem, status=422)
    try:
        created = await api.post("/funds/allocations", body, idempotency_key=str(form.get(KEY_FIELD, "")) or None)
    except ApiError as error:
        if error.status not in SHOWN_REFUSALS:
            raise
        problem = on_form(error.problem, _api_fields(sent_rows, error.field), KNOWN)
        return _form(request, values, tasks, problem=problem, status=error.status)
    return RedirectResponse(f"/console/allocations/{quote(str(created['id']), safe='')}?created=1", status_code=303)


def _task_rows(form: FormData) -> list[TaskRow]:
    return [
        TaskRow(str(form.get(f"tasks.{i}.text", "")).strip(), form.get(f"tasks.{i}.poverty_related") == "true")
        for i in range(TASK_ROWS)
    ]


def _body(values: dict[str, str], tasks: list[TaskRow]) -> tuple[dict[str, Any], list[int]]:
    """The API's body, and which form row each task sent came from. A field left empty is not sent (the API names
    it if it is required); the year is sent as a number when it is one, else as typed, for the API to refuse."""
    body: dict[str, Any] = {k: v for k, v in values.items() if v and k not in ("amount_yuan", "fiscal_year")}
    year = values["fiscal_year"]
    if year:
        body["fiscal_year"] = int(year) if year.isdigit() else year
    body["amount_fen"] = fen_of_yuan(values["amount_yuan"])
    sent_rows = [i for i, task in enumerate(tasks) if task.text]
    if sent_rows:
        body["tasks"] = [{"text": tasks[i].text, "poverty_related": tasks[i].poverty_related} for i in sent_rows]
    return body, sent_rows


def _api_fields(sent_rows: list[int], api_field: str | None) -> dict[str, str]:
    """The API's field name → the form's: amount_fen is typed in 元; `tasks.N…` is the Nth task sent, which is
    the form's row sent_rows[N] (empty rows are skipped)."""
    fields = {"amount_fen": "amount_yuan"}
    found = TASK_FIELD.match(api_field or "")
    if found and int(found.group(1)) < len(sent_rows):
        fields[str(api_field)] = f"tasks.{sent_rows[int(found.group(1))]}.{found.group(2)}"
    return fields
