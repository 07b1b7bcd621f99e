"""The audit outbox: a committed change writes its audit entry in its own transaction (A1), and the gateway's
sequencer pulls these entries into the hash-chained trail, then acknowledges them so they are deleted here."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from services.kernel import rawsql
from services.kernel.identity import Principal

_INSERT = (
    "INSERT INTO audit_outbox (request_id, principal_id, role, region_code, method, path, query, entity_ids, "
    "body_sha256, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text[], $9, $10)"
)


def entity_ids_of(request: Request, response: Response) -> list[str]:
    """The ids a change touched: path parameters, the `id` it answered with, and any the handler named."""
    ids: list[str] = [str(v) for v in request.path_params.values()]
    body = getattr(response, "body", b"")
    if body and (response.media_type or "").endswith("json"):
        try:
            decoded = json.loads(body)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict) and isinstance(decoded.get("id"), str | int):
            ids.append(str(decoded["id"]))
    ids.extend(getattr(request.state, "audit_entities", ()))
    return list(dict.fromkeys(ids))


def name_entities(request: Request, ids: Iterable[str]) -> None:
    """Let a handler add entity ids that are not in the path or the answer (e.g. an allocation's accounts)."""
    existing: list[str] = getattr(request.state, "audit_entities", [])
    request.state.audit_entities = [*existing, *ids]


async def record(
    session: AsyncSession, *, request: Request, response: Response, principal: Principal, body_sha256: str
) -> None:
    # Straight on the connection (kernel/rawsql.py): the ORM, or even a text() statement, cost more CPU than the
    # database spends on this row, on every change of every service.
    await rawsql.execute(
        session,
        _INSERT,
        str(getattr(request.state, "request_id", "-")),
        principal.id,
        principal.role,
        principal.region_code,
        request.method,
        request.url.path,
        request.url.query,
        entity_ids_of(request, response),
        body_sha256,
        response.status_code,
    )
