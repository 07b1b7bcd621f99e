"""The console in a real browser (issue #19): sign in, see one's own desk, switch the language; the pages are
accessible (axe, WCAG 2 A/AA), ask nothing of any other machine, and log no console error (the `page` fixture)."""

from __future__ import annotations

from selenium.webdriver.common.by import By

from tests.conftest import Api
from tests.console.browser import Page
from tests.console.people import make_person, sign_in_in_browser
from tests.stack import Stack


async def test_sign_in_page_is_accessible_and_local(page: Page) -> None:
    page.open("/console/login")
    assert page.driver.find_element(By.TAG_NAME, "h1").text == "登录"
    page.assert_accessible()
    page.assert_nothing_left_machine()
    page.screenshot("login")


async def test_a_person_signs_in_sees_their_desk_and_switches_language(page: Page, admin: Api, stack: Stack) -> None:
    person = await make_person(admin, stack.gateway_url, "inspector", "430000", sign_in=False)
    await person.aclose()
    sign_in_in_browser(page, person.login)
    header = page.driver.find_element(By.CSS_SELECTOR, "header .who").text
    assert person.login in header and "纪检监察" in header
    links = {a.text for a in page.driver.find_elements(By.CSS_SELECTOR, "header nav a")}
    assert {"预警", "审计日志"} <= links and "农户名册导入" not in links  # an inspector's desk, not a county's
    page.assert_accessible()
    page.screenshot("home")
    page.follow(page.driver.find_element(By.CSS_SELECTOR, "a.lang"))
    assert page.driver.find_element(By.TAG_NAME, "h1").text == "Desk"
    assert page.driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    page.assert_nothing_left_machine()


async def test_a_wrong_password_is_shown_and_nothing_is_signed_in(page: Page, admin: Api, stack: Stack) -> None:
    person = await make_person(admin, stack.gateway_url, "finance", "430000", sign_in=False)
    await person.aclose()
    page.open("/console/login")
    page.driver.find_element(By.ID, "f-login").send_keys(person.login)
    page.driver.find_element(By.ID, "f-password").send_keys("not the password")
    page.follow(page.driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    assert "登录名或密码错误" in page.driver.find_element(By.CSS_SELECTOR, "[role=alert]").text
    # the form's 401 is its answer, which chromium logs as a failed load: that, and nothing else, is forgiven here
    assert all("401" in failure for failure in page.failures()), page.failures()
    page.console_errors.clear()
    page.open("/console/")
    assert "/console/login" in page.driver.current_url
