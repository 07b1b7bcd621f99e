"""The public may POST without a key, within a per-address limit counted in a store every gateway shares (S16); the
address is the direct peer's unless that peer is a configured proxy (S11)."""

import time
from collections.abc import AsyncIterator
from contextlib import ExitStack
from ipaddress import ip_network

import asyncpg
import httpx
import pytest

from gateway.ratelimit import SLICES, SharedWindow, client_address
from services.kernel.db import create_engine
from tests.stack import Stack, TestDatabase, extra_gateway

PROXIES = (ip_network("10.0.0.0/8"), ip_network("::1/128"))


@pytest.fixture
async def shared(stack: Stack, database: TestDatabase) -> AsyncIterator[SharedWindow]:
    engine = create_engine("gateway", url=database.url, pool_size=2)  # on the stack's migrated database
    try:
        yield SharedWindow(engine, "a secret of the tests", limit=3, window=60)
    finally:
        await engine.dispose()


async def _rows(db: asyncpg.Pool, window: SharedWindow, client: str, at: float) -> int:
    """The rows the store holds of `client` for every slice of the two windows up to `at`."""
    current = int(at // window.slice_seconds)
    tags = [window.tag(client, n) for n in range(current - 2 * SLICES, current + 1)]
    return int(await db.fetchval("SELECT count(*) FROM gateway.public_post_counts WHERE client_tag = ANY($1)", tags))


async def test_the_window_allows_the_limit_then_refuses_until_the_first_leaves(shared: SharedWindow) -> None:
    start = 1_000_020.0  # a slice's start (10 s slices): the first hit leaves the window 60 s later
    answers = [await shared.admit("198.51.100.7", now=start + t) for t in (0, 1, 2, 3)]
    assert [a.allowed for a in answers] == [True, True, True, False]
    assert answers[-1].retry_after_s == 57  # the first submission's slice leaves at start + 60
    assert (await shared.admit("198.51.100.8", now=start + 3)).allowed  # another address is not affected
    assert not (await shared.admit("198.51.100.7", now=start + 59)).allowed
    assert (await shared.admit("198.51.100.7", now=start + 60.5)).allowed  # the first slice left the window


async def test_no_address_is_kept_and_none_beyond_the_window(shared: SharedWindow, db: asyncpg.Pool) -> None:
    """S16: the store holds keyed hashes, never the address; a slice's row is deleted once it left the window."""
    start = 2_000_040.0
    client = "203.0.113.77"
    assert (await shared.admit(client, now=start)).allowed
    assert await _rows(db, shared, client, start) == 1
    held = await db.fetch("SELECT client_tag FROM gateway.public_post_counts")
    assert all(client not in r["client_tag"] for r in held)
    assert shared.tag(client, 1) != shared.tag(client, 2)  # two slices of one client are not linked
    await shared.forget(now=start + 59.9)
    assert await _rows(db, shared, client, start) == 1  # still inside its window
    await shared.admit("203.0.113.78", now=start + 60)  # anyone's admission forgets what left the window
    assert await _rows(db, shared, client, start + 60) == 0


async def test_the_sweep_forgets_without_anyone_posting(shared: SharedWindow, db: asyncpg.Pool) -> None:
    start = 3_000_000.0
    client = "203.0.113.79"
    assert (await shared.admit(client, now=start)).allowed
    await shared.forget(now=start + 30)
    assert await _rows(db, shared, client, start) == 1  # still inside its window
    assert await shared.forget(now=start + 60) >= 1  # its slice left the window: gone, nobody having posted
    assert await _rows(db, shared, client, start) == 0


async def test_the_tag_is_keyed_by_the_gateways_secret(shared: SharedWindow) -> None:
    """A store's rows cannot be matched to an address without the gateway's key."""
    other = SharedWindow(shared.engine, "another secret", limit=3, window=60)
    assert shared.tag("198.51.100.1", 5) != other.tag("198.51.100.1", 5)


@pytest.mark.parametrize(("peer", "forwarded_for", "client"), [
    ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # S11: not a proxy of ours: its header is ignored
    ("203.0.113.9", None, "203.0.113.9"),
    ("10.1.2.3", None, "10.1.2.3"),
    ("10.1.2.3", "198.51.100.1", "198.51.100.1"),  # our proxy says who its client was
    ("10.1.2.3", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # what the client wrote itself is left of it
    ("10.1.2.3", "198.51.100.1, 10.9.9.9", "198.51.100.1"),  # through two of our proxies
    ("10.1.2.3", "10.8.8.8, 10.9.9.9", "10.8.8.8"),  # only proxies: the farthest
    ("10.1.2.3", "not-an-address", "10.1.2.3"),
    ("::1", "2001:db8::5", "2001:db8::5"),
])
def test_the_client_address(peer: str, forwarded_for: str | None, client: str) -> None:
    assert client_address(peer, forwarded_for, PROXIES) == client


def _post(client: httpx.Client, forwarded_for: str) -> int:
    response = client.post("/public/announcements/prj_none/objections", json={"text": "异议"},
                           headers={"x-forwarded-for": forwarded_for})
    return response.status_code


def test_a_forged_forwarded_for_does_not_escape_the_limit(stack: Stack) -> None:
    """S11: no proxy configured (the default): a caller that writes a new X-Forwarded-For each time is still one
    address (the limit counts the peer, 127.0.0.1 here)."""
    settings = {"FUNDTRACK_PUBLIC_POSTS_PER_MINUTE": "3", "FUNDTRACK_PUBLIC_POSTS_WINDOW_SECONDS": "59"}  # own counts
    with extra_gateway(stack, **settings) as url, httpx.Client(base_url=url) as client:
        statuses = [_post(client, f"198.51.100.{i}") for i in range(5)]
    assert statuses == [404, 404, 404, 429, 429]


def test_a_configured_proxy_is_believed(stack: Stack) -> None:
    """The other side: behind a configured proxy, each client it names has its own limit."""
    settings = {"FUNDTRACK_PUBLIC_POSTS_PER_MINUTE": "3", "FUNDTRACK_TRUSTED_PROXIES": "127.0.0.1/32",
                "FUNDTRACK_PUBLIC_POSTS_WINDOW_SECONDS": "59"}
    with extra_gateway(stack, **settings) as url, httpx.Client(base_url=url) as client:
        first = [_post(client, "198.51.100.1") for _ in range(4)]
        second = [_post(client, "198.51.100.2") for _ in range(2)]
    assert first == [404, 404, 404, 429] and second == [404, 404]


def test_two_gateways_hold_one_limit_and_say_when_to_come_back(stack: Stack) -> None:
    """S16, across processes: two gateways on one database count one address together; past the limit 429
    RATE_LIMITED with Retry-After. Then nothing of the address is kept after the window (a short one here)."""
    settings = {"FUNDTRACK_PUBLIC_POSTS_PER_MINUTE": "4", "FUNDTRACK_PUBLIC_POSTS_WINDOW_SECONDS": "6"}
    with ExitStack() as gateways:
        first, second = (gateways.enter_context(extra_gateway(stack, **settings)) for _ in range(2))
        with httpx.Client(base_url=first) as one, httpx.Client(base_url=second) as two:
            # start at the beginning of a 1 s slice so all six land in one window
            time.sleep(1 - time.time() % 1)
            objection = ("/public/announcements/prj_none/objections", {"text": "异议"})
            complaint = ("/public/complaints", {"region_code": "451021", "text": "举报"})
            answers = [c.post(path, json=body) for c, (path, body) in (
                (one, objection), (two, complaint), (one, complaint), (two, objection), (one, complaint),
                (two, objection))]
            assert [a.status_code for a in answers] == [404, 201, 201, 404, 429, 429]  # objections and complaints
            refused = answers[-1]
            assert refused.json()["code"] == "RATE_LIMITED" and refused.json()["rule"] == "S16"
            assert 1 <= int(refused.headers["retry-after"]) <= 6
            assert refused.json()["retry_after_s"] == int(refused.headers["retry-after"])
            time.sleep(int(refused.headers["retry-after"]))
            assert one.post("/public/announcements/prj_none/objections", json={"text": "异议"}).status_code == 404
