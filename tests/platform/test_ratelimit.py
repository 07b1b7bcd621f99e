"""The public may POST without a key, within a per-address limit; the address is the direct peer's unless that peer
is a configured proxy (S11)."""

from ipaddress import ip_network

import httpx
import pytest

from gateway.ratelimit import SlidingWindow, client_address
from tests.stack import Stack, extra_gateway

PROXIES = (ip_network("10.0.0.0/8"), ip_network("::1/128"))


def test_sliding_window_allows_the_limit_then_refuses_until_the_window_passes() -> None:
    window = SlidingWindow(limit=3, window=60)
    assert [window.allow("1.2.3.4", now=t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert window.allow("5.6.7.8", now=3) is True  # another address is not affected
    assert window.allow("1.2.3.4", now=60.5) is True  # the first hit left the window


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
    with extra_gateway(stack, FUNDTRACK_PUBLIC_POSTS_PER_MINUTE="3") as url, httpx.Client(base_url=url) as client:
        statuses = [_post(client, f"198.51.100.{i}") for i in range(5)]
    assert statuses == [404, 404, 404, 429, 429]


def test_a_configured_proxy_is_believed(stack: Stack) -> None:
    """The other side: behind a configured proxy, each client it names has its own limit."""
    settings = {"FUNDTRACK_PUBLIC_POSTS_PER_MINUTE": "3", "FUNDTRACK_TRUSTED_PROXIES": "127.0.0.1/32"}
    with extra_gateway(stack, **settings) as url, httpx.Client(base_url=url) as client:
        first = [_post(client, "198.51.100.1") for _ in range(4)]
        second = [_post(client, "198.51.100.2") for _ in range(2)]
    assert first == [404, 404, 404, 429] and second == [404, 404]
