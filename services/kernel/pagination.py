"""Keyset pagination: `?limit=` (default 50, max 500) and an opaque cursor holding the last row's sort key."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from services.kernel.errors import ValidationProblem
from services.kernel.types import control_character_in

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
CursorQuery = Annotated[str | None, Query(max_length=512)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":"), default=str).encode()).decode()


def decode_cursor(cursor: str | None, arity: int) -> list[Any] | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError as exc:
        raise ValidationProblem("cursor 无效 / the cursor is not one this API gave out", field="cursor") from exc
    if not isinstance(key, list) or len(key) != arity or not all(_key_part(part) for part in key):
        raise ValidationProblem("cursor 无效 / the cursor is not one this API gave out", field="cursor")
    return key


def _key_part(part: Any) -> bool:
    """What encode_cursor writes: text (ids, timestamps, dates) or whole numbers; never null, true, an object, or
    text PostgreSQL cannot hold (a forged `[true]` or `["\\u0000"]` reached the SQL: a 500)."""
    if isinstance(part, bool) or not isinstance(part, str | int):
        return False
    return not isinstance(part, str) or (len(part) <= 256 and control_character_in(part) is None)


def page_of(rows: list[T], limit: int, key_of: Any) -> Page[T]:
    """`rows` was fetched with limit + 1: the extra row says whether there is a next page."""
    if len(rows) > limit:
        rows = rows[:limit]
        return Page(items=rows, next_cursor=encode_cursor(key_of(rows[-1])))
    return Page(items=rows, next_cursor=None)
