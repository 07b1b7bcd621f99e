"""Issue #14: calls to a service that does not answer are refused at once after FAILURES in a row (503
DEPENDENCY_UNAVAILABLE naming it), for OPEN_SECONDS; then one call is let through, and its outcome decides."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from services.kernel.breaker import Breaker
from services.kernel.errors import ServiceUnavailable
from services.kernel.http import ServiceClient


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_after_failures_in_a_row_and_a_trial_decides() -> None:
    clock = Clock()
    breaker = Breaker(failures=3, open_seconds=5.0, clock=clock)
    for _ in range(2):
        assert breaker.refusal() is None
        breaker.failed()
    assert breaker.refusal() is None
    breaker.succeeded()  # an answer in between: the count starts again
    for _ in range(3):
        assert breaker.refusal() is None
        breaker.failed()
    assert breaker.refusal() == 5.0  # open: refused at once
    clock.now = 4.0
    assert breaker.refusal() == pytest.approx(1.0)
    clock.now = 5.0
    assert breaker.refusal() is None  # the trial
    assert breaker.refusal() == 0.0  # while it runs, the others are still refused
    breaker.failed()  # the trial failed: open again
    assert breaker.refusal() == 5.0
    clock.now = 10.0
    assert breaker.refusal() is None
    breaker.succeeded()  # the trial answered: closed
    assert breaker.refusal() is None and breaker.refusal() is None
    clock.now = 20.0
    for _ in range(3):
        breaker.failed()
    clock.now = 25.0
    assert breaker.refusal() is None
    breaker.abandoned()  # the trial's caller went away: another call may try
    assert breaker.refusal() is None


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_dependency_that_is_down_is_refused_at_once_naming_it() -> None:
    client = ServiceClient("registry", f"http://127.0.0.1:{_closed_port()}", caller="loans")
    try:
        for _ in range(client.breaker.failures):
            with pytest.raises(ServiceUnavailable) as failed:
                await client.request("GET", "/internal/households/x")
            body = failed.value.body("/loans")
            assert (body["code"], body["service"]) == ("DEPENDENCY_UNAVAILABLE", "registry"), body
            assert "did not answer" in body["detail"]
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable) as refused:
            await client.request("GET", "/internal/households/x")
        assert time.monotonic() - started < 0.05
        assert "refused at once" in refused.value.body("/loans")["detail"]
    finally:
        await client.aclose()


async def test_the_calls_counted_are_one_key_per_route_not_one_per_record() -> None:
    """ServiceClient.calls (what the N+1 tests read) counts by route: a thousand households asked about are one key,
    `GET /internal/households/{}`, not a thousand that the process keeps for good (issue #14: it grew by an entry per
    record asked about); a route without an id keeps its own path."""
    client = ServiceClient("registry", "http://registry.invalid", caller="loans")
    client.client = httpx.AsyncClient(base_url="http://registry.invalid",
                                      transport=httpx.MockTransport(lambda request: httpx.Response(200, json={})))
    try:
        for n in range(1000):
            await client.request("GET", f"/internal/households/hh_{n:06d}")
            await client.request("GET", f"/internal/households/hh_{n:06d}/eligibility")
        await client.request("POST", "/internal/households/changed")
    finally:
        await client.client.aclose()
    assert client.calls == {"GET /internal/households/{}": 1000, "GET /internal/households/{}/eligibility": 1000,
                            "POST /internal/households/changed": 1}
