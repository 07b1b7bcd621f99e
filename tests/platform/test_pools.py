"""The pools of all processes together stay within what the database server takes (deploy/pools.py): a full pool
makes a request wait, a full server fails it."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from deploy.pools import GATEWAY_SHARES, RESERVE, outside_pools, plan, pool_env, server_limit
from tests.conftest import MakePrincipal
from tests.stack import Stack


def test_the_connections_beside_the_pools_count_the_loans_workers_split_readers() -> None:
    """Each loans worker's split readers (services/kernel/split_reads.py) are connections outside its pool."""
    base = {"FUNDTRACK_AUDIT_VERIFY_WORKERS": "1", "FUNDTRACK_LOANS_WORKERS": "3"}
    unsplit = outside_pools({**base, "FUNDTRACK_DB_SPLIT_READERS": "1"})
    assert unsplit == 1 + 1  # the gateway's LISTEN and its verifier
    assert outside_pools({**base, "FUNDTRACK_DB_SPLIT_READERS": "4"}) == unsplit + 3 * 4
    assert outside_pools(base) == unsplit + 3 * 2  # two a worker unless told
    for wrong in ("abc", "17", "-1", ""):  # what the services would refuse at their start, refused here by name
        with pytest.raises(ValueError, match="FUNDTRACK_DB_SPLIT_READERS"):
            outside_pools({**base, "FUNDTRACK_DB_SPLIT_READERS": wrong})


def test_the_plan_shares_out_what_is_available_and_no_more() -> None:
    workers = {"funds": 2, "projects": 1, "loans": 1, "registry": 1}
    for available in (14, 43, 87, 290, 987):
        connections = plan(available, workers)
        total = connections["gateway"] + sum(connections[name] * count for name, count in workers.items())
        assert total <= available
        assert connections["gateway"] == GATEWAY_SHARES * connections["projects"] >= 4


def test_a_server_with_too_few_connections_is_refused_with_what_it_needs() -> None:
    with pytest.raises(ValueError, match="at least 24"):
        plan(13, {"funds": 2, "projects": 1, "loans": 1, "registry": 1})


def test_an_operator_who_sizes_the_pools_is_not_overruled(stack: Stack) -> None:
    assert pool_env(stack.database.url, {"FUNDTRACK_DB_POOL_SIZE": "5"}) == {}


async def test_the_suite_stack_fits_in_its_share_of_the_server(stack: Stack) -> None:
    limit = await server_limit(stack.database.url)
    pools = await asyncio.to_thread(pool_env, stack.database.url, stack.env, fraction=0.5)
    pooled = sum(int(pools[name]["FUNDTRACK_DB_POOL_SIZE"]) * (2 if name == "funds" else 1) for name in pools)
    total = pooled + outside_pools(stack.env)  # the gateway's LISTEN and its verifier processes
    assert total <= (limit - RESERVE) // 2
    assert {p["FUNDTRACK_DB_POOL_OVERFLOW"] for p in pools.values()} == {"0"}


async def test_more_requests_at_once_than_the_server_has_connections_all_succeed(
    make_principal: MakePrincipal, stack: Stack
) -> None:
    """Each /alerts asks the four services, each from its pool, and the gateway records it from its own: 400 at once
    is well over the server's connections; every request waits for a pooled connection and is answered 200."""
    inspector = await make_principal("inspector", "430000")
    limit = await server_limit(stack.database.url)
    calls = [inspector.get("/alerts", params={"limit": 1}) for _ in range(max(400, 4 * limit))]
    responses = await asyncio.gather(*calls, return_exceptions=True)
    failures = [r if isinstance(r, BaseException) else r.status_code for r in responses
                if isinstance(r, BaseException) or not isinstance(r, httpx.Response) or r.status_code != 200]
    assert failures == []
