"""S14: how every JSON request body is read, by every service and the gateway's own routes.

Python's `json.loads` (what FastAPI uses) keeps the last of two equal keys, so `{"amount_fen": 1, "amount_fen":
100000000}` is a different record to a reader that keeps the first; it answers a 5,000-digit number or bytes that
are not UTF-8 with an exception FastAPI turns into 400 HTTP_ERROR. Here the body is read strictly instead: UTF-8
only (RFC 8259 §8.1), no repeated key in any object, no integer longer than MAX_INTEGER_DIGITS digits (BIGINT has
19); each is a 422 naming the field, before the handler runs, so nothing is written."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from services.kernel.errors import DUPLICATE_KEY, ValidationProblem

MAX_INTEGER_DIGITS = 40
# No request of ours nests deeper than a few levels; a body nested a thousand deep overflowed Python's recursion
# (a 500, even on the public objection route).
MAX_DEPTH = 32


class _Checked(dict[str, Any]):
    """An object as decoded, with the first key it repeated (if any)."""

    repeated: str | None = None


class _LongInteger:
    def __init__(self, digits: str) -> None:
        self.digits = digits


def _object(pairs: list[tuple[str, Any]]) -> _Checked:
    decoded = _Checked()
    for key, value in pairs:
        if key in decoded and decoded.repeated is None:
            decoded.repeated = key
        decoded[key] = value
    return decoded


def _integer(text: str) -> int | _LongInteger:
    return _LongInteger(text) if len(text.lstrip("-")) > MAX_INTEGER_DIGITS else int(text)


def _field(path: tuple[str, ...]) -> str:
    return ".".join(path) or "body"


def _first_refusal(value: Any, path: tuple[str, ...]) -> ValidationProblem | None:
    """The first repeated key, over-long integer or too deep nesting, depth first, as a problem naming its path."""
    if len(path) > MAX_DEPTH:
        return ValidationProblem(
            f"输入无效 / invalid input: {_field(path[:MAX_DEPTH])}: 嵌套超过 {MAX_DEPTH} 层 / nested deeper than "
            f"{MAX_DEPTH} levels",
            field=_field(path[:MAX_DEPTH]),
        )
    if isinstance(value, _LongInteger):
        return ValidationProblem(
            f"输入无效 / invalid input: {_field(path)}: 数字超过 {MAX_INTEGER_DIGITS} 位 / a number of "
            f"{len(value.digits)} digits is longer than {MAX_INTEGER_DIGITS}",
            field=_field(path),
        )
    if isinstance(value, _Checked) and value.repeated is not None:
        where = _field((*path, value.repeated))
        return ValidationProblem(
            f"输入无效 / invalid input: {where}: 键重复出现 / the key appears twice in one object; send it once",
            code=DUPLICATE_KEY,
            field=where,
        )
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        found = _first_refusal(child, (*path, str(key)))
        if found is not None:
            return found
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def loads_strict(body: bytes) -> Any:
    """The body decoded, or a ValidationProblem (field `body` for bytes that are not UTF-8 or not JSON)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationProblem(
            f"输入无效 / invalid input: body: 第 {exc.start} 字节起不是 UTF-8 / not UTF-8 from byte {exc.start}",
            field="body",
        ) from exc
    try:
        decoded = json.loads(text, object_pairs_hook=_object, parse_int=_integer)
    except RecursionError as exc:
        detail = f"输入无效 / invalid input: body: 嵌套超过 {MAX_DEPTH} 层 / nested deeper than {MAX_DEPTH} levels"
        raise ValidationProblem(detail, field="body") from exc
    except ValueError as exc:
        detail = f"输入无效 / invalid input: body: JSON 格式错误 / not JSON: {exc}"
        raise ValidationProblem(detail, field="body") from exc
    refusal = _first_refusal(decoded, ())
    if refusal is not None:
        raise refusal
    return _plain(decoded)


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return True  # FastAPI reads a body without a content type as JSON
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def read_json_strictly(request: Request) -> None:
    """Decode a JSON body strictly and leave it where FastAPI reads it from (Request.json's cache)."""
    body = await request.body()
    if body and _is_json(request.headers.get("content-type")):
        request._json = loads_strict(body)


class StrictJsonRoute(APIRoute):
    """A route whose JSON body (if it takes one) is read by `loads_strict` before its handler."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler  # no body model: a streamed upload, or nothing to read

        async def strict_handler(request: Request) -> Response:
            await read_json_strictly(request)
            return await handler(request)

        return strict_handler
