"""What the county office's pages share: the lifecycle's names (as the API spells them), the words for them, and a
refusal's field renamed to the form field that carries it (the API says `budget_fen`, the form asks for 元)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from starlette.requests import Request

from gateway.console.api import ApiError, ConsoleApi
from gateway.console.messages import MESSAGES, translate
from gateway.console.render import language

STATUSES = (
    "draft", "submitted", "reviewed", "announced", "approved", "in_progress", "completed", "accepted", "rejected",
    "withdrawn",
)
CATEGORIES = (
    "industry", "employment", "infrastructure", "relocation_followup", "education", "health", "housing",
    "social_security", "other", "administrative_costs", "vehicles_equipment", "wages_allowances", "enterprise_losses",
    "office_building", "debt_repayment", "large_construction", "urban_infrastructure", "image_project",
)
ACTIONS = ("submit", "review", "announce", "approve", "start", "complete", "accept", "reject", "withdraw")
SCOPES = ("village", "township", "county")
READERS = ("project_manager", "finance", "inspector")  # GET /projects (gateway/policy.py)
PAGE_SIZE = 50

_RENAMES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"budget_fen"), "budget_yuan"),
    (re.compile(r"beneficiary_household_ids(\.\d+)?"), "beneficiary_household_ids"),
    (re.compile(r"performance_targets\.(\d+)\.(indicator|target)"), r"\2_\1"),
    (re.compile(r"performance_targets"), "indicator_0"),
    (re.compile(r"results\.(\d+)\.actual"), r"actual_\1"),
    (re.compile(r"evidence"), "evidence.posted_by"),
)


def labeller(request: Request) -> Callable[[str, str], str]:
    """`name("status", "draft")` → 草稿 (or Draft): the word for an API code, the code itself when none is declared."""
    lang = language(request)

    def name(kind: str, code: str | None) -> str:
        key = f"projects.{kind}.{code}"
        return translate(key, lang) if key in MESSAGES else str(code or "—")

    return name


async def fetch_object(api: ConsoleApi, path: str, object_id: str) -> dict[str, Any]:
    """One object through the API, which must be the one asked for; a refusal as `fetch` raises it."""
    try:
        return await api.get_object(path, object_id)
    except ApiError as error:
        raise ApiError(error.status, for_form(error.problem)) from error


async def fetch(api: ConsoleApi, path: str, **params: Any) -> Any:
    """GET through the API; a refusal raised again with every key the problem templates read (the console's shared
    error page reads `problem.field`, which a problem without a field lacks)."""
    try:
        return await api.get(path, **params)
    except ApiError as error:
        raise ApiError(error.status, for_form(error.problem)) from error


def last_day(ends_on: str) -> str:
    """The period's last day: the API's `ends_on` is the day it has run (approval is possible from it, P1), so the
    countdown (console.js counts to the end of the day it is given) runs to the end of the day before."""
    return (date.fromisoformat(ends_on) - timedelta(days=1)).isoformat()


def options(request: Request, kind: str, codes: tuple[str, ...]) -> list[tuple[str, str]]:
    """(code, word) pairs for a <select>."""
    name = labeller(request)
    return [(code, name(kind, code)) for code in codes]


def for_form(problem: dict[str, Any]) -> dict[str, Any]:
    """The problem with its `field` as the form names it, so the refusal shows next to the field the person filled;
    every key a template reads present (None when the API gave none)."""
    shown: dict[str, Any] = {"field": None, "rule": None, "code": "", "detail": "", **problem}
    field = shown["field"]
    if not isinstance(field, str):
        return shown
    for pattern, form_name in _RENAMES:
        if pattern.fullmatch(field):
            return {**shown, "field": pattern.sub(form_name, field), "api_field": field}
    return shown
