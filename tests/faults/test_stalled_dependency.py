"""Issue #14: a dependency stopped (SIGSTOP of the registry: it accepts connections and never answers) under
concurrent writers through the gateway. Eight lenders send loan applications with Idempotency-Keys, and send the
same one again until it is answered 201, as a bank's system would. While the registry is stopped, every answer is a
503 DEPENDENCY_UNAVAILABLE naming it: the first after the call's timeout, then at once (the breaker); unrelated
routes answer as usual; nothing is committed. Let go, the same keys go through: each application is one loan, made
by the request answered 201 (never one told 503: that answer would have been a replay), and sent again it is the
same loan."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from services.kernel.http import SERVICE_CALL_TIMEOUT
from tests.conftest import Api, MakePrincipal
from tests.faults.stalled import borrowers, stopped
from tests.loans.helpers import random_county
from tests.stack import Stack

WRITERS = 8
EACH = 3  # applications per writer
CALL_TIMEOUT = float(SERVICE_CALL_TIMEOUT.read or 15.0)
STALL = CALL_TIMEOUT + 3.0  # long enough for the first calls to time out and the breaker to open
REPLAYED = "idempotent-replayed"


@dataclass
class Answer:
    key: str
    status: int
    body: dict[str, Any]
    replayed: bool
    took: float


async def _writer(lender: Api, applications: list[tuple[dict[str, Any], str]], answers: list[Answer]) -> None:
    for body, key in applications:
        for _ in range(300):
            sent = time.monotonic()
            response = await lender.post("/loans", json=body, headers={"idempotency-key": key}, timeout=60)
            answers.append(Answer(key, response.status_code, response.json(),
                                  response.headers.get(REPLAYED) == "true", time.monotonic() - sent))
            if response.status_code == 201:
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError(f"the application {key} was never answered 201")


async def _probe(api: Api, path: str, params: dict[str, str] | None = None) -> tuple[int, float]:
    started = time.monotonic()
    response = await api.get(path, params=params, timeout=60)
    return response.status_code, time.monotonic() - started


@pytest.mark.destructive
async def test_a_stopped_registry_gives_fast_503s_commits_nothing_told_failed_and_doubles_nothing(
    stack: Stack, admin: Api, make_principal: MakePrincipal, db: asyncpg.Pool
) -> None:
    county = random_county()
    lender = await make_principal("lender", county)
    bodies = await borrowers(admin, county, WRITERS * EACH)
    households = [str(body["household_id"]) for body in bodies]
    keys = [f"stalled-{uuid.uuid4().hex}" for _ in bodies]
    applications = list(zip(bodies, keys, strict=True))
    answers: list[Answer] = []
    probes: list[tuple[int, float]] = []

    with stopped(stack, "registry"):
        started = time.monotonic()
        writers = [asyncio.create_task(_writer(lender, applications[i::WRITERS], answers)) for i in range(WRITERS)]
        while time.monotonic() - started < STALL:
            probes.append(await _probe(lender, "/loans", {"county": county}))
            probes.append(await _probe(admin, "/funds/sources"))
            await asyncio.sleep(0.5)
        told_failed = list(answers)
        committed_meanwhile = await db.fetchval(
            "SELECT count(*) FROM loans.loans WHERE household_id = ANY($1::text[])", households)
    await asyncio.wait_for(asyncio.gather(*writers), timeout=45)

    # while it was stopped: 503s naming it, the first after the call's timeout and then at once; nothing written
    assert told_failed and all(a.status == 503 for a in told_failed), [(a.status, a.body) for a in told_failed]
    assert {(a.body["code"], a.body.get("service")) for a in told_failed} == {("DEPENDENCY_UNAVAILABLE", "registry")}
    assert max(a.took for a in told_failed) < CALL_TIMEOUT + 3.0
    assert sum(a.took < 0.5 for a in told_failed) >= WRITERS, sorted(a.took for a in told_failed)  # the breaker's
    assert committed_meanwhile == 0
    # unrelated routes were not held: the loans service's own reads and another service
    assert {status for status, _ in probes} == {200}
    assert max(took for _, took in probes) < 2.0, probes

    # let go: each application one loan, made by the request answered 201 (none told 503 committed: a request
    # sent after one had would have been answered its replay)
    for key in keys:
        mine = [a for a in answers if a.key == key]
        assert [a.status for a in mine[:-1]] == [503] * (len(mine) - 1) and mine[-1].status == 201, mine
        assert not mine[-1].replayed, mine
    loans = dict(await db.fetch(
        "SELECT household_id, count(*) FROM loans.loans WHERE household_id = ANY($1::text[]) GROUP BY household_id",
        households))
    assert loans == {h: 1 for h in households}
    again = await asyncio.gather(*(lender.post("/loans", json=body, headers={"idempotency-key": key})
                                   for body, key in applications))
    assert all(a.status_code == 201 and a.headers.get(REPLAYED) == "true" for a in again)
    first = {a.key: a.body["id"] for a in answers if a.status == 201}
    assert [a.json()["id"] for a in again] == [first[key] for key in keys]
