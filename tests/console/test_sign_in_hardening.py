"""The review of people's sign-in (issue #19), each finding as a test: the trail keeps no guessable digest of a
password; a burst of guesses is judged one by one (S19); a refusal while locked does not extend the lock; a login
that cannot exist answers as a wrong one (never 500); the same login made twice at once is 409; signing in again ends
the session the browser had; a form posted from another site is refused; sign-ins are limited per address; a
password keeps its spaces; a page served for a GET cannot write through the API."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from datetime import timedelta

import asyncpg
import httpx

from gateway.console.api import ConsoleApi, Loopback
from gateway.sessions import CSRF_HEADER, Signed
from services.kernel.identity import Principal
from tests.conftest import Api, wait_for_audit
from tests.console.people import PASSWORD, PRE_FIELD, Person, make_person
from tests.stack import Stack, extra_gateway


async def test_the_trail_keeps_no_plain_digest_of_a_new_users_password(admin: Api, stack: Stack) -> None:
    login = f"dig-{uuid.uuid4().hex[:8]}"
    body = json.dumps({"login": login, "password": PASSWORD, "name": "n", "role": "finance",
                       "region_code": "430000"}).encode()
    request_id = f"digest-{uuid.uuid4().hex}"
    made = await admin.post("/admin/users", content=body,
                            headers={"content-type": "application/json", "x-request-id": request_id})
    assert made.status_code == 201 and made.json()["id"] == made.json()["principal_id"]
    await wait_for_audit(admin)
    entries = (await admin.get("/audit", params={"request_id": request_id})).json()["items"]
    assert entries, "the request is in the trail"
    assert all(e["body_sha256"] != hashlib.sha256(body).hexdigest() for e in entries)
    assert any(made.json()["id"] in e["entity_ids"] for e in entries)  # the trail names the user made


async def _attempt(client: httpx.AsyncClient, pre: str, login: str, password: str) -> int:
    answer = await client.post("/console/login", data={"login": login, "password": password, "pre": pre})
    return 0 if "锁定" in answer.text else answer.status_code


async def test_a_burst_of_guesses_is_judged_one_by_one(admin: Api, stack: Stack) -> None:
    person = await make_person(admin, stack.gateway_url, "finance", "430000", sign_in=False)
    try:
        form = await person.client.get("/console/login")
        pre = PRE_FIELD.search(form.text)
        assert pre is not None
        outcomes = await asyncio.gather(
            *(_attempt(person.client, pre.group(1), person.login, f"wrong guess {n:04d}") for n in range(6)))
        assert outcomes.count(401) <= 5, outcomes  # judged "wrong" at most five times; then locked (0)
        assert outcomes.count(0) >= 1 or outcomes.count(503) >= 1, outcomes
    finally:
        await person.aclose()


async def test_refusals_while_locked_do_not_extend_the_lock(admin: Api, stack: Stack, db: asyncpg.Pool) -> None:
    person = await make_person(admin, stack.gateway_url, "finance", "430000", sign_in=False)
    try:
        await db.executemany(
            "INSERT INTO gateway.sign_in_attempts (login, at, succeeded, reason, client, request_id) "
            "VALUES ($1, now() - $2::interval, false, $3, 'test', 'test')",
            [(person.login, timedelta(minutes=20), "WRONG_CREDENTIALS")] * 5
            + [(person.login, timedelta(minutes=5), "LOCKED_OUT")] * 5,
        )
        assert (await person.sign_in()).status_code == 303  # the lock ended 15 minutes after the last wrong one
    finally:
        await person.aclose()


async def test_a_login_that_cannot_exist_is_a_wrong_one_not_a_500(admin: Api, stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        form = await client.get("/console/login")
        pre = PRE_FIELD.search(form.text)
        assert pre is not None
        answer = await client.post("/console/login", data={"login": "a\x00b", "password": "x", "pre": pre.group(1)})
        assert answer.status_code == 401 and "登录名或密码错误" in answer.text


async def test_the_same_login_made_twice_at_once_is_one_user_and_409s(admin: Api) -> None:
    login = f"race-{uuid.uuid4().hex[:8]}"
    answers = await asyncio.gather(*(admin.post("/admin/users", json={
        "login": login, "password": PASSWORD, "name": "n", "role": "finance", "region_code": "430000"})
        for _ in range(4)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201, 409, 409, 409], [a.text[:200] for a in answers]


async def test_signing_in_again_ends_the_session_the_browser_had(admin: Api, stack: Stack) -> None:
    first = await make_person(admin, stack.gateway_url, "inspector", "430000")
    second = await make_person(admin, stack.gateway_url, "finance", "430000", sign_in=False)
    try:
        old_cookie = f"ft_session={first.client.cookies['ft_session']}"
        form = await first.client.post("/console/login", data={"login": second.login, "password": PASSWORD,
                                                               "pre": "x"})
        assert form.status_code == 403  # its own form token is needed, as always
        fresh = PRE_FIELD.search(form.text)  # the refusal's fresh form token (its cookie is set in the browser)
        assert fresh is not None
        answer = await first.client.post("/console/login", data={"login": second.login, "password": PASSWORD,
                                                                 "pre": fresh.group(1)})
        assert answer.status_code == 303
        stale = await first.client.get("/alerts", headers={"cookie": old_cookie})
        assert stale.status_code == 401
    finally:
        await first.aclose()


async def test_a_form_posted_from_another_site_is_refused(admin: Api, stack: Stack) -> None:
    person = await make_person(admin, stack.gateway_url, "finance", "430000", sign_in=False)
    try:
        form = await person.client.get("/console/login")
        pre = PRE_FIELD.search(form.text)
        assert pre is not None
        data = {"login": person.login, "password": PASSWORD, "pre": pre.group(1)}
        cross = await person.client.post("/console/login", data=data, headers={"sec-fetch-site": "cross-site"})
        assert cross.status_code == 403
        other_origin = await person.client.post("/console/login", data=data,
                                                headers={"origin": "http://evil.example"})
        assert other_origin.status_code == 403
        again = PRE_FIELD.search(other_origin.text)  # each refusal gives a fresh form (and its token)
        assert again is not None
        data["pre"] = again.group(1)
        same = await person.client.post("/console/login", data=data, headers={"sec-fetch-site": "same-origin"})
        assert same.status_code == 303
        out = await person.client.post("/console/logout", data={"csrf_token": "x"},
                                        headers={"sec-fetch-site": "cross-site"})
        assert out.status_code == 403
    finally:
        await person.aclose()


async def test_sign_ins_are_limited_per_address(admin: Api, stack: Stack) -> None:
    person = await make_person(admin, stack.gateway_url, "finance", "430000", sign_in=False)
    address = f"198.51.100.{uuid.uuid4().int % 250 + 1}"  # an address of its own (127.0.0.1 signs in all suite long)
    with extra_gateway(stack, FUNDTRACK_SIGN_INS_PER_MINUTE="3", FUNDTRACK_TRUSTED_PROXIES="127.0.0.1/32") as url:
        async with httpx.AsyncClient(base_url=url, timeout=30, headers={"x-forwarded-for": address}) as client:
            other = Person(person.login, PASSWORD, "", "finance", "430000", client)
            codes = [(await other.sign_in(password=f"wrong password {n}")).status_code for n in range(4)]
            assert codes == [401, 401, 401, 429], codes
    await person.aclose()


async def test_a_password_keeps_the_spaces_at_its_ends(admin: Api, stack: Stack) -> None:
    spaced = "  spaces at both ends  "
    person = await make_person(admin, stack.gateway_url, "finance", "430000", sign_in=False, password=spaced)
    try:
        assert (await person.sign_in(password=spaced)).status_code == 303
        person.client.cookies.clear()
        assert (await person.sign_in(password=spaced.strip())).status_code == 401
    finally:
        await person.aclose()


def test_a_page_served_for_a_get_sends_no_csrf_token_to_the_api() -> None:
    class Request:
        scope = {"state": {"request_id": "r"}}

    signed = Signed(Principal(id="p", role="finance", region_code="430000"), "token", "csrf")
    loopback = Loopback(None)  # type: ignore[arg-type]
    reading = ConsoleApi(loopback, Request(), signed)  # type: ignore[arg-type]
    writing = ConsoleApi(loopback, Request(), signed, may_write=True)  # type: ignore[arg-type]
    assert CSRF_HEADER not in reading._headers() and writing._headers()[CSRF_HEADER] == "csrf"
