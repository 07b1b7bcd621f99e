"""The alerts desk in chromium (issue #19 point 2): the list with its counts and an alert's page are accessible and
local, and an inspector resolves an alert with a note, as a person would (the page asks first)."""

from __future__ import annotations

import asyncpg
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from tests.conftest import Api
from tests.console.alerts_world import World, plant
from tests.console.browser import Page
from tests.console.people import make_person, sign_in_in_browser
from tests.stack import Stack


@pytest.fixture(scope="module")
async def world(db: asyncpg.Pool) -> World:
    return await plant(db)


async def test_an_inspector_reads_the_alerts_and_resolves_one(
    page: Page, world: World, admin: Api, stack: Stack, db: asyncpg.Pool
) -> None:
    person = await make_person(admin, stack.gateway_url, "inspector", "430000", sign_in=False)
    await person.aclose()
    sign_in_in_browser(page, person.login)
    page.open(f"/console/alerts?type={world.kind}")
    assert page.driver.find_element(By.TAG_NAME, "h1").text == "预警"
    rows = page.driver.find_elements(By.CSS_SELECTOR, "#alert-list tbody tr")
    assert len(rows) == 3, [r.text for r in rows]  # Hunan's three, not Guizhou's
    page.assert_accessible()
    page.screenshot("alerts-list")

    page.open(f"/console/alerts/{world.ids['idle']}")
    assert "12,345.67 元" in page.driver.find_element(By.ID, "alert-sentence").text
    page.assert_accessible()
    page.screenshot("alerts-detail")
    page.driver.find_element(By.ID, "f-note").send_keys("已督促拨付，资金已使用")
    page.driver.find_element(By.CSS_SELECTOR, "#resolve-form button[type=submit]").click()
    WebDriverWait(page.driver, 60).until(expected_conditions.alert_is_present()).accept()
    WebDriverWait(page.driver, 60).until(
        expected_conditions.text_to_be_present_in_element((By.ID, "alert-status"), "已处置"))
    assert "已督促拨付，资金已使用" in page.driver.find_element(By.ID, "alert-history").text
    assert not page.driver.find_elements(By.ID, "resolve-form")  # nothing left to do
    page.collect()
    page.assert_nothing_left_machine()
    assert await db.fetchval("SELECT status FROM funds.alerts WHERE id = $1", world.ids["idle"]) == "resolved"
