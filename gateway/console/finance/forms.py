"""What the finance desk's pages share: the API's refusal placed on the form field that caused it, links that keep
a page's filters, and API calls made side by side."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from typing import Any
from urllib.parse import urlencode

from gateway.console.api import ApiError

PAGE_SIZE = 50  # rows a page asks of the API (rule 4 of the console: few calls, small pages)


def on_form(problem: Mapping[str, Any], fields: Mapping[str, str], known: frozenset[str]) -> dict[str, Any]:
    """The problem as the form shows it: `field` renamed to the form's input (`fields`: API name → form name) when
    the form has that input, else dropped, so the message shows above the form (the `problem_box` macro)."""
    shown = {"rule": None, "code": "", "detail": "", **problem}  # the macros read these of every problem
    api_field = problem.get("field")
    name = fields.get(str(api_field), str(api_field)) if api_field is not None else None
    shown["field"] = name if name in known else None
    return shown


def href(path: str, params: Mapping[str, str | None]) -> str:
    """`path` with the non-empty `params` as its query (the filters a next-page link keeps)."""
    kept = {k: v for k, v in params.items() if v}
    return f"{path}?{urlencode(kept)}" if kept else path


async def side_by_side(*calls: Awaitable[Any]) -> list[Any | ApiError]:
    """Each call's answer, or the ApiError it raised: a page shows what it could read and the refusal of the rest.
    Anything else raised (a bug, a lost connection) is raised, after every call has finished."""
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException) and not isinstance(outcome, ApiError):
            raise outcome
    return list(outcomes)
