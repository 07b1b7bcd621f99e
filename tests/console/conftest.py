"""Fixtures of the console's browser tests: one chromium for the session, a fresh `page` for each test (#19).

`page` opens paths under `console_url` (the running stack's gateway; a test module may override the fixture) and,
after the test, fails it on any console error or 5xx answer the page saw. Without chromium and its driver the tests
are skipped, saying how to install them, except in CI (CI set), where that fails the run.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium import webdriver

from tests.console.browser import Page, checked_page, chromium, require_browser
from tests.stack import Stack


@pytest.fixture(scope="session")
def browser() -> Iterator[webdriver.Chrome]:
    require_browser()
    with chromium() as driver:
        yield driver


@pytest.fixture
def console_url(stack: Stack) -> str:
    return stack.gateway_url


@pytest.fixture
def page(browser: webdriver.Chrome, console_url: str) -> Iterator[Page]:
    yield from checked_page(browser, console_url)
