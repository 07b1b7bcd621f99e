"""A service refuses any request the gateway did not sign (called here on the service's own port)."""

import json
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
                audience=name,
                path="/internal/alerts",
                query="",
                request_id="r",
                principal=Principal(id="x", role="admin", region_code="000000"),
            )
            assert (await client.get(url, headers=wrong_secret)).status_code == 401

            stale = sign(
                stack.secret,
                method="GET",
                audience=name,
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


async def test_a_request_signed_for_one_service_is_refused_by_another(stack: Stack) -> None:
    """S5: the nonce is remembered by the service that saw it, so a signature bound to no service let an outside probe
    replay the sequencer's acknowledgement for funds to loans (dropping a loans change from the chain), and one
    inspector scan run once in every service. The signature names the service it is for."""
    body = json.dumps({"items": []}).encode()
    funds, loans = stack.service_urls["funds"], stack.service_urls["loans"]
    for_funds = {
        **signed(stack, "POST", f"{funds}/internal/alerts/scan", body=body), "content-type": "application/json"
    }
    async with httpx.AsyncClient() as client:
        for_funds_read = signed(stack, "GET", f"{funds}/internal/alerts")
        elsewhere = await client.get(f"{loans}/internal/alerts", headers=for_funds_read)
        assert elsewhere.status_code == 401, elsewhere.text
        replayed = await client.post(f"{loans}/internal/alerts/scan", content=body, headers=for_funds)
        assert replayed.status_code == 401 and replayed.json()["code"] == "UNAUTHORIZED", replayed.text
        own = await client.get(f"{loans}/internal/alerts", headers=signed(stack, "GET", f"{loans}/internal/alerts"))
        assert own.status_code == 200, own.text
