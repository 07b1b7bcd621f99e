"""Issue #14: no request holds a pooled connection while it waits on another service (ask first, then write:
services/kernel/uow.py). The registry is stopped while more keyed loan applications than the loans pool has
connections wait on it: none of them holds a connection (none is idle in a transaction), an unrelated route of the
loans service answers at once, and so does a replay of an application already answered (its kept answer, without
asking the registry). Let go, every application is answered 201 once; the same keys again change nothing.

Before the unit of work claimed the key lazily, each application held a connection from its claim on: the pool was
taken and `GET /loans` waited for it (30 s)."""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
import pytest

from tests.conftest import Api, MakePrincipal
from tests.faults.stalled import borrowers, held_in_transaction, pool_size, stopped
from tests.loans.helpers import random_county
from tests.stack import Stack

REPLAYED = "idempotent-replayed"


@pytest.mark.destructive
async def test_requests_waiting_on_a_stalled_registry_hold_no_connection(
    stack: Stack, admin: Api, make_principal: MakePrincipal, db: asyncpg.Pool
) -> None:
    county = random_county()
    lender = await make_principal("lender", county)
    waiting = 2 * pool_size(stack, "loans") + 2
    bodies = await borrowers(admin, county, waiting + 1)
    keys = [{"idempotency-key": f"ask-first-{uuid.uuid4().hex}"} for _ in bodies]
    first = await lender.post("/loans", json=bodies[0], headers=keys[0])
    assert first.status_code == 201, first.text

    with stopped(stack, "registry"):
        applications = [asyncio.create_task(lender.post("/loans", json=body, headers=key))
                        for body, key in zip(bodies[1:], keys[1:], strict=True)]
        await asyncio.sleep(1.5)  # every application has reached the loans service and waits on the registry
        held = await held_in_transaction(db, "loans")
        started = time.monotonic()
        listed = await lender.get("/loans", params={"county": county})
        replay = await lender.post("/loans", json=bodies[0], headers=keys[0])
        took = time.monotonic() - started
        still_waiting = sum(not application.done() for application in applications)

    assert held == [], held
    assert took < 2.0, took
    assert listed.status_code == 200, listed.text
    assert [loan["id"] for loan in listed.json()["items"]] == [first.json()["id"]]
    assert replay.status_code == 201 and replay.headers.get(REPLAYED) == "true" and replay.json() == first.json()
    assert still_waiting == waiting  # they were all waiting on the registry meanwhile

    answers = await asyncio.wait_for(asyncio.gather(*applications), timeout=30)
    assert [answer.status_code for answer in answers] == [201] * waiting, [a.text for a in answers]
    assert not any(answer.headers.get(REPLAYED) for answer in answers)
    again = await asyncio.gather(*(lender.post("/loans", json=body, headers=key)
                                   for body, key in zip(bodies[1:], keys[1:], strict=True)))
    assert [a.json()["id"] for a in again] == [a.json()["id"] for a in answers]
    assert all(a.headers.get(REPLAYED) == "true" for a in again)
    households = [str(body["household_id"]) for body in bodies]
    assert await db.fetchval("SELECT count(*) FROM loans.loans WHERE household_id = ANY($1::text[])",
                             households) == len(bodies)


async def test_concurrent_applications_with_one_key_make_one_loan(
    admin: Api, make_principal: MakePrincipal, db: asyncpg.Pool
) -> None:
    """The key is claimed after the registry is asked, and still a concurrent duplicate waits for the first (then
    replays its answer): ten at once with one key make one loan, and ten answers alike."""
    county = random_county()
    lender = await make_principal("lender", county)
    [body] = await borrowers(admin, county, 1)
    key = {"idempotency-key": f"ask-first-{uuid.uuid4().hex}"}
    answers = await asyncio.gather(*(lender.post("/loans", json=body, headers=key) for _ in range(10)))
    assert [a.status_code for a in answers] == [201] * 10, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.headers.get(REPLAYED) == "true" for a in answers) == 9
    assert await db.fetchval("SELECT count(*) FROM loans.loans WHERE household_id = $1", body["household_id"]) == 1
    other = await lender.post("/loans", json={**body, "amount_fen": 1_000_000}, headers=key)
    assert other.status_code == 409 and other.json()["code"] == "IDEMPOTENCY_CONFLICT", other.text
