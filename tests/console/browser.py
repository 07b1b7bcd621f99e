"""The browser the console's tests drive: Debian's chromium through its chromedriver, headless, offline (issue #19).

One browser serves the whole session (tests/console/conftest.py); each test gets a `Page` with fresh cookies. A page
fails its test on any console error and on any 5xx answer it received, checked after the test by the fixture. A
4xx for a resource is a console error too: chromium asks for /favicon.ico unless the page names its icon (a console
page declares one, e.g. `<link rel="icon" href="data:,">`, or the gateway serves it).
Selenium Manager is never asked to download a driver or a browser: both are given by path and SE_OFFLINE is set.
Host names other than localhost resolve to nothing inside this browser, so a page that reaches for a CDN or a web
font cannot load it, and `assert_nothing_left_machine` names the request it tried.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.wait import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL_COMMAND = "apt-get install -y chromium chromium-driver"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
AXE_SCRIPT = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_TAGS = ("wcag2a", "wcag2aa")
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1366,900",
    "--lang=zh-CN",
    # Nothing leaves the machine even if a page asks: every name but localhost fails to resolve.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]",
)


class PageFailure(AssertionError):
    """The page logged a console error or received a 5xx answer: each is named on its own line."""


def require_browser() -> None:
    """Skip the test when chromium or its driver is missing, saying how to install them; in CI (CI set), fail."""
    reason = missing_browser()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"the console's browser tests need chromium: {reason}", pytrace=False)
    pytest.skip(reason)


def missing_browser() -> str | None:
    """Why the browser cannot start here (a missing executable, with the command that installs it), or None."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if not missing:
        return None
    return f"{' and '.join(missing)} missing: install with `{INSTALL_COMMAND}`"


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    """A headless chromium with a fresh profile, quit and its profile removed on leaving."""
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager may not download anything
    profile = tempfile.mkdtemp(prefix="fundtrack-chromium-")
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        driver.set_script_timeout(30)
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@dataclass
class Page:
    """One test's view of the browser: opens paths under `base_url`, keeps what the page logged and requested."""

    driver: webdriver.Chrome
    base_url: str
    console_errors: list[str] = field(default_factory=list)
    server_errors: list[tuple[int, str]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def reset(self) -> None:
        """A clean start: no cookies (of any site), a blank page, and nothing left over in the logs."""
        self.driver.get("about:blank")
        self.driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
        self.driver.get_log("browser")
        self.driver.get_log("performance")
        self.console_errors.clear()
        self.server_errors.clear()
        self.requests.clear()

    def open(self, path: str) -> None:
        self.driver.get(urljoin(self.base_url, path))
        self.collect()

    def follow(self, element: Any) -> None:
        """Click what loads a new page (a link, a form's button) and wait until that page has loaded: a click does
        not wait for the navigation it starts, and under load the next lookup ran on the old page. The old page is
        told apart by a mark set on its window (a reference to its elements goes stale in more than one way)."""
        self.driver.execute_script("window.__ftOldPage = true;")
        element.click()
        WebDriverWait(self.driver, 60).until(
            lambda d: d.execute_script("return window.__ftOldPage !== true && document.readyState === 'complete'")
        )
        self.collect()

    def collect(self) -> None:
        """Move what the browser logged since the last call into this page's lists (the browser forgets it)."""
        for entry in self.driver.get_log("browser"):
            if entry.get("level") == "SEVERE":
                self.console_errors.append(str(entry.get("message")))
        for entry in self.driver.get_log("performance"):
            self._network_event(json.loads(entry["message"])["message"])

    def _network_event(self, event: dict[str, Any]) -> None:
        params = event.get("params", {})
        if event.get("method") == "Network.requestWillBeSent":
            self.requests.append(str(params["request"]["url"]))
        elif event.get("method") == "Network.responseReceived":
            status = int(params["response"]["status"])
            if status >= 500:
                self.server_errors.append((status, str(params["response"]["url"])))

    def failures(self) -> list[str]:
        self.collect()
        return [f"console error: {message}" for message in self.console_errors] + [
            f"HTTP {status} from {url}" for status, url in self.server_errors
        ]

    def check(self) -> None:
        """Raise PageFailure naming every console error and 5xx answer so far (the fixture calls it after a test)."""
        failures = self.failures()
        if failures:
            raise PageFailure("the page failed:\n" + "\n".join(f"  - {line}" for line in failures))

    def screenshot(self, name: str) -> Path:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"a screenshot's name is a plain file name, not {name!r}")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / (name if name.endswith(".png") else f"{name}.png")
        if not self.driver.save_screenshot(str(path)):
            raise AssertionError(f"the browser could not save the screenshot {path}")
        return path

    def axe(self) -> list[dict[str, Any]]:
        """axe-core's WCAG 2 A and AA violations on the page as it is now."""
        self.driver.execute_script(AXE_SCRIPT.read_text(encoding="utf-8"))
        outcome = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
            ".then(result => done({violations: result.violations}), error => done({error: String(error)}));",
            list(AXE_TAGS),
        )
        if "error" in outcome:
            raise AssertionError(f"axe could not run: {outcome['error']}")
        self.collect()
        return list(outcome["violations"])

    def assert_accessible(self) -> None:
        violations = self.axe()
        if violations:
            raise AssertionError("accessibility violations (axe, WCAG 2 A/AA):\n" + describe_violations(violations))

    def network_requests(self) -> list[str]:
        self.collect()
        return list(self.requests)

    def assert_nothing_left_machine(self) -> None:
        outside = [url for url in self.network_requests() if not is_local(url)]
        if outside:
            raise AssertionError("requests that would leave the machine:\n" + "\n".join(f"  - {u}" for u in outside))


def checked_page(driver: webdriver.Chrome, base_url: str) -> Iterator[Page]:
    """The `page` fixture's body: a page reset for the test, then checked after it (PageFailure fails the test)."""
    current = Page(driver, base_url)
    current.reset()
    yield current
    current.check()


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    return parts.scheme in {"http", "https", "ws", "wss"} and (parts.hostname or "") in LOCAL_HOSTS


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """One line per rule (its id, impact and help), then the elements it found, by CSS selector."""
    lines = []
    for violation in violations:
        lines.append(f"  - {violation['id']} ({violation.get('impact')}): {violation['help']}")
        for node in violation.get("nodes", []):
            lines.append(f"      at {' '.join(str(t) for t in node.get('target', []))}")
    return "\n".join(lines)
