"""My account and the users page in a real browser (issue #19, S21, S22, S1): accessible (axe, WCAG 2 A/AA), asking
nothing of any other machine, logging no console error; one-time codes turned on by hand as a person does it."""

from __future__ import annotations

from selenium.webdriver.common.by import By

from tests.conftest import Api
from tests.console.browser import Page
from tests.console.codes import code_at, steady_step
from tests.console.people import PASSWORD, make_person, sign_in_in_browser
from tests.stack import Stack


async def test_a_person_turns_on_one_time_codes_on_their_account_page(page: Page, admin: Api, stack: Stack) -> None:
    person = await make_person(admin, stack.gateway_url, "finance", "430000", sign_in=False)
    await person.aclose()
    sign_in_in_browser(page, person.login)
    page.open("/console/account")
    assert page.driver.find_element(By.TAG_NAME, "h1").text == "我的账户"
    page.assert_accessible()
    page.screenshot("account-account")
    page.driver.find_element(By.ID, "f-password_for_totp").send_keys(PASSWORD)
    page.follow(page.driver.find_element(By.CSS_SELECTOR, "form[action='/console/account/totp'] button"))
    secret = page.driver.find_element(By.ID, "totp-secret").text
    assert len(secret) == 32 and page.driver.find_element(By.ID, "totp-uri").text.startswith("otpauth://totp/")
    page.assert_accessible()
    page.screenshot("account-totp")
    page.driver.find_element(By.ID, "f-code").send_keys(code_at(secret, steady_step()))
    page.follow(page.driver.find_element(By.CSS_SELECTOR, "form[action='/console/account/totp/confirm'] button"))
    assert "动态验证码已启用" in page.driver.find_element(By.CSS_SELECTOR, "[role=status]").text
    assert page.driver.find_elements(By.CSS_SELECTOR, "form[action='/console/account/totp/disable']")
    page.assert_nothing_left_machine()


async def test_an_admin_sees_a_refusal_next_to_its_field_on_the_users_page(
    page: Page, admin: Api, stack: Stack
) -> None:
    county_admin = await make_person(admin, stack.gateway_url, "admin", "430100", sign_in=False)
    await county_admin.aclose()
    sign_in_in_browser(page, county_admin.login)
    page.open("/console/users")
    assert page.driver.find_element(By.TAG_NAME, "h1").text == "用户管理"
    assert county_admin.login in page.driver.find_element(By.TAG_NAME, "table").text
    page.assert_accessible()
    page.screenshot("users-users")
    page.driver.find_element(By.ID, "f-login").send_keys(county_admin.login)  # taken
    page.driver.find_element(By.ID, "f-name").send_keys("重复的人")
    page.driver.find_element(By.ID, "f-password").send_keys("a long enough password")
    page.follow(page.driver.find_element(By.CSS_SELECTOR, "form[action='/console/users'] button[type=submit]"))
    error = page.driver.find_element(By.ID, "e-login")
    assert "已被使用" in error.text
    assert page.driver.find_element(By.ID, "f-login").get_attribute("aria-invalid") == "true"
    page.assert_accessible()
    # the form's 409 is its answer, which chromium logs as a failed load: that, and nothing else, is forgiven here
    assert all("409" in failure for failure in page.failures()), page.failures()
    page.console_errors.clear()
    page.assert_nothing_left_machine()
