"""The county office's desk in chromium (issue #19 point 3): a project manager registers a project and announces it
with the keyboard-usable forms; the record shows the 公示 countdown; the public reads the announcement without
signing in. Each page is accessible (axe) and asks nothing of any other machine."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from tests.conftest import Api
from tests.console.browser import Page
from tests.console.people import sign_in_in_browser
from tests.console.projects_support import county_office, registration
from tests.stack import Stack


def _fill(page: Page, form_id: str, values: dict[str, str]) -> None:
    for name, value in values.items():
        element = page.driver.find_element(By.ID, f"{form_id}-{name}")
        if element.tag_name == "select":
            Select(element).select_by_value(value)
        else:
            element.clear()
            element.send_keys(value)


def _send(page: Page, selector: str) -> None:
    """Submit a form with its button and wait for the record it redirects to."""
    old = page.driver.find_element(By.TAG_NAME, "html")
    page.follow(page.driver.find_element(By.CSS_SELECTOR, f"{selector} button[type=submit]"))
    wait = WebDriverWait(page.driver, 20)
    wait.until(expected_conditions.staleness_of(old))
    wait.until(lambda driver: driver.execute_script("return document.readyState") == "complete")
    page.collect()


async def test_a_county_office_registers_and_announces_a_project_in_the_browser(
    page: Page, admin: Api, stack: Stack
) -> None:
    office = await county_office(admin, stack.gateway_url)
    await office.pm.aclose()
    sign_in_in_browser(page, office.pm.login)
    page.open("/console/projects/new")
    form = registration(office, name="产业路硬化工程")
    form.pop("county_code")  # the form offers the person's own county
    targets = {k: form.pop(k) for k in ("indicator_0", "target_0")}
    for day in ("start_on", "end_on"):  # a date input is filled as the browser's locale shows it: set it directly
        page.driver.execute_script("arguments[0].value = arguments[1]", page.driver.find_element(By.ID, f"reg-{day}"),
                                   form.pop(day))
    _fill(page, "reg", {**form, **targets})
    page.assert_accessible()
    _send(page, "form.register")
    assert "/console/projects/" in page.driver.current_url and "/new" not in page.driver.current_url
    assert "产业路硬化工程" in page.driver.find_element(By.TAG_NAME, "h1").text
    assert "1,234,567.89" in page.driver.find_element(By.ID, "main").text

    _send(page, "#act-submit")
    _fill(page, "review", {"opinion": "经论证，项目可行"})
    _send(page, "#act-review")
    _send(page, "#act-announce")  # today, 10 days, the village: the form's own defaults
    countdown = page.driver.find_element(By.CSS_SELECTOR, "[data-countdown]")
    assert countdown.text == "剩余 10 天", countdown.text  # announced today for 10 days
    assert page.driver.find_elements(By.ID, "act-approve")  # the next move the state allows
    page.assert_accessible()
    page.screenshot("projects-detail")
    project_url = page.driver.current_url

    page.open("/console/projects")
    assert "产业路硬化工程" in page.driver.find_element(By.TAG_NAME, "table").text
    page.assert_accessible()
    page.screenshot("projects-list")

    # the public: no cookie at all
    project_id = project_url.rsplit("/", 1)[1]
    page.driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    page.open(f"/console/public/announcements/{project_id}")
    assert "/console/login" not in page.driver.current_url
    assert page.driver.find_element(By.TAG_NAME, "h1").text == "产业路硬化工程"
    assert page.driver.find_element(By.CSS_SELECTOR, "[data-countdown]").text.startswith("剩余 ")
    assert not page.driver.find_elements(By.CSS_SELECTOR, "header nav")  # nobody signed in
    page.assert_accessible()
    page.screenshot("public-announcement")
    page.assert_nothing_left_machine()
