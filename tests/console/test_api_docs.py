"""The gateway's /docs is self-contained (issue #19 point 5): Swagger UI from the vendored copy, started by a file of
ours, under the console's Content-Security-Policy; it renders the operations, logs no error (no CSP violation) and
asks nothing of any other machine."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from fastapi.openapi.docs import get_swagger_ui_html
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from deploy.vendor_assets import PACKAGES, sha256_of
from gateway.api_docs import PAGE
from gateway.console.render import SECURITY_HEADERS
from tests.conftest import Api
from tests.console.browser import Page

PINNED_SHA256 = {"/" + f.target.removeprefix("gateway/"): f.sha256 for p in PACKAGES for f in p.files}
EXTERNAL = re.compile(r"(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)  # http://, https://, //host (scheme-relative)


class _Loads(HTMLParser):
    """What a page loads (every src and href) and the bodies of its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.references: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.references += [v for k, v in attrs if k in {"src", "href"} and v is not None]
        self._in_script = tag == "script" and "src" not in values

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts.append(data.strip())


def loads_of(html: str) -> _Loads:
    parser = _Loads()
    parser.feed(html)
    return parser


def test_the_check_names_the_cdn_and_the_inline_script_of_fastapis_own_page() -> None:
    fastapi_page = loads_of(bytes(get_swagger_ui_html(openapi_url="/openapi.json", title="x").body).decode())
    assert any("cdn.jsdelivr.net" in ref for ref in fastapi_page.references if EXTERNAL.match(ref))
    assert fastapi_page.inline_scripts
    ours = loads_of(PAGE)
    assert ours.references and not [ref for ref in ours.references if EXTERNAL.match(ref)]
    assert ours.inline_scripts == []


async def test_docs_names_no_external_url_carries_the_csp_and_serves_what_it_loads(anonymous: Api) -> None:
    response = await anonymous.get("/docs")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert csp == SECURITY_HEADERS["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    page = loads_of(response.text)
    assert [ref for ref in page.references if EXTERNAL.match(ref)] == []
    assert page.inline_scripts == []
    assert "jsdelivr" not in response.text and "unpkg" not in response.text
    scripts_and_styles = [ref for ref in page.references if ref.endswith((".js", ".css"))]
    assert len(scripts_and_styles) == 3  # Swagger UI's bundle and stylesheet, and our swagger-init.js
    for ref in scripts_and_styles:
        served = await anonymous.get(ref)  # through the door, with neither key nor cookie
        assert served.status_code == 200, ref
        if ref in PINNED_SHA256:
            assert sha256_of(served.content) == PINNED_SHA256[ref], ref
    init = (await anonymous.get("/console/static/swagger-init.js")).text
    assert 'url: "/openapi.json"' in init and 'dom_id: "#swagger-ui"' in init and "validatorUrl: null" in init
    assert (await anonymous.get("/console/static/vendor/swagger-ui-standalone-preset.js")).status_code == 404


async def test_docs_renders_the_operations_in_the_browser_with_nothing_from_outside(page: Page) -> None:
    page.open("/docs")
    WebDriverWait(page.driver, 60).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock-tag")) > 10)
    tags = {e.get_attribute("data-tag") for e in page.driver.find_elements(By.CSS_SELECTOR, ".opblock-tag")}
    assert {"operations", "admin", "funds", "projects", "loans", "registry", "oversight", "audit"} <= tags, tags
    page.driver.find_element(By.CSS_SELECTOR, ".opblock-tag[data-tag='operations']").click()  # folded: open it
    healthz = "#operations-operations-healthz_healthz_get"
    WebDriverWait(page.driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, healthz))
    health = page.driver.find_element(By.CSS_SELECTOR, healthz)
    health.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()  # opened: parameters, responses drawn
    WebDriverWait(health, 60).until(lambda h: h.find_elements(By.CSS_SELECTOR, ".try-out__btn"))
    health.find_element(By.CSS_SELECTOR, ".try-out__btn").click()
    health.find_element(By.CSS_SELECTOR, ".execute").click()  # "Try it out": a fetch to this origin (connect-src)
    WebDriverWait(health, 60).until(lambda h: h.find_elements(By.CSS_SELECTOR, ".live-responses-table"))
    answer = health.find_element(By.CSS_SELECTOR, ".live-responses-table tbody tr.response")
    assert answer.find_element(By.CSS_SELECTOR, ".response-col_status").text.strip() == "200", answer.text
    assert '"status": "ok"' in answer.text, answer.text
    page.screenshot("api-docs")
    page.assert_nothing_left_machine()  # and the `page` fixture fails the test on any console error (CSP included)


async def test_an_inline_script_put_into_docs_does_not_run(page: Page) -> None:
    page.open("/docs")
    WebDriverWait(page.driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock-tag"))
    ran = page.driver.execute_script(
        "const s = document.createElement('script'); s.textContent = 'window.injected = true;';"
        "document.head.appendChild(s); return window.injected === true;"
    )
    assert ran is False
    page.collect()
    assert page.console_errors and all("Content Security Policy" in e for e in page.console_errors), page.console_errors
    page.console_errors.clear()  # the refusal just shown, and nothing else, is forgiven
