"""Liveness, readiness, metrics and the one OpenAPI document of the whole public API."""

from __future__ import annotations

import asyncio
import copy
from typing import Any, Literal

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import text

from gateway import contract, metrics
from gateway.api_docs import docs_page
from services.kernel.http import signed_headers
from services.kernel.identity import Principal
from services.kernel.topology import SERVICES

router = APIRouter(tags=["operations"])
GATEWAY_PRINCIPAL = Principal(id="service:gateway", role="service", region_code="000000", name="gateway")


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, bool]


@router.get("/healthz", response_model=Health)
async def healthz() -> dict[str, str]:
    """The gateway process lives (liveness)."""
    return {"status": "ok"}


async def _service_ready(client: httpx.AsyncClient) -> bool:
    """The service answers and reaches its database (its /readyz)."""
    try:
        return (await client.get("/readyz", timeout=3.0)).status_code == 200
    except httpx.HTTPError:
        return False


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness, "description": "not ready"}})
async def readyz(request: Request, scope: Literal["system", "self"] = "system") -> JSONResponse:
    """Ready: the gateway's database and every service's (`scope=system`, for operators and `fundtrack up`); the
    gateway's own database only (`scope=self`: a load balancer's probe, which must not take every gateway out of
    service because one service is down, since the others' routes still work)."""
    checks: dict[str, bool] = {}
    try:
        async with request.app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = True
    except Exception:
        checks["database"] = False
    names = list(SERVICES) if scope == "system" else []
    results = await asyncio.gather(*(_service_ready(request.app.state.service_http[n]) for n in names))
    checks.update(dict(zip(names, results, strict=True)))
    ready = all(checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics", include_in_schema=False)
async def prometheus() -> Response:
    payload, content_type = metrics.exposition()
    return Response(payload, media_type=content_type)


async def _service_openapi(client: httpx.AsyncClient, service: str) -> dict[str, Any]:
    request = client.build_request("GET", "/openapi.json")
    request.headers.update(signed_headers("GET", request.url, GATEWAY_PRINCIPAL, audience=service))
    response = await client.send(request)
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    return document


SERVICE_PROBES = frozenset({"/healthz", "/readyz"})


def published(path: str) -> bool:
    """A path of a service's OpenAPI the gateway publishes: not the internal API (other services and the gateway
    call it directly), nor the service's own probes (liveness, readiness). tests/platform/test_route_table.py holds
    the policy to exactly these."""
    return not path.startswith("/internal") and path not in SERVICE_PROBES


async def merged_openapi(app: FastAPI) -> dict[str, Any]:
    """The gateway's own routes plus every public route of the services, each marked with who may call it and
    every problem it can answer (gateway/contract.py)."""
    document = copy.deepcopy(app.openapi())
    documents = await asyncio.gather(
        *(_service_openapi(app.state.service_http[n], n) for n in SERVICES), return_exceptions=True
    )
    for service_doc in documents:
        if isinstance(service_doc, BaseException):
            continue
        for path, operations in service_doc.get("paths", {}).items():
            if published(path):
                document["paths"][path] = operations
        document.setdefault("components", {}).setdefault("schemas", {}).update(
            service_doc.get("components", {}).get("schemas", {})
        )
    return contract.finish(document)


@router.get("/openapi.json", include_in_schema=False)
async def openapi_document(request: Request) -> JSONResponse:
    return JSONResponse(await merged_openapi(request.app))


@router.get("/docs", include_in_schema=False)
async def docs() -> HTMLResponse:
    """Swagger UI, served from this gateway with no CDN and a strict CSP (gateway/api_docs.py)."""
    return docs_page()
