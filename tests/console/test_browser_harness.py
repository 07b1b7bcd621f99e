"""The browser harness itself (tests/console/browser.py), on static pages from a local http.server: no FundTrack.

Each check is shown on both sides: a clean page passes it, a page with a console error, a 5xx answer, an image
without alt text or a request to a CDN fails it with the culprit named. The failing pages are opened in a `Page`
built here, not the `page` fixture, whose check after the test would (rightly) fail these tests.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.console import browser as harness
from tests.console.browser import (
    INSTALL_COMMAND,
    SCREENSHOTS,
    Page,
    PageFailure,
    checked_page,
    is_local,
    require_browser,
)

HEAD = '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>'
HEAD += '<link rel="icon" href="data:,"></head><body><main><h1>{title}</h1>'
END = "</main></body></html>"
PIXEL = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E"
DONE = "document.body.dataset.done = '1';"

PAGES: dict[str, tuple[int, str]] = {
    "/clean": (200, HEAD.format(title="资金") + f'<img src="{PIXEL}" alt="拨付图示">' + END),
    "/no-alt": (200, HEAD.format(title="资金") + f'<img src="{PIXEL}">' + END),
    "/console-error": (200, HEAD.format(title="错误") + f"<script>console.error('预期的错误');{DONE}</script>" + END),
    "/server-error": (
        200,
        HEAD.format(title="错误") + f"<script>fetch('/boom').finally(() => {{ {DONE} }});</script>" + END,
    ),
    "/boom": (500, "internal error"),
    "/cdn": (200, HEAD.format(title="外部") + '<script src="https://cdn.example.com/lib.js"></script>' + END),
}


class _Handler(BaseHTTPRequestHandler):
    languages: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.languages.append(self.headers.get("accept-language", ""))
        status, body = PAGES.get(self.path, (404, "not found"))
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's signature)
        """Quiet: the tests say what went wrong."""


@pytest.fixture(scope="module")
def static_site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def console_url(static_site: str) -> str:
    return static_site


@pytest.fixture
def bare_page(browser: webdriver.Chrome, static_site: str) -> Page:
    """A page without the fixture's check after the test, for pages that are meant to fail it."""
    current = Page(browser, static_site)
    current.reset()
    return current


def _open_and_wait(page: Page, path: str) -> None:
    page.open(path)
    WebDriverWait(page.driver, 60).until(lambda d: d.execute_script("return document.body.dataset.done") == "1")


def test_a_clean_page_passes_every_check(page: Page) -> None:
    page.open("clean")
    page.check()
    assert page.axe() == []
    page.assert_accessible()
    page.assert_nothing_left_machine()
    assert page.network_requests()[0] == f"{page.base_url}clean"


def test_the_browser_speaks_chinese_in_a_1366_wide_window(page: Page) -> None:
    _Handler.languages.clear()
    page.open("clean")
    assert _Handler.languages[0].startswith("zh-CN")
    assert page.driver.execute_script("return navigator.language") == "zh-CN"
    assert page.driver.execute_script("return window.innerWidth") == 1366


def test_a_console_error_fails_the_check(bare_page: Page) -> None:
    _open_and_wait(bare_page, "console-error")
    with pytest.raises(PageFailure, match="console error: .*预期的错误"):
        bare_page.check()
    assert bare_page.server_errors == []


def test_a_5xx_answer_fails_the_check(bare_page: Page) -> None:
    _open_and_wait(bare_page, "server-error")
    with pytest.raises(PageFailure, match=rf"HTTP 500 from {bare_page.base_url}boom"):
        bare_page.check()
    assert bare_page.server_errors == [(500, f"{bare_page.base_url}boom")]


def test_the_page_fixture_fails_the_test_after_it_on_a_console_error_or_a_5xx(
    browser: webdriver.Chrome, static_site: str
) -> None:
    for path, culprit in (("console-error", "console error: "), ("server-error", "HTTP 500 from ")):
        lifetime = checked_page(browser, static_site)
        _open_and_wait(next(lifetime), path)
        with pytest.raises(PageFailure, match=culprit):
            next(lifetime)
    lifetime = checked_page(browser, static_site)
    next(lifetime).open("clean")
    with pytest.raises(StopIteration):  # the clean page's check passes: the fixture ends normally
        next(lifetime)


def test_the_next_test_starts_clean_after_a_failing_page(bare_page: Page) -> None:
    _open_and_wait(bare_page, "console-error")
    bare_page.reset()
    bare_page.open("clean")
    assert bare_page.failures() == []
    assert bare_page.driver.get_cookies() == []


def test_an_image_without_alt_is_an_accessibility_violation(page: Page) -> None:
    page.open("no-alt")
    violations = page.axe()
    assert [violation["id"] for violation in violations] == ["image-alt"]
    with pytest.raises(AssertionError, match=r"image-alt \(critical\): .*\n +at img"):
        page.assert_accessible()


def test_a_request_to_a_cdn_is_named_and_never_reaches_it(bare_page: Page) -> None:
    bare_page.open("cdn")
    with pytest.raises(AssertionError, match="would leave the machine:\n  - https://cdn.example.com/lib.js"):
        bare_page.assert_nothing_left_machine()
    assert any("ERR_NAME_NOT_RESOLVED" in message for message in bare_page.console_errors)


def test_a_screenshot_is_a_png_under_build(page: Page) -> None:
    page.open("clean")
    path = page.screenshot("harness-clean")
    assert path == SCREENSHOTS / "harness-clean.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="plain file name"):
        page.screenshot("../escape")


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8000/console", True),
        ("http://localhost/console/static/vendor/echarts.min.js", True),
        ("data:image/png;base64,AAAA", True),
        ("blob:http://127.0.0.1:8000/1f0c", True),
        ("https://cdn.jsdelivr.net/npm/echarts", False),
        ("https://fonts.googleapis.com/css2?family=Noto+Sans+SC", False),
        ("http://127.0.0.1.example.com/x", False),
        ("ftp://127.0.0.1/x", False),
    ],
)
def test_what_counts_as_staying_on_the_machine(url: str, local: bool) -> None:
    assert is_local(url) is local


def test_a_missing_browser_skips_with_the_install_command_or_fails_in_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(harness, "CHROMEDRIVER", tmp_path / "chromedriver")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=f"chromedriver missing: install with `{INSTALL_COMMAND}`"):
        require_browser()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=INSTALL_COMMAND):
        require_browser()


def test_a_present_browser_is_required_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(harness, "CHROMIUM", Path("/bin/sh"))
    monkeypatch.setattr(harness, "CHROMEDRIVER", Path("/bin/sh"))
    assert harness.missing_browser() is None
    require_browser()
