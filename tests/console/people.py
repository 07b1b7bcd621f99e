"""People for the console's tests: a user made through the admin API, signed in through the console's own form, and
a client that carries their session cookie (and the CSRF token the pages give them)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import Api

PASSWORD = "correct horse battery staple"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')
PRE_FIELD = re.compile(r'name="pre" value="([^"]*)"')


@dataclass
class Person:
    login: str
    password: str
    principal_id: str
    role: str
    region_code: str
    client: httpx.AsyncClient
    csrf: str = ""

    async def sign_in(self, password: str | None = None, totp: str = "") -> httpx.Response:
        """The sign-in form, as a browser fills it: its page first (the form's token), then the post."""
        form = await self.client.get("/console/login")
        pre = PRE_FIELD.search(form.text)
        assert pre is not None, form.text[:500]
        answer = await self.client.post(
            "/console/login",
            data={"login": self.login, "password": password or self.password, "pre": pre.group(1), "totp": totp},
        )
        if answer.status_code == 303:
            home = await self.client.get("/console/")
            found = CSRF_META.search(home.text)
            self.csrf = found.group(1) if found else ""
        return answer

    async def api(self, method: str, path: str, *, csrf: bool = True, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", {}) or {})
        if csrf and self.csrf:
            headers["x-csrf-token"] = self.csrf
        return await self.client.request(method, path, headers=headers, **kw)

    async def aclose(self) -> None:
        await self.client.aclose()


async def make_person(
    admin: Api, gateway_url: str, role: str, region_code: str, *, sign_in: bool = True, **extra: Any
) -> Person:
    login = f"{role[:4]}-{uuid.uuid4().hex[:8]}"
    made = await admin.post(
        "/admin/users",
        json={"login": login, "password": PASSWORD, "name": f"{role} {login}", "role": role,
              "region_code": region_code, **extra},
    )
    assert made.status_code == 201, made.text
    client = httpx.AsyncClient(base_url=gateway_url, timeout=60, follow_redirects=False)
    person = Person(login, PASSWORD, made.json()["principal_id"], role, region_code, client)
    if sign_in:
        answer = await person.sign_in()
        assert answer.status_code == 303, answer.text[:500]
    return person


def sign_in_in_browser(page: Any, login: str, password: str = PASSWORD) -> None:
    """The sign-in form filled and sent in the browser (tests/console/browser.py `Page`), as a person does."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    page.open("/console/login")
    page.driver.find_element(By.ID, "f-login").send_keys(login)
    page.driver.find_element(By.ID, "f-password").send_keys(password)
    page.follow(page.driver.find_element(By.CSS_SELECTOR, "form[action='/console/login'] button[type=submit]"))
    WebDriverWait(page.driver, 60).until(lambda driver: "/console/login" not in driver.current_url)
