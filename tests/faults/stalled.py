"""Shared by the fault tests that stall a service of the suite's stack: stop its process (SIGSTOP: it still accepts
connections and never answers, as a hung process does) and let it go again, and the loan applications that need it."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import asyncpg

from tests.conftest import Api
from tests.loans.conftest import Household, import_households
from tests.loans.helpers import household_id, id_number, loan_body
from tests.stack import Stack

# The sessions of a process's pool that have held a connection inside a transaction, without running a statement, for
# longer than HELD_FOR: what a request waiting on another service or on a slow body would hold (its application_name
# is the process's schema: kernel/db.py). A transaction between two of its statements is idle for a moment too (the
# gateway's outbox reads, a right read before an upload): on a loaded host such a moment was once sampled and counted
# (CI, stop 29), so only holds older than HELD_FOR count; a request that waits holds its connection for seconds.
HELD_FOR = 0.5
HELD_IN_TRANSACTION = (
    "SELECT coalesce(array_agg(left(query, 200)), '{}') FROM pg_stat_activity "
    "WHERE datname = current_database() AND application_name = $1 AND state LIKE 'idle in transaction%' "
    "AND clock_timestamp() - state_change > make_interval(secs => $2)"
)


def child_pid(stack: Stack, name: str) -> int:
    return next(child.process.pid for child in stack.children if child.name == name)


def pool_size(stack: Stack, name: str) -> int:
    """The connections each worker of service `name` keeps (deploy/pools.py shared them out)."""
    env = next(child.env for child in stack.children if child.name == name)
    return int(env["FUNDTRACK_DB_POOL_SIZE"])


@contextmanager
def stopped(stack: Stack, name: str) -> Iterator[None]:
    """Service `name` stopped while the block runs, and let go again whatever happens in it."""
    pid = child_pid(stack, name)
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


async def held_in_transaction(db: asyncpg.Pool, schema: str) -> list[str]:
    """The last statements of the sessions of service `schema` that hold a connection idle in a transaction."""
    return list(await db.fetchval(HELD_IN_TRANSACTION, f"fundtrack-{schema}", HELD_FOR))


async def borrowers(admin: Api, county: str, count: int) -> list[dict[str, object]]:
    """`count` poor households of `county` on the roster, and a loan application (a body) for each."""
    households = [Household(household_id(), id_number(county, _birth(i)), county) for i in range(count)]
    await import_households(admin, *households)
    return [loan_body(h.household_id, h.head_id_number) for h in households]


def _birth(i: int) -> date:
    return date(1970 + i % 30, 1 + i % 12, 1 + i % 28)
