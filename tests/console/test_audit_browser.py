"""The audit trail in a real browser (issue #19): the list with its filters, the verification and the latest
checkpoint, an entry with its proof; axe passes on both pages and nothing leaves the machine."""

from __future__ import annotations

from selenium.webdriver.common.by import By

from tests.conftest import Api, wait_for_audit
from tests.console.browser import Page
from tests.console.people import make_person, sign_in_in_browser
from tests.stack import Stack


async def test_an_inspector_reads_the_trail_and_an_entry(page: Page, admin: Api, stack: Stack) -> None:
    person = await make_person(admin, stack.gateway_url, "inspector", "430000", sign_in=False)
    await person.aclose()
    sign_in_in_browser(page, person.login)
    page.open("/console/trace?project_id=prj-none")  # an action of theirs (a refusal), for the trail
    await wait_for_audit(admin)
    assert (await admin.post("/audit/checkpoints")).status_code == 201
    page.follow(page.driver.find_element(By.CSS_SELECTOR, "header nav a[href='/console/audit']"))
    page.follow(page.driver.find_element(By.CSS_SELECTOR, "a[href^='/console/audit?actor=']"))  # only my actions
    paths = [c.text for c in page.driver.find_elements(By.CSS_SELECTOR, "table.audit-entries td.path")]
    assert "/funds/trace" in paths and "/console/trace" in paths, paths
    assert page.driver.find_element(By.CSS_SELECTOR, ".audit-export a.button").get_attribute("href")
    assert page.driver.find_element(By.CSS_SELECTOR, ".checkpoint-size").text.isdigit()
    page.assert_accessible()
    page.screenshot("audit-list")
    # its trace, chained before the checkpoint was signed: so the checkpoint holds it, with a proof
    row = next(r for r in page.driver.find_elements(By.CSS_SELECTOR, "table.audit-entries tbody tr")
               if r.find_element(By.CSS_SELECTOR, "td.path").text == "/funds/trace")
    page.follow(row.find_element(By.CSS_SELECTOR, "td.num a"))
    assert page.driver.find_element(By.TAG_NAME, "h1").text.startswith("审计记录 #")
    assert page.driver.find_elements(By.CSS_SELECTOR, "ol.proof li")
    page.assert_accessible()
    page.assert_nothing_left_machine()
    page.screenshot("audit-entry")
    # the trace page's 404 is its answer, which chromium logs as a failed load: that, and nothing else, is forgiven
    assert all("404" in failure for failure in page.failures()), page.failures()
    page.console_errors.clear()
