"""The registry eligibility F10 relies on: asked in batches of at most 1000, in order; a failing registry is a 503
(the INELIGIBLE_PAYEE scan then skips, raising nothing)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest

from services.funds import clients, detectors, reports
from services.funds.clients import Registry
from services.kernel.alerts import DetectorContext
from services.kernel.errors import ServiceUnavailable
from services.kernel.http import ServiceClient
from tests.fake_registry import FakeRegistry


async def test_eligibility_in_batches_in_order() -> None:
    registry = FakeRegistry()
    queries = [(f"h{i}", date(2018, 1, 1 + i % 28)) for i in range(2100)]
    answers = await Registry(registry).household_eligibility(queries)
    assert [len(b) for b in registry.batches] == [1000, 1000, 100]
    assert [(a["household_id"], a["on"]) for a in answers] == [(h, on.isoformat()) for h, on in queries]
    assert await Registry(registry).household_eligibility([]) == []
    await registry.aclose()


@pytest.mark.parametrize("registry", [FakeRegistry(500), FakeRegistry(down=True)])
async def test_registry_failing_is_503(registry: FakeRegistry) -> None:
    with pytest.raises(ServiceUnavailable) as caught:
        await Registry(registry).household_eligibility([("h1", date(2018, 1, 1))])
    assert caught.value.status == 503
    await registry.aclose()


class _Organisations:
    """The gateway's internal organisations routes as funds asks them (one region, or a page of regions at once):
    answers and counts the questions (`asked`: the regions, `pages`: the batch calls' sizes)."""

    def __init__(self, bureaus: dict[str, list[str]]) -> None:
        self.bureaus = bureaus
        self.asked: list[str] = []
        self.pages: list[int] = []

    async def get_json(self, path: str, *, params: dict[str, str] | None = None) -> dict[str, object]:
        assert path == "/internal/organisations" and params is not None and params["kind"] == "finance_bureau"
        self.asked.append(params["region_code"])
        return {"items": [{"id": i} for i in self.bureaus.get(params["region_code"], [])]}

    async def request(self, method: str, path: str, *, json: dict[str, Any]) -> httpx.Response:
        assert (method, path, json["kind"]) == ("POST", "/internal/organisations/first-of-regions", "finance_bureau")
        self.asked.extend(json["region_codes"])
        self.pages.append(len(json["region_codes"]))
        items = [{"region_code": c, "organisation": {"id": self.bureaus[c][0]}}
                 for c in json["region_codes"] if self.bureaus.get(c)]
        return httpx.Response(200, json={"items": items, "missing": []})


async def test_the_finance_bureau_is_the_first_registered_kept_when_found_asked_again_when_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """O13: a region's first registered bureau, kept 5 minutes; a region without one is asked again after 5 s, so a
    bureau registered meanwhile answers for what is recorded from then on."""
    clock = [1000.0]
    monkeypatch.setattr(clients, "_clock", lambda: clock[0])
    monkeypatch.setattr(clients, "_bureaus", {})
    gateway = _Organisations({"450521": ["org_first", "org_second"]})
    asking = clients.Gateway(cast(ServiceClient, gateway))
    assert await asking.finance_bureaus(["450521", "450522", "450521"]) == {"450521": "org_first", "450522": None}
    assert gateway.asked == ["450521", "450522"]
    gateway.bureaus["450522"] = ["org_new"]
    clock[0] += clients.NONE_SECONDS - 1
    assert await asking.finance_bureau("450522") is None and await asking.finance_bureau("450521") == "org_first"
    assert gateway.asked == ["450521", "450522"]  # both still kept
    clock[0] += 2
    assert await asking.finance_bureau("450522") == "org_new" and await asking.finance_bureau("450521") == "org_first"
    assert gateway.asked == ["450521", "450522", "450522"]
    clock[0] += clients.FOUND_SECONDS
    assert await asking.finance_bureau("450521") == "org_first"
    assert gateway.asked[-1] == "450521"


async def test_the_bureaus_of_many_regions_are_asked_a_page_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue #20: a national scan names the bureaus of thousands of counties in a few calls, not one per county; the
    regions already kept are not asked again."""
    monkeypatch.setattr(clients, "_bureaus", {})
    regions = [f"45{i:04d}" for i in range(1, 2_501)]
    gateway = _Organisations({regions[0]: ["org_first"], regions[-1]: ["org_last"]})
    asking = clients.Gateway(cast(ServiceClient, gateway))
    found = await asking.finance_bureaus([*regions, regions[0]])
    assert gateway.pages == [clients.LOOKUP_PAGE, clients.LOOKUP_PAGE, 500]
    assert (found[regions[0]], found[regions[1]], found[regions[-1]], len(found)) == ("org_first", None, "org_last",
                                                                                       2_500)
    assert await asking.finance_bureaus([regions[0], regions[-1]]) == {regions[0]: "org_first",
                                                                       regions[-1]: "org_last"}
    assert gateway.pages == [clients.LOOKUP_PAGE, clients.LOOKUP_PAGE, 500]  # kept: nothing asked


class _GatewayDown:
    async def get_json(self, path: str, *, params: dict[str, str] | None = None) -> dict[str, object]:
        raise ServiceUnavailable("the gateway service answered 503", service="gateway")

    async def request(self, method: str, path: str, *, json: object) -> httpx.Response:
        return httpx.Response(503, json={"code": "DEPENDENCY_UNAVAILABLE"})


@pytest.mark.parametrize("gateway_up", [True, False])
async def test_a_money_held_alert_names_the_bureau_or_is_skipped_while_the_gateway_is_down(
    monkeypatch: pytest.MonkeyPatch, gateway_up: bool
) -> None:
    """O13: IDLE_FUNDS names the county's finance bureau the gateway answers; with the gateway down the detector is
    skipped for that scan (nothing raised, its open alerts left as they are), not run naming no bureau, which would
    rewrite every open alert to none and back at the next scan."""
    monkeypatch.setattr(clients, "_bureaus", {})
    held = SimpleNamespace(region_code="450521", kind="pool", fund_source="F01", ref="", balance_fen=5_000,
                           since=date(2018, 1, 1), recent_in_fen=0, oldest_held=date(2018, 1, 1))

    async def idle_holdings(session: object, **_: object) -> list[SimpleNamespace]:
        return [held]

    monkeypatch.setattr(reports, "idle_holdings", idle_holdings)  # as detectors reads it
    gateway = _Organisations({"450521": ["org_bureau"]}) if gateway_up else _GatewayDown()
    state = SimpleNamespace(clients={"gateway": gateway}, settings=SimpleNamespace(idle_funds_days=90))
    drafts = await detectors.idle_funds(DetectorContext(session=cast(Any, None), as_of=date(2018, 6, 1), state=state))
    if gateway_up:
        assert [d.responsible_org for d in drafts] == ["org_bureau"]
    else:
        assert drafts == []
