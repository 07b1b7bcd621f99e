"""The door's proxy hop (gateway/proxy.py) when the service is not there: 503 with a code, never a 500."""

from __future__ import annotations

import pytest
from starlette.types import Message

from gateway.proxy import forward, proxy_session
from services.kernel.errors import ServiceUnavailable
from services.kernel.identity import Principal


async def _empty() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


@pytest.mark.parametrize("streamed", [False, True])
async def test_a_service_that_is_not_listening_is_503_not_reachable(streamed: bool) -> None:
    session = proxy_session()
    try:
        with pytest.raises(ServiceUnavailable) as caught:
            await forward(session, base_url="http://127.0.0.1:9", service="funds", method="POST",
                          path="/funds/allocations", raw_path=None, query="", headers={}, receive=_empty,
                          streamed=streamed, max_body=1024, principal=Principal("t", "finance", "430000"),
                          request_id="r")
    finally:
        await session.close()
    problem = caught.value.body("/funds/allocations")
    assert problem["status"] == 503 and problem["code"] == "SERVICE_UNAVAILABLE"
    assert "not reachable" in problem["detail"]
