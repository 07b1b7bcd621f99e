"""The inspector's desk, alerts and cases (issue #19 point 2), through the gateway as people: each sees their own
jurisdiction's and domain's alerts and no other's, with the counts of the filter in force; an alert's facts in
words with its rule; acknowledge, resolve and opening a case work for an inspector, and the API's refusal (its rule)
is what anyone else, or a wrong form, sees."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from gateway.console.alerts.sentences import sentence
from gateway.console.amounts import AmountError, fen_of_yuan
from tests.conftest import Api
from tests.console.alerts_world import HUNAN_COUNTY, World, plant, store_alert
from tests.console.people import Person, make_person
from tests.stack import Stack

CASE_LINK = re.compile(r"^/console/cases/(case_[0-9a-z_]+|[^/?]+)$")


@pytest.fixture(scope="module")
async def world(db: asyncpg.Pool) -> World:
    return await plant(db)


@pytest.fixture
async def inspector(admin: Api, stack: Stack) -> AsyncIterator[Person]:
    person = await make_person(admin, stack.gateway_url, "inspector", "430000")
    yield person
    await person.aclose()


def _count(html: str, table: str, label: str) -> int:
    """The number a counts table gives a row."""
    section = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    found = re.search(rf">{re.escape(label)}(?:</a>)?</th><td class=\"num\">(\d+)</td>", section)
    assert found is not None, (label, section[:800])
    return int(found.group(1))


async def test_an_inspector_sees_their_provinces_alerts_with_counts_not_anothers(
    inspector: Person, world: World, admin: Api, stack: Stack
) -> None:
    page = await inspector.client.get("/console/alerts", params={"type": world.kind})
    assert page.status_code == 200, page.text[:500]
    html = page.text
    for mine in ("funds_hunan", "funds_hunan_ack", "projects_hunan"):
        assert world.ids[mine] in html
    assert world.ids["funds_guizhou"] not in html
    assert _count(html, "counts-type", world.kind) == 3 and _count(html, "counts-type", "合计") == 3
    assert _count(html, "counts-status", "待处理") == 2 and _count(html, "counts-status", "已确认") == 1
    # the filter narrows the counts too
    open_only = (await inspector.client.get("/console/alerts", params={"type": world.kind, "status": "open"})).text
    assert _count(open_only, "counts-status", "已确认") == 0 and world.ids["funds_hunan_ack"] not in open_only
    # Guizhou's inspector sees Guizhou's alone
    guizhou = await make_person(admin, stack.gateway_url, "inspector", "520000")
    theirs = (await guizhou.client.get("/console/alerts", params={"type": world.kind})).text
    await guizhou.aclose()
    assert world.ids["funds_guizhou"] in theirs and world.ids["funds_hunan"] not in theirs
    assert _count(theirs, "counts-type", "合计") == 1
    # another's alert page is not found, one's own is
    assert (await inspector.client.get(f"/console/alerts/{world.ids['funds_guizhou']}")).status_code == 404
    assert (await inspector.client.get(f"/console/alerts/{world.ids['funds_hunan']}")).status_code == 200


async def test_a_finance_person_sees_only_their_domains_alerts(world: World, admin: Api, stack: Stack) -> None:
    finance = await make_person(admin, stack.gateway_url, "finance", "430000")
    try:
        html = (await finance.client.get("/console/alerts", params={"type": world.kind})).text
        assert world.ids["funds_hunan"] in html and world.ids["projects_hunan"] not in html
        assert world.ids["funds_guizhou"] not in html
        assert _count(html, "counts-type", "合计") == 2
        assert (await finance.client.get(f"/console/alerts/{world.ids['loan']}")).status_code == 404
        own = await finance.client.get(f"/console/alerts/{world.ids['idle']}")
        assert own.status_code == 200 and 'id="acknowledge-form"' not in own.text  # no buttons but an inspector's
    finally:
        await finance.aclose()


async def test_an_alerts_page_says_its_facts_in_words_with_its_rule(inspector: Person, world: World) -> None:
    html = (await inspector.client.get(f"/console/alerts/{world.ids['idle']}")).text
    assert '<span class="rule">F3</span>' in html
    assert "12,345.67 元自 2026-01-01 起未被使用" in html and "账户余额 20,000.00 元" in html
    inspector.client.cookies.set("ft_lang", "en")
    loan = (await inspector.client.get(f"/console/alerts/{world.ids['loan']}")).text
    inspector.client.cookies.delete("ft_lang")
    assert "fell due on 2026-09-01" in loan and "5,000.00 yuan of principal outstanding" in loan
    assert '<span class="rule">L5</span>' in loan
    # a type the console has no sentence for: its facts as a table, amounts in 元
    mystery = (await inspector.client.get(f"/console/alerts/{world.ids['mystery']}")).text
    assert 'id="alert-sentence"' not in mystery and "1.50 元" in mystery


def test_a_sentence_needs_every_fact_it_names() -> None:
    assert sentence({"type": "IDLE_FUNDS", "region_code": "430523", "facts": {"amount_fen": 1}}, "zh") is None
    assert sentence({"type": "NEVER_HEARD_OF", "region_code": "430523", "facts": {}}, "zh") is None


def test_yuan_become_fen_exactly_or_not_at_all() -> None:
    assert fen_of_yuan("1,234.56") == 123456 and fen_of_yuan("0.1") == 10 and fen_of_yuan("7") == 700
    assert fen_of_yuan("0", zero_allowed=True) == 0
    for refused in ("1.234", "abc", "-1", "1e30", "1_000", "9" * 30, "0"):
        with pytest.raises(AmountError):
            fen_of_yuan(refused)


async def test_an_inspector_acknowledges_and_others_are_refused_by_the_api(
    inspector: Person, world: World, admin: Api, stack: Stack, db: asyncpg.Pool
) -> None:
    alert = world.ids["funds_hunan"]
    lender = await make_person(admin, stack.gateway_url, "finance", "430000")
    try:
        refused = await lender.client.post(f"/console/alerts/{alert}/acknowledge",
                                           data={"csrf_token": lender.csrf, "note": "我来确认"})
        assert refused.status_code == 403 and "FORBIDDEN" in refused.text
    finally:
        await lender.aclose()
    assert await db.fetchval("SELECT status FROM funds.alerts WHERE id = $1", alert) == "open"
    done = await inspector.client.post(f"/console/alerts/{alert}/acknowledge",
                                       data={"csrf_token": inspector.csrf, "note": "已阅，核查中"})
    assert done.status_code == 303 and done.headers["location"] == f"/console/alerts/{alert}"
    page = (await inspector.client.get(f"/console/alerts/{alert}")).text
    assert "已阅，核查中" in page and 'id="alert-status">已确认' in page
    # without the form's token nothing is done (S20)
    forged = await inspector.client.post(f"/console/alerts/{alert}/resolve", data={"note": "x"})
    assert forged.status_code == 403
    assert await db.fetchval("SELECT status FROM funds.alerts WHERE id = $1", alert) == "acknowledged"


async def test_resolving_needs_a_note_and_the_refusal_is_shown_by_the_field(
    inspector: Person, world: World, db: asyncpg.Pool
) -> None:
    alert = world.ids["funds_hunan_ack"]
    refused = await inspector.client.post(f"/console/alerts/{alert}/resolve",
                                          data={"csrf_token": inspector.csrf, "note": "  "})
    assert refused.status_code == 422 and 'id="e-note"' in refused.text and "needs a note" in refused.text
    done = await inspector.client.post(f"/console/alerts/{alert}/resolve",
                                       data={"csrf_token": inspector.csrf, "note": "已整改"})
    assert done.status_code == 303
    assert await db.fetchval("SELECT status FROM funds.alerts WHERE id = $1", alert) == "resolved"


async def test_an_inspector_opens_a_case_from_an_alert_once(
    inspector: Person, world: World, admin: Api, stack: Stack
) -> None:
    alert = world.ids["idle"]
    bad = await inspector.client.post(f"/console/alerts/{alert}/case", data={
        "csrf_token": inspector.csrf, "region_code": "430523", "title": "资金闲置", "money_involved_fen": "1.234"})
    assert bad.status_code == 422 and 'id="e-money_involved_fen"' in bad.text
    form = {"csrf_token": inspector.csrf, "region_code": "430523", "title": "资金闲置核查",
            "money_involved_fen": "12,345.67", "idempotency_key": "console-case-" + world.kind}
    opened = await inspector.client.post(f"/console/alerts/{alert}/case", data=form)
    assert opened.status_code == 303, opened.text[:800]
    case_path = opened.headers["location"]
    assert CASE_LINK.match(case_path), case_path
    case = (await inspector.client.get(case_path)).text
    assert "资金闲置核查" in case and alert in case and "12,345.67" in case and "open" in case
    again = await inspector.client.post(f"/console/alerts/{alert}/case", data={**form, "idempotency_key": "other"})
    assert again.status_code == 409 and "O2" in again.text and "ALERT_IN_CASE" in again.text
    listed = (await inspector.client.get("/console/cases")).text
    assert case_path in listed
    guizhou = await make_person(admin, stack.gateway_url, "inspector", "520000")
    try:
        assert case_path not in (await guizhou.client.get("/console/cases")).text
        assert (await guizhou.client.get(case_path)).status_code == 403
    finally:
        await guizhou.aclose()


async def test_the_list_goes_a_page_at_a_time(inspector: Person, db: asyncpg.Pool) -> None:
    kind = "CONSOLE_PAGES_" + uuid.uuid4().hex[:6].upper()
    for n in range(51):
        await store_alert(db, "funds", HUNAN_COUNTY, kind, {"n": n}, minutes_ago=n)
    first = (await inspector.client.get("/console/alerts", params={"type": kind})).text
    assert first.count('<a href="/console/alerts/alert-funds_') == 50
    found = re.search(r'<a href="(\?[^"]+)" rel="next">', first)
    assert found is not None and _count(first, "counts-type", "合计") == 51
    second = (await inspector.client.get("/console/alerts" + html.unescape(found.group(1)))).text
    assert second.count('<a href="/console/alerts/alert-funds_') == 1 and 'rel="next"' not in second


async def test_a_filter_the_api_refuses_is_shown_by_its_field(inspector: Person) -> None:
    refused = await inspector.client.get("/console/alerts", params={"region": "43x"})
    assert refused.status_code == 422 and 'id="e-region"' in refused.text, refused.text[-1500:]
