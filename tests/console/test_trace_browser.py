"""The fund-flow page in a real browser (issue #19): an inspector traces an allocation of their province; ECharts
draws the Sankey (a canvas in the chart's container) with no console error, the same flow is a table, axe passes,
nothing leaves the machine."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from tests.conftest import Api, MakePrincipal
from tests.console.browser import Page
from tests.console.people import make_person, sign_in_in_browser
from tests.console.trace_money import money_chain
from tests.stack import Stack


async def test_an_inspector_sees_the_trace_drawn(page: Page, admin: Api, stack: Stack,
                                                 make_principal: MakePrincipal) -> None:
    chain = await money_chain(admin, make_principal, "43")
    person = await make_person(admin, stack.gateway_url, "inspector", "430000", sign_in=False)
    await person.aclose()
    sign_in_in_browser(page, person.login)
    page.follow(page.driver.find_element(By.CSS_SELECTOR, "header nav a[href='/console/trace']"))
    page.driver.find_element(By.ID, "f-allocation_id").send_keys(chain.allocation_id)
    page.follow(page.driver.find_element(By.CSS_SELECTOR, "form.trace-form button[type=submit]"))
    WebDriverWait(page.driver, 60).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "#trace-chart canvas, #trace-chart svg")))
    canvas = page.driver.find_element(By.CSS_SELECTOR, "#trace-chart canvas, #trace-chart svg")
    assert canvas.size["width"] > 300 and canvas.size["height"] > 200
    cells = [td.text for td in page.driver.find_elements(By.CSS_SELECTOR, "table.trace-flows td")]
    assert "50,000.00" in cells and "1,500.00" in cells
    page.collect()
    assert not page.console_errors, page.console_errors
    page.assert_accessible()
    page.assert_nothing_left_machine()
    page.screenshot("trace-sankey")
