"""The kernel's batched call of another service's internal API (ServiceClient.post_items): batches of at most
`batch_size`, at most `concurrency` in flight, answers in the order asked, and a failing batch is a 503."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
import pytest

from services.kernel.errors import ServiceUnavailable
from services.kernel.http import ServiceClient


class Echo(ServiceClient):
    """Answers each batch with its items doubled, after a random pause; fails the batches that hold `fail_on`."""

    def __init__(self, fail_on: int | None = None) -> None:
        super().__init__("echo", "http://127.0.0.1:9", caller="test")
        self.fail_on = fail_on
        self.sizes: list[int] = []
        self.in_flight = self.most_in_flight = 0

    async def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> httpx.Response:
        assert (method, path) == ("POST", "/internal/echo")
        self.sizes.append(len(json["items"]))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(random.random() / 200)
        self.in_flight -= 1
        if self.fail_on in json["items"]:
            return httpx.Response(500, json={"code": "INTERNAL_ERROR"})
        return httpx.Response(200, json={"items": [2 * n for n in json["items"]]})


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_batches_in_order_within_the_concurrency(concurrency: int) -> None:
    echo = Echo()
    answers = await echo.post_items("/internal/echo", list(range(2_050)), batch_size=200, concurrency=concurrency)
    assert answers == [2 * n for n in range(2_050)]
    assert sorted(echo.sizes) == sorted([200] * 10 + [50])
    assert echo.most_in_flight <= concurrency
    await echo.aclose()


async def test_nothing_to_ask_makes_no_call() -> None:
    echo = Echo()
    assert await echo.post_items("/internal/echo", []) == []
    assert echo.sizes == []
    await echo.aclose()


async def test_a_failing_batch_is_a_503() -> None:
    echo = Echo(fail_on=1_500)
    with pytest.raises(ServiceUnavailable) as raised:
        await echo.post_items("/internal/echo", list(range(2_050)), batch_size=1_000, concurrency=2)
    assert raised.value.extra["service"] == "echo" and "500" in raised.value.detail
    await echo.aclose()
