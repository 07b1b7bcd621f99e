"""The finance desk through the gateway as people (issue #19 point 4): a finance officer of 430000 reads Hunan's
allocations, balances and reports and not Guizhou's; a new allocation typed in 元 is recorded once, in fen, exactly;
a refused one shows its rule (F1…) and bilingual message next to the field it names, and nothing moves."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.console.amounts import AmountError, fen_of_yuan
from tests.conftest import Api, MakePrincipal
from tests.console.finance_money import LATE_FEN, POOL_FEN, Province, make_province
from tests.console.people import Person, make_person
from tests.funds.world import doc, new_source_code, put_source
from tests.stack import Stack

KEY_FIELD = re.compile(r'name="idempotency_key" value="([^"]+)"')


@pytest.fixture(scope="module")
async def hunan(admin: Api, make_principal: MakePrincipal) -> Province:
    return await make_province(admin, make_principal, "430000")


@pytest.fixture(scope="module")
async def guizhou(admin: Api, make_principal: MakePrincipal) -> Province:
    return await make_province(admin, make_principal, "520000")


@pytest.fixture
async def officer(admin: Api, stack: Stack) -> AsyncIterator[Person]:
    """A finance officer of Hunan's provincial finance department, signed in."""
    person = await make_person(admin, stack.gateway_url, "finance", "430000")
    yield person
    await person.aclose()


def field_block(html: str, name: str) -> str:
    """The markup of one form field (its label, input and, when refused, its error): what "next to" means."""
    found = re.search(rf'<div class="field[^"]*">\s*<label for="f-{re.escape(name)}">.*?</div>', html, re.S)
    assert found is not None, f"no field {name} on the page"
    return found.group(0)


def chart_data(html: str, chart: str) -> dict[str, Any]:
    found = re.search(rf'<script type="application/json" id="{chart}-data">(.*?)</script>', html, re.S)
    assert found is not None, f"no data for the {chart} chart"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def yuan(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d}"


async def test_hunans_officer_reads_hunans_allocations_and_balances_by_county_not_guizhous(
    officer: Person, hunan: Province, guizhou: Province
) -> None:
    page = await officer.client.get("/console/allocations", params={"county": hunan.world.pilot})
    assert page.status_code == 200, page.text[:500]
    assert hunan.pilot_doc in page.text and "12,345.67" in page.text  # the 2018 allocation, in 元
    assert yuan(POOL_FEN) in page.text  # the pilot county's pool
    assert guizhou.pilot_doc not in page.text
    # Guizhou's county is outside the jurisdiction: the refusal shows next to the county filter, and nothing of it
    other = await officer.client.get("/console/allocations", params={"county": guizhou.world.pilot})
    assert other.status_code == 422
    county = field_block(other.text, "county")
    assert 'aria-invalid="true"' in county and "不在管辖范围" in county and "outside your jurisdiction" in county
    assert guizhou.pilot_doc not in other.text
    # By Guizhou's fund source, a Hunan officer finds nothing; Guizhou's own officer finds it
    by_source = await officer.client.get("/console/allocations", params={"fund_source": guizhou.world.source})
    assert by_source.status_code == 200 and guizhou.pilot_doc not in by_source.text and "暂无数据" in by_source.text


async def test_guizhous_officer_reads_guizhous_allocation_and_an_admin_has_no_finance_desk(
    admin: Api, stack: Stack, guizhou: Province
) -> None:
    person = await make_person(admin, stack.gateway_url, "finance", "520000")
    administrator = await make_person(admin, stack.gateway_url, "admin", "000000")
    try:
        page = await person.client.get("/console/allocations", params={"fund_source": guizhou.world.source})
        assert page.status_code == 200 and guizhou.pilot_doc in page.text
        refused = await administrator.client.get("/console/allocations")
        assert refused.status_code == 403  # the API reads allocations to finance and inspectors only
        assert 'href="/console/allocations"' not in (await administrator.client.get("/console/")).text
    finally:
        await person.aclose()
        await administrator.aclose()


async def test_allocations_come_a_page_at_a_time_with_the_filters_kept(
    officer: Person, hunan: Province, admin: Api
) -> None:
    world = hunan.world
    source = new_source_code()
    await put_source(admin, source, integrable=False)
    assert (await world.appropriate(10_000, source=source)).status_code == 201
    batch = await world.fin_province.post("/funds/allocations:batch", json={"items": [
        world.allocation(100, to=world.city, source=source) for _ in range(51)]})
    assert batch.status_code == 201, batch.text
    docs = {a["doc_no"] for a in batch.json()["items"]}
    first = await officer.client.get("/console/allocations", params={"county": world.city, "fund_source": source})
    on_first = {d for d in docs if d in first.text}
    assert len(on_first) == 50
    found = re.search(r'<a href="([^"]+)" rel="next">', first.text)
    assert found is not None
    following = found.group(1).replace("&amp;", "&")
    assert f"fund_source={source}" in following and f"county={world.city}" in following
    second = await officer.client.get(following)
    on_second = {d for d in docs if d in second.text}
    assert on_second == docs - on_first and 'rel="next"' not in second.text
    assert "第一页" in second.text


async def test_the_desk_speaks_english_when_asked(officer: Person) -> None:
    page = await officer.client.get("/console/allocations/new", headers={"accept-language": "en-GB,en"})
    assert page.status_code == 200
    assert '<html lang="en">' in page.text and "New allocation" in page.text and "Amount (yuan)" in page.text


async def test_the_pages_need_a_signed_in_person(stack: Stack, admin: Api) -> None:
    person = await make_person(admin, stack.gateway_url, "finance", "430000", sign_in=False)
    try:
        for path in ("/console/allocations", "/console/reports", "/console/allocations/new"):
            answer = await person.client.get(path)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/console/login?next=")
    finally:
        await person.aclose()


async def _new_form(person: Person) -> dict[str, str]:
    form = await person.client.get("/console/allocations/new")
    assert form.status_code == 200, form.text[:500]
    key = KEY_FIELD.search(form.text)
    assert key is not None
    return {"csrf_token": person.csrf, "idempotency_key": key.group(1)}


async def test_a_new_allocation_in_yuan_is_recorded_once_in_fen(officer: Person, hunan: Province) -> None:
    world = hunan.world
    doc_no = doc()
    form = await _new_form(officer) | {
        "fund_source": world.source, "fiscal_year": "2018", "from_region": world.province, "to_region": world.city,
        "amount_yuan": "1,234.56", "doc_no": doc_no, "issued_on": "2018-06-01",
    }
    made = await officer.client.post("/console/allocations/new", data=form)
    assert made.status_code == 303, made.text[:1000]
    location = made.headers["location"]
    assert location.startswith("/console/allocations/") and location.endswith("?created=1")
    shown = await officer.client.get(location)
    assert shown.status_code == 200 and doc_no in shown.text and "1,234.56" in shown.text
    assert "拨付已登记" in shown.text
    again = await officer.client.post("/console/allocations/new", data=form)  # the form sent twice
    assert again.status_code == 303 and again.headers["location"] == location
    found = await world.inspector.get("/funds/allocations", params={"to_region": world.city,
                                                                    "fund_source": world.source})
    mine = [a for a in found.json()["items"] if a["doc_no"] == doc_no]
    assert [a["amount_fen"] for a in mine] == [123_456]  # once, exactly
    forged = await officer.client.post("/console/allocations/new", data={**form, "csrf_token": "forged",
                                                                         "doc_no": doc()})
    assert forged.status_code == 403


async def _refused(person: Person, world_form: dict[str, str]) -> str:
    answer = await person.client.post("/console/allocations/new", data=await _new_form(person) | world_form)
    assert answer.status_code == 422, answer.text[:1000]
    return answer.text


def _block_grant_form(province: Province, **extra: str) -> dict[str, str]:
    """Integrable money from the province to its city: a block grant at every hop (F1, extended), and the pilot
    county's pool, which the reports read, stays as it was."""
    world = province.world
    return {"fund_source": world.source, "fiscal_year": "2018", "from_region": world.province,
            "to_region": world.city, "amount_yuan": "100", "doc_no": doc(), "issued_on": "2018-06-01", **extra}


async def _allocated(province: Province, doc_no: str) -> list[dict[str, Any]]:
    world = province.world
    found = await world.inspector.get("/funds/allocations", params={"to_region": world.city,
                                                                    "fund_source": world.source, "limit": 500})
    return [a for a in found.json()["items"] if a["doc_no"] == doc_no]


async def test_a_block_grant_naming_a_project_shows_f1_next_to_the_project_field(
    officer: Person, hunan: Province
) -> None:
    form = _block_grant_form(hunan, designated_project_id="prj_x")
    page = await _refused(officer, form)
    project = field_block(page, "designated_project_id")
    assert 'aria-invalid="true"' in project and '<span class="rule">F1</span>' in project
    assert "切块下达" in project and "issued in blocks" in project  # the bilingual message, beside the field
    assert 'aria-invalid="true"' not in field_block(page, "to_region")
    assert f'value="{form["doc_no"]}"' in page  # what was typed is kept
    assert await _allocated(hunan, form["doc_no"]) == []  # nothing recorded, nothing moved
    del form["designated_project_id"]
    allowed = await officer.client.post("/console/allocations/new", data=await _new_form(officer) | form)
    assert allowed.status_code == 303, allowed.text[:1000]
    assert [a["amount_fen"] for a in await _allocated(hunan, form["doc_no"])] == [10_000]


async def test_a_task_unrelated_to_poverty_shows_f1_next_to_its_own_row(officer: Person, hunan: Province) -> None:
    # the first row left empty: the API's tasks.0 is the form's second row, and the rule shows there
    form = _block_grant_form(hunan, **{"tasks.1.text": "修建办公楼"})
    page = await _refused(officer, form)
    row = field_block(page, "tasks.1.poverty_related")
    assert '<span class="rule">F1</span>' in row and "与脱贫攻坚无关" in row
    assert 'aria-invalid="true"' not in field_block(page, "tasks.0.poverty_related")
    assert await _allocated(hunan, form["doc_no"]) == []
    allowed = await officer.client.post("/console/allocations/new", data=await _new_form(officer) | {
        **form, "tasks.1.text": "用于产业扶贫", "tasks.1.poverty_related": "true"})
    assert allowed.status_code == 303, allowed.text[:1000]
    [made] = await _allocated(hunan, form["doc_no"])
    assert made["tasks"] == [{"text": "用于产业扶贫", "poverty_related": True}]


async def test_an_amount_with_more_than_two_decimals_is_refused_next_to_the_amount(
    officer: Person, hunan: Province
) -> None:
    form = _block_grant_form(hunan, amount_yuan="12.345")
    page = await _refused(officer, form)
    amount = field_block(page, "amount_yuan")
    assert 'aria-invalid="true"' in amount and "最多两位小数" in amount and "at most two decimals" in amount
    assert await _allocated(hunan, form["doc_no"]) == []


async def test_a_refusal_of_the_api_about_the_amount_shows_next_to_the_yuan_field(
    officer: Person, hunan: Province
) -> None:
    """The API names amount_fen; the form's field is amount_yuan: the rule shows there (INSUFFICIENT_FUNDS)."""
    form = _block_grant_form(hunan, amount_yuan="99999999.99", to_region=hunan.world.rich)
    answer = await officer.client.post("/console/allocations/new", data=await _new_form(officer) | form)
    assert answer.status_code == 409, answer.text[:1000]
    amount = field_block(answer.text, "amount_yuan")
    assert 'aria-invalid="true"' in amount and "余额不足" in amount and "insufficient funds" in amount


@pytest.mark.parametrize(("typed", "fen"), [
    ("1,234.56", 123_456), ("0.1", 10), ("0.01", 1), (" 12 ", 1_200), ("1，000", 100_000),
    ("92233720368547758.07", 9_223_372_036_854_775_807),  # exact far beyond a float's 2**53
])
def test_yuan_become_fen_exactly(typed: str, fen: int) -> None:
    assert fen_of_yuan(typed) == fen


@pytest.mark.parametrize("typed", ["12.345", "0", "0.00", "-1", "1e3", "NaN", "", "1.2.3", "¥5", "0x10"])
def test_an_amount_that_is_not_yuan_with_two_decimals_is_refused(typed: str) -> None:
    with pytest.raises(AmountError):
        fen_of_yuan(typed)


async def test_hunans_reports_show_hunans_growth_idle_and_late_money_not_guizhous(
    officer: Person, hunan: Province, guizhou: Province
) -> None:
    page = await officer.client.get("/console/reports", params={"fiscal_year": "2018", "status": "all"})
    assert page.status_code == 200, page.text[:1000]
    growth = chart_data(page.text, "growth")
    assert hunan.world.source in growth["categories"] and guizhou.world.source not in growth["categories"]
    at = growth["categories"].index(hunan.world.source)
    # poor counties: 1,000,000 → 1,234,567 (+23.5%); all: 2,000,000 → 4,234,567 (+111.7%): below the average (F2)
    poor, average = (s["values"][at] for s in growth["series"])
    assert poor == 0.234567 and average == pytest.approx(1.117284, abs=1e-6)
    assert "23.5%" in page.text and "111.7%" in page.text and "低于平均增幅" in page.text
    idle = chart_data(page.text, "idle")
    assert hunan.world.pilot in idle["categories"] and guizhou.world.pilot not in idle["categories"]
    assert hunan.world.pilot in page.text and yuan(POOL_FEN) in page.text  # all of the pool is idle today (F3)
    late = chart_data(page.text, "late")
    assert f"{hunan.world.province} · {hunan.late_source}" in late["categories"]
    assert not any(guizhou.late_source in c for c in late["categories"])
    assert yuan(LATE_FEN) in page.text and hunan.late_source in page.text and guizhou.late_source not in page.text


async def test_a_county_officer_reads_their_county_and_not_the_neighbours(
    admin: Api, stack: Stack, hunan: Province
) -> None:
    world = hunan.world
    person = await make_person(admin, stack.gateway_url, "finance", world.pilot)
    try:
        reports = await person.client.get("/console/reports", params={"fiscal_year": "2018"})
        assert reports.status_code == 200, reports.text[:1000]  # no province of their own: F2 waits for a choice
        assert "请选择省份和年度查看增幅对比" in reports.text and "growth-data" not in reports.text
        assert chart_data(reports.text, "idle")["categories"] == [world.pilot]
        mine = await person.client.get("/console/allocations")
        assert mine.status_code == 200 and hunan.pilot_doc in mine.text and yuan(POOL_FEN) in mine.text
        neighbour = await person.client.get("/console/allocations", params={"county": world.rich})
        assert neighbour.status_code == 422 and 'aria-invalid="true"' in field_block(neighbour.text, "county")
    finally:
        await person.aclose()


async def test_reports_of_another_province_are_refused_next_to_the_filter(officer: Person, guizhou: Province) -> None:
    page = await officer.client.get("/console/reports", params={"province": "520000", "region": "520000",
                                                                "fiscal_year": "2018"})
    assert page.status_code == 422
    for name in ("province", "region"):
        block = field_block(page.text, name)
        assert 'aria-invalid="true"' in block and "不在管辖范围" in block
    assert "growth-data" not in page.text and "idle-data" not in page.text
    assert guizhou.world.source not in page.text and guizhou.world.pilot not in page.text
    assert guizhou.late_source not in page.text  # alerts out of reach list nothing
