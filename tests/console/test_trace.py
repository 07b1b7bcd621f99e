"""The fund-flow page (issue #19 point 2) through the gateway, as people: an inspector of Hunan traces a Hunan
allocation, project and household (a chart's data and the same flow as tables, amounts in 元) and is refused a
Guizhou one, the page showing the API's refusal; a finance officer, whom GET /funds/trace refuses, has no trace link
and no trace page."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator

import pytest

from gateway.console import trace
from tests.conftest import Api, MakePrincipal
from tests.console.people import Person, make_person
from tests.console.trace_money import Chain, money_chain
from tests.stack import Stack

DATA = re.compile(r'<script type="application/json" id="trace-data">(.*?)</script>', re.S)


@pytest.fixture(scope="module")
async def hunan(admin: Api, make_principal: MakePrincipal) -> Chain:
    return await money_chain(admin, make_principal, "43")


@pytest.fixture(scope="module")
async def guizhou(admin: Api, make_principal: MakePrincipal) -> Chain:
    return await money_chain(admin, make_principal, "52")


@pytest.fixture(scope="module")
async def inspector(admin: Api, stack: Stack) -> AsyncIterator[Person]:
    """An inspector of Hunan (430000), signed in once for the module."""
    person = await make_person(admin, stack.gateway_url, "inspector", "430000")
    yield person
    await person.aclose()


def chart_of(page: str) -> dict[str, object]:
    found = DATA.search(page)
    assert found is not None, page[:2000]
    data: dict[str, object] = json.loads(html.unescape(found.group(1)))
    return data


async def test_an_inspector_traces_an_allocation_of_their_province_down_to_the_payee(
    inspector: Person, hunan: Chain
) -> None:
    person = inspector
    answer = await person.client.get("/console/trace", params={"allocation_id": hunan.allocation_id})
    assert answer.status_code == 200, answer.text[:2000]
    page = answer.text
    assert 'id="trace-chart"' in page and "/console/static/vendor/echarts.min.js" in page
    data = chart_of(page)
    links = data["links"]
    assert isinstance(links, list)
    by_yuan = {link["yuan"] for link in links}
    # appropriation 100,000.00 into the province's budget → allocation 50,000.00 to the county →
    # arrangement 4,000.00 to the project → payment 1,500.00 to the household
    assert {"50,000.00", "4,000.00", "1,500.00"} <= by_yuan, by_yuan
    labels = {node["label"] for node in data["nodes"]}  # type: ignore[attr-defined]
    assert any(hunan.site.county in label for label in labels)
    assert any(hunan.household_id[:13] in label for label in labels), labels
    # the same flow as tables, amounts in 元 with thousands separators
    assert '<table class="trace-flows">' in page and '<table class="trace-movements">' in page
    assert "50,000.00" in page and "1,500.00" in page and "资金拨付" in page and "资金支付" in page
    assert "<script>" not in page and "style=" not in page  # no inline script or style (the CSP)

    for params in ({"project_id": hunan.project_id}, {"household_id": hunan.household_id}):
        answer = await person.client.get("/console/trace", params=params)
        assert answer.status_code == 200, answer.text[:2000]
        assert "1,500.00" in {link["yuan"] for link in chart_of(answer.text)["links"]}  # type: ignore[attr-defined]
    inspector.client.cookies.set("ft_lang", "en")
    try:
        english = await inspector.client.get("/console/trace", params={"allocation_id": hunan.allocation_id})
        assert "<h1>Fund-flow trace</h1>" in english.text and "Disbursement" in english.text
    finally:
        inspector.client.cookies.delete("ft_lang")


async def test_an_inspector_of_hunan_is_refused_a_guizhou_allocation_and_the_page_says_so(
    admin: Api, stack: Stack, inspector: Person, guizhou: Chain
) -> None:
    person = inspector
    refused = await person.client.get("/console/trace", params={"allocation_id": guizhou.allocation_id})
    assert refused.status_code == 403, refused.text[:2000]
    assert "NOT_IN_JURISDICTION" in refused.text and 'role="alert"' in refused.text
    assert "trace-data" not in refused.text and "50,000.00" not in refused.text
    assert 'name="allocation_id"' in refused.text  # the form stays, to trace something else
    unknown = await person.client.get("/console/trace", params={"allocation_id": "alloc-none"})
    assert unknown.status_code == 404 and 'id="e-allocation_id"' in unknown.text  # next to its field
    two = await person.client.get("/console/trace", params={"project_id": "a", "household_id": "b"})
    assert two.status_code == 422 and 'id="e-allocation_id"' in two.text  # one subject at a time
    # an inspector of Guizhou traces it
    local = await make_person(admin, stack.gateway_url, "inspector", "520000")
    try:
        answer = await local.client.get("/console/trace", params={"allocation_id": guizhou.allocation_id})
        assert answer.status_code == 200 and "50,000.00" in answer.text
    finally:
        await local.aclose()


async def test_a_finance_officer_has_no_trace_link_nor_page_as_the_api_refuses_them(
    admin: Api, stack: Stack, inspector: Person, hunan: Chain
) -> None:
    person = await make_person(admin, stack.gateway_url, "finance", "430000")
    try:
        assert (await person.api("GET", "/funds/trace", params={"allocation_id": hunan.allocation_id})).status_code \
            == 403  # the API refuses finance the trace, so the console does too
        home = await person.client.get("/console/")
        assert home.status_code == 200 and 'href="/console/trace"' not in home.text
        page = await person.client.get("/console/trace", params={"allocation_id": hunan.allocation_id})
        assert page.status_code == 403 and "trace-data" not in page.text
    finally:
        await person.aclose()
    home = await inspector.client.get("/console/")
    assert 'href="/console/trace"' in home.text
    form = await inspector.client.get("/console/trace")
    assert form.status_code == 200 and 'for="f-allocation_id"' in form.text and "trace-data" not in form.text


def test_the_chart_is_bounded_and_says_what_it_left_out() -> None:
    """More accounts than NODE_LIMIT: the chart keeps NODE_LIMIT, counts the hops left out; a reversed hop is listed
    not drawn; a hop that would close a cycle is left out (a Sankey draws none)."""
    def hop(source: str, target: str, amount: int, **extra: object) -> dict[str, object]:
        return {"kind": "disbursement", "amount_fen": amount, "fund_source": "S",
                "from": {"region_code": "430101", "account": "project", "ref": source},
                "to": {"region_code": "430101", "account": "payee", "ref": target}, **extra}

    hops = [hop("p", f"h{i}", 100 + i) for i in range(trace.NODE_LIMIT + 5)]
    flow = trace.build(hops, "zh")
    assert len(flow.nodes) == trace.NODE_LIMIT and flow.not_drawn == 6
    assert all(h["amount_yuan"] for h in flow.hops)
    flow = trace.build([hop("a", "b", 5), hop("a", "b", 7), hop("a", "c", 1, reversed_by="r")], "zh")
    assert [(k, v["value"], v["yuan"]) for k, v in flow.links.items()] == [(
        ("430101|project|a", "430101|payee|b"), 12, "0.12")]
    back = {**hop("b", "a", 3), "from": {"region_code": "430101", "account": "payee", "ref": "b"},
            "to": {"region_code": "430101", "account": "project", "ref": "a"}}
    flow = trace.build([hop("a", "b", 5), back], "en")
    assert len(flow.links) == 1 and flow.not_drawn == 1


class _Pages:
    """GET /funds/trace as a run of pages (the paging loop alone; the API itself is exercised above)."""

    def __init__(self, pages: int) -> None:
        self.pages = pages
        self.asked: list[str | None] = []

    async def get(self, path: str, **params: object) -> dict[str, object]:
        cursor = params.get("cursor")
        self.asked.append(cursor if isinstance(cursor, str) or cursor is None else str(cursor))
        at = int(cursor) if isinstance(cursor, str) else 0
        hop = {"kind": "disbursement", "amount_fen": at + 1}
        return {"upstream": [hop], "movements": [], "downstream": [],
                "next_cursor": str(at + 1) if at + 1 < self.pages else None}


async def test_the_page_reads_a_few_pages_and_offers_the_rest_by_the_apis_cursor() -> None:
    api = _Pages(trace.PAGES + 2)
    hops, cursor = await trace.read_trace(api, {"project_id": "p"}, None)  # type: ignore[arg-type]
    assert len(api.asked) == trace.PAGES and cursor == str(trace.PAGES)
    assert [h["direction"] for h in hops] == ["upstream"] * trace.PAGES
    api = _Pages(trace.PAGES + 2)
    hops, cursor = await trace.read_trace(api, {"project_id": "p"}, cursor)  # type: ignore[arg-type]
    assert cursor is None and len(hops) == 2  # the rest, and the walk is done
