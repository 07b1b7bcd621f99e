"""A service refuses any request the gateway did not sign (called here on the service's own port)."""

import time

import httpx

from services.kernel.identity import Principal, sign
from tests.conftest import signed
from tests.stack import Stack


async def test_unsigned_and_tampered_calls_are_refused(stack: Stack) -> None:
    async with httpx.AsyncClient() as client:
        for name, base in stack.service_urls.items():
            url = f"{base}/internal/alerts"
            unsigned = await client.get(url)
            assert unsigned.status_code == 401, name
            assert unsigned.json()["code"] == "UNAUTHORIZED"

            good = signed(stack, "GET", url)
            assert (await client.get(url, headers=good)).status_code == 200, name

            bad_sig = {**good, "x-ft-signature": "0" * 64}
            assert (await client.get(url, headers=bad_sig)).status_code == 401

            swapped = {**good, "x-ft-principal": Principal(id="evil", role="admin", region_code="000000").encode()}
            assert (await client.get(url, headers=swapped)).status_code == 401

            other_path = await client.get(f"{base}/internal/audit-outbox", headers=good)
            assert other_path.status_code == 401

            wrong_secret = sign(
                "not-the-secret",
                method="GET",
                path="/internal/alerts",
                query="",
                request_id="r",
                principal=Principal(id="x", role="admin", region_code="000000"),
            )
            assert (await client.get(url, headers=wrong_secret)).status_code == 401

            stale = sign(
                stack.secret,
                method="GET",
                path="/internal/alerts",
                query="",
                request_id="r",
                principal=Principal(id="x", role="admin", region_code="000000"),
                now=time.time() - 120,
            )
            assert (await client.get(url, headers=stale)).status_code == 401


async def test_health_is_the_only_unsigned_path(stack: Stack) -> None:
    async with httpx.AsyncClient() as client:
        for base in stack.service_urls.values():
            assert (await client.get(f"{base}/healthz")).status_code == 200
            assert (await client.get(f"{base}/openapi.json")).status_code == 401
