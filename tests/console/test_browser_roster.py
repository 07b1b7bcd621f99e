"""The roster import in chromium (issue #19 point 3): a county office chooses a CSV file with two bad lines, the
browser uploads it straight to the public import route, the server's progress drives the bar to 100 %, and the
rejected lines are listed by number with a CSV of them to download; accessible, and nothing leaves the machine."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from tests.conftest import Api
from tests.console.browser import Page
from tests.console.people import make_person, sign_in_in_browser
from tests.registry.factory import csv_body, new_county, row
from tests.stack import Stack


def _downloaded(page: Page, folder: Path) -> str:
    """The rejected lines' CSV as the browser saves it when the link is clicked."""
    folder.mkdir()
    page.driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)})
    page.driver.find_element(By.ID, "roster-download").click()
    saved = folder / "rejected-lines.csv"
    WebDriverWait(page.driver, 60).until(lambda d: saved.exists() and not list(folder.glob("*.crdownload")))
    return saved.read_text(encoding="utf-8-sig")


async def test_a_county_office_imports_a_roster_and_sees_its_rejected_lines(
    page: Page, admin: Api, stack: Stack, tmp_path: Path
) -> None:
    county = new_county()
    person = await make_person(admin, stack.gateway_url, "project_manager", county, sign_in=False)
    await person.aclose()
    lines = [row(county), row(county), row(county, members="0"), row(county), row(county, status="rich")]
    roster = tmp_path / "名册.csv"
    roster.write_bytes(csv_body(*lines))
    sign_in_in_browser(page, person.login)
    page.open("/console/roster")
    driver = page.driver
    assert driver.find_element(By.TAG_NAME, "h1").text == "农户名册导入"
    assert driver.find_element(By.ID, "f-county").get_attribute("value") == county
    page.assert_accessible()
    driver.find_element(By.ID, "f-file").send_keys(str(roster))
    driver.find_element(By.ID, "roster-start").click()
    WebDriverWait(driver, 60).until(lambda d: d.find_element(By.ID, "roster-download").is_displayed())
    form = driver.find_element(By.ID, "roster-form")
    assert form.get_attribute("data-state") == "done"
    assert int(form.get_attribute("data-polls") or 0) >= 1
    bar = driver.find_element(By.ID, "roster-bar")
    assert (bar.get_attribute("value"), bar.get_attribute("data-percent")) in {("100", "100")}
    key = form.get_attribute("data-key")
    assert any(f"/console/roster/progress/{key}" in url for url in page.network_requests())
    assert driver.find_element(By.ID, "roster-imported").text == "3"
    assert driver.find_element(By.ID, "roster-rejected-count").text == "2"
    rows = [[cell.text for cell in tr.find_elements(By.TAG_NAME, "td")]
            for tr in driver.find_elements(By.CSS_SELECTOR, "#roster-rejected tr")]
    assert [(r[0], r[1]) for r in rows] == [("4", "INVALID_MEMBERS"), ("6", "INVALID_STATUS")]
    assert all(r[2] for r in rows)
    download = list(csv.reader(io.StringIO(_downloaded(page, tmp_path / "downloads"))))
    assert download[0] == ["行号", "代码", "原因", "原始行内容"]
    assert [(d[0], d[1], d[3]) for d in download[1:]] == [
        ("4", "INVALID_MEMBERS", lines[2].line()), ("6", "INVALID_STATUS", lines[4].line())]
    page.assert_accessible()
    page.assert_nothing_left_machine()
    page.screenshot("roster-import")
