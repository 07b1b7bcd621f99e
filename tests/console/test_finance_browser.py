"""The finance desk in chromium (issue #19 point 4): a Hunan finance officer's allocations and balances, the reports
with their three charts drawn by ECharts from the page's own data, and the new allocation form refusing a block grant
that names a project with the rule beside the field, then taking the corrected form. Accessible (axe), local, and
no console error (the `page` fixture), screenshots finance-allocations, finance-reports and finance-refusal."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from tests.conftest import Api, MakePrincipal
from tests.console.browser import Page
from tests.console.finance_money import Province, make_province
from tests.console.people import Person, make_person, sign_in_in_browser
from tests.funds.world import doc
from tests.stack import Stack


@pytest.fixture(scope="module")
async def hunan(admin: Api, make_principal: MakePrincipal) -> Province:
    return await make_province(admin, make_principal, "430000")


@pytest.fixture
async def officer(admin: Api, stack: Stack) -> AsyncIterator[Person]:
    person = await make_person(admin, stack.gateway_url, "finance", "430000", sign_in=False)
    yield person
    await person.aclose()


def _charts_drawn(page: Page) -> int:
    return len(page.driver.find_elements(By.CSS_SELECTOR, ".chart[data-drawn='true'] canvas"))


async def test_allocations_and_reports_with_their_charts(page: Page, officer: Person, hunan: Province) -> None:
    sign_in_in_browser(page, officer.login)
    page.open(f"/console/allocations?county={hunan.world.pilot}")
    assert page.driver.find_element(By.TAG_NAME, "h1").text == "资金拨付与余额"
    rows = page.driver.find_elements(By.CSS_SELECTOR, "table[aria-labelledby='allocations-heading'] tbody tr")
    assert any(hunan.pilot_doc in row.text and "12,345.67" in row.text for row in rows)
    page.assert_accessible()
    page.screenshot("finance-allocations")
    page.open("/console/reports?fiscal_year=2018&status=all")
    WebDriverWait(page.driver, 60).until(lambda _: _charts_drawn(page) == 3)
    assert {c.get_attribute("id") for c in page.driver.find_elements(By.CSS_SELECTOR, ".chart")} == {
        "growth-chart", "idle-chart", "late-chart"}
    assert hunan.late_source in page.driver.find_element(By.ID, "late-heading").find_element(
        By.XPATH, "..").text
    page.assert_accessible()
    page.assert_nothing_left_machine()
    page.screenshot("finance-reports")


def _fill(page: Page, values: dict[str, str]) -> None:
    for name, value in values.items():
        element = page.driver.find_element(By.ID, f"f-{name}")
        # set as a person's typing would leave it (a date input's typing is the browser locale's)
        page.driver.execute_script("arguments[0].value = arguments[1];", element, value)


async def test_the_form_refuses_a_block_grant_with_f1_beside_the_field(
    page: Page, officer: Person, hunan: Province
) -> None:
    world = hunan.world
    sign_in_in_browser(page, officer.login)
    page.open("/console/allocations/new")
    doc_no = doc()
    _fill(page, {"fund_source": world.source, "fiscal_year": "2018", "to_region": world.city,
                 "amount_yuan": "2,000.50", "doc_no": doc_no, "issued_on": "2018-06-01",
                 "designated_project_id": "prj_x"})
    page.follow(page.driver.find_element(By.CSS_SELECTOR, "form.allocation-form button[type=submit]"))
    error = page.driver.find_element(By.ID, "e-designated_project_id")
    assert error.find_element(By.CSS_SELECTOR, ".rule").text == "F1" and "切块下达" in error.text
    field = page.driver.find_element(By.ID, "f-designated_project_id")
    assert page.driver.switch_to.active_element == field  # the refused field has the focus, its rule in view
    assert field.get_attribute("aria-invalid") == "true"
    assert field.get_attribute("aria-describedby") == error.get_attribute("id")
    page.assert_accessible()
    page.screenshot("finance-refusal")
    # the refusal's 422 is the form's answer, which chromium logs as a failed load: that, and nothing else, is forgiven
    assert page.failures() and all("422" in failure for failure in page.failures()), page.failures()
    page.console_errors.clear()
    page.driver.find_element(By.ID, "f-designated_project_id").clear()
    page.follow(page.driver.find_element(By.CSS_SELECTOR, "form.allocation-form button[type=submit]"))
    assert "拨付已登记" in page.driver.find_element(By.CSS_SELECTOR, "[role=status]").text
    assert "2,000.50" in page.driver.find_element(By.CSS_SELECTOR, "dl.facts").text
    page.assert_nothing_left_machine()
